"""The leader's question, answered per campaign: will it pass its acceptance, why, and who is responsible.

Plain functions (no Streamlit import): frames in, rows out. The Overview, the campaign page, the unit
page and the briefing all call these, so the same campaign gets the same status, reason and owners
everywhere, and the briefing's risks are the Overview's decision list.

Status of a campaign at an as-of month (first rule that applies):

- the acceptance date has arrived (as-of month end ≥ acceptance date):
  - a recorded outcome (`data.acceptance_outcomes`, decided on or before the month end):
    `passed` 已通过验收 when it passed and every counted requirement is met now; `consolidation`
    巩固期 when it passed but a requirement fails now; `missed` 未通过验收 when it failed;
  - nothing recorded: derived from the readiness of the acceptance month — `passed` when it was
    `ready`, else `missed` — and labelled as derived (未录入验收结果，按数据推断), never as a record;
- before the acceptance date, from the campaign forecast (`marts.campaign_forecast.projected_status`):
  `on_track` → `will_pass` 按期可达; `at_risk` → `at_risk` 有风险; `off_track` → `will_miss` 难以按期达标;
  `insufficient_data` or no forecast → `at_risk`, with the reason "too little data to forecast".
  A failing veto item never leaves `will_pass` (the forecast caps it; checked again here).

Reason: the failing veto items, then the weighted requirements that decide it (veto first, heaviest
first; the forecast's blocking requirements before the date, the failing ones after), the coverage
label. Owners: the working group's lead unit and the responsible departments of those requirements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

CJK = re.compile(r"[\u4e00-\u9fff]")  # a Chinese-only text (e.g. a document title) is not shown in English

STATUSES = ("passed", "consolidation", "will_pass", "at_risk", "will_miss", "missed")
STATUS_TONE = {  # good / warn / bad: colours on the pages
    "passed": "good",
    "consolidation": "warn",
    "will_pass": "good",
    "at_risk": "warn",
    "will_miss": "bad",
    "missed": "bad",
}
MAX_DECIDING = 3  # requirements named in a campaign's sentence
MAX_DECISIONS = 10  # items in "what needs a decision this month"

LABELS: dict[str, tuple[str, str]] = {
    "passed": ("已通过验收", "passed"),
    "consolidation": (
        "巩固期（已通过验收，现有要求未达标）",
        "in consolidation (passed; a requirement now fails)",
    ),
    "will_pass": ("按期可达", "will pass"),
    "at_risk": ("有风险", "at risk"),
    "will_miss": ("难以按期达标", "will miss"),
    "missed": ("未通过验收", "missed"),
}


def _list(v: object) -> list[str]:
    if v is None:
        return []
    if isinstance(v, float) and pd.isna(v):
        return []
    return [str(x) for x in list(v) if x is not None and str(x)]


def _date(v: object) -> pd.Timestamp | None:
    if v is None:
        return None
    try:
        ts = pd.Timestamp(v)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(ts) else ts


@dataclass
class Deciding:
    """A requirement that decides a campaign's outcome, with its owner."""

    requirement_code: str
    name_zh: str
    name_en: str
    is_veto: bool
    weight: float
    owner_org_code: str | None
    owner_zh: str
    owner_en: str
    indicator_code: str | None = None


