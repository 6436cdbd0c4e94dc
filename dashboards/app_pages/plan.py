"""进度 Plan: a Gantt of phases, milestones and tasks (marts.plan_schedule, else the profile's plan);
rectification items (整改) and their status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data, i18n, ui

ui.header("page_plan")

KIND_LABELS = {
    "phase": "阶段 phase",
    "milestone": "里程碑 milestone",
    "derived_milestone": "倒排节点 scheduled",
    "task": "任务 task",
    "campaign": "创建项目 campaign",
}
# (Chinese, English): one language at a time on the page.
RECT_LABELS = {
    "open": ("整改中", "open"),
    "overdue": ("逾期", "overdue"),
    "closed": ("已销号", "closed"),
    "closed_late": ("逾期销号", "closed late"),
}
STATUS_WORD = {
    "done": ("已完成", "done"),
    "in_progress": ("进行中", "in progress"),
    "planned": ("未开始", "planned"),
    "overdue": ("逾期", "overdue"),
    "not_started": ("未开始", "not started"),
}


def _word(table: dict[str, tuple[str, str]], key, lang: str):
    pair = table.get(key) if isinstance(key, str) else None
    return key if pair is None else pair[1 if lang == "en" else 0]


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
            lambda x: (
                (
                    f" ({_word(STATUS_WORD, x, lang)})"
                    if lang == "en"
                    else f"（{_word(STATUS_WORD, x, lang)}）"
                )
                if isinstance(x, str)
                else ""
            )
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
    ms_names = ms["name_en"].fillna(ms["name_zh"]) if lang == "en" and "name_en" in ms else ms["name_zh"]
    points = pd.DataFrame({"label": ms_names, "date": ms["due_date"], "group": KIND_LABELS["milestone"]})
    return pd.concat([bars, campaign_bars], ignore_index=True), points


def _day(col: pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD, '—' when missing (never 00:00:00 or NaT)."""
    d = pd.to_datetime(col, errors="coerce")
    return d.dt.strftime("%Y-%m-%d").fillna("—")


def _units() -> dict[str, str]:
    return {r.org_code: ui.name(r._asdict()) for r in data.units(ui.county()).itertuples(index=False)}


