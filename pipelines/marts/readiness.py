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
