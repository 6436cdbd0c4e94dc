"""创建项目 Campaign: the requirement table with status colours, value vs threshold, margin, sparkline,
edition; a selected row (or the picker below) opens the indicator page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data, ui

ui.header("page_campaign")

if ui.ready() and ui.period():
    county, period = ui.county(), ui.period()
    with ui.part():
        names = ui.campaign_names()
        code = ui.campaign() or next(iter(names), None)
        if not ui.campaign():
            st.caption("在侧栏选择创建项目 / choose a campaign in the sidebar")
        st.subheader(f"{names.get(code, code)} · {period}")
        if label := ui.coverage_label(data.coverage(ui.county(), period), code, period, ui.lang()):
            st.caption(label)
        verdicts = data.verdicts_asof(county, period, code)
        if verdicts.empty:
            ui.empty_notice()
        else:
            history = data.verdict_history(county, period, code)
            spark = (
                history.dropna(subset=["value"])
                .groupby("requirement_code")["value"]
                .apply(lambda s: [float(x) for x in s.tail(24)])
            )
            lang = ui.lang()
            outlook: dict[str, str] = {}
            if data.has_rows("marts.requirement_forecast"):
                rf = data.requirement_forecast(county, period)
                outlook = dict(
                    zip(rf["requirement_code"], rf["status_zh" if lang == "zh" else "status"], strict=False)
                )
            table = pd.DataFrame(
                {
                    "code": verdicts["indicator_code"],
                    ui.t("status"): verdicts["status"].map(ui.status_text),
                    ui.t("requirement"): verdicts["req_name_en" if lang == "en" else "req_name_zh"],
                    ui.t("veto"): verdicts["is_veto"].map(lambda v: ui.t("veto") if v else ""),
                    ui.t("value"): verdicts["value"].where(verdicts["value"].notna(), verdicts["value_text"]),
                    ui.t("threshold"): verdicts["comparison"].fillna("")
                    + " "
                    + verdicts["threshold_value"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
                    + verdicts["unit"].fillna(""),
                    ui.t("margin"): verdicts["margin"],
                    ui.t("trend"): [spark.get(r, []) for r in verdicts["requirement_code"]],
                    ui.t("projected"): [outlook.get(r, "—") for r in verdicts["requirement_code"]],
                    ui.t("edition"): verdicts["edition_name_en" if lang == "en" else "edition_name_zh"],
                }
            )
            table[ui.t("value")] = table[ui.t("value")].astype(str).replace({"nan": "—", "None": "—"})
            counts = verdicts["status"].value_counts()
            st.caption(" · ".join(f"{ui.status_md(s)} {int(n)}" for s, n in counts.items()))
            event = st.dataframe(
                ui.style_status(table, ui.t("status"), list(verdicts["status"])),
                hide_index=True,
                width="stretch",
                column_order=[c for c in table.columns if c != "code"],
                column_config={
                    ui.t("trend"): st.column_config.LineChartColumn(ui.t("trend"), width="small"),
                    ui.t("margin"): st.column_config.NumberColumn(format="%.2f"),
                },
                on_select="rerun",
                selection_mode="single-row",
                key="campaign_table",
            )
            rows = event.selection.rows if event is not None else []
            if rows:
                st.session_state[ui.K_GOTO_INDICATOR] = table["code"].iloc[rows[0]]
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
