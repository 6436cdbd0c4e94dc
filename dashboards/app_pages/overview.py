"""总览 Overview: answers "which campaign will miss its acceptance, why, and who is responsible".

Per campaign one sentence and one status (dashboards.outlook: passed / in consolidation / will pass /
at risk / will miss / missed) with the acceptance date, the reason and the responsible units; then
what needs a decision this month (each item with its owner and a link to the unit); then the charts.
Reads top to bottom on a phone.
"""

from __future__ import annotations

import streamlit as st

from dashboards import archive_view, auth, charts, i18n, outlook, present, ui

ui.header("page_overview")


if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    lang = ui.lang()
    with ui.part():
        o = ui.load_outlook(county, period)
        ready, end = o["ready"], o["end"]
        st.caption(f"{ui.t('as_of')} {period}" + (f" · {ui.t('estimated')}" if o["estimated"] else ""))
        if ui.unit():
            st.caption(ui.t("unit_filter_note"))
        for ol in o["outlooks"]:
            with st.container(border=True, key=f"outcome_{ol.campaign_code}"):
                name = ol.name_en if lang == "en" else ol.name_zh
                st.markdown(f"#### {name} {ui.outcome_md(ol)}")
                st.markdown(ol.sentence(lang))
                c1, c2 = st.columns(2)
                now = ready[(ready["campaign_code"] == ol.campaign_code) & (ready["period_code"] == period)]
                change = None
                after = ol.acceptance_date is not None and end >= ol.acceptance_date
                if not now.empty and not after and "readiness_change" in now:
                    change = present.pp(now["readiness_change"].iloc[0])
                c1.metric(
                    ui.t("readiness"),
                    present.pct(ol.readiness),
                    change,
                    delta_color="normal",
                    help=ui.t("readiness_change_note"),
                )
                if ol.acceptance_date is not None:
                    days = (ol.acceptance_date - end).days
                    if days >= 0:
                        c2.metric(ui.t("days_to_acceptance"), f"{days}")
                    else:
                        c2.metric(ui.t("days_since_acceptance"), f"{-days}")
                links = (
                    [(ol.lead_org_code, ol.lead_en or ol.lead_zh, ol.lead_zh)] if ol.lead_org_code else []
                ) + [(code, en or zh, zh) for code, zh, en in ol.owners if code != ol.lead_org_code]
                if links:
                    cols = st.columns(min(len(links), 4))
                    for i, (code, en, zh) in enumerate(links[:4]):
                        with cols[i]:
                            ui.unit_link(code, en if lang == "en" else zh)

        st.subheader(ui.t("decisions"))
        st.caption(ui.t("decisions_note"))
        if not o["decisions"]:
            st.success(ui.t("no_decisions"), icon=":material/check:")
        for i, d in enumerate(o["decisions"]):
            kind = outlook.KIND_LABELS[d.kind][1 if lang == "en" else 0]
            with st.container(border=True, key=f"decision_{i}"):
                color = "red" if d.kind == "veto" else "orange"
                what = d.what_en if lang == "en" else d.what_zh
                st.markdown(f":{color}-badge[{kind}] **{what}**")
                st.caption(d.why_en if lang == "en" else d.why_zh)
                owner = (d.owner_en or d.owner_zh) if lang == "en" else d.owner_zh
                c1, c2 = st.columns(2)
                if owner:
                    with c1:
                        ui.unit_link(d.owner_org_code, f"{ui.t('owner')}: {owner}")
                if d.indicator_code:
                    with c2:
                        st.page_link(
                            "app_pages/indicator.py",
                            label=ui.t("open_indicator"),
                            icon=":material/show_chart:",
                            query_params={"indicator": d.indicator_code},
                        )

        # Archive (档案资料) readiness next to indicator readiness; a missing prerequisite caps it.
        viewer = auth.current_viewer()
        if viewer is not None:
            archive_view.render_overview(viewer, county)

        names = {ol.campaign_code: (ol.name_en if lang == "en" else ol.name_zh) for ol in o["outlooks"]}
        accept = {
            names[ol.campaign_code]: ol.acceptance_date
            for ol in o["outlooks"]
            if ol.acceptance_date is not None
        }
        st.plotly_chart(
            charts.readiness_trend(ready, names, ui.t("readiness_trend"), acceptance=accept),
            width="stretch",
            key="ov_trend",
            config={"displaylogo": False},
        )
        verdicts = o["verdicts"]
        counts = verdicts.groupby(["campaign_code", "status"]).size().reset_index(name="n")
        labels = {s: i18n.status_label(s, lang) for s in charts.STATUS_COLORS}
        st.plotly_chart(
            charts.status_bars(counts, names, labels, ui.t("counts_by_status")),
            width="stretch",
            key="ov_status",
            config={"displaylogo": False},
        )
