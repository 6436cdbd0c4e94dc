"""数据报送 Submissions and quality: files received, accepted, rejected with reasons; quarantine;
quality trends; feedback workbooks downloadable (only from inside the feedback folder)."""

from __future__ import annotations

import streamlit as st

from dashboards import auth, charts, data, exports, i18n, ui

ui.header("page_submissions")

if ui.ready():
    county = ui.county()
    lang = ui.lang()
    ui.filter_note({"campaign": False, "period": False})  # files and quality over all periods
    msg_col = "message_en" if lang == "en" else "message_zh"
    with ui.part():
        files = data.source_files(county)
        if ui.unit():
            files = files[files["org_code"] == ui.unit()]
        counts = files["status"].value_counts()
        cols = st.columns(5)
        cols[0].metric(ui.t("files"), int(len(files)))
        for col, status in zip(cols[1:], ("accepted", "partial", "rejected", "duplicate"), strict=True):
            col.metric(ui.t(status), int(counts.get(status, 0)))
        left, right = st.columns([1, 2])
        status_counts = counts.rename_axis("status").reset_index(name="n")
        left.plotly_chart(
            charts.file_status_bars(
                status_counts, {s: ui.t(s) for s in counts.index if s in i18n.LABELS}, ui.t("files")
            ),
            width="stretch",
            key="s_status",
        )
        with right:
            st.subheader(ui.t("rejected_files"))
            bad = files[files["status"].isin(["rejected", "duplicate", "partial"])]
            if bad.empty:
                ui.empty_notice()
            else:
                onames = ui.org_names(county)
                shown = ui.labelled(
                    bad.assign(
                        org=bad["org_code"].map(onames),
                        result=bad["status"].map(ui.t),
                        **{msg_col: bad[msg_col].map(lambda x: ui.tidy(x, county))},
                    ),
                    [
                        ("received_at", "received_at", ui.fmt_time),
                        ("file_name", "file_name", None),
                        ("org", "unit", None),
                        ("result", "file_status", None),
                        (msg_col, "reason", None),
                    ],
                )
                ui.table(shown, "s_bad", ui.t("file_name"), [ui.t("file_status"), ui.t("reason")])
    with ui.part():
        st.subheader(ui.t("quarantine"))
        q = data.quarantine(county)
        if ui.unit():
            q = q[q["org_code"] == ui.unit()]
        if q.empty:
            ui.empty_notice()
        else:
            onames = ui.org_names(county)
            shown = ui.labelled(
                q.assign(
                    org=q["org_code"].map(onames), **{msg_col: q[msg_col].map(lambda x: ui.tidy(x, county))}
                ),
                [
                    ("file_name", "file_name", None),
                    ("sheet", "sheet", None),
                    ("cell", "cell", None),
                    ("org", "unit", None),
                    ("period_code", "period", None),
                    ("raw_text", "raw_text", None),
                    (msg_col, "reason", None),
                ],
            )
            ui.table(shown, "s_quar_table", ui.t("file_name"), [ui.t("reason"), ui.t("raw_text")])
            ui.downloads(q, "quarantine", "s_quar")
    with ui.part():
        st.subheader(ui.t("quality_trend"))
        subs = data.submissions(county)
        if ui.unit():
            subs = subs[subs["org_code"] == ui.unit()]
        trend = (
            subs[subs["frequency"] == "monthly"]
            .groupby("period_code")[["values_loaded", "values_quarantined"]]
            .sum()
            .reset_index()
        )
        if trend.empty:
            ui.empty_notice()
        else:
            st.plotly_chart(
                charts.quality_trend(
                    trend,
                    {
                        "loaded": ui.t("loaded"),
                        "quarantined": ui.t("quarantined"),
                        "share": ui.t("quarantined_share"),
                    },
                    ui.t("quality_trend"),
                ),
                width="stretch",
                key="s_trend",
            )
        if data.has_rows("quality.check_result"):
            q = data.quality_by_period(county)
            if not q.empty:
                q["dimension"] = [
                    ui.t(f"dim_{d}") if f"dim_{d}" in i18n.LABELS else d.replace("_", " ")
                    for d in q["dimension"]
                ]
                st.plotly_chart(
                    charts.failure_rate_trend(q, ui.t("check_failure_rate")),
                    width="stretch",
                    key="s_checks",
                )
    with ui.part():
        st.subheader(ui.t("feedback"))
        files = data.source_files(county)
        viewer = auth.require_viewer()  # feedback workbooks: the owning unit and the office only
        with_fb = files[
            files["feedback_path"].notna()
            & files["org_code"].map(
                lambda o: viewer.can(f"download_feedback:{o if isinstance(o, str) else ''}")
            )
        ]
        if with_fb.empty:
            ui.empty_notice()
        else:
            usable = with_fb["feedback_path"].map(lambda p: data.feedback_file(p) is not None)
            with_fb = with_fb.assign(_ok=usable).sort_values("_ok", ascending=False, kind="stable")
            options = list(with_fb["file_id"])
            names = dict(zip(with_fb["file_id"], with_fb["file_name"], strict=False))
            paths = dict(zip(with_fb["file_id"], with_fb["feedback_path"], strict=False))
            pick = ui.select(st, ui.t("feedback_pick"), options, names, "s_feedback")
            target = data.feedback_file(paths[pick])
            if target is None:
                st.warning(i18n.both("feedback_missing"), icon=":material/warning:")
            else:
                st.download_button(
                    ui.t("download_feedback"),
                    lambda: exports.workbook_bytes(target) or b"",  # formulas neutralised when clicked
                    target.name,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    key="s_feedback_dl",
                    on_click=ui.audited("download_feedback", file=target.name, file_id=str(pick)),
                )
    with ui.part():
        # Great Expectations Data Docs, rendered here without any CDN (dashboards.gx_docs); every
        # unit's data are in them, so only for viewers who see everything
        from dashboards import gx_docs

        viewer = auth.require_viewer()
        docs = gx_docs.pages(data.settings().gx_dir) if viewer.sees_all else []
        if docs:
            st.subheader(ui.t("gx_docs"))
            st.caption(ui.t("gx_docs_note"))

            def _gx_label(p):
                text = gx_docs.label(p, data.settings().gx_dir)
                if text == "index":
                    return ui.t("gx_index")
                suite, _, when = text.partition(" · ")
                key = f"gx_suite_{suite}"
                return f"{ui.t(key) if key in i18n.LABELS else suite.replace('_', ' ')} · {when}"

            # One widget per language (a kept widget would show the other language's label of the
            # choice), the choice itself carried over when the language changes.
            chosen = st.session_state.get("s_gx_choice")
            pick = st.selectbox(
                ui.t("gx_pick"),
                docs,
                index=docs.index(chosen) if chosen in docs else 0,
                format_func=_gx_label,
                key=f"s_gx_page_{ui.lang()}",
            )
            st.session_state["s_gx_choice"] = pick
            if pick is not None:
                import streamlit.components.v1 as components

                components.html(
                    gx_docs.offline_html(pick, data.settings().gx_dir), height=720, scrolling=True
                )
