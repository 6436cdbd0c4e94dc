"""报送审核 Review (office): submitted returns are accepted (the unit's period is then locked) or
returned with a comment the unit sees on 我的任务; locked periods are reopened with a reason; every
action is recorded (review log, audit log)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, ui
from dashboards import workspace_data as wd
from pipelines.workflow import review

ui.header("page_review")
viewer = ui.require("approve")
lang = ui.lang()
county = viewer.county_code or ui.county()


def _l(prefix: str, value) -> str:
    return ui.t(f"{prefix}_{value}") if value else ""


if ui.ready():
    store = wd.store()
    st.subheader(ui.t("rq_pending"))
    pending = wd.uploads(viewer, county, None)
    pending = [u for u in pending if u["review_state"] == "submitted"]
    if not pending:
        st.info(ui.t("rq_none"))
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("col_uploaded"): [u["uploaded_at"][:16].replace("T", " ") for u in pending],
                    ui.t("col_unit"): [u["org_code"] for u in pending],
                    ui.t("col_period"): [u["period_code"] for u in pending],
                    ui.t("col_file"): [u["file_name"] for u in pending],
                    ui.t("col_result"): [
                        _l("res", u["result_status"]) or _l("ing", u["ingest_state"]) for u in pending
                    ],
                    ui.t("col_by"): [u["uploaded_by"] for u in pending],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        names = {u["upload_id"]: f"{u['org_code']} · {u['period_code']} · {u['file_name']}" for u in pending}
        with st.form("rq_form", clear_on_submit=True):
            pick = st.selectbox(ui.t("rq_pick"), list(names), format_func=names.get)
            comment = st.text_area(ui.t("rq_comment"), key="rq_comment")
            c1, c2 = st.columns(2)
            ok = c1.form_submit_button(ui.t("rq_accept"), type="primary", icon=":material/check:")
            back = c2.form_submit_button(ui.t("rq_return"), icon=":material/undo:")
        if ok or back:
            try:
                if ok:
                    review.accept(store, pick, viewer.username, comment)
                    auth.audit("approval", {"upload_id": pick, "action": "accepted"})
                    st.success(ui.t("rq_done_accept"))
                else:
                    review.return_upload(store, pick, viewer.username, comment)
                    auth.audit("approval", {"upload_id": pick, "action": "returned", "comment": comment})
                    st.success(ui.t("rq_done_return"))
            except review.WorkflowError as exc:
                st.error(f"{exc.message_zh} / {exc.message_en}")
        for u in pending[:20]:
            up = review.upload_row(store, u["upload_id"])
            probs = (up or {}).get("problems") or []
            fb = wd.feedback_file(viewer, up) if up else None
            if probs or fb:
                with st.expander(f"{names[u['upload_id']]} · {ui.t('ws_problems')} {len(probs)}"):
                    if probs:
                        msg = "message_en" if lang == "en" else "message_zh"
                        st.dataframe(
                            pd.DataFrame(probs)[["sheet", "cell", msg]], hide_index=True, width="stretch"
                        )
                    if fb is not None:
                        st.download_button(
                            ui.t("ws_feedback"),
                            fb.read_bytes(),
                            file_name=fb.name,
                            key=f"rq_fb_{u['upload_id']}",
                        )

    st.subheader(ui.t("rq_locks"))
    locked = [r for r in review.locks(store, county) if r["locked"]]
    if not locked:
        ui.empty_notice()
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("col_unit"): [r["unit_code"] for r in locked],
                    ui.t("col_period"): [r["period_code"] for r in locked],
                    ui.t("col_actor"): [r["changed_by"] for r in locked],
                    ui.t("col_at"): [r["changed_at"][:16].replace("T", " ") for r in locked],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        if viewer.can("reopen"):
            keys = {
                f"{r['unit_code']}|{r['period_code']}": f"{r['unit_code']} · {r['period_code']}"
                for r in locked
            }
            with st.form("rq_reopen", clear_on_submit=True):
                st.markdown(f"**{ui.t('rq_reopen')}**")
                which = st.selectbox(ui.t("rq_locks"), list(keys), format_func=keys.get)
                reason = st.text_input(ui.t("rq_reason"))
                go = st.form_submit_button(ui.t("rq_reopen_btn"), icon=":material/lock_open:")
            if go:
                unit, period = which.split("|")
                try:
                    review.reopen_period(store, county, unit, period, viewer.username, reason)
                    auth.audit("reopen_period", {"unit": unit, "period": period, "reason": reason})
                    st.success(ui.t("rq_reopened"))
                except review.WorkflowError as exc:
                    st.error(f"{exc.message_zh} / {exc.message_en}")

    st.subheader(ui.t("rq_events"))
    ev = review.events(store, county)
    if not ev:
        ui.empty_notice()
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("col_at"): [e["at"][:16].replace("T", " ") for e in ev],
                    ui.t("col_unit"): [e["unit_code"] for e in ev],
                    ui.t("col_period"): [e["period_code"] for e in ev],
                    ui.t("col_action"): [_l("ev", e["action"]) for e in ev],
                    ui.t("col_actor"): [e["actor"] for e in ev],
                    ui.t("col_comment"): [e["comment"] or "" for e in ev],
                }
            ),
            hide_index=True,
            width="stretch",
        )
