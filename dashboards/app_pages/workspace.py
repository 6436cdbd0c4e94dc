"""我的任务 My tasks: what a unit owes and its answers. A clerk works for its own unit; the office
picks a unit. Returns due per period with their working-day deadlines (overdue first), the
pre-filled form, a browser upload through the upload gate (ingested at once by a worker process
under the warehouse's writer lock; the outcome, problem cells and feedback workbook shown within
seconds), the office's review comments, failing requirements and open rectification items, which
the unit answers with a note and evidence files."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from dashboards import auth, data, ui, unit_view
from dashboards import workspace_data as wd
from pipelines.reporting_calendar import parse_period
from pipelines.uploads import UploadRefused, save_upload
from pipelines.workflow import duties, review

K_UPLOAD = "ws_last_upload"
RESULT_WAIT_S = 60

ui.header("page_workspace")
viewer = ui.require("upload")
lang = ui.lang()
county = viewer.county_code or ui.county()


def _l(prefix: str, value) -> str:
    return ui.t(f"{prefix}_{value}") if value else ""


def _pick_unit() -> tuple[str, str] | None:
    units = wd.units(viewer, county)
    if units.empty:
        st.info(ui.t("wf_no_unit"))
        return None
    if viewer.org_code and viewer.org_code in set(units["org_code"]):
        row = units[units["org_code"] == viewer.org_code].iloc[0]
    else:
        names = {
            r.org_code: f"{ui.name(r._asdict())} ({r.short_code})" for r in units.itertuples(index=False)
        }
        org = st.selectbox(ui.t("ws_unit"), list(names), format_func=names.get, key="ws_unit_pick")
        row = units[units["org_code"] == org].iloc[0]
    st.caption(f"{ui.t('ws_unit')}: **{ui.name(row.to_dict())}** · {ui.t('ws_today')}: {today}")
    return str(row["org_code"]), str(row["short_code"])


def _result(up: dict) -> None:
    state = up["ingest_state"]
    if state in ("queued", "ingesting"):
        st.info(f"{up['file_name']} · {_l('ing', state)}", icon=":material/hourglass_top:")
        return
    if state == "failed":
        st.error(f"{up['file_name']} · {_l('ing', state)}: {up.get('ingest_message') or ''}")
        return
    status = up.get("result_status") or ""
    text = (
        f"{ui.t('ws_result')}：**{_l('res', status)}** · {up['file_name']} · {up['period_code']} · "
        f"{ui.t('col_value')} {up.get('values_loaded') or 0} / ✗ {up.get('values_quarantined') or 0}"
    )
    {"accepted": st.success, "partial": st.warning}.get(status, st.error)(text)
    if up.get("ingest_message"):
        st.caption(up["ingest_message"])
    st.caption(ui.t("ws_published") if state == "published" else ui.t("ws_publishing"))
    probs = up.get("problems") or []
    if probs:
        st.markdown(f"**{ui.t('ws_problems')}**")
        df = pd.DataFrame(probs)
        msg = "message_en" if lang == "en" else "message_zh"
        other = "message_zh" if lang == "en" else "message_en"
        df = df[["file", "sheet", "cell", msg, other]].rename(
            columns={
                "file": ui.t("col_file"),
                "sheet": ui.t("col_sheet"),
                "cell": ui.t("col_cell"),
                msg: ui.t("col_reason"),
                other: f"{ui.t('col_reason')} ({'中文' if lang == 'en' else 'English'})",
            }
        )
        st.table(df.head(200).set_index(ui.t("col_file")))  # plain HTML: readable and searchable
    fb = wd.feedback_file(viewer, up)
    if fb is not None:
        st.download_button(
            ui.t("ws_feedback"),
            fb.read_bytes(),
            file_name=fb.name,
            key=f"fb_{up['upload_id']}",
            icon=":material/download:",
            on_click=ui.audited("download_feedback", file=fb.name, org=up["org_code"]),
        )
    elif receipt := wd.receipt_line(up, lang):  # a clean file gets no workbook: this is its receipt
        st.caption(receipt)


def _due_table(due: pd.DataFrame) -> None:
    st.subheader(ui.t("ws_due"))
    if due.empty:
        ui.empty_notice()
        return
    show = pd.DataFrame(
        {
            ui.t("col_period"): due["period_code"],
            ui.t("col_frequency"): [_l("freq", f) for f in due["frequency"]],
            ui.t("col_due"): due["due_date"].astype(str),
            ui.t("col_left"): due["working_days_left"],
            ui.t("col_state"): [
                _l("due", s) + (f" · {ui.t('ws_locked')}" if lk else "")
                for s, lk in zip(due["due_state"], due["locked"], strict=True)
            ],
            ui.t("col_review"): [_l("rv", s) for s in due["review_state"]],
            ui.t("col_comment"): due["review_comment"].fillna(""),
        }
    )
    st.dataframe(show, hide_index=True, width="stretch", height=min(400, 40 + 35 * len(show)))


def _form_and_upload(due: pd.DataFrame, org: str, short: str) -> None:
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.returns import templates

    periods = list(dict.fromkeys(due["period_code"])) if not due.empty else []
    if not periods:
        return
    left, right = st.columns(2)
    with left:
        st.subheader(ui.t("ws_form"))
        p_form = st.selectbox(ui.t("col_period"), periods, key="ws_form_period")
        settings = data.settings()
        catalog = load_catalog(settings.standards_dir)
        profile = next(p for p in load_profiles(settings.profiles_dir, catalog) if p.code == county)
        unit = next(u for u in profile.org_units if u.code == org)
        period = parse_period(p_form)
        rows = templates.build_rows(catalog, profile, unit, period)
        if rows:
            st.download_button(
                ui.t("ws_form_btn"),
                lambda: templates.render_workbook(
                    catalog, profile, unit, period, rows, generated_at=pd.Timestamp.now().to_pydatetime()
                ),
                file_name=templates.template_file_name(period, unit),
                key="ws_form_dl",
                icon=":material/download:",
            )
    with right:
        st.subheader(ui.t("ws_upload"))
        with st.form("ws_upload_form", clear_on_submit=True):
            p_up = st.selectbox(ui.t("col_period"), periods, key="ws_upload_period")
            f = st.file_uploader(ui.t("ws_upload_file"), type=["xlsx", "xls", "ods", "csv"], key="ws_file")
            go = st.form_submit_button(ui.t("ws_upload_btn"), type="primary", icon=":material/upload:")
        if go and f is not None:
            store = wd.store()
            try:
                review.check_not_locked(store, county, short, p_up)
                saved = save_upload(f.getvalue(), f.name, county, short, data.settings().raw_dir)
                upload_id = review.register_upload(store, saved, county, short, org, p_up, viewer.username)
            except UploadRefused as exc:
                st.error(f"{exc.message_zh} / {exc.message_en}", icon=":material/block:")
                return
            except review.WorkflowError as exc:
                st.error(f"{exc.message_zh} / {exc.message_en}", icon=":material/lock:")
                return
            auth.audit("upload", {"org": org, "period": p_up, "file": saved.rel_path, "upload_id": upload_id})
            review.start_ingest(store, upload_id)
            st.session_state[K_UPLOAD] = upload_id
            with st.spinner(ui.t("ws_processing")):
                deadline = time.monotonic() + RESULT_WAIT_S
                while time.monotonic() < deadline:
                    up = wd.upload(viewer, upload_id)
                    if up and up["ingest_state"] in ("ingested", "published", "failed"):
                        break
                    time.sleep(0.4)
    last = st.session_state.get(K_UPLOAD)
    if last and (up := wd.upload(viewer, last)) and up["org_code"] == org:
        with st.container(border=True):
            _result(up)


def _mine(org: str) -> None:
    st.subheader(ui.t("ws_mine"))
    ups = wd.uploads(viewer, county, org)
    for u in ups:
        if u["review_state"] == "returned":
            st.warning(
                f"{u['period_code']} · {u['file_name']} · "
                + ui.t("ws_returned", comment=u["review_comment"]),
                icon=":material/undo:",
            )
    if not ups:
        ui.empty_notice()
        return
    show = pd.DataFrame(
        {
            ui.t("col_uploaded"): [u["uploaded_at"][:16].replace("T", " ") for u in ups],
            ui.t("col_period"): [u["period_code"] for u in ups],
            ui.t("col_file"): [u["file_name"] for u in ups],
            ui.t("col_result"): [_l("res", u["result_status"]) or _l("ing", u["ingest_state"]) for u in ups],
            ui.t("col_review"): [_l("rv", u["review_state"]) for u in ups],
            ui.t("col_comment"): [u["review_comment"] or "" for u in ups],
            ui.t("col_by"): [u["uploaded_by"] for u in ups],
        }
    )
    st.dataframe(show, hide_index=True, width="stretch")


def _requirements_and_rectification(org: str, short: str) -> None:
    # The unit page, scoped to the clerk's unit (issue 14: built once): what it owes, its returns,
    # failing requirements, open rectification items, rank and score.
    period = ui.period() or (data.months(county) or [None])[-1]
    if period:
        with ui.part():
            unit_view.render(county, org, period, key="ws")
    with ui.part():
        items = wd.rectification(viewer, county, org)
        if items.empty:
            return
        desc = "description_en" if lang == "en" else "description_zh"
        labels = dict(
            zip(
                items["item_id"],
                items[desc].fillna(items["item_id"]).map(lambda x: ui.tidy(x, county)),
                strict=True,
            )
        )
        with st.form("ws_rect_form", clear_on_submit=True):
            st.markdown(f"**{ui.t('ws_rect_answer')}**")
            item = st.selectbox(ui.t("ws_rect_item"), list(labels), format_func=labels.get)
            note = st.text_area(ui.t("ws_rect_note"))
            files = st.file_uploader(ui.t("ws_rect_files"), accept_multiple_files=True, key="ws_rect_files")
            sent = st.form_submit_button(ui.t("ws_rect_submit"), icon=":material/send:")
        if sent:
            try:
                review.respond_rectification(
                    wd.store(),
                    item,
                    county,
                    short,
                    note,
                    [review.Evidence(f.name, f.getvalue()) for f in files or []],
                    viewer.username,
                )
                auth.audit("rectification_answer", {"org": org, "item": item})
                st.success(ui.t("ws_rect_done"))
            except review.WorkflowError as exc:
                st.error(f"{exc.message_zh} / {exc.message_en}")
        answers = wd.responses(viewer, county, org)
        if answers:
            st.markdown(f"**{ui.t('ws_rect_answers')}**")
            st.dataframe(
                pd.DataFrame(
                    {
                        ui.t("col_at"): [a["at"][:16].replace("T", " ") for a in answers],
                        ui.t("col_item"): [labels.get(a["item_id"], a["item_id"]) for a in answers],
                        ui.t("col_note"): [a["note"] for a in answers],
                        ui.t("col_evidence"): [", ".join(e["name"] for e in a["evidence"]) for a in answers],
                    }
                ),
                hide_index=True,
                width="stretch",
            )


today = duties.today()
if ui.ready():
    picked = _pick_unit()
    if picked:
        org, short = picked
        with ui.part():
            due = wd.due(viewer, county, org, today)
            _due_table(due)
            _form_and_upload(due, org, short)
        _mine(org)
        _requirements_and_rectification(org, short)
