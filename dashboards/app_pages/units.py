"""责任单位 Units: the accountability ranking (a bar opens the unit), a unit × month timeliness heatmap
(missing returns shown as missing, late ones by working days) and the 通报 list for a month — the same
list the briefing and the unit page show (ui.notice_list) — downloadable as CSV and xlsx."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import analytics, charts, data, present, ui

ui.header("page_units")

if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    lang = ui.lang()
    en = lang == "en"
    label_col = "org_name_en" if en else "org_name_zh"
    year = int(period[:4])
    if ui.campaign():
        ui.filter_note({"campaign": False})
    with ui.part():
        st.subheader(ui.t("ranking"))
        ranking = (
            data.unit_accountability(county, period) if data.has_rows("marts.unit_accountability") else None
        )
        if ranking is not None:
            st.caption(f"{period} · {ui.t('score_rule')}")
        else:
            subs = data.submissions(county)
            ranking = analytics.timeliness_ranking(subs[subs["year"] == year])
            st.caption(f"{year} · {ui.t('score_rule_fallback')}")
        if ui.unit() and "org_code" in ranking:
            ranking = ranking[ranking["org_code"] == ui.unit()]
        if ranking.empty:
            ui.empty_notice()
        else:
            if label_col not in ranking:
                ranking[label_col] = None
            ranking[label_col] = ranking[label_col].fillna(ranking.get("org_name_zh", ranking["org_code"]))
            ranking[label_col] = ranking[label_col].fillna(ranking["org_code"])
            with st.container(key="u_rank_chart"):
                st.caption(ui.t("open_unit_hint"))
                event = st.plotly_chart(
                    charts.ranking_bars(ranking, label_col, ui.t("ranking"), ui.t("score")),
                    width="stretch",
                    key="u_rank",
                    on_select="rerun",
                    selection_mode="points",
                    config={"displaylogo": False},
                )
            points = (event or {}).get("selection", {}).get("points", []) if event else []
            if points:
                org = points[0].get("customdata")
                if isinstance(org, list):
                    org = org[0]
                if org:
                    st.switch_page(ui.UNIT_PAGE, query_params={"unit": org})
            cols = [
                ("rank", "rank", ui.fmt_int),
                (label_col, "unit", None),
                ("score", "score", present.score),
                ("timeliness", "comp_timeliness", present.pct),
                ("completeness", "comp_completeness", present.pct),
                ("data_quality", "comp_data_quality", present.pct),
                ("compliance", "comp_compliance", present.pct),
                ("returns_missing", "missing_returns", ui.fmt_int),
                ("returns_late", "returns_late", ui.fmt_int),
                ("working_days_late_max", "worst_late", ui.fmt_int),
                ("is_lagging", "lagging", ui.fmt_yes),
            ]
            shown = ui.labelled(ranking, [c for c in cols if c[0] in ranking.columns])
            st.caption(present.DASH_REASONS["not_ranked"][1 if en else 0])
            ui.table(shown, "u_rank_table", ui.t("unit"), [ui.t("rank"), ui.t("score")])
            ui.downloads(ranking, f"ranking_{period}", "u_rank")
    with ui.part():
        st.subheader(ui.t("timeliness"))
        months = [p for p in data.months(county) if p.startswith(f"{year}-") and p <= period]
        frames = []
        for m in months:
            e = data.expected_returns(county, m)
            frames.append(e.assign(period=m))
        cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if not cells.empty and ui.unit():
            cells = cells[cells["org_code"] == ui.unit()]
        if cells.empty:
            ui.empty_notice()
        else:
            cells["unit"] = cells[label_col].fillna(cells["org_name_zh"]).fillna(cells["org_code"])
            st.caption(ui.t("heat_legend"))
            heat = st.plotly_chart(
                charts.timeliness_heatmap(
                    cells, f"{ui.t('timeliness')} · {year}", missing_text=ui.t("heat_missing")
                ),
                width="stretch",
                key="u_heat",
                config={"displaylogo": False},
                on_select="rerun",
                selection_mode="points",
            )
            hits = (heat or {}).get("selection", {}).get("points", []) if heat else []
            if hits and hits[0].get("customdata"):
                org = hits[0]["customdata"]
                org = org[0] if isinstance(org, list) else org
                st.switch_page(
                    ui.UNIT_PAGE, query_params={"unit": org, "period": str(hits[0].get("x") or period)}
                )
    with ui.part():
        st.subheader(f"{ui.t('notice_list')} · {period}")
        notice = ui.notice_list(county, period)
        if ui.unit():
            notice = notice[notice["org_code"] == ui.unit()]
        if notice.empty:
            st.success(ui.t("no_lagging"), icon=":material/check:")
        else:
            shown = ui.labelled(
                notice,
                [
                    ("org_name_en" if en else "org_name_zh", "unit", None),
                    ("rank", "rank", ui.fmt_int),
                    ("score", "score", present.score),
                    ("missing_returns", "missing_returns", ui.fmt_int),
                    ("late_returns", "returns_late", ui.fmt_int),
                    ("reason_en" if en else "reason_zh", "reason", None),
                ],
            )
            ui.table(shown, "u_notice_table", ui.t("unit"), [ui.t("reason")])
            for r in notice.head(12).itertuples(index=False):
                ui.unit_link(r.org_code, (r.org_name_en or r.org_name_zh) if en else r.org_name_zh)
            ui.downloads(notice, f"tongbao_{period}", "u_notice")
