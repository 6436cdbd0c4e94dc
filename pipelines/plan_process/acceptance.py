"""Application and acceptance records → plan milestones; the title's status per campaign; regression
alerts after a pass (长效机制).

Milestone evidence (read by `pipelines.marts.plan`): each acceptance record gives
- `application` done on `applied_on` (document: the application documents);
- `inspection` on the inspection's last day, with the record's outcome;
- `acceptance` (or `interim_acceptance`) on `result_on` with outcome passed (conditional counts as
  passed: the title is granted subject to the findings) or failed. A failed first attempt leaves the
  milestone overdue; the re-application's pass completes it (late if after the due date).

Campaign status at the horizon (first rule that applies):
    creating       no application recorded
    applied        the latest application has no result yet
    failed         the latest application failed (re-application expected)
    at_risk        passed, and: a requirement met at the pass now fails (latest verdict), a re-review
                   failed, or the re-review is overdue (passed + cycle years < horizon, none recorded)
    re_reviewed    passed, and the latest re-review passed
    consolidating  passed, monitoring continues (regressions to `near` are listed, not at risk)
    passed         the pass is on the horizon day itself (no later monitoring yet)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from pipelines.marts.common import is_failing, is_met, period_end

STATUS = {
    "creating": ("创建中", "creating"),
    "applied": ("已申报待验收", "applied"),
    "failed": ("验收未通过（待重新申报）", "failed (re-application due)"),
    "passed": ("已通过验收", "passed"),
    "consolidating": ("巩固提升中", "consolidating"),
    "re_reviewed": ("已通过复审", "re-reviewed"),
    "at_risk": ("有失去称号风险", "at risk of losing the title"),
}
PASSING = ("passed", "conditional")


def consolidation_rules(standards_dir: Path) -> dict[str, dict]:
    """campaign → {re_review, re_review_en, cycle_years, assumed, source} from campaigns.yaml."""
    data = yaml.safe_load((Path(standards_dir) / "campaigns.yaml").read_text(encoding="utf-8")) or {}
    out = {}
    for c in data.get("campaigns") or []:
        cons = c.get("consolidation") or {}
        out[c["code"]] = {
            "re_review": cons.get("re_review") or "复审",
            "re_review_en": cons.get("re_review_en") or "re-review",
            "cycle_years": int(cons["cycle_years"]) if cons.get("cycle_years") else None,
            "assumed": bool(cons.get("assumed", True)),
            "source": cons.get("source") or "",
        }
    return out


def _d(x) -> dt.date | None:
    if x in (None, ""):
        return None
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    return dt.date.fromisoformat(str(x)[:10])


def plan_events(records: list[dict]) -> list[dict]:
    """Milestone evidence events (the dicts `pipelines.marts.plan.schedule_rows` takes)."""
    out = []
    for r in records:
        if r.get("kind", "acceptance") != "acceptance":
            continue
        base = {
            "county_code": r["county_code"],
            "campaign_code": r["campaign_code"],
            "assumed": r.get("source") == "sample",
        }
        tag = f"第{r['attempt']}次" if r.get("attempt", 1) > 1 else ""
        if _d(r.get("applied_on")):
            out.append(
                base
                | {
                    "milestone": "application",
                    "kind": "application",
                    "date": _d(r["applied_on"]),
                    "document": f"{tag}创建申报：{r.get('application_documents') or '申报材料'}",
                    "outcome": None,
                }
            )
        result = r.get("result")
        outcome = "passed" if result in PASSING else ("failed" if result == "failed" else None)
        day = _d(r.get("inspection_to")) or _d(r.get("inspection_from"))
        if day:
            out.append(
                base
                | {
                    "milestone": "inspection",
                    "kind": "inspection",
                    "date": day,
                    "document": f"{tag}考核验收：{r.get('team') or '考核组'}",
                    "outcome": None,
                }
            )
        if result and _d(r.get("result_on")):
            cond = "（有条件通过）" if result == "conditional" else ""
            out.append(
                base
                | {
                    "milestone": r.get("milestone") or "acceptance",
                    "kind": "acceptance",
                    "date": _d(r["result_on"]),
                    "document": f"{tag}验收结果{cond}：{r.get('result_document') or ''}".rstrip("："),
                    "outcome": outcome,
                }
            )
    return out


def finding_items(records: list[dict], points_owner: str | None = None) -> list[dict]:
    """Each finding line of an acceptance or re-review becomes a rectification item for the office."""
    out = []
    for r in records:
        if not r.get("findings") or not _d(r.get("result_on")):
            continue
        for n, line in enumerate(x.strip() for x in str(r["findings"]).splitlines()):
            if line:
                out.append(
                    {
                        "record_id": r["record_id"],
                        "county_code": r["county_code"],
                        "campaign_code": r["campaign_code"],
                        "n": n + 1,
                        "text": line,
                        "opened_date": _d(r["result_on"]),
                    }
                )
    return out


def regression_alerts(
    verdicts: list[dict],
    passes: dict[tuple[str, str], dt.date],
    names: dict[str, str],
    names_en: dict[str, str] | None = None,
) -> list[dict]:
    """County verdicts after a campaign's pass that fall to near or fail, for requirements met at the pass.

    `verdicts`: county-level compliance.verdict dicts; `passes`: (county, campaign) → pass date. A
    requirement is 'met at the pass' when its latest verdict of the grain ending on or before the pass
    date is met (pass, or near on the passing side)."""
    series: dict[tuple, list[dict]] = {}
    for v in verdicts:
        key = (v["county_code"], v["campaign_code"])
        if key in passes and v["subject_org_code"] == v["county_code"]:
            series.setdefault((*key, v["requirement_code"], v["grain"]), []).append(v)
    out = []
    for (county, campaign, req, grain), vs in sorted(series.items()):
        vs.sort(key=lambda v: period_end(v["period_code"]))
        passed_on = passes[(county, campaign)]
        before = [v for v in vs if period_end(v["period_code"]) <= passed_on]
        after = [v for v in vs if period_end(v["period_code"]) > passed_on]
        if not before or not after or not is_met(before[-1]["status"], before[-1].get("margin")):
            continue
        for v in after:
            slipped = (
                v["status"] == "fail" or (v["status"] == "near") or is_failing(v["status"], v.get("margin"))
            )
            if not slipped:
                continue
            word = "未达标" if is_failing(v["status"], v.get("margin")) else "接近临界"
            word_en = "fails" if word == "未达标" else "is near the threshold"
            name = names.get(req, req)
            name_en = (names_en or {}).get(req) or name  # never the raw code in the English message
            out.append(
                {
                    "county_code": county,
                    "campaign_code": campaign,
                    "requirement_code": req,
                    "name_zh": name,
                    "grain": grain,
                    "period_code": v["period_code"],
                    "status": "fail" if word == "未达标" else "near",
                    "value": v.get("value"),
                    "threshold_token": v.get("threshold_token"),
                    "margin": v.get("margin"),
                    "status_at_pass": before[-1]["status"],
                    "passed_on": passed_on,
                    "is_veto": bool(v.get("is_veto")),
                    "is_latest": v is vs[-1],
                    "message_zh": (
                        f"验收通过（{passed_on}）后，{name}在{period_text(v['period_code'])}{word}："
                        f"数值{_fmt(v.get('value'))}，标准{v.get('threshold_token') or ''}"
                    ),
                    "message_en": (
                        f"after the pass ({passed_on}), {name_en} {word_en} in {period_text(v['period_code'], 'en')}: "
                        f"value {_fmt(v.get('value'))}, threshold {v.get('threshold_token') or ''}"
                    ),
                }
            )
    return out


def period_text(code: str, lang: str = "zh") -> str:
    """'2016' → 2016年; '2016-12' (year to date) → 2016年1–12月 / Jan–Dec 2016."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    if len(code) == 7 and code[4] == "-":
        y, m = int(code[:4]), int(code[5:])
        if m == 1:
            return f"{y}年1月" if lang == "zh" else f"Jan {y}"
        return f"{y}年1–{m}月" if lang == "zh" else f"Jan–{months[m - 1]} {y}"
    return f"{code}年" if lang == "zh" and code.isdigit() else code


