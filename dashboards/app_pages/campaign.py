"""创建项目 Campaign: the requirement table with status colours, value vs threshold, margin, sparkline,
edition; a selected row (or the picker below) opens the indicator page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import archive_view, auth, data, ui

ui.header("page_campaign")

if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    with ui.part():
        names = ui.campaign_names()
        code = ui.campaign() or next(iter(names), None)
        if not ui.campaign():
            st.caption(ui.t("choose_campaign_hint"))
        st.subheader(f"{names.get(code, code)} · {period}")
        if label := ui.coverage_label(data.coverage(ui.county(), period), code, period, ui.lang()):
            st.caption(label)
        if code and (viewer := auth.current_viewer()) is not None:
            archive_view.render_campaign_summary(viewer, county, code)  # 档案资料 of this campaign
        verdicts = data.verdicts_asof(county, period, code)
        if ui.unit():  # the requirements this unit is responsible for, or whose figure it reports
            st.caption(ui.t("unit_filter_requirements"))
            verdicts = verdicts[
                (verdicts["owner_org_code"] == ui.unit()) | (verdicts["reporting_org_code"] == ui.unit())
            ]
        if verdicts.empty:
            ui.empty_notice()
        else:
            history = data.verdict_history(county, period, code)
            spark = (
                history.dropna(subset=["value"])
                .groupby("requirement_code")["value"]
                .apply(lambda s: [round(float(x), 2) for x in s.tail(24)])
            )
            lang = ui.lang()
            outlook: dict[str, str] = {}
            if data.has_rows("marts.requirement_forecast"):
                rf = data.requirement_forecast(county, period)
                outlook = {
                    r: ui.t(f"fc_{s}") for r, s in zip(rf["requirement_code"], rf["status"], strict=False)
                }
            owner_col = "owner_name_en" if lang == "en" else "owner_name_zh"
            table = pd.DataFrame(
                {
                    "_code": verdicts["indicator_code"],
                    ui.t("status"): verdicts["status"].map(ui.status_text),
                    ui.t("requirement"): verdicts["req_name_en" if lang == "en" else "req_name_zh"],
                    ui.t("owner"): verdicts[owner_col].fillna(verdicts["owner_name_zh"]).fillna("—"),
                    ui.t("veto"): verdicts["is_veto"].map(lambda v: ui.t("veto") if v else ""),
                    ui.t("value"): [
                        ui.num(r["value"], r["unit"])
                        if pd.notna(r["value"])
                        else (r["value_text"] if isinstance(r["value_text"], str) else "—")
                        for _, r in verdicts.iterrows()
                    ],
                    ui.t("threshold"): [ui.threshold_text(r) for _, r in verdicts.iterrows()],
                    ui.t("margin"): [
                        ui.num(m, u) for m, u in zip(verdicts["margin"], verdicts["unit"], strict=False)
                    ],
                    ui.t("trend"): [spark.get(r, []) for r in verdicts["requirement_code"]],
                    ui.t("projected"): [outlook.get(r, "—") for r in verdicts["requirement_code"]],
                    ui.t("edition"): verdicts["edition_name_en" if lang == "en" else "edition_name_zh"],
                }
            )
            st.caption(ui.present.DASH_REASONS["no_value"][1 if lang == "en" else 0])
            counts = verdicts["status"].value_counts()
            st.caption(" · ".join(f"{ui.status_md(s)} {int(n)}" for s, n in counts.items()))
            event = ui.table(  # cards on a phone: status and value first
                table,
                "campaign_table",
                ui.t("requirement"),
                [ui.t("status"), ui.t("value"), ui.t("threshold")],
                styled=ui.style_status(table, ui.t("status"), list(verdicts["status"])),
                column_order=[c for c in table.columns if c != "_code"],
                column_config={
                    ui.t("trend"): st.column_config.LineChartColumn(ui.t("trend"), width="small"),
                },
                on_select="rerun",
                selection_mode="single-row",
            )
            rows = event.selection.rows if event is not None else []
            if rows:
                st.session_state[ui.K_GOTO_INDICATOR] = table["_code"].iloc[rows[0]]
                st.switch_page("app_pages/indicator.py")
            options = list(dict.fromkeys(verdicts["indicator_code"]))
            labels = dict(
                zip(
                    verdicts["indicator_code"],
                    verdicts["ind_name_en" if lang == "en" else "ind_name_zh"],
                    strict=False,
                )
            )
            c1, c2 = st.columns([3, 1])
            pick = ui.select(c1, ui.t("choose_requirement"), options, labels, "campaign_pick")
            c2.write("")
            if c2.button(ui.t("open_indicator"), key="campaign_open"):
                st.session_state[ui.K_GOTO_INDICATOR] = pick
                st.switch_page("app_pages/indicator.py")
