"""总览 Overview: the five campaigns side by side, readiness trend, projected outcome, top risks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, i18n, ui

ui.header("page_overview")


if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    with ui.part():
        camps = data.campaigns(county)
        names = ui.campaign_names()
        ready, estimated = data.readiness(county, period)
        cov = data.coverage(county, period)
        now = ready[ready["period_code"] == period].set_index("campaign_code")
        prev_periods = sorted(p for p in ready["period_code"].unique() if p < period)
        prev = (
            ready[ready["period_code"] == prev_periods[-1]].set_index("campaign_code")
            if prev_periods
            else None
        )
        end = pd.Timestamp(data.period_info(period).get("end_date") or pd.Timestamp.today())
        forecast = (
            data.campaign_forecast(county, period).set_index("campaign_code")
            if data.has("marts.campaign_forecast")
            else None
        )
        st.caption(f"{ui.t('period')}: {period}" + (f" · {ui.t('estimated')}" if estimated else ""))
        cols = st.columns(len(camps) or 1)
        for col, row in zip(cols, camps.itertuples(index=False), strict=False):
            code = row.campaign_code
            with col.container(border=True):
                st.markdown(f"**{names.get(code, code)}**")
                value = now["readiness"].get(code) if code in now.index else None
                delta = None
                if value is not None and prev is not None and code in prev.index:
                    delta = f"{(value - prev['readiness'][code]) * 100:+.1f} pp"
                st.metric(ui.t("readiness"), "—" if value is None else f"{value:.0%}", delta)
                if label := ui.coverage_label(cov, code, period, ui.lang()):
                    st.caption(label)  # what the figure is judged on (按 22 项中的 18 项评价)
                if pd.notna(row.acceptance_date):
                    days = (pd.Timestamp(row.acceptance_date) - end).days
                    if days >= 0:
                        st.metric(ui.t("days_to_acceptance"), f"{days}")
                    else:  # acceptance date passed: consolidation (巩固) monitoring
                        st.metric(ui.t("days_since_acceptance"), f"{-days}")
                    st.caption(f"{ui.t('acceptance_date')}: {pd.Timestamp(row.acceptance_date):%Y-%m-%d}")
                if code in now.index:
                    r = now.loc[code]
                    st.caption(
                        f"{ui.status_md('pass')} {int(r['n_pass'])} · {ui.status_md('near')} {int(r['n_near'])}"
                        f" · {ui.status_md('fail')} {int(r['n_fail'])}"
                    )
                    if bool(r.get("veto_failed", False)):
                        st.error(ui.t("risk_veto"), icon=":material/block:")
                if (
                    forecast is not None
                    and "campaign_code" in forecast
                    and code in set(forecast["campaign_code"])
                ):
                    f = forecast[forecast["campaign_code"] == code].iloc[-1].to_dict()
                    outcome = f.get("projected_outcome") or f.get("status") or f.get("projected_status")
                    if outcome:
                        st.caption(f"{ui.t('projected')}: {outcome}")
        left, right = st.columns([3, 2])
        left.plotly_chart(
            charts.readiness_trend(ready, names, ui.t("readiness_trend")), width="stretch", key="ov_trend"
        )
        verdicts = data.verdicts_asof(county, period)
        counts = verdicts.groupby(["campaign_code", "status"]).size().reset_index(name="n")
        labels = {s: i18n.status_label(s, ui.lang()) for s in charts.STATUS_COLORS}
        right.plotly_chart(
            charts.status_bars(counts, names, labels, ui.t("counts_by_status")),
            width="stretch",
            key="ov_status",
        )
        st.subheader(ui.t("top_risks"))
        risks = verdicts[verdicts["status"].isin(["fail", "near"])].copy()
        if risks.empty:
            ui.empty_notice()
        else:
            risks["rank"] = (~risks["is_veto"].fillna(False)).astype(int)
            risks = risks.sort_values(["rank", "status", "margin"]).head(15)
            lang = ui.lang()
            table = pd.DataFrame(
                {
                    ui.t("campaign"): [names.get(c, c) for c in risks["campaign_code"]],
                    ui.t("requirement"): risks["req_name_en" if lang == "en" else "req_name_zh"],
                    ui.t("veto"): risks["is_veto"].map(lambda v: ui.t("veto") if v else ""),
                    ui.t("status"): risks["status"].map(ui.status_text),
                    ui.t("value"): risks["value"],
                    ui.t("threshold"): risks["threshold_value"],
                    ui.t("margin"): risks["margin"],
                }
            )
            st.dataframe(
                ui.style_status(table, ui.t("status"), list(risks["status"])),
                hide_index=True,
                width="stretch",
            )