@dataclass
class Outlook:
    campaign_code: str
    name_zh: str
    name_en: str
    status: str
    basis: str  # recorded | derived | forecast | no_forecast
    acceptance_date: pd.Timestamp | None
    readiness: float | None
    coverage_zh: str = ""
    coverage_en: str = ""
    vetoes: list[Deciding] = field(default_factory=list)
    deciding: list[Deciding] = field(default_factory=list)
    n_deciding: int = 0
    lead_org_code: str | None = None
    lead_zh: str = ""
    lead_en: str = ""
    outcome_document: str = ""
    outcome_date: pd.Timestamp | None = None

    @property
    def owners(self) -> list[tuple[str, str, str]]:
        """(org_code, name_zh, name_en) of the responsible departments, vetoes first, each once."""
        seen: dict[str, tuple[str, str, str]] = {}
        for d in self.vetoes + self.deciding:
            if d.owner_org_code and d.owner_org_code not in seen:
                seen[d.owner_org_code] = (d.owner_org_code, d.owner_zh, d.owner_en)
        return list(seen.values())

    def status_label(self, lang: str) -> str:
        return LABELS[self.status][1 if lang == "en" else 0]

    def sentence(self, lang: str = "zh") -> str:
        """One sentence: status, acceptance date, reason, responsible units."""
        en = lang == "en"
        name = (self.name_en or self.name_zh) if en else self.name_zh
        date = (
            f"{self.acceptance_date:%Y-%m-%d}"
            if self.acceptance_date is not None
            else ("—" if en else "未定")
        )
        status = self.status_label(lang)
        if en:
            head = f"{name}: {status} (acceptance {date}"
            if self.basis == "recorded":
                rec = (
                    f", recorded {self.outcome_date:%Y-%m-%d}"
                    if self.outcome_date is not None
                    else ", recorded"
                )
                # the recorded document is a Chinese title (验收结果 / 命名文件): named in Chinese mode only
                doc = self.outcome_document or ""
                head += rec + (
                    f", {doc}" if doc and not CJK.search(doc) else (", document on file" if doc else "")
                )
            elif self.basis == "derived":
                head += "; no acceptance outcome recorded, derived from the data of the acceptance month"
            elif self.basis == "no_forecast":
                head += "; too little data to forecast"
            head += ")."
        else:
            head = f"{name}：{status}（验收日期 {date}"
            if self.basis == "recorded":
                rec = f"，{self.outcome_date:%Y-%m-%d}录入" if self.outcome_date is not None else "，已录入"
                head += rec + (f"，{self.outcome_document}" if self.outcome_document else "")
            elif self.basis == "derived":
                head += "；未录入验收结果，按验收当月数据推断"
            elif self.basis == "no_forecast":
                head += "；数据不足，无法预测"
            head += "）。"
        reasons = []
        if self.vetoes:
            names = (
                "、".join(_req(d, lang) for d in self.vetoes)
                if not en
                else "; ".join(_req(d, lang) for d in self.vetoes)
            )
            reasons.append(f"veto item failing: {names}" if en else f"一票否决项未达标：{names}")
        rest = [d for d in self.deciding if not d.is_veto]
        if rest:
            more = self.n_deciding - len(self.vetoes) - len(rest)
            names = ("; " if en else "、").join(_req(d, lang) for d in rest)
            if more > 0:
                names += f" and {more} more" if en else f"等 {len(rest) + more} 项"
            reasons.append(f"deciding requirements: {names}" if en else f"决定结果的要求：{names}")
        if not reasons and self.status in ("passed", "will_pass"):
            reasons.append("every counted requirement met" if en else "参与评价的要求均达标")
        cov = self.coverage_en if en else self.coverage_zh
        if cov:
            reasons.append(cov)
        body = ""
        if reasons:
            body = ("Why: " + "; ".join(reasons) + ".") if en else ("原因：" + "；".join(reasons) + "。")
        owners = self.owners
        resp = []
        if self.lead_zh:
            resp.append(f"Lead unit: {self.lead_en or self.lead_zh}" if en else f"牵头单位 {self.lead_zh}")
        if owners:
            names = ("; " if en else "、").join((o[2] or o[1]) if en else o[1] for o in owners)
            resp.append(f"Responsible: {names}" if en else f"责任单位 {names}")
        tail = ""
        if resp:
            tail = (" " + "; ".join(resp) + ".") if en else ("；".join(resp) + "。")
        return f"{head} {body}{tail}".strip() if en else f"{head}{body}{tail}"


def _req(d: Deciding, lang: str) -> str:
    if lang == "en":
        name = d.name_en or d.name_zh
        return f"{name} ({d.owner_en or d.owner_zh})" if d.owner_zh else name
    return f"{d.name_zh}（{d.owner_zh}）" if d.owner_zh else d.name_zh


