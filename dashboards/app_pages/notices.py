"""通知 Notices (office): the outbox — deadline reminders, overdue returns, overdue rectification
items (escalated to the unit head), the monthly 通报 draft — with channel, recipient, state and
errors; produce today's notices and send the pending ones by hand (the Dagster schedule
`notices_schedule` does both every working morning). Dry-run unless WUCHUANG_NOTICES_SEND=1."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, data, ui
from dashboards import workspace_data as wd
from pipelines.workflow import duties, notices

ui.header("page_notices")
viewer = ui.require("approve")
county = viewer.county_code or ui.county()

if ui.ready():
    store = wd.store()
    dry = notices.dry_run_default()
    (st.info if dry else st.warning)(ui.t("nt_mode_dry" if dry else "nt_mode_live"), icon=":material/mail:")
    today = duties.today()
    c1, c2, _ = st.columns([1, 1, 3])
    if c1.button(ui.t("nt_fill"), icon=":material/playlist_add:"):
        n = notices.fill_outbox(store, county, today, wd._run, data.settings())
        auth.audit("notices_fill", {"today": today.isoformat(), "new": n})
        st.success(ui.t("nt_filled", n=n))
    if c2.button(ui.t("nt_send"), icon=":material/send:"):
        rep = notices.send_outbox(store)
        auth.audit("notices_send", {"sent": rep.sent, "failed": rep.failed, "dry_run": dry})
        if dry:
            st.info(ui.t("nt_would", n=len(rep.would_send)))
        else:
            st.success(ui.t("nt_sent", sent=rep.sent, failed=rep.failed + rep.dead))
    rows = notices.outbox_rows(store, county)
    st.subheader(ui.t("nt_outbox"))
    if not rows:
        ui.empty_notice()
    else:
        states = pd.Series([r["state"] for r in rows]).value_counts()
        cols = st.columns(len(notices.STATES))
        for col, s in zip(cols, notices.STATES, strict=True):
            col.metric(ui.t(f"st_{s}"), int(states.get(s, 0)))
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("col_kind"): [ui.t(f"kind_{r['kind']}") for r in rows],
                    ui.t("col_unit"): [r["unit_code"] or "" for r in rows],
                    ui.t("col_channel"): [ui.t(f"ch_{r['channel']}") for r in rows],
                    ui.t("col_recipient"): [r["recipient"] for r in rows],
                    ui.t("col_subject"): [r["subject"] for r in rows],
                    ui.t("col_state"): [ui.t(f"st_{r['state']}") for r in rows],
                    ui.t("col_attempts"): [r["attempts"] for r in rows],
                    ui.t("col_error"): [r["last_error"] or "" for r in rows],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        bad = {
            r["msg_id"]: f"#{r['msg_id']} {r['subject']}"
            for r in rows
            if r["state"] in ("failed", "dead", "uncertain")
        }
        if bad:
            st.subheader(ui.t("nt_failed"))
            pick = st.selectbox(ui.t("col_subject"), list(bad), format_func=bad.get)
            if st.button(ui.t("nt_requeue"), icon=":material/replay:"):
                notices.requeue(store, pick)
                auth.audit("notices_requeue", {"msg_id": pick})
                st.rerun()
