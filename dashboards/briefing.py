"""The one-page Chinese monthly briefing, built from frames (plain functions, no Streamlit import)."""

from __future__ import annotations

import pandas as pd

from dashboards import analytics, outlook, present
from dashboards.exports import Briefing
from dashboards.i18n import status_label

MAX_LINES = 8


def _num(v: object) -> str:
    return present.number(v, with_unit=False)


def build(
    county_name: str,
    period: str,
    period_label: str,
    campaigns: pd.DataFrame,
    verdicts: pd.DataFrame,
    history: pd.DataFrame,
    expected: pd.DataFrame | None,
    period_end: pd.Timestamp,
    ready: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    outlooks: list[outlook.Outlook] | None = None,
    decisions: list[outlook.Decision] | None = None,
    notice: pd.DataFrame | None = None,
    archive_lines: list[str] | None = None,
) -> Briefing:
    """campaigns: campaign_code, name_zh, acceptance_date; verdicts: verdicts_asof; history: verdict_history;
    expected: expected_returns for the month (None when returns are not loaded yet); ready: readiness per
    campaign × period (marts.campaign_readiness), estimated from `history` when None; coverage:
    compliance.coverage rows (each readiness figure says what it is judged on).

    The pages pass what the Overview and the Units page show (`ui.load_outlook`): `outlooks` (each
    campaign's outcome sentence, naming its owners), `decisions` (the risks: the Overview's "what
    needs a decision this month") and `notice` (the 通报 list). Without them the risks are the failing
    verdicts (never a passing item) and the late list comes from `expected`."""
    b = Briefing(
        title=f"{county_name}“五创联动”工作月度简报（{period_label}）",
        subtitle=f"数据截至 {period_label}（{period}）；依据已发布数据快照自动生成",
    )
    names = dict(zip(campaigns["campaign_code"], campaigns["name_zh"], strict=False))
    ready = analytics.readiness(history) if ready is None else ready
    lines = []
    for row in campaigns.itertuples(index=False):
        r = ready[(ready["campaign_code"] == row.campaign_code) & (ready["period_code"] == period)]
        if r.empty:
            lines.append(f"{row.name_zh}：本月无评价结果。")
            continue
        r = r.iloc[0]
        days = (
            (pd.Timestamp(row.acceptance_date) - period_end).days if pd.notna(row.acceptance_date) else None
        )
        text = (
            f"{row.name_zh}：达标率 {present.pct(r['readiness'])}（达标 {r['n_pass']} 项、临界 {r['n_near']} 项、"
            f"未达标 {r['n_fail']} 项、无数据 {r['n_no_data']} 项）"
        )
        if coverage is not None and not coverage.empty:
            hit = coverage[
                (coverage["campaign_code"] == row.campaign_code) & (coverage["period_code"] == period)
            ]
            if not hit.empty and isinstance(hit.iloc[0]["label_zh"], str):
                text += f"，{hit.iloc[0]['label_zh']}"
        if days is not None:
            text += (
                f"，{'距验收 ' + str(days) + ' 天' if days >= 0 else '验收目标日已过 ' + str(-days) + ' 天'}"
            )
        if r["veto_failed"]:
            text += f"；有否决项未达标，达标率按规则封顶 {analytics.VETO_CAP:.0%}"
        ol = next((o for o in outlooks or [] if o.campaign_code == row.campaign_code), None)
        if ol is not None:
            text += "。" + ol.sentence("zh").split("：", 1)[1].rstrip("。")
        lines.append(text + "。")
    b.sections.append(("一、各创建项目进展", lines))

    if decisions is not None:
        risk_lines = []
        for d in decisions[: MAX_LINES + 2]:
            owner = f"；责任单位：{d.owner_zh}" if d.owner_zh else ""
            if d.kind in ("veto", "requirement"):
                detail = d.why_zh.split("：", 1)[1] if "：" in d.why_zh else d.why_zh
                camp = names.get(d.campaign_code, d.campaign_code)
                risk_lines.append(
                    f"{'【否决项】' if d.kind == 'veto' else ''}{camp}｜{d.what_zh}：{detail}{owner}"
                )
            else:
                kind = outlook.KIND_LABELS[d.kind][0]
                risk_lines.append(f"【{kind}】{d.what_zh}：{d.why_zh}{owner}")
    else:
        risks = outlook.failing(verdicts).copy()  # never a passing (or met-near) item
        risks["veto_first"] = (~risks["is_veto"].fillna(False)).astype(int)
        risks = risks.sort_values(["veto_first", "status", "margin"]).head(MAX_LINES)
        risk_lines = [
            f"{'【否决项】' if v.is_veto else ''}{names.get(v.campaign_code, v.campaign_code)}｜{v.req_name_zh}："
            f"现值 {_num(v.value)}，标准 {present.SIGNS.get(v.comparison or '', '')}{_num(v.threshold_value)}，"
            f"差距 {_num(v.margin)}"
            + (f"；责任单位：{v.owner_name_zh}" if isinstance(getattr(v, "owner_name_zh", None), str) else "")
            for v in risks.itertuples(index=False)
        ]
    b.sections.append(("二、主要风险", risk_lines or ["本月无未达标或临界要求。"]))

    if notice is not None:
        late_lines = [str(r) for r in notice["reason_zh"].head(MAX_LINES * 2)] or ["本月各单位均按时报送。"]
    elif expected is None:
        late_lines = ["报送数据尚未入库。"]
    else:
        late = expected[expected["return_status"] != "on_time"]
        late_lines = [
            f"{r.org_name_zh or r.org_code}："
            + ("未报送" if r.return_status == "missing" else f"迟报 {int(r.working_days_late or 0)} 个工作日")
            for r in late.head(MAX_LINES * 2).itertuples(index=False)
        ] or ["本月各单位均按时报送。"]
    b.sections.append(("三、迟报、漏报单位", late_lines))

    changes = analytics.status_changes(history, period)
    req_names = dict(zip(verdicts["requirement_code"], verdicts["req_name_zh"], strict=False))
    change_lines = [
        f"{names.get(c.campaign_code, c.campaign_code)}｜{req_names.get(c.requirement_code, c.requirement_code)}："
        f"{status_label(c.before)} → {status_label(c.after)}"
        for c in changes.head(MAX_LINES).itertuples(index=False)
    ]
    prev = sorted(p for p in ready["period_code"].unique() if p < period)
    if prev:
        for row in campaigns.itertuples(index=False):
            a = ready[(ready["campaign_code"] == row.campaign_code) & (ready["period_code"] == prev[-1])]
            z = ready[(ready["campaign_code"] == row.campaign_code) & (ready["period_code"] == period)]
            if not a.empty and not z.empty:
                d = (z["readiness"].iloc[0] - a["readiness"].iloc[0]) * 100
                if abs(d) >= 0.05:
                    change_lines.append(
                        f"{row.name_zh}达标率较上月{'提高' if d > 0 else '下降'} {abs(d):.1f} 个百分点"
                    )
    b.sections.append(("四、较上月变化", change_lines or ["与上月相比无状态变化。"]))
    if archive_lines is not None:  # dashboards.archive_view.briefing_lines: evidence per campaign
        b.sections.append(("五、档案资料", archive_lines or ["档案资料要求尚未配置。"]))
    return b