def _deciding(codes: list[str], owners: pd.DataFrame) -> list[Deciding]:
    rows = owners.set_index("requirement_code") if not owners.empty else owners
    out = []
    for c in dict.fromkeys(codes):
        if c not in getattr(rows, "index", []):
            out.append(Deciding(c, c, c, False, 0.0, None, "", ""))
            continue
        r = rows.loc[c]
        out.append(
            Deciding(
                requirement_code=c,
                name_zh=str(r.get("req_name_zh") or c),
                name_en=str(r.get("req_name_en") or r.get("req_name_zh") or c),
                is_veto=bool(r.get("is_veto")) if pd.notna(r.get("is_veto")) else False,
                weight=float(r.get("weight")) if pd.notna(r.get("weight")) else 1.0,
                owner_org_code=r.get("owner_org_code") if isinstance(r.get("owner_org_code"), str) else None,
                owner_zh=str(r.get("owner_name_zh") or "") if pd.notna(r.get("owner_name_zh")) else "",
                owner_en=str(r.get("owner_name_en") or "") if pd.notna(r.get("owner_name_en")) else "",
                indicator_code=r.get("indicator_code") if isinstance(r.get("indicator_code"), str) else None,
            )
        )
    # veto first, heaviest first, then by code (stable)
    return sorted(out, key=lambda d: (not d.is_veto, -d.weight, d.requirement_code))


def _row(frame: pd.DataFrame | None, campaign: str, period: str | None = None) -> dict:
    if frame is None or frame.empty or "campaign_code" not in frame:
        return {}
    hit = frame[frame["campaign_code"] == campaign]
    if period is not None and "period_code" in hit:
        hit = hit[hit["period_code"] == period]
    return hit.iloc[-1].to_dict() if len(hit) else {}


def _failing_codes(row: dict) -> list[str]:
    return _list(row.get("failing_requirement_codes"))


def campaign_outlooks(
    campaigns: pd.DataFrame,
    readiness: pd.DataFrame,
    forecast: pd.DataFrame | None,
    coverage: pd.DataFrame | None,
    owners: pd.DataFrame,
    groups: pd.DataFrame | None,
    outcomes: pd.DataFrame | None,
    period: str,
    period_end: pd.Timestamp,
    verdicts: pd.DataFrame | None = None,
) -> list[Outlook]:
    """One Outlook per campaign row (see the module doc for the rules).

    readiness: readiness per campaign × month up to `period` (marts.campaign_readiness or the
    estimate); forecast: marts.campaign_forecast at `period` (None when not built); verdicts:
    verdicts_asof at `period` (used for failing codes when readiness is an estimate)."""
    out = []
    for c in campaigns.itertuples(index=False):
        code = c.campaign_code
        acc = _date(getattr(c, "acceptance_date", None))
        now = _row(readiness, code, period)
        cov = _row(coverage, code, period)
        grp = _row(groups, code)
        o = Outlook(
            campaign_code=code,
            name_zh=str(c.name_zh),
            name_en=str(getattr(c, "name_en", "") or c.name_zh),
            status="at_risk",
            basis="no_forecast",
            acceptance_date=acc,
            readiness=float(now["readiness"]) if now and pd.notna(now.get("readiness")) else None,
            coverage_zh=str(cov.get("label_zh") or "") if cov and pd.notna(cov.get("label_zh")) else "",
            coverage_en=str(cov.get("label_en") or "") if cov and pd.notna(cov.get("label_en")) else "",
            lead_org_code=grp.get("lead_org_code") if isinstance(grp.get("lead_org_code"), str) else None,
            lead_zh=str(grp.get("lead_name_zh") or "") if isinstance(grp.get("lead_name_zh"), str) else "",
            lead_en=str(grp.get("lead_name_en") or "") if isinstance(grp.get("lead_name_en"), str) else "",
        )
        failing_now = _failing_codes(now)
        if not failing_now and verdicts is not None and not verdicts.empty:
            v = verdicts[verdicts["campaign_code"] == code]
            failing_now = list(v[_failing_mask(v)]["requirement_code"])
        veto_now = _list(now.get("veto_failed_codes")) + _list(now.get("veto_no_data_codes"))
        if acc is not None and period_end >= acc:
            rec = _recorded(outcomes, code, period_end)
            if rec is not None:
                o.basis = "recorded"
                o.outcome_document = str(rec.get("document") or "") if pd.notna(rec.get("document")) else ""
                o.outcome_date = _date(rec.get("decided_date"))
                if str(rec.get("outcome")) == "passed":
                    met_now = now.get("readiness_status") == "ready" if now else not failing_now
                    o.status = "passed" if met_now and not failing_now else "consolidation"
                    codes, vetoes = failing_now, veto_now
                else:
                    o.status = "missed"
                    codes, vetoes = failing_now, veto_now
            else:
                at = _at_acceptance(readiness, code, acc)
                o.basis = "derived"
                ready_then = bool(at) and at.get("readiness_status") == "ready"
                if at and "readiness_status" not in at:  # estimated readiness: met when nothing fails
                    ready_then = (
                        not at.get("n_fail") and not at.get("veto_failed") and not at.get("n_no_data")
                    )
                o.status = "passed" if ready_then else "missed"
                codes = _failing_codes(at) or failing_now
                vetoes = (
                    _list(at.get("veto_failed_codes")) + _list(at.get("veto_no_data_codes"))
                ) or veto_now
        else:
            f = _row(forecast, code)
            ps = f.get("projected_status") if f else None
            if isinstance(ps, str) and ps in ("on_track", "at_risk", "off_track"):
                o.basis = "forecast"
                o.status = {"on_track": "will_pass", "at_risk": "at_risk", "off_track": "will_miss"}[ps]
            else:
                o.basis = "no_forecast"
                o.status = "at_risk"
            codes = _list(f.get("blocking_requirement_codes")) if f else []
            codes = codes or failing_now
            vetoes = _list(f.get("veto_blocking_codes")) if f else []
            vetoes = vetoes or veto_now
            if vetoes and o.status == "will_pass":
                o.status = "at_risk"
        veto_rows = [d for d in _deciding(vetoes, owners)]
        for d in veto_rows:
            d.is_veto = True
        rest = [d for d in _deciding(codes, owners) if d.requirement_code not in set(vetoes)]
        o.vetoes = veto_rows
        o.deciding = rest[: max(0, MAX_DECIDING - len(veto_rows))] if veto_rows else rest[:MAX_DECIDING]
        o.n_deciding = len(veto_rows) + len(rest)
        out.append(o)
    return out