def _tasks_table(tasks: pd.DataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    zh = lang == "zh"
    return pd.DataFrame(
        {
            "任务" if zh else "Task": tasks["task_name"],
            ui.t("campaign"): tasks["campaign_code"].map(names).fillna("—"),
            ui.t("unit"): tasks["owner_text"],
            "期限" if zh else "Due": _day(tasks["due_date"]),
            "状态" if zh else "Status": tasks["status"].map(lambda x: _word(STATUS_WORD, x, lang)),
            "完成日期" if zh else "Done on": _day(tasks["completed_date"]),
            "来源" if zh else "Source": tasks["source_file"].fillna("").str.rsplit("/", n=1).str[-1]
            + " "
            + tasks["sheet"].fillna("")
            + tasks["row_no"].map(
                lambda r: (
                    f" 第{int(r)}行" if zh and pd.notna(r) else (f" row {int(r)}" if pd.notna(r) else "")
                )
            ),
        }
    )


def _rect_table(items: pd.DataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    zh = lang == "zh"
    kinds = {"verdict": ("指标未达标", "failing requirement"), "quality": ("数据质量", "data quality")}
    answers = _answers(lang)
    units = _units()
    return pd.DataFrame(
        {
            "状态" if zh else "Status": items["status"].map(lambda x: _word(RECT_LABELS, x, lang)),
            "来源" if zh else "Kind": items["source_kind"].map(
                lambda k: kinds.get(k, (k, k))[0 if zh else 1]
            ),
            ui.t("campaign"): items["campaign_code"].map(names).fillna("—"),
            ui.t("unit"): items["owner_org_code"].map(units).fillna("—"),
            "事项" if zh else "Item": items["description_zh" if zh else "description_en"],
            "发现期" if zh else "Opened": items["opened_period_code"],
            "期限" if zh else "Due": _day(items["due_date"]),
            "销号期" if zh else "Closed": items["closed_period_code"].fillna("—"),
            "单位答复" if zh else "Unit's answer": items["item_id"].map(
                lambda i: answers.get(i, "—（尚未答复）" if zh else "— (no answer yet)")
            ),
        }
    )


def _answers(lang: str) -> dict[str, str]:
    from dashboards import auth
    from dashboards import workspace_data as wd

    return wd.answer_labels(auth.require_viewer(), ui.county(), lang)


if ui.ready():
    county = ui.county()
    lang = ui.lang()
    with ui.part():
        names = ui.campaign_names()
        bars, points = _schedule(county, names, lang)
        # Grouped by campaign, done/overdue/pending marks, a today line (charts.plan_gantt).
        st.plotly_chart(ui.plan_gantt_figure(county, ui.t("gantt")), width="stretch", key="p_gantt")
        c1, c2 = st.columns(2)
        with c1:
            st.subheader(ui.t("milestones"))
            shown = pd.DataFrame(
                {
                    "节点" if lang == "zh" else "Milestone": points["label"],
                    "日期" if lang == "zh" else "Date": _day(points["date"]),
                }
            )
            st.dataframe(shown, hide_index=True, width="stretch")
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
                    st.dataframe(_tasks_table(tasks, names, lang), hide_index=True, width="stretch")
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
                col.metric(_word(RECT_LABELS, status, lang), int(counts.get(status, 0)))
            items = _rect_table(items, names, lang)
            st.dataframe(items, hide_index=True, width="stretch")
            ui.downloads(items, "rectification", "p_rect")


# ------------------------------------------------------------------ issue 17: title status, acceptance, letters


def _store():
    from pipelines.workflow.store import Store

    return Store.default(data.settings())


def _campaign_status(county: str, lang: str, names: dict[str, str]) -> None:
    from dashboards import plan_data as pdata

    st.subheader(ui.t("pp_status"))
    cs = pdata.campaign_status(county)
    if cs.empty:
        ui.empty_notice()
        return
    cols = st.columns(len(cs))
    for col, r in zip(cols, cs.itertuples(index=False), strict=True):
        color = pdata.CAMPAIGN_STATUS_COLOR.get(r.status, "gray")
        col.markdown(f"**{names.get(r.campaign_code, r.campaign_code)}**")
        col.markdown(f":{color}[● {r.status_en if lang == 'en' else r.status_zh}]")
        col.caption(r.reason_en if lang == "en" else r.reason_zh)
        if pd.notna(r.next_re_review):
            review = r.re_review_name_zh if lang == "zh" else "re-review"
            assumed = (
                "（周期待核实）"
                if r.cycle_assumed and lang == "zh"
                else (" (cycle assumed)" if r.cycle_assumed else "")
            )
            col.caption(
                f"{ui.t('pp_next_review', name=review)}{'：' if lang == 'zh' else ': '}"
                f"{pd.Timestamp(r.next_re_review).date()}{assumed}"
            )
    st.markdown(f"**{ui.t('pp_alerts')}**")
    alerts = pdata.regression_alerts(county)
    if alerts.empty:
        st.success(ui.t("pp_alerts_none"), icon=":material/check:")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("campaign"): alerts["campaign_code"].map(names),
                    "预警" if lang == "zh" else "Alert": alerts[
                        "message_en" if lang == "en" else "message_zh"
                    ],
                    "一票否决" if lang == "zh" else "Veto": alerts["is_veto"].map(
                        {True: "是" if lang == "zh" else "yes", False: ""}
                    ),
                }
            ),
            hide_index=True,
            width="stretch",
            height=240,
        )


