"""Campaign readiness per county × campaign × period, from county-level verdicts.

Rule (also in the table doc and docs/accountability.md):
- Only verdicts of the county figure (subject_org_code = county_code) count.
- `not_assessable` verdicts (threshold unknown) are left out of the shares; `no_data` counts as not met.
- A requirement is met when its verdict passes, or is `near` with margin >= 0.
- share_met = Σ weight(met) / Σ weight(assessable).
- Veto cap: if any veto / prerequisite item fails (fail, or near with margin < 0),
  readiness = min(share_met, VETO_CAP = 0.6); otherwise readiness = share_met.
- Change since last period: against the previous period of the same grain with a readiness row.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

from pipelines.marts.common import (
    VETO_CAP,
    county_verdicts,
    fetch_dicts,
    is_failing,
    is_met,
    period_end,
)


def _weight(v: dict) -> float:
    w = v.get("weight")
    return 1.0 if w is None else float(w)


def readiness_rows(verdicts: list[dict], programmes: list[dict]) -> list[dict]:
    """One row per county × campaign × grain × period from county-level verdict dicts.

    `verdicts` carry the compliance.verdict columns; `programmes` the dim.county_campaign columns.
    """
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
        assessable = [v for v in vs if v["status"] != "not_assessable"]
        met = [v for v in assessable if is_met(v["status"], v.get("margin"))]
        w_all = sum(_weight(v) for v in assessable)
        w_met = sum(_weight(v) for v in met)
        share = w_met / w_all if w_all > 0 else None
        vetos = [v for v in vs if v.get("is_veto")]
        veto_failed = sorted(v["requirement_code"] for v in vetos if is_failing(v["status"], v.get("margin")))
        readiness = None if share is None else (min(share, VETO_CAP) if veto_failed else share)
        end = period_end(period)
        acc = acceptance.get((county, campaign))
        not_met = sorted(
            v["requirement_code"] for v in assessable if not is_met(v["status"], v.get("margin"))
        )
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
                "n_met": len(met),
                "weight_assessable": w_all,
                "weight_met": w_met,
                "share_met": share,
                "share_met_unweighted": len(met) / len(assessable) if assessable else None,
                "n_veto": len(vetos),
                "n_veto_failed": len(veto_failed),
                "n_veto_no_data": sum(1 for v in vetos if v["status"] == "no_data"),
                "veto_failed_codes": veto_failed,
                "readiness_cap": VETO_CAP,
                "is_capped": bool(veto_failed) and share is not None and share > VETO_CAP,
                "readiness": readiness,
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
        marts.CAMPAIGN_READINESS: readiness_rows(county_verdicts(conn, True), programmes),
        marts.TOWN_REQUIREMENT_STATUS: town_rows(county_verdicts(conn, False)),
    }
