"""责任单位 Units: the accountability ranking, a unit × period timeliness heatmap and the 通报 list
for a month, downloadable as CSV and xlsx."""

from __future__ import annotations

import streamlit as st

from dashboards import analytics, charts, data, ui

ui.header("page_units")

if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    lang = ui.lang()
    label_col = "org_name_en" if lang == "en" else "org_name_zh"
    year = int(period[:4])
    with ui.part():
        st.subheader(ui.t("ranking"))
        ranking = (
            data.unit_accountability(county, period) if data.has_rows("marts.unit_accountability") else None
        )
        if ranking is not None:
            st.caption(
                f"{period} · 得分 = 100 ×（0.35 及时性 + 0.25 完整性 + 0.20 数据质量 + 0.20 达标）/ "
                "score = 100 × (0.35 timeliness + 0.25 completeness + 0.20 data quality + 0.20 compliance)"
            )
        else:
            subs = data.submissions(county)
            ranking = analytics.timeliness_ranking(subs[subs["year"] == year])
            st.caption(
                f"{year} · 得分 = 100 × 按时率 − 2 × 平均迟报工作日 − 隔离数值占比% / "
                "score = 100 × on-time share − 2 × mean working days late − quarantined share %"
            )
        if ranking.empty:
            ui.empty_notice()
        else:
            ranking[label_col] = ranking[label_col].fillna(ranking["org_code"])
            c1, c2 = st.columns([2, 3])
            c1.plotly_chart(
                charts.ranking_bars(ranking, label_col, ui.t("ranking")), width="stretch", key="u_rank"
            )
            other = "org_name_zh" if lang == "en" else "org_name_en"
            c2.dataframe(ranking.drop(columns=[other]), hide_index=True, width="stretch")
            ui.downloads(ranking, f"ranking_{year}", "u_rank")
    with ui.part():
        st.subheader(ui.t("timeliness"))
        subs = data.submissions(county)
        monthly = subs[(subs["frequency"] == "monthly") & (subs["year"] == year) & (subs["revision_no"] == 1)]
        if ui.unit():
            monthly = monthly[monthly["org_code"] == ui.unit()]
        if monthly.empty:
            ui.empty_notice()
        else:
            matrix = monthly.pivot_table(
                index=label_col, columns="period_code", values="working_days_late", aggfunc="max"
            )
            st.plotly_chart(
                charts.timeliness_heatmap(matrix, f"{ui.t('timeliness')} · {year}", ui.t("late_days")),
                width="stretch",
                key="u_heat",
            )
    with ui.part():
        st.subheader(f"{ui.t('notice_list')} · {period}")
        if data.has_rows("marts.unit_accountability"):
            notice = data.lagging_units(county, period)
            notice = notice.drop(columns=["reason_en" if lang == "zh" else "reason_zh"])
        else:
            exp = data.expected_returns(county, period)
            notice = exp[exp["return_status"] != "on_time"].copy()
            notice["return_status"] = notice["return_status"].map(
                {"late": "迟报 late", "missing": "未报 missing"}
            )
        if notice.empty:
            st.success("本月无迟报、漏报单位 / no late or missing units this month")
        else:
            st.dataframe(notice, hide_index=True, width="stretch")
            ui.downloads(notice, f"tongbao_{period}", "u_notice")
