"""责任单位详情 Unit detail: one unit's obligations, returns, failing requirements, rectification and
score (dashboards.unit_view). The unit comes from the sidebar's unit filter or the link's `?unit=`;
every "responsible unit" on the other pages links here."""

from __future__ import annotations

import streamlit as st

from dashboards import data, ui, unit_view

ui.header("page_unit")

if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    with ui.part():
        org = ui.unit()
        if not org:
            units = data.units(county)
            labels = {r.org_code: ui.name(r._asdict()) for r in units.itertuples(index=False)}
            pick = st.selectbox(
                ui.t("choose_unit"), list(labels), index=None, format_func=labels.get, key="unit_page_pick"
            )
            if pick:  # becomes the sidebar's unit filter and the URL's ?unit=
                st.query_params["unit"] = pick  # read before the sidebar on the next run (ui.url_in)
                st.rerun()
        if ui.campaign():
            ui.filter_note({"campaign": False})
        if org:
            unit_view.render(county, org, period)