def _fmt(x) -> str:
    if x is None:
        return "无"
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def campaign_status(
    county: str,
    campaigns: list[str],
    records: list[dict],
    alerts: list[dict],
    rules: dict[str, dict],
    as_of: dt.date,
) -> list[dict]:
    """One status row per campaign of the county at `as_of` (rules in the module docstring)."""
    out = []
    for camp in campaigns:
        rule = rules.get(camp, {})
        recs = [r for r in records if r["county_code"] == county and r["campaign_code"] == camp]
        apps = sorted(
            (
                r
                for r in recs
                if r.get("kind", "acceptance") == "acceptance"
                and (r.get("milestone") or "acceptance") == "acceptance"
                and _d(r.get("applied_on"))
                and _d(r["applied_on"]) <= as_of
            ),
            key=lambda r: r["attempt"],
        )
        reviews = sorted(
            (
                r
                for r in recs
                if r.get("kind") == "re_review" and _d(r.get("result_on")) and _d(r["result_on"]) <= as_of
            ),
            key=lambda r: _d(r["result_on"]),
        )
        cur = [
            a for a in alerts if a["county_code"] == county and a["campaign_code"] == camp and a["is_latest"]
        ]
        n_fail = sum(1 for a in cur if a["status"] == "fail")
        n_veto = sum(1 for a in cur if a["is_veto"] and a["status"] == "fail")
        passed = next(
            (
                a
                for a in apps
                if a.get("result") in PASSING and _d(a.get("result_on")) and _d(a["result_on"]) <= as_of
            ),
            None,
        )
        passed_on = _d(passed["result_on"]) if passed else None
        cycle = rule.get("cycle_years")
        last_review = _d(reviews[-1]["result_on"]) if reviews else None
        next_review = _add_years(last_review or passed_on, cycle) if passed_on and cycle else None
        rr = rule.get("re_review", "复审")
        if not apps:
            status, zh, en = "creating", "尚未申报", "no application recorded"
        elif passed is None:
            last = apps[-1]
            if (
                last.get("result") == "failed"
                and _d(last.get("result_on"))
                and _d(last["result_on"]) <= as_of
            ):
                status = "failed"
                zh = f"第{last['attempt']}次申报验收未通过（{last['result_on']}），待整改后重新申报"
                en = f"application {last['attempt']} failed ({last['result_on']}); re-application due"
            else:
                status = "applied"
                zh, en = (
                    f"已于{last['applied_on']}申报，待验收结果",
                    f"applied on {last['applied_on']}, result pending",
                )
        else:
            risks_zh, risks_en = [], []
            if n_fail:
                risks_zh.append(
                    f"{n_fail}项验收时达标的指标现已不达标"
                    + (f"（含一票否决项{n_veto}项）" if n_veto else "")
                )
                risks_en.append(
                    f"{n_fail} requirement(s) met at the pass now fail"
                    + (f" ({n_veto} veto)" if n_veto else "")
                )
            if reviews and reviews[-1].get("result") == "failed":
                risks_zh.append(f"{rr}未通过（{reviews[-1]['result_on']}）")
                risks_en.append(
                    f"{rule.get('re_review_en', 're-review')} failed ({reviews[-1]['result_on']})"
                )
            if (
                next_review
                and next_review < as_of
                and not (reviews and _d(reviews[-1]["result_on"]) >= _add_years(next_review, -cycle))
            ):
                risks_zh.append(f"应于{next_review}前{rr}，尚无记录")
                risks_en.append(
                    f"{rule.get('re_review_en', 're-review')} due by {next_review}, none recorded"
                )
            if risks_zh:
                status, zh, en = "at_risk", "；".join(risks_zh), "; ".join(risks_en)
            elif reviews and reviews[-1].get("result") in PASSING:
                status = "re_reviewed"
                zh, en = (
                    f"{rr}通过（{reviews[-1]['result_on']}）",
                    f"re-reviewed ({reviews[-1]['result_on']})",
                )
            elif passed_on >= as_of:
                status, zh, en = "passed", f"于{passed_on}通过验收", f"passed on {passed_on}"
            else:
                n_near = sum(1 for a in cur if a["status"] == "near")
                status = "consolidating"
                zh = f"于{passed_on}通过验收，巩固期持续监测" + (f"；{n_near}项接近临界" if n_near else "")
                en = f"passed on {passed_on}; monitoring continues" + (
                    f"; {n_near} near the threshold" if n_near else ""
                )
        out.append(
            {
                "county_code": county,
                "campaign_code": camp,
                "status": status,
                "status_zh": STATUS[status][0],
                "status_en": STATUS[status][1],
                "reason_zh": zh,
                "reason_en": en,
                "attempts": len(apps),
                "passed_on": passed_on,
                "next_re_review": next_review,
                "re_review_name_zh": rr,
                "cycle_years": cycle,
                "cycle_assumed": rule.get("assumed"),
                "n_regressions": len(cur),
                "n_veto_regressions": n_veto,
                "as_of_date": as_of,
            }
        )
    return out
