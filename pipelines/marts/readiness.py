"""Campaign readiness per county × campaign × period, from county-level verdicts.

Rules (also in the table doc and docs/accountability.md, with examples):
- Only verdicts of the county figure (subject_org_code = county_code) count.
- A requirement is met when its verdict passes, or is `near` with margin >= 0.
- `no_data` counts as not met. `not_assessable` has two causes (`unassessable_cause`):
  * `data` — the county's own data are missing (no numeric value or assessed text, the previous
    year's or the five previous years' figures missing, the three-year trend incomplete): counts as
    NOT met, exactly like no_data, so a missing return can never raise readiness;
  * `standard` — the standard's value is unknown to us (threshold unknown or missing for the county's
    variant, a national/provincial reference value missing): left out of the shares (not the county's
    doing) and counted in n_not_assessable_standard.
- Weights are normalised to the standard's own scoring (`SCORING`, `normalised_weights`): the
  editions that score a component as a fixed share of the total keep that share; every other
  requirement shares the rest in proportion to its catalog weight. Where the standard does not score
  its items (every item must be met) all requirements weigh the same.
- share_met = Σ weight(met) / Σ weight(counted).
- Veto cap: if any veto / prerequisite item fails (fail, or near with margin < 0) or has no verdict
  value (no_data, not_assessable), readiness = min(share_met, VETO_CAP = 0.6); otherwise share_met.
- Status (`readiness_status`), first rule that applies: `veto_failed` (a veto item fails),
  `unknown` (a veto item has no data: unknown / at risk, never ready), `ready` (every counted
  requirement met), `not_ready`; `no_requirements` when nothing can be counted.
- Change since last period: against the previous period of the same grain with a readiness row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

from pipelines.marts.common import (
    VETO_CAP,
    county_verdicts,
    fetch_dicts,
    is_failing,
    is_met,
    period_end,
)


@dataclass(frozen=True)
class Scoring:
    """How an edition of a standard scores its requirements: fixed shares of the total score."""

    fixed_shares: dict[str, float]
    source: str


#: Editions whose standard scores a component as a fixed share of the total. Every other edition is a
#: list of items that must all be met (卫生县城, 生态县, 森林城市, 环保模范城市 indicators): equal weights.
SCORING: dict[str, Scoring] = {
    "civ_2011": Scoring(
        fixed_shares={"civ_minors_moral_score": 0.20},
        source=(
            "《全国文明城市测评体系》(2011年版)：未成年人思想道德建设工作测评得分按20%的比例计入全国文明城市"
            "测评总成绩（低于85分不得申报）/ the minors' moral-education score counts for 20 % of the "
            "civilized-city total score (below 85: no application)"
        ),
    ),
}

READINESS_STATUS_ZH = {
    "ready": "已达标",
    "not_ready": "未达标",
    "veto_failed": "一票否决项未达标",
    "unknown": "否决项无数据（状态未知，有风险）",
    "no_requirements": "无可评估要求",
}


def _weight(v: dict) -> float:
    w = v.get("weight")
    return 1.0 if w is None else float(w)


def normalised_weights(verdicts: list[dict], scoring: dict[str, Scoring] | None = None) -> dict[str, float]:
    """requirement_code → weight normalised to the standard's own scoring, summing to 1 over `verdicts`
    (the requirements of one campaign period). Fixed shares of SCORING keep their share; the others share
    the rest in proportion to their catalog weight."""
    scoring = SCORING if scoring is None else scoring
    fixed: dict[str, float] = {}
    for v in verdicts:
        rule = scoring.get(v.get("edition_code") or "")
        if rule and v["requirement_code"] in rule.fixed_shares:
            fixed[v["requirement_code"]] = rule.fixed_shares[v["requirement_code"]]
    others = [v for v in verdicts if v["requirement_code"] not in fixed]
    total_fixed = sum(fixed.values())
    if not others:
        return {k: s / total_fixed for k, s in fixed.items()} if total_fixed else {}
    rest = max(0.0, 1.0 - total_fixed)
    w_others = sum(_weight(v) for v in others)
    out = dict(fixed)
    for v in others:
        out[v["requirement_code"]] = rest * _weight(v) / w_others if w_others else rest / len(others)
    return out


def unassessable_cause(v: dict, req: dict | None = None) -> str | None:
    """Why a verdict is not assessable: 'data' (the county's own data missing: counts as not met) or
    'standard' (the standard's value unknown to us: left out). None for other statuses.

    `req`: the dim.requirement row (threshold_kind, reference); without it the verdict alone decides."""
    if v.get("status") != "not_assessable":
        return None
    req = req or {}
    kind, ref = req.get("threshold_kind"), req.get("reference")
    if kind == "unknown":
        return "standard"
    if v.get("threshold_value") is not None:  # threshold known: the 3-year history is missing
        return "data"
    if kind == "qualitative" or (v.get("value") is None and not v.get("value_text")):
        return "data"  # no assessed text / no numeric value in the return
    if kind == "relative" and ref in ("previous_year", "5yr_avg"):
        return "data"  # the county's own earlier figures are missing
    return "standard"


def counts_as_unmet(v: dict, req: dict | None = None) -> bool:
    """Whether a verdict without a pass/fail answer still counts in the denominator (as not met)."""
    return v["status"] == "no_data" or unassessable_cause(v, req) == "data"


def readiness_rows(
    verdicts: list[dict],
    programmes: list[dict],
    requirements: dict[str, dict] | None = None,
    scoring: dict[str, Scoring] | None = None,
) -> list[dict]:
    """One row per county × campaign × grain × period from county-level verdict dicts.

    `verdicts` carry the compliance.verdict columns; `programmes` the dim.county_campaign columns;
    `requirements` dim.requirement rows by requirement_code (threshold_kind, reference)."""
    requirements = requirements or {}
    acceptance = {(p["county_code"], p["campaign_code"]): p.get("acceptance_date") for p in programmes}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for v in verdicts:
        if v["subject_org_code"] != v["county_code"]:
            continue
        groups[(v["county_code"], v["campaign_code"], v["grain"], v["period_code"])].append(v)

    rows: list[dict] = []
    for (county, campaign, grain, period), vs in sorted(groups.items()):
        counts = defaultdict(int)
        for v in vs:
            counts[v["status"]] += 1
        cause = {
            v["requirement_code"]: unassessable_cause(v, requirements.get(v["requirement_code"])) for v in vs
        }
        counted = [v for v in vs if cause[v["requirement_code"]] != "standard"]
        weights = normalised_weights(counted, scoring)
        met = [v for v in counted if is_met(v["status"], v.get("margin"))]
        w_all = sum(weights.values())
        w_met = sum(weights[v["requirement_code"]] for v in met)
        share = w_met / w_all if w_all > 0 else None
        vetos = [v for v in vs if v.get("is_veto")]
        veto_failed = sorted(v["requirement_code"] for v in vetos if is_failing(v["status"], v.get("margin")))
        veto_unscored = sorted(
            v["requirement_code"] for v in vetos if v["status"] in ("no_data", "not_assessable")
        )
        capped = bool(veto_failed or veto_unscored)
        readiness = None if share is None else (min(share, VETO_CAP) if capped else share)
        if share is None:
            status = "no_requirements"
        elif veto_failed:
            status = "veto_failed"
        elif veto_unscored:
            status = "unknown"
        elif len(met) == len(counted):
            status = "ready"
        else:
            status = "not_ready"
        end = period_end(period)
        acc = acceptance.get((county, campaign))
        not_met = sorted(v["requirement_code"] for v in counted if not is_met(v["status"], v.get("margin")))
        top = max(weights.items(), key=lambda kv: (kv[1], kv[0])) if weights else (None, None)
        rows.append(
            {
                "county_code": county,
                "campaign_code": campaign,
                "period_code": period,
                "grain": grain,
                "period_end": end,
                "edition_codes": sorted({v["edition_code"] for v in vs if v.get("edition_code")}),
                "n_requirements": len(vs),
                "n_pass": counts["pass"],
                "n_near": counts["near"],
                "n_fail": counts["fail"],
                "n_no_data": counts["no_data"],
                "n_not_assessable": counts["not_assessable"],
                "n_not_assessable_data": sum(1 for c in cause.values() if c == "data"),
                "n_not_assessable_standard": sum(1 for c in cause.values() if c == "standard"),
                "n_counted": len(counted),
                "n_met": len(met),
                "weight_assessable": w_all,
                "weight_met": w_met,
                "max_weight_share": top[1] / w_all if w_all > 0 and top[1] is not None else None,
                "max_weight_requirement_code": top[0],
                "share_met": share,
                "share_met_unweighted": len(met) / len(counted) if counted else None,
                "n_veto": len(vetos),
                "n_veto_failed": len(veto_failed),
                "n_veto_no_data": len(veto_unscored),
                "veto_failed_codes": veto_failed,
                "veto_no_data_codes": veto_unscored,
                "readiness_cap": VETO_CAP,
                "is_capped": capped and share is not None and share > VETO_CAP,
                "readiness": readiness,
                "readiness_status": status,
                "readiness_status_zh": READINESS_STATUS_ZH[status],
                "acceptance_date": acc,
                "days_to_acceptance": (acc - end).days if acc else None,
                "failing_requirement_codes": not_met,
            }
        )
    # Change since the previous period of the same county × campaign × grain (rows are sorted).
    prev: dict[tuple, dict] = {}
    for r in sorted(rows, key=lambda r: (r["county_code"], r["campaign_code"], r["grain"], r["period_end"])):
        key = (r["county_code"], r["campaign_code"], r["grain"])
        p = prev.get(key)
        r["prev_period_code"] = p["period_code"] if p else None
        r["readiness_prev"] = p["readiness"] if p else None
        r["readiness_change"] = (
            r["readiness"] - p["readiness"]
            if p and r["readiness"] is not None and p["readiness"] is not None
            else None
        )
        r["n_met_change"] = r["n_met"] - p["n_met"] if p else None
        prev[key] = r
    return rows


def town_rows(verdicts: list[dict]) -> list[dict]:
    """Towns' own verdicts per requirement × grain × period: counts passing, failing, without data."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for v in verdicts:
        if v["subject_org_code"] == v["county_code"]:
            continue
        groups[
            (v["county_code"], v["campaign_code"], v["requirement_code"], v["grain"], v["period_code"])
        ].append(v)
    rows = []
    for (county, campaign, req, grain, period), vs in sorted(groups.items()):
        n_pass = sum(1 for v in vs if is_met(v["status"], v.get("margin")))
        failing = sorted(v["subject_org_code"] for v in vs if is_failing(v["status"], v.get("margin")))
        rows.append(
            {
                "county_code": county,
                "campaign_code": campaign,
                "requirement_code": req,
                "period_code": period,
                "grain": grain,
                "n_towns": len(vs),
                "n_pass": n_pass,
                "n_fail": len(failing),
                "n_no_data": len(vs) - n_pass - len(failing),
                "share_pass": n_pass / len(vs) if vs else None,
                "failing_town_codes": failing,
            }
        )
    return rows


def build(conn: duckdb.DuckDBPyConnection) -> dict:
    """Rows of marts.campaign_readiness and marts.town_requirement_status from the warehouse."""
    from pipelines.warehouse.tables import marts

    programmes = fetch_dicts(conn, "SELECT * FROM dim.county_campaign")
    return {
        marts.CAMPAIGN_READINESS: readiness_rows(
            county_verdicts(conn, True), programmes, requirement_info(conn)
        ),
        marts.TOWN_REQUIREMENT_STATUS: town_rows(county_verdicts(conn, False)),
    }


def requirement_info(conn: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """dim.requirement rows by requirement_code (threshold kind and reference decide not_assessable causes)."""
    return {
        r["requirement_code"]: r
        for r in fetch_dicts(
            conn, "SELECT requirement_code, threshold_kind, reference, edition_code FROM dim.requirement"
        )
    }


# ---------------------------------------------------------------- archive readiness (档案资料)
#
# Rules (also in docs/archive.md):
# - A slot is one document owed: clause × item × period, `count` files of it (pipelines.archive.catalog).
# - Per slot, from the latest version of each item in it: accepted = min(items accepted, count);
#   provided = min(items accepted or awaiting review, count); a returned item is not provided.
# - Per clause and campaign: required = Σ count, provided and accepted summed; share_accepted =
#   accepted / required. A slot still owed (accepted < count) is missing, with its unit and due date;
#   overdue when its due date is before `as_of`.
# - A prerequisite clause (the standard's basic conditions, organisation and planning where the
#   standard requires them, and every veto requirement) with a slot due by `as_of` that is not fully
#   accepted caps readiness like a veto: archive readiness = min(share_accepted, VETO_CAP) and the
#   campaign's overall readiness = min(indicator readiness, VETO_CAP).

ARCHIVE_STATUS_ZH = {
    "complete": "资料齐全（均已审核通过）",
    "prerequisite_missing": "前提条件资料缺失（封顶）",
    "incomplete": "资料不全",
    "no_requirements": "无资料要求",
}


def archive_slot_rows(slots: list, latest_versions: list[dict], as_of=None) -> list[dict]:
    """One row per slot (pipelines.archive.catalog.Slot) with what was provided and accepted."""
    by_slot: dict[tuple, list[dict]] = defaultdict(list)
    for v in latest_versions:
        by_slot[(v["campaign_code"], v["clause_code"], v["item_code"], v["period_code"])].append(v)
    rows = []
    for s in slots:
        vs = by_slot.get(s.key, [])
        n_acc = sum(1 for v in vs if v["review_state"] == "accepted")
        n_sub = sum(1 for v in vs if v["review_state"] == "submitted")
        n_ret = sum(1 for v in vs if v["review_state"] == "returned")
        accepted = min(n_acc, s.count)
        provided = min(n_acc + n_sub, s.count)
        if accepted >= s.count:
            state = "accepted"
        elif provided >= s.count:
            state = "submitted"
        elif n_ret:
            state = "returned"
        else:
            state = "missing"
        due_passed = as_of is None or s.due_date <= as_of
        rows.append(
            {
                "county_code": s.county_code,
                "campaign_code": s.campaign_code,
                "clause_code": s.clause_code,
                "clause_order": s.clause_order,
                "category": s.category,
                "clause_name_zh": s.clause_name_zh,
                "clause_name_en": s.clause_name_en,
                "item_code": s.item_code,
                "kind": s.kind,
                "title_zh": s.title_zh,
                "title_en": s.title_en,
                "period": s.period,
                "period_code": s.period_code,
                "due_date": s.due_date,
                "provider_org_code": s.provider_org_code,
                "provider_short": s.provider_short,
                "prerequisite": s.prerequisite,
                "assumed": s.assumed,
                "source": s.source,
                "requirement_code": s.requirement_code,
                "required": s.count,
                "provided": provided,
                "accepted": accepted,
                "n_returned": n_ret,
                "n_items": len(vs),
                "state": state,
                "is_due": due_passed,
                "is_overdue": state != "accepted" and as_of is not None and s.due_date < as_of,
            }
        )
    return rows


def archive_clause_rows(slot_rows: list[dict]) -> list[dict]:
    """One row per county × campaign × clause: required vs provided vs accepted, prerequisite state."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in slot_rows:
        groups[(r["county_code"], r["campaign_code"], r["clause_order"], r["clause_code"])].append(r)
    out = []
    for (county, campaign, order, clause), rs in sorted(groups.items()):
        required = sum(r["required"] for r in rs)
        accepted = sum(r["accepted"] for r in rs)
        owed = [r for r in rs if r["state"] != "accepted"]
        prereq = rs[0]["prerequisite"]
        out.append(
            {
                "county_code": county,
                "campaign_code": campaign,
                "clause_code": clause,
                "clause_order": order,
                "category": rs[0]["category"],
                "clause_name_zh": rs[0]["clause_name_zh"],
                "clause_name_en": rs[0]["clause_name_en"],
                "requirement_code": rs[0]["requirement_code"],
                "prerequisite": prereq,
                "n_slots": len(rs),
                "required": required,
                "provided": sum(r["provided"] for r in rs),
                "accepted": accepted,
                "n_returned": sum(r["n_returned"] for r in rs),
                "missing": required - sum(r["provided"] for r in rs),
                "share_accepted": accepted / required if required else None,
                "n_overdue": sum(1 for r in owed if r["is_overdue"]),
                "prerequisite_missing": bool(prereq and any(r["is_due"] for r in owed)),
                "next_due_date": min((r["due_date"] for r in owed), default=None),
                "units": sorted({r["provider_short"] for r in rs}),
                "assumed": any(r["assumed"] for r in rs),
            }
        )
    return out


def archive_campaign_rows(
    clause_rows: list[dict], indicator_rows: list[dict] | None = None, as_of=None
) -> list[dict]:
    """One row per county × campaign: archive readiness, the prerequisite cap, and the overall
    readiness with the latest indicator readiness (`indicator_rows`: marts.campaign_readiness rows;
    the latest period ending by `as_of`, of grain ytd_month, else year, is used)."""
    latest: dict[tuple, dict] = {}
    for r in sorted(
        indicator_rows or [], key=lambda r: (r["grain"] == "ytd_month", r["period_end"]), reverse=True
    ):
        if as_of is not None and r["period_end"] is not None and r["period_end"] > as_of:
            continue
        latest.setdefault((r["county_code"], r["campaign_code"]), r)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in clause_rows:
        groups[(r["county_code"], r["campaign_code"])].append(r)
    out = []
    for (county, campaign), rs in sorted(groups.items()):
        required = sum(r["required"] for r in rs)
        accepted = sum(r["accepted"] for r in rs)
        provided = sum(r["provided"] for r in rs)
        share = accepted / required if required else None
        missing_prereq = [r["clause_code"] for r in rs if r["prerequisite_missing"]]
        capped = bool(missing_prereq)
        archive = None if share is None else (min(share, VETO_CAP) if capped else share)
        ind = latest.get((county, campaign))
        ind_r = ind["readiness"] if ind else None
        overall = None if ind_r is None else (min(ind_r, VETO_CAP) if capped else ind_r)
        if share is None:
            status = "no_requirements"
        elif capped:
            status = "prerequisite_missing"
        elif accepted == required:
            status = "complete"
        else:
            status = "incomplete"
        out.append(
            {
                "county_code": county,
                "campaign_code": campaign,
                "n_clauses": len(rs),
                "n_clauses_complete": sum(1 for r in rs if r["accepted"] == r["required"]),
                "required": required,
                "provided": provided,
                "accepted": accepted,
                "n_returned": sum(r["n_returned"] for r in rs),
                "missing": required - provided,
                "n_overdue": sum(r["n_overdue"] for r in rs),
                "share_provided": provided / required if required else None,
                "share_accepted": share,
                "prerequisite_missing_codes": missing_prereq,
                "readiness_cap": VETO_CAP,
                "is_capped": capped,
                "archive_readiness": archive,
                "archive_status": status,
                "archive_status_zh": ARCHIVE_STATUS_ZH[status],
                "indicator_period_code": ind["period_code"] if ind else None,
                "indicator_readiness": ind_r,
                "overall_readiness": overall,
                "overall_capped": bool(capped and ind_r is not None and ind_r > VETO_CAP),
            }
        )
    return out
