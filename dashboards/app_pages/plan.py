"""进度 Plan: a Gantt of phases, milestones and tasks (marts.plan_schedule, else the profile's plan);
rectification items (整改) and their status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, i18n, ui

ui.header("page_plan")

KIND_LABELS = {
    "phase": "阶段 phase",
    "milestone": "里程碑 milestone",
    "derived_milestone": "倒排节点 scheduled",
    "task": "任务 task",
    "campaign": "创建项目 campaign",
}
RECT_LABELS = {
    "open": "整改中 open",
    "overdue": "逾期 overdue",
    "closed": "已销号 closed",
    "closed_late": "逾期销号 closed late",
}
STATUS_WORD = {
    "done": "已完成",
    "in_progress": "进行中",
    "planned": "未开始",
    "overdue": "逾期",
    "not_started": "未开始",
}


def _schedule(county: str, names: dict[str, str], lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gantt bars and milestone points, from the mart when built, else from the profile's plan."""
    camps = data.campaigns(county)
    campaign_bars = pd.DataFrame(
        {
            "label": [names.get(c, c) for c in camps["campaign_code"]],
            "start": camps["start_date"],
            "end": camps["acceptance_date"],
            "group": KIND_LABELS["campaign"],
        }
    ).dropna()
    if data.has_rows("marts.plan_schedule"):
        s = data.plan_schedule(county)
        if ui.campaign():
            s = s[s["campaign_code"].isna() | (s["campaign_code"] == ui.campaign())]
        label = s["name_en" if lang == "en" else "name_zh"].fillna(s["name_zh"]).fillna(s["code"])
        label = label + s["status"].map(
            lambda x: f"（{STATUS_WORD.get(x, x)}）" if isinstance(x, str) else ""
        )
        spans = s["start_date"].notna()
        bars = pd.DataFrame(
            {
                "label": label[spans],
                "start": s["start_date"][spans],
                "end": s["due_date"][spans],
                "group": s["item_kind"][spans].map(KIND_LABELS),
            }
        )
        points = pd.DataFrame(
            {
                "label": label[~spans],
                "date": s["due_date"][~spans],
                "group": s["item_kind"][~spans].map(KIND_LABELS),
            }
        )
        return pd.concat([bars, campaign_bars], ignore_index=True), points
    plan = data.plan(county)
    phases = plan["phases"]
    bars = pd.DataFrame(
        {
            "label": phases["name_en" if lang == "en" else "name_zh"],
            "start": phases["start_date"],
            "end": phases["end_date"],
            "group": KIND_LABELS["phase"],
        }
    )
    ms = plan["milestones"]
    if ui.campaign():
        ms = ms[ms["campaign_code"].isna() | (ms["campaign_code"] == ui.campaign())]
    points = pd.DataFrame({"label": ms["name_zh"], "date": ms["due_date"], "group": KIND_LABELS["milestone"]})
    return pd.concat([bars, campaign_bars], ignore_index=True), points


if ui.ready():
    county = ui.county()
    lang = ui.lang()
    with ui.part():
        names = ui.campaign_names()
        bars, points = _schedule(county, names, lang)
        st.plotly_chart(charts.gantt(bars, points, ui.t("gantt")), width="stretch", key="p_gantt")
        c1, c2 = st.columns(2)
        with c1:
            st.subheader(ui.t("milestones"))
            st.dataframe(points, hide_index=True, width="stretch")
        with c2:
            st.subheader(ui.t("tasks"))
            if not data.has("marts.task"):
                st.info(i18n.both("table_missing", tables="marts.task"), icon=":material/info:")
            else:
                tasks = data.tasks(county)
                if ui.unit():
                    tasks = tasks[tasks["owner_org_code"] == ui.unit()]
                if tasks.empty:
                    ui.empty_notice()
                else:
                    st.dataframe(tasks, hide_index=True, width="stretch")
    with ui.part():
        st.subheader(ui.t("rectification"))
        items = data.rectification(county)
        if ui.unit():
            items = items[items["owner_org_code"] == ui.unit()]
        if ui.campaign():
            items = items[items["campaign_code"].isna() | (items["campaign_code"] == ui.campaign())]
        if items.empty:
            ui.empty_notice()
        else:
            counts = items["status"].value_counts()
            cols = st.columns(4)
            for col, status in zip(cols, ("open", "overdue", "closed", "closed_late"), strict=True):
                col.metric(RECT_LABELS[status], int(counts.get(status, 0)))
            items = items.drop(columns=["description_en" if lang == "zh" else "description_zh"])
            st.dataframe(items, hide_index=True, width="stretch")
            ui.downloads(items, "rectification", "p_rect")
