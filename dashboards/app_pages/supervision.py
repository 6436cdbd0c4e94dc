"""督查检查 Inspections: point scores by type and town over time, problems by responsible unit (open,
overdue, repeat), a map of the points with coordinates (plain axes, offline), the self-inspection and
supervision rounds with their findings, problems in the 督查 spreadsheets, the unit ranking with the
supervision component, and the inspection form (office or inspector)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import auth, data, i18n, ui
from dashboards import plan_data as pdata
from pipelines.marts.accountability import SUPERVISION_WEIGHT
from pipelines.plan_process import points as pts
from pipelines.plan_process import store as pstore
from pipelines.workflow.store import Store

ui.header("page_supervision")

FORM_ROLES = ("office", "inspector")


def _day(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, errors="coerce").dt.strftime("%Y-%m-%d").fillna("—")


def _problems_table(probs: pd.DataFrame, lang: str, answers: dict[str, str] | None = None) -> pd.DataFrame:
    unit = probs["unit_name_en" if lang == "en" else "unit_name_zh"].fillna(probs["unit_name_zh"])
    none = "—（尚未答复）" if lang == "zh" else "— (no answer yet)"
    out = pd.DataFrame(
        {
            ui.t("unit"): unit,
            "状态" if lang == "zh" else "Status": probs["status"].map(
                lambda s: pdata.word(pdata.PROBLEM_STATUS, s, lang)
            ),
            "问题" if lang == "zh" else "Problem": probs[
                "description_en" if lang == "en" else "description_zh"
            ],
            "发现日期" if lang == "zh" else "Found": _day(probs["opened_date"]),
            "整改期限" if lang == "zh" else "Due": _day(probs["due_date"]),
            "销号日期" if lang == "zh" else "Closed": _day(probs["closed_date"]),
            "发现次数" if lang == "zh" else "Times found": probs["times_found"],
            "单位答复" if lang == "zh" else "Unit's answer": probs["item_id"].map(
                lambda i: (answers or {}).get(i, none)
            ),
            "来源" if lang == "zh" else "Source": (
                probs["source_file"].fillna("").str.rsplit("/", n=1).str[-1]
                + " "
                + probs["sheet"].fillna("")
                + " "
                + probs["cell"].fillna("")
            ).str.strip(),
        }
    )
    return out


def _form(county: str, viewer: auth.Viewer, lang: str) -> None:
    st.subheader(ui.t("sv_form"))
    if viewer.role not in FORM_ROLES:
        st.caption(ui.t("sv_form_only"))
        return
    settings = data.settings()
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles

    catalog = load_catalog(settings.standards_dir)
    profile = next(p for p in load_profiles(settings.profiles_dir, catalog) if p.code == county)
    checklists = pts.load_checklists(settings.standards_dir, set(catalog.campaigns))
    plist = pts.load_points(settings.expectations_dir, profile, checklists)
    if not plist:
        ui.empty_notice()
        return
    names = {
        p.code: f"{p.name_zh}（{checklists[p.type].name_en if lang == 'en' else checklists[p.type].name_zh}）"
        for p in plist
    }
    code = st.selectbox(ui.t("sv_point"), list(names), format_func=names.get, key="sv_form_point")
    point = next(p for p in plist if p.code == code)
    cl = checklists[point.type]
    with st.form("sv_form", clear_on_submit=False):
        c1, c2, c3 = st.columns(3)
        day = c1.date_input(ui.t("sv_date"), value=dt.date.today(), key="sv_form_date")
        kind = c2.selectbox(
            ui.t("sv_kind"),
            list(pdata.ROUND_KIND),
            format_func=lambda k: pdata.word(pdata.ROUND_KIND, k, lang),
            index=1,
        )
        team = c3.text_input(ui.t("sv_team"), key="sv_form_team")
        round_name = st.text_input(ui.t("sv_round"), key="sv_form_round")
        scores = {}
        for it in cl.items:
            a, b = st.columns([1, 2])
            label = ui.t(
                "sv_item_score", item=it.name_en if lang == "en" else it.name_zh, max=f"{it.max_score:g}"
            )
            s = a.number_input(
                label, 0.0, float(it.max_score), float(it.max_score), 0.5, key=f"sv_s_{it.code}"
            )
            p = b.text_input(ui.t("sv_item_problem"), key=f"sv_p_{it.code}")
            scores[it.code] = (s, p)
        photos = st.file_uploader(
            ui.t("sv_photos"), type=["jpg", "jpeg", "png", "pdf"], accept_multiple_files=True
        )
        if st.form_submit_button(ui.t("sv_save"), icon=":material/save:"):
            try:
                iid = pstore.record_inspection(
                    Store.default(settings),
                    county,
                    code,
                    day,
                    scores,
                    cl,
                    viewer.username,
                    kind,
                    round_name,
                    team,
                    photos=[(f.name, f.getvalue()) for f in photos or []],
                )
            except pstore.PlanProcessError as e:
                st.error(f"{e.zh} / {e.en}", icon=":material/error:")
            else:
                auth.audit("inspection_recorded", {"inspection_id": iid, "point": code})
                st.success(ui.t("sv_saved", id=f"{names[code]}，{day}"), icon=":material/check:")
    insp, scores_ = pstore.form_inspections(Store.default(settings), county)
    if insp:
        st.caption(ui.t("sv_recent"))
        rec = pd.DataFrame(insp)[["inspected_on", "point_code", "round_kind", "team", "recorded_by"]].tail(10)
        rec["point_code"] = rec["point_code"].map(lambda c: names.get(c, c))
        rec["round_kind"] = rec["round_kind"].map(lambda k: pdata.word(pdata.ROUND_KIND, k, lang))
        rec.columns = (
            ["检查日期", "点位", "类型", "检查组", "录入人"]
            if lang == "zh"
            else ["Date", "Point", "Kind", "Team", "By"]
        )
        st.dataframe(rec, hide_index=True, width="stretch")


def _views(county: str, lang: str) -> None:
    """The views (their tables exist)."""
    with ui.part():
        points = pdata.points(county)
        insp = pdata.inspections(county)
        probs = pdata.problems(county)
        if ui.unit():
            insp = insp[insp["unit_code"] == ui.unit()]
            probs = probs[probs["owner_org_code"] == ui.unit()]
            points = points[points["unit_code"] == ui.unit()]
        if ui.campaign():  # the points that serve the campaign, and the findings of its acceptance
            camp = ui.campaign()
            points = points[points["campaigns"].map(lambda cs: camp in list(cs) if cs is not None else False)]
            codes = set(points["point_code"])
            insp = insp[insp["point_code"].isin(codes)]
            probs = probs[
                probs["point_code"].isin(codes)
                | (
                    (probs["point_type"] == "acceptance")
                    & probs["item_id"].str.contains(f":{camp}:", regex=False)
                )
            ]
        cols = st.columns(5)
        cols[0].metric(ui.t("sv_points"), len(points))
        cols[1].metric(ui.t("sv_inspections"), len(insp))
        cols[2].metric(
            ui.t("sv_open"), int(probs["status"].isin(["open", "overdue"]).sum()) if not probs.empty else 0
        )
        cols[3].metric(
            ui.t("sv_overdue"), int((probs["status"] == "overdue").sum()) if not probs.empty else 0
        )
        cols[4].metric(ui.t("sv_repeat"), int(probs["is_repeat"].sum()) if not probs.empty else 0)
        c1, c2 = st.columns(2)
        c1.plotly_chart(
            pdata.score_trend(insp, "type", lang, ui.t("sv_by_type")), width="stretch", key="sv_type"
        )
        c2.plotly_chart(
            pdata.score_trend(insp, "town", lang, ui.t("sv_by_town")), width="stretch", key="sv_town"
        )
    with ui.part():
        c1, c2 = st.columns([3, 2])
        with c1:
            latest = pdata.latest_by_point(insp, probs)
            n_coords = int(points["lon"].notna().sum()) if not points.empty else 0
            if n_coords:
                st.plotly_chart(
                    pdata.point_map(points, latest, lang, ui.t("sv_map")), width="stretch", key="sv_map"
                )
                if n_coords < len(points):
                    st.caption(ui.t("sv_map_missing", n=len(points) - n_coords))
            else:
                st.info(ui.t("sv_map_none"), icon=":material/info:")
        with c2:
            st.subheader(ui.t("sv_by_unit"))
            by_unit = pdata.problems_by_unit(probs, lang)
            if by_unit.empty:
                ui.empty_notice()
            else:
                st.dataframe(by_unit, hide_index=True, width="stretch")
    with ui.part():
        st.subheader(ui.t("sv_problems"))
        if probs.empty:
            ui.empty_notice()
        else:
            from dashboards import workspace_data as wd

            table = _problems_table(probs, lang, wd.answer_labels(auth.require_viewer(), county, lang))
            st.dataframe(table, hide_index=True, width="stretch", height=320)
            ui.downloads(table, "supervision_problems", "sv_probs")
    with ui.part():
        st.subheader(ui.t("sv_rounds"))
        r = pdata.rounds(insp, lang)
        if r.empty:
            ui.empty_notice()
        else:
            st.dataframe(r, hide_index=True, width="stretch", height=260)
            rounds_ = list(dict.fromkeys(r.iloc[:, 2]))
            with_findings = set(insp.loc[insp["n_deductions"] > 0, "round_name"])
            first = next((i for i, x in enumerate(rounds_) if x in with_findings), 0)
            picked = st.selectbox(ui.t("sv_findings"), rounds_, index=first, key="sv_round_pick")
            found = insp[(insp["round_name"] == picked) & (insp["n_deductions"] > 0)]
            if found.empty:
                st.caption(ui.t("sv_no_findings"))
            else:
                st.dataframe(
                    pd.DataFrame(
                        {
                            ui.t("sv_point"): found["point_name_zh"],
                            "得分率%" if lang == "zh" else "Score %": found["score_pct"].round(1),
                            "问题描述" if lang == "zh" else "Problems": found["problem_text"],
                            "照片编号" if lang == "zh" else "Photos": found["photo_ref"],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                )
    with ui.part():
        st.subheader(ui.t("sv_ranking", w=f"{SUPERVISION_WEIGHT:.0%}"))
        us = pdata.unit_scores(county)
        if us.empty:
            ui.empty_notice()
        else:
            year = st.selectbox(
                ui.t("pp_year"), sorted(us["year"].unique(), reverse=True), key="sv_rank_year"
            )
            u = us[(us["year"] == year) & us["rank"].notna()]
            st.dataframe(
                pd.DataFrame(
                    {
                        "排名" if lang == "zh" else "Rank": u["rank"].astype(int),
                        ui.t("unit"): u["unit_name_en" if lang == "en" else "unit_name_zh"].fillna(
                            u["unit_name_zh"]
                        ),
                        "分组" if lang == "zh" else "Group": u["rank_group"].map(
                            {
                                "department": "部门" if lang == "zh" else "department",
                                "town": "乡镇" if lang == "zh" else "town",
                            }
                        ),
                        "综合得分" if lang == "zh" else "Combined": u["combined_score"].round(1),
                        "报送考核得分" if lang == "zh" else "Ledger score": u["ledger_score"].round(1),
                        "督查得分率%" if lang == "zh" else "Inspection score %": u["mean_score_pct"].round(1),
                        "问题/逾期/反复" if lang == "zh" else "Problems/late/repeat": (
                            u["n_problems"].astype(str)
                            + "/"
                            + u["n_overdue"].astype(str)
                            + "/"
                            + u["n_repeat"].astype(str)
                        ),
                    }
                ),
                hide_index=True,
                width="stretch",
                height=300,
            )
    with ui.part():
        st.subheader(ui.t("sv_files"))
        issues = pdata.file_issues(county)
        if issues.empty:
            st.success(ui.t("sv_files_ok"), icon=":material/check:")
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "文件" if lang == "zh" else "File": issues["rel_path"].str.rsplit("/", n=1).str[-1],
                        "工作表" if lang == "zh" else "Sheet": issues["sheet"],
                        "单元格" if lang == "zh" else "Cell": issues["cell"],
                        "问题" if lang == "zh" else "Problem": issues[
                            "message_en" if lang == "en" else "message_zh"
                        ],
                    }
                ),
                hide_index=True,
                width="stretch",
            )


TABLES = (
    "supervision.point",
    "supervision.inspection",
    "supervision.problem",
    "supervision.issue",
    "supervision.unit_score",
)

if ui.ready():
    county = ui.county()
    lang = ui.lang()
    viewer = auth.require_viewer()
    built = data.has(*TABLES)
    if not built:
        st.info(
            i18n.both("table_missing", tables=", ".join(t for t in TABLES if not data.has(t))),
            icon=":material/info:",
        )
    if built:
        _views(county, lang)
    with ui.part():
        _form(county, viewer, lang)