def _failing_mask(v: pd.DataFrame) -> pd.Series:
    """Failing verdicts: fail, or near with a negative margin (a near item with margin ≥ 0 is met)."""
    margin = pd.to_numeric(v.get("margin"), errors="coerce") if "margin" in v else pd.Series(index=v.index)
    return (v["status"] == "fail") | ((v["status"] == "near") & (margin < 0))


def _not_met(v: pd.Series) -> bool:
    """A verdict that is not met this month: failing, or without data (missing data never helps)."""
    status = v.get("status")
    if status in ("fail", "no_data"):
        return True
    margin = v.get("margin")
    return status == "near" and margin is not None and not pd.isna(margin) and float(margin) < 0


def failing(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The failing verdicts of a frame (never a passing or met-near item)."""
    if verdicts.empty:
        return verdicts
    return verdicts[_failing_mask(verdicts)]


def _recorded(outcomes: pd.DataFrame | None, campaign: str, period_end: pd.Timestamp) -> dict | None:
    if outcomes is None or outcomes.empty:
        return None
    hit = outcomes[outcomes["campaign_code"] == campaign]
    if "decided_date" in hit:
        dates = pd.to_datetime(hit["decided_date"], errors="coerce")
        hit = hit[dates.isna() | (dates <= period_end)]
    return hit.iloc[0].to_dict() if len(hit) else None


def _at_acceptance(readiness: pd.DataFrame, campaign: str, acceptance: pd.Timestamp) -> dict:
    """Readiness of the acceptance month (else the latest month before it)."""
    if readiness is None or readiness.empty:
        return {}
    r = readiness[
        (readiness["campaign_code"] == campaign) & (readiness["period_code"] <= f"{acceptance:%Y-%m}")
    ]
    return r.sort_values("period_code").iloc[-1].to_dict() if len(r) else {}


# ---------------------------------------------------------------- what needs a decision this month


@dataclass
class Decision:
    kind: str  # veto | requirement | rectification | returns
    campaign_code: str | None
    what_zh: str
    what_en: str
    why_zh: str
    why_en: str
    owner_org_code: str | None
    owner_zh: str
    owner_en: str
    indicator_code: str | None = None


KIND_LABELS = {
    "veto": ("一票否决项", "veto item"),
    "requirement": ("决定结果的要求", "deciding requirement"),
    "rectification": ("逾期整改", "overdue rectification"),
    "returns": ("缺报", "missing returns"),
}


def decisions(
    outlooks: list[Outlook],
    verdicts: pd.DataFrame,
    rectification: pd.DataFrame | None,
    lagging: pd.DataFrame | None,
    names: dict[str, tuple[str, str]],
    fmt_value,
) -> list[Decision]:
    """The few items that change an outcome: the failing veto items and deciding requirements of
    campaigns that are not passed (before the acceptance date first), then overdue rectification of
    veto items, then units with missing returns. Each names its owner. `fmt_value(row, lang)` formats
    a verdict's value against its threshold; `names`: campaign_code -> (zh, en)."""
    out: list[Decision] = []
    seen: set[str] = set()
    priority = {"will_miss": 0, "at_risk": 1, "consolidation": 2, "missed": 3}
    order = sorted((o for o in outlooks if o.status in priority), key=lambda o: priority[o.status])
    vrows = verdicts.set_index("requirement_code") if not verdicts.empty else verdicts
    for o in order:
        for d in o.vetoes + o.deciding:
            if d.requirement_code in seen:
                continue
            v = vrows.loc[d.requirement_code] if d.requirement_code in getattr(vrows, "index", []) else None
            if isinstance(v, pd.DataFrame):
                v = v.iloc[0]
            if v is None or not _not_met(v):
                continue  # met now (or not assessed this month): never listed as a risk
            seen.add(d.requirement_code)
            cz, ce = names.get(o.campaign_code, (o.name_zh, o.name_en))
            status_zh, status_en = o.status_label("zh"), o.status_label("en")
            why_zh = f"{cz}（{status_zh}）"
            why_en = f"{ce} ({status_en})"
            if v is not None:
                why_zh += f"：{fmt_value(v, 'zh')}"
                why_en += f": {fmt_value(v, 'en')}"
            out.append(
                Decision(
                    kind="veto" if d.is_veto else "requirement",
                    campaign_code=o.campaign_code,
                    what_zh=d.name_zh,
                    what_en=d.name_en,
                    why_zh=why_zh,
                    why_en=why_en,
                    owner_org_code=d.owner_org_code,
                    owner_zh=d.owner_zh or o.lead_zh,
                    owner_en=d.owner_en or d.owner_zh or o.lead_en or o.lead_zh,
                    indicator_code=d.indicator_code,
                )
            )
    if rectification is not None and not rectification.empty:
        over = rectification[(rectification["status"] == "overdue")]
        if "is_veto" in over:
            over = over.sort_values(["is_veto", "due_date"], ascending=[False, True])
        for r in over.head(3).itertuples(index=False):
            if r.requirement_code in seen:
                continue
            seen.add(str(r.requirement_code))
            due = _date(r.due_date)
            out.append(
                Decision(
                    kind="rectification",
                    campaign_code=r.campaign_code,
                    what_zh=str(r.description_zh or r.requirement_code),
                    what_en=str(r.description_en or r.description_zh or r.requirement_code),
                    why_zh=f"整改期限 {due:%Y-%m-%d} 已过" if due is not None else "整改逾期",
                    why_en=f"rectification due {due:%Y-%m-%d} has passed"
                    if due is not None
                    else "rectification overdue",
                    owner_org_code=getattr(r, "owner_org_code", None),
                    owner_zh=str(getattr(r, "owner_name_zh", "") or ""),
                    owner_en=str(getattr(r, "owner_name_en", "") or getattr(r, "owner_name_zh", "") or ""),
                    indicator_code=getattr(r, "indicator_code", None),
                )
            )
    if lagging is not None and not lagging.empty and "missing_returns" in lagging:
        miss = lagging[lagging["missing_returns"] > 0].head(3)
        for r in miss.itertuples(index=False):
            out.append(
                Decision(
                    kind="returns",
                    campaign_code=None,
                    what_zh=f"缺报 {int(r.missing_returns)} 份报表",
                    what_en=f"{int(r.missing_returns)} return(s) missing",
                    why_zh="缺数据的要求按未达标计",
                    why_en="a requirement without data counts as not met",
                    owner_org_code=r.org_code,
                    owner_zh=str(r.org_name_zh or ""),
                    owner_en=str(r.org_name_en or r.org_name_zh or ""),
                )
            )
    return out[:MAX_DECISIONS]
