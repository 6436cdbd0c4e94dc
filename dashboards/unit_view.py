"""责任单位详情 — one unit: what it owes and by when, its late and missing returns, the failing
requirements it owns, its open rectification items, its rank and how the score is made.

Rendered by the unit page (any unit the viewer may see) and by the department workspace (the clerk's
own unit): built once, called from both.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import archive_view, auth, data, outlook, present, ui

WEIGHTS = {"timeliness": 0.35, "completeness": 0.25, "data_quality": 0.20, "compliance": 0.20}


def render(county: str, org: str, period: str, key: str = "uv") -> None:
    lang = ui.lang()
    en = lang == "en"
    units = data.units(county)
    row = units[units["org_code"] == org]
    if row.empty:
        ui.empty_notice()
        return
    uname = ui.name(row.iloc[0].to_dict())
    st.subheader(f"{uname} · {ui.t('as_of')} {period}")

    # rank and score
    with ui.part():
        acc = data.unit_accountability(county, period) if data.has_rows("marts.unit_accountability") else None
        mine = acc[acc["org_code"] == org] if acc is not None else pd.DataFrame()
        notice = ui.notice_list(county, period)
        listed = notice[notice["org_code"] == org]
        if not listed.empty:
            st.error(
                ui.tidy(listed.iloc[0]["reason_en" if en else "reason_zh"], county),
                icon=":material/campaign:",
            )
        st.markdown(f"##### {ui.t('unit_score')}")
        if mine.empty:
            st.caption(present.DASH_REASONS["not_ranked"][1 if en else 0])
        else:
            a = mine.iloc[0]
            c1, c2, c3 = st.columns(3)
            c1.metric(ui.t("score"), present.score(a["score"]))
            ranked = bool(a.get("is_ranked")) and pd.notna(a.get("rank"))
            c2.metric(
                ui.t("rank"),
                ui.t("rank_of", rank=int(a["rank"]), n=int(a["n_ranked"])) if ranked else present.DASH,
                help=None if ranked else ui.t("not_ranked"),
            )
            c3.metric(ui.t("missing_returns"), f"{int(a['returns_missing'])}")
            comps = []
            for comp, w in WEIGHTS.items():
                val = a.get(comp)
                comps.append(
                    {
                        ui.t("component"): ui.t(f"comp_{comp}"),
                        ui.t("weight"): f"{w:.0%}",
                        ui.t("value"): present.pct(val)
                        if pd.notna(val)
                        else (
                            ui.t("legend_dash")
                            + ": "
                            + ("nothing of this kind was due" if en else "本月无此类应报事项")
                        ),
                    }
                )
            st.caption(
                "得分 = 100 ×（0.35 及时性 + 0.25 完整性 + 0.20 数据质量 + 0.20 达标）/ 参与计算的权重之和"
                if not en
                else "score = 100 × (0.35 timeliness + 0.25 completeness + 0.20 data quality + 0.20 compliance) "
                "/ sum of the weights used"
            )
            ui.table(pd.DataFrame(comps), f"{key}_score", ui.t("component"), [ui.t("value")])

    # what it owes and by when; late and missing
    with ui.part():
        st.markdown(f"##### {ui.t('unit_owes')}")
        ret = data.unit_returns(county, org, period)
        if ret.empty:
            ui.empty_notice()
        else:
            status_lbl = {s: ui.t(f"ret_{s}") for s in ("on_time", "late", "missing", "not_due")}
            tbl = pd.DataFrame(
                {
                    ui.t("return_status"): ret["return_status"].map(status_lbl),
                    ui.t("period"): ret["period_label_zh"] if not en else ret["period_code"],
                    ui.t("frequency"): ret["frequency"].map(lambda f: ui.t(f"freq_{f}")),
                    ui.t("due_date"): pd.to_datetime(ret["due_date"]).dt.strftime("%Y-%m-%d"),
                    ui.t("received"): pd.to_datetime(ret["received_at"])
                    .dt.strftime("%Y-%m-%d")
                    .fillna(present.DASH),
                    ui.t("working_days_late"): ret["working_days_late"].map(
                        lambda v: present.DASH if pd.isna(v) else f"{int(v)}"
                    ),
                }
            )
            st.caption(
                (
                    "截止日期按中国法定工作日计算（节假日与调休）；"
                    if not en
                    else "Due dates count Chinese working days (holidays and make-up days); "
                )
                + present.DASH_REASONS["no_value"][1 if en else 0]
            )
            bad = ret["return_status"].isin(["late", "missing"])
            st.markdown(f"###### {ui.t('unit_returns')}: {int(bad.sum())}")
            ui.table(tbl, f"{key}_returns", ui.t("period"), [ui.t("return_status"), ui.t("due_date")])

    # failing requirements it owns
    with ui.part():
        st.markdown(f"##### {ui.t('unit_failing')}")
        v = data.verdicts_asof(county, period)
        v = outlook.failing(v[v["owner_org_code"] == org]) if "owner_org_code" in v else v.iloc[0:0]
        if v.empty:
            st.success(ui.t("none_failing"), icon=":material/check:")
        else:
            names = ui.campaign_names()
            tbl = pd.DataFrame(
                {
                    ui.t("status"): v["status"].map(ui.status_text),
                    ui.t("requirement"): v["req_name_en" if en else "req_name_zh"],
                    ui.t("campaign"): v["campaign_code"].map(names),
                    ui.t("veto"): v["is_veto"].map(lambda x: ui.t("veto") if x else ""),
                    ui.t("value"): [present.value_vs_threshold(r, lang) for _, r in v.iterrows()],
                }
            )
            ui.table(tbl, f"{key}_failing", ui.t("requirement"), [ui.t("status"), ui.t("value")])

    # open rectification items
    with ui.part():
        st.markdown(f"##### {ui.t('unit_rectification')}")
        if not data.has_rows("marts.rectification_item"):
            ui.empty_notice()
        else:
            r = data.rectification(county)
            r = r[(r["owner_org_code"] == org) & r["status"].isin(["open", "overdue"])]
            if r.empty:
                st.success(ui.t("none_open"), icon=":material/check:")
            else:
                tbl = pd.DataFrame(
                    {
                        ui.t("status"): r["status"].map(lambda s: ui.t(f"rect_{s}")),
                        ui.t("due_date"): pd.to_datetime(r["due_date"]).dt.strftime("%Y-%m-%d"),
                        ui.t("what"): r["description_en" if en else "description_zh"]
                        .fillna(r["description_zh"])
                        .map(lambda x: ui.tidy(x, county)),
                        ui.t("periods_open"): r["periods_open"].map(
                            lambda x: present.DASH if pd.isna(x) else f"{int(x)}"
                        ),
                    }
                )
                ui.table(tbl, f"{key}_rect", ui.t("what"), [ui.t("status"), ui.t("due_date")])

    # the archive evidence the unit still owes (档案资料, issue 16)
    with ui.part():
        viewer = auth.current_viewer()
        if viewer is not None:
            archive_view.render_unit_owed(viewer, county, org)