def _paren(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f" ({text})"


def _acceptance(county: str, lang: str, names: dict[str, str], viewer) -> None:
    from dashboards import plan_data as pdata
    from pipelines.plan_process import store as pstore

    st.subheader(ui.t("pp_records"))
    recs = pd.DataFrame(pstore.acceptance_records(_store(), county))
    if ui.campaign() and not recs.empty:
        recs = recs[recs["campaign_code"] == ui.campaign()]
    if recs.empty:
        st.caption("尚无申报验收记录 / no application or acceptance recorded yet")
    else:
        show = pd.DataFrame(
            {
                ui.t("campaign"): recs["campaign_code"].map(names),
                ui.t("pp_kind"): recs["kind"].map(lambda k: pdata.word(pdata.KIND, k, lang))
                + "·"
                + recs["milestone"].map(lambda k: pdata.word(pdata.MILESTONE, k, lang)),
                "次数" if lang == "zh" else "Attempt": recs.apply(
                    lambda r: (
                        ui.t("pp_attempt", n=r["attempt"])
                        + (_paren(ui.t("pp_reapp"), lang) if isinstance(r["reapplication_of"], str) else "")
                    ),
                    axis=1,
                ),
                ui.t("pp_applied"): recs["applied_on"],
                ui.t("pp_insp_from"): recs["inspection_from"],
                ui.t("pp_insp_to"): recs["inspection_to"],
                ui.t("pp_team"): recs["team"],
                ui.t("pp_result"): recs["result"].map(lambda k: pdata.word(pdata.RESULT, k, lang)),
                ui.t("pp_result_on"): recs["result_on"],
                ui.t("pp_result_doc"): recs["result_document"],
                ui.t("pp_findings"): recs["findings"].fillna("").str.replace("\n", "；"),
            }
        )
        st.table(show.fillna("—").set_index(ui.t("campaign")))  # a few rows: plain text, readable on a phone
    if viewer.role != "office":
        st.caption(ui.t("pp_office_only"))
        return
    with st.expander(ui.t("pp_record_form"), icon=":material/edit_note:"), st.form("pp_acc_form"):
        c1, c2, c3 = st.columns(3)
        camp = c1.selectbox(ui.t("campaign"), list(names), format_func=names.get, key="pp_f_camp")
        kind = c2.selectbox(
            ui.t("pp_kind"), list(pdata.KIND), format_func=lambda k: pdata.word(pdata.KIND, k, lang)
        )
        ms = c3.selectbox(
            ui.t("pp_milestone"),
            list(pdata.MILESTONE),
            format_func=lambda k: pdata.word(pdata.MILESTONE, k, lang),
        )
        c1, c2, c3 = st.columns(3)
        applied = c1.date_input(ui.t("pp_applied"), value=None, key="pp_f_applied")
        i_from = c2.date_input(ui.t("pp_insp_from"), value=None, key="pp_f_from")
        i_to = c3.date_input(ui.t("pp_insp_to"), value=None, key="pp_f_to")
        docs = st.text_input(ui.t("pp_docs"), key="pp_f_docs")
        team = st.text_input(ui.t("pp_team"), key="pp_f_team")
        c1, c2, c3 = st.columns(3)
        result = c1.selectbox(
            ui.t("pp_result"),
            [None, "passed", "failed", "conditional"],
            format_func=lambda k: pdata.word(pdata.RESULT, k, lang),
            key="pp_f_result",
        )
        result_on = c2.date_input(ui.t("pp_result_on"), value=None, key="pp_f_result_on")
        result_doc = c3.text_input(ui.t("pp_result_doc"), key="pp_f_result_doc")
        findings = st.text_area(ui.t("pp_findings"), key="pp_f_findings")
        if st.form_submit_button(ui.t("pp_save"), icon=":material/save:"):
            try:
                rid = pstore.record_acceptance(
                    _store(),
                    county,
                    camp,
                    viewer.username,
                    kind=kind,
                    milestone=ms,
                    applied_on=applied,
                    application_documents=docs,
                    inspection_from=i_from,
                    inspection_to=i_to,
                    team=team,
                    result=result,
                    result_on=result_on,
                    result_document=result_doc,
                    findings=findings,
                )
            except pstore.PlanProcessError as e:
                st.error(f"{e.zh} / {e.en}", icon=":material/error:")
            else:
                from dashboards import auth

                auth.audit("acceptance_recorded", {"record_id": rid})
                what = f"{names.get(camp, camp)} · {pdata.word(pdata.KIND, kind, lang)}"
                st.success(ui.t("pp_saved", id=what), icon=":material/check:")


def _letters(county: str, lang: str, names: dict[str, str], viewer) -> None:
    from dashboards import plan_data as pdata
    from pipelines.plan_process import letters as pl
    from pipelines.plan_process import store as pstore

    st.subheader(ui.t("pp_letters"))
    lt = pdata.letters(county)
    if ui.unit():
        lt = lt[lt["org_code"] == ui.unit()]
    if lt.empty:
        ui.empty_notice()
        return
    years = sorted(lt["year"].unique(), reverse=True)
    assessed = sorted(lt.loc[lt["n_assessed"] > 0, "year"].unique(), reverse=True)
    default = years.index(assessed[0]) if assessed else 0  # the latest year with results
    year = st.selectbox(ui.t("pp_year"), years, index=default, key="pp_letter_year")
    y = lt[lt["year"] == year]
    signed_now = {(s["org_code"], s["year"]): s for s in pstore.signings(_store(), county)}
    units = pdata.units_lookup(county)
    signed = y.apply(
        lambda r: signed_now.get((r["org_code"], r["year"]), {}).get("signed_on") or r["signed_on"], axis=1
    )
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("pp_letter_unit"): y["org_code"].map(
                    lambda o: units.get(o, (o, o))[1 if lang == "en" else 0]
                ),
                "目标数" if lang == "zh" else "Targets": y["n_targets"],
                "达标" if lang == "zh" else "Met": y["n_met"],
                "完成率" if lang == "zh" else "Share met": y["share_met"].map(
                    lambda v: "—" if v is None or pd.isna(v) else f"{100 * v:.1f}%"
                ),
                "包保点位" if lang == "zh" else "Points": y["n_points"],
                ui.t("pp_signed_on"): signed.map(
                    lambda d: ui.t("pp_not_signed") if d is None or pd.isna(d) else str(d)[:10]
                ),
            }
        ),
        hide_index=True,
        width="stretch",
        height=260,
    )
    opts = list(y["org_code"])
    org = st.selectbox(
        ui.t("pp_letter_unit"),
        opts,
        format_func=lambda o: units.get(o, (o, o))[1 if lang == "en" else 0],
        key="pp_letter_org",
    )
    tg = pdata.letter_targets(county, org, int(year))
    if not tg.empty:
        st.markdown(f"**{ui.t('pp_letter_targets')}**")
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("campaign"): tg["campaign_code"].map(names),
                    "指标" if lang == "zh" else "Requirement": tg["name_zh"]
                    if lang == "zh"
                    else tg["name_en"].fillna(tg["name_zh"]),
                    "年度目标" if lang == "zh" else "Target": tg["target_text_zh"],
                    "确定方式" if lang == "zh" else "Rule": tg["target_rule"].map(
                        lambda r: pl.RULE_ZH.get(r, r)
                    )
                    if lang == "zh"
                    else tg["target_rule"].str.replace("_", " "),
                    "实际值" if lang == "zh" else "Actual": tg["actual_value"].map(
                        lambda v: "—" if v is None or pd.isna(v) else f"{v:g}"
                    ),
                    "完成" if lang == "zh" else "Met": tg["met"]
                    .map({True: "✔", False: "✘"})
                    .fillna("无数据" if lang == "zh" else "no data"),
                }
            ),
            hide_index=True,
            width="stretch",
        )

    def _docx() -> bytes:
        from pipelines.plan_cli import build_letters

        got = build_letters(data.settings(), int(year), org, county)
        return next(iter(got["docs"].values()))[1]

    st.download_button(
        ui.t("pp_download_letter"),
        _docx,
        pl.letter_file_name(units.get(org, (org, org))[0], int(year)),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key="pp_letter_dl",
        icon=":material/description:",
    )
    signing = signed_now.get((org, int(year)))
    scan_file = pstore.attachment_file(_store(), signing.get("scan_path")) if signing else None
    if scan_file is not None and viewer.sees_unit(org):
        st.download_button(
            ui.t("pp_download_scan"),
            scan_file.read_bytes,
            signing.get("scan_name") or scan_file.name,
            {".pdf": "application/pdf", ".png": "image/png"}.get(scan_file.suffix.lower(), "image/jpeg"),
            key="pp_scan_dl",
            icon=":material/verified:",
        )
    elif signing and signing.get("scan_path"):
        st.caption(ui.t("pp_scan_missing"))
    if viewer.role != "office":
        return
    with st.expander(ui.t("pp_signing"), icon=":material/draw:"), st.form("pp_sign_form"):
        c1, c2, c3 = st.columns(3)
        day = c1.date_input(ui.t("pp_signed_on"), value=None, key="pp_s_day")
        doc_no = c2.text_input(ui.t("pp_doc_no"), key="pp_s_no")
        who = c3.text_input(ui.t("pp_signatory"), key="pp_s_who")
        scan = st.file_uploader(ui.t("pp_scan"), type=["pdf", "jpg", "jpeg", "png"], key="pp_s_scan")
        if st.form_submit_button(ui.t("pp_save"), icon=":material/save:"):
            try:
                pstore.record_signing(
                    _store(),
                    county,
                    org,
                    int(year),
                    day,
                    viewer.username,
                    who or "",
                    doc_no or "",
                    (scan.name, scan.getvalue()) if scan else None,
                )
            except pstore.PlanProcessError as e:
                st.error(f"{e.zh} / {e.en}", icon=":material/error:")
            else:
                from dashboards import auth

                auth.audit("letter_signed", {"org": org, "year": int(year)})
                st.success(ui.t("pp_saved", id=f"{org} {year}"), icon=":material/check:")


if ui.ready():
    from dashboards import auth as _auth

    _viewer = _auth.require_viewer()
    _names = ui.campaign_names()
    # The plan-process tables are built by their own assets (pipelines/assets/plan_process.py); a
    # warehouse without them keeps the rest of the page and says so in one line.
    _built = data.has("plan_process.campaign_status", "plan_process.letter")
    if not _built:
        st.caption(
            "申报验收、称号状态与目标责任书数据尚未生成（运行数据刷新后显示） / application, title status and "
            "letter tables are not built yet (shown after the next refresh)"
        )
    with ui.part():
        if _built:
            _campaign_status(ui.county(), ui.lang(), _names)
    with ui.part():
        _acceptance(ui.county(), ui.lang(), _names, _viewer)
    with ui.part():
        if _built:
            _letters(ui.county(), ui.lang(), _names, _viewer)
