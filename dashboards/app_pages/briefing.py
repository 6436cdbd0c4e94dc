"""简报 Briefing: the one-page Chinese monthly briefing, downloadable as PDF (CJK font) or Word."""

from __future__ import annotations

import streamlit as st

from dashboards import archive_view, auth, briefing, data, exports, i18n, ui

ui.header("page_briefing")

if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    with ui.part():
        o = ui.load_outlook(county, period)  # the Overview's outcomes, decisions and the 通报 list
        if ui.unit():
            st.caption(ui.t("unit_filter_note"))
        info = o["info"]
        counties = data.counties().set_index("county_code")
        camps = o["campaigns"]
        verdicts = o["verdicts"]
        history = data.verdict_history(county, period, ui.campaign())
        expected = data.expected_returns(county, period) if data.has("core.submission") else None
        notice = o["notice"]
        if ui.unit():
            notice = notice[notice["org_code"] == ui.unit()]
        b = briefing.build(
            counties["name_zh"].get(county, county),
            period,
            info.get("label_zh") or period,
            camps,
            verdicts,
            history,
            expected,
            o["end"],
            o["ready"],
            o["coverage"],
            outlooks=o["outlooks"],
            decisions=o["decisions"],
            notice=notice,
            archive_lines=(
                archive_view.briefing_lines(viewer, county, "zh")
                if (viewer := auth.current_viewer()) is not None
                else None
            ),
        )
        if ui.lang() == "en":
            st.caption(ui.t("briefing_in_chinese"))
        with st.container(border=True, key="briefing_doc"):
            st.markdown(b.markdown())
        font = exports.find_cjk_font()
        c1, c2, _ = st.columns([1, 1, 3])
        if font is None:
            st.warning(i18n.both("no_cjk_font"), icon=":material/warning:")
        else:
            c1.download_button(
                ui.t("download_pdf"),
                lambda: exports.briefing_pdf(b, font),  # built when clicked
                f"简报_{period}.pdf",
                "application/pdf",
                key="b_pdf",
                width="stretch",
                on_click=ui.audited("download", file=f"简报_{period}.pdf"),
            )
        c2.download_button(
            ui.t("download_docx"),
            lambda: exports.briefing_docx(b),
            f"简报_{period}.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            key="b_docx",
            width="stretch",
            on_click=ui.audited("download", file=f"简报_{period}.docx"),
        )
