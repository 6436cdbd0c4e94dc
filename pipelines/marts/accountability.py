"""Accountability ledger per responsible unit × month, the ranking and the monthly 通报 list.

Ledger month: the month in which the reported periods end (a unit's monthly return for 2013-06, its
quarterly return for 2013-Q2 and — in December — its annual return all fall in ledger month 2013-06 /
2013-12). Returns due: one per unit × period of each frequency the unit reports (dim.assignment, any
role) for the periods of the county calendar (dim.reporting_deadline).

Data horizon: the latest date a file was received for the county (core.submission.received_at); a return
whose due date is after the horizon is "not yet due" and never counted as missing.

Score (0–100) on what was due from the unit only. Each component is in 0..1, or NULL when it has no
denominator (nothing of that kind was due that month: it earns nothing and costs nothing):
    timeliness   = (on_time + Σ_late max(0, 1 − working_days_late / 10)) / due_by_horizon
                   (a late return keeps partial credit: 3 working days late counts 0.7, 10 or more 0)
    completeness = min(1, received / due_by_horizon)
    data_quality = max(0, 1 − (values_quarantined + quality_defects) / (values_loaded + values_quarantined))
    compliance   = 1 − (requirements_failing + requirements_no_data) / requirements_owned
                   (an owned requirement without data this month is not met: the unit owes the figure)
    score        = 100 × Σ w·component / Σ w over the components that are not NULL,
                   w = 0.35 timeliness, 0.25 completeness, 0.20 data_quality, 0.20 compliance
A unit with nothing due (no return due by the horizon, no requirement owned) has no score and is not
ranked. Rank: by score descending within county × month × unit level (departments and towns are ranked
separately), ties share the rank (1 = best).

通报 (lagging) rule: a unit is listed for a month when it has a missing return, a return more than
LATE_NOTICE_DAYS (5) working days late, a failing veto requirement it owns, or a score below
LOW_SCORE (70).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb

from pipelines import reporting_calendar as rc
from pipelines.marts.common import (
    fetch_dicts,
    is_failing,
    month_code,
    period_end,
    table_exists,
)
from pipelines.validation.compliance import stale_notice_policy

WEIGHTS = {"timeliness": 0.35, "completeness": 0.25, "data_quality": 0.20, "compliance": 0.20}
LATE_NOTICE_DAYS = 5
LATE_CREDIT_DAYS = 10  # a return this many working days late or more earns no timeliness credit
LOW_SCORE = 70.0


def score_of(
    timeliness: float | None, completeness: float | None, data_quality: float | None, compliance: float | None
) -> float | None:
    """Weighted mean of the components that apply (not None), 0–100; None when none applies."""
    parts = {
        "timeliness": timeliness,
        "completeness": completeness,
        "data_quality": data_quality,
        "compliance": compliance,
    }
    used = {k: v for k, v in parts.items() if v is not None}
    if not used:
        return None
    return round(100.0 * sum(WEIGHTS[k] * v for k, v in used.items()) / sum(WEIGHTS[k] for k in used), 2)


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


RANK_GROUP_ZH = {"department": "部门", "town": "乡镇"}


def _label(period_code: str) -> str:
    return rc.parse_period(period_code).label_zh


def ledger_rows(
    *,
    assignments: list[dict],
    deadlines: list[dict],
    submissions: list[dict],
    quarantine: list[dict],
    defects: list[dict],
    verdicts: list[dict],
    requirements: list[dict],
    units: list[dict],
    horizon: dt.date | None,
) -> tuple[list[dict], list[dict]]:
    """Rows of marts.unit_accountability and marts.lagging_unit. All inputs are lists of dicts with the
    columns of the tables they come from (see `build`)."""
    unit_by_code = {u["org_code"]: u for u in units}
    freq_of_period = {d["period_code"]: rc.parse_period(d["period_code"]).frequency for d in deadlines}
    due_by = {(d["county_code"], d["period_code"]): d["due_date"] for d in deadlines}

    # Returns due: unit × period of each frequency it reports.
    unit_freqs: dict[tuple[str, str], set[str]] = defaultdict(set)
    roles: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in assignments:
        unit_freqs[(a["county_code"], a["org_code"])].add(a["frequency"])
        roles[(a["county_code"], a["org_code"])].add(a["role"])
    subs_by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for s in submissions:
        subs_by[(s["org_code"], s["period_code"])].append(s)

    acc: dict[tuple[str, str, str], dict] = {}

    def entry(county: str, org: str, month: str) -> dict:
        key = (county, org, month)
        if key not in acc:
            acc[key] = defaultdict(int) | {
                "missing_periods": [],
                "failing_codes": [],
                "no_data_codes": [],
                "failing_veto": [],
                "late_max": 0,
            }
        return acc[key]

    for (county, org), freqs in unit_freqs.items():
        for (cty, period), due in due_by.items():
            if cty != county or freq_of_period[period] not in freqs:
                continue
            end = period_end(period)
            if horizon is not None and end > horizon:
                continue
            e = entry(county, org, month_code(end))
            e["due"] += 1
            if horizon is not None and due is not None and due > horizon and not subs_by.get((org, period)):
                e["not_yet_due"] += 1
                continue
            subs = sorted(
                subs_by.get((org, period), []), key=lambda s: (s["revision_no"] or 1, s["received_at"])
            )
            if not subs:
                e["missing"] += 1
                e["missing_periods"].append(period)
                continue
            first = subs[0]
            e["received"] += 1
            late = first.get("working_days_late")
            on_time = first.get("is_on_time")
            if on_time is None and first.get("received_at") is not None and due is not None:
                late = rc.working_days_late(due, first["received_at"].date())
                on_time = late == 0
            if on_time:
                e["on_time"] += 1
            else:
                e["late"] += 1
                e["late_total"] += int(late or 0)
                e["late_credit"] += max(0.0, 1 - int(late or 0) / LATE_CREDIT_DAYS)
                e["late_max"] = max(e["late_max"], int(late or 0))
            resub = [s for s in subs if (s.get("revision_no") or 1) > 1]
            e["resubmissions"] += len(resub)
            e["resubmitted_returns"] += 1 if resub else 0
            e["values_loaded"] += sum(int(s.get("values_loaded") or 0) for s in subs)

    def county_of(org: str) -> str | None:
        u = unit_by_code.get(org)
        return u.get("county_code") if u else None

    for q in quarantine:
        if not q.get("org_code") or not q.get("period_code"):
            continue
        try:
            end = period_end(q["period_code"])
        except rc.CalendarError:
            continue
        county = county_of(q["org_code"])
        key = (county, q["org_code"], month_code(end))
        if county is None or key not in acc:
            continue
        if q["scope"] in ("file", "sheet"):
            acc[key]["files_rejected_ids"] = acc[key].get("files_rejected_ids") or set()
            acc[key]["files_rejected_ids"].add(q["file_id"])
        else:
            acc[key]["values_quarantined"] += 1
    for d in defects:
        try:
            end = period_end(d["period_code"])
        except (rc.CalendarError, TypeError):
            continue
        county = county_of(d["org_code"])
        key = (county, d["org_code"], month_code(end))
        if key in acc:
            acc[key]["quality_defects"] += int(d.get("n") or 1)

    # Requirements owned: county-level ytd_month verdicts of the requirements whose responsible unit it is.
    responsible = {r["requirement_code"]: r.get("responsible_short_code") for r in requirements}
    req_names = {r["requirement_code"]: r.get("name_zh") for r in requirements}
    for v in verdicts:
        if v["grain"] != "ytd_month" or v["subject_org_code"] != v["county_code"]:
            continue
        if v["status"] == "not_assessable" or not responsible.get(v["requirement_code"]):
            continue
        org = f"{v['county_code']}-{responsible[v['requirement_code']]}"
        if horizon is not None and period_end(v["period_code"]) > horizon:
            continue
        if v.get("is_stale") and stale_notice_policy() == "exclude":
            continue  # issue 13: no criticism on stale values (WUCHUANG_NOTICE_STALE=exclude)
        e = entry(v["county_code"], org, v["period_code"])
        e["owned"] += 1
        if v["status"] == "no_data":
            e["no_data"] += 1
            e["no_data_codes"].append(v["requirement_code"])
        if is_failing(v["status"], v.get("margin")):
            e["failing"] += 1
            e["failing_codes"].append(v["requirement_code"])
            if v.get("is_veto"):
                e["failing_veto"].append(v["requirement_code"])
            if v.get("is_stale"):
                e.setdefault("stale_failing", []).append(v["requirement_code"])

    rows = []
    for (county, org, month), e in sorted(acc.items()):
        due_now = e["due"] - e["not_yet_due"]
        timeliness = _ratio(e["on_time"] + e["late_credit"], due_now)
        completeness = None if due_now <= 0 else min(1.0, e["received"] / due_now)
        denom = e["values_loaded"] + e["values_quarantined"]
        data_quality = (
            None if denom <= 0 else max(0.0, 1 - (e["values_quarantined"] + e["quality_defects"]) / denom)
        )
        compliance = _ratio(e["owned"] - e["failing"] - e["no_data"], e["owned"])
        u = unit_by_code.get(org, {})
        rows.append(
            {
                "county_code": county,
                "org_code": org,
                "period_code": month,
                "unit_name_zh": u.get("name_zh"),
                "unit_level": u.get("level"),
                "roles": sorted(roles.get((county, org), set())),
                "returns_due": e["due"],
                "returns_not_yet_due": e["not_yet_due"],
                "returns_received": e["received"],
                "returns_on_time": e["on_time"],
                "returns_late": e["late"],
                "returns_missing": e["missing"],
                "working_days_late_total": e["late_total"],
                "working_days_late_max": e["late_max"],
                "resubmissions": e["resubmissions"],
                "resubmitted_returns": e["resubmitted_returns"],
                "values_loaded": e["values_loaded"],
                "values_quarantined": e["values_quarantined"],
                "files_rejected": len(e.get("files_rejected_ids") or ()),
                "quality_defects": e["quality_defects"],
                "requirements_owned": e["owned"],
                "requirements_failing": e["failing"],
                "failing_requirement_codes": sorted(e["failing_codes"]),
                "requirements_no_data": e["no_data"],
                "no_data_requirement_codes": sorted(e["no_data_codes"]),
                "missing_period_codes": sorted(e["missing_periods"]),
                "timeliness": timeliness,
                "completeness": completeness,
                "data_quality": data_quality,
                "compliance": compliance,
                "score": score_of(timeliness, completeness, data_quality, compliance),
                "score_components": [
                    k
                    for k, v in (
                        ("timeliness", timeliness),
                        ("completeness", completeness),
                        ("data_quality", data_quality),
                        ("compliance", compliance),
                    )
                    if v is not None
                ],
                "rank_group": u.get("level") if u.get("level") in RANK_GROUP_ZH else "other",
                "_failing_veto": [
                    f"{req_names.get(c) or c}（{c}）" if req_names.get(c) else c
                    for c in sorted(e["failing_veto"])
                ],
                "_failing_veto_codes": sorted(e["failing_veto"]),
                "_stale_failing": sorted(e.get("stale_failing", [])),
            }
        )
    _rank(rows)
    notices = [n for r in rows if (n := _notice(r))]
    for r in rows:
        r["is_lagging"] = bool(r.pop("_reasons", None))
        r.pop("_failing_veto", None)
        r.pop("_failing_veto_codes", None)
        r.pop("_stale_failing", None)
    return rows, notices


def _rank(rows: list[dict]) -> None:
    """Rank within county × month × rank group (departments, towns); units without a score are not ranked."""
    by_month: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in rows:
        r["is_ranked"] = r["score"] is not None
        r["rank"] = None
        r["n_ranked"] = None
        if r["is_ranked"]:
            by_month[(r["county_code"], r["period_code"], r["rank_group"])].append(r)
    for rs in by_month.values():
        rs.sort(key=lambda r: (-r["score"], r["org_code"]))
        rank, prev = 0, None
        for i, r in enumerate(rs, 1):
            if r["score"] != prev:
                rank, prev = i, r["score"]
            r["rank"] = rank
            r["n_ranked"] = len(rs)


def _notice(r: dict) -> dict | None:
    """The 通报 entry of a ledger row, or None when the unit is not lagging that month."""
    codes, zh, en = [], [], []
    if r["returns_missing"]:
        codes.append("missing_return")
        labels = "、".join(_label(p) for p in r["missing_period_codes"])
        zh.append(f"缺报{r['returns_missing']}份报表（{labels}）")
        en.append(f"{r['returns_missing']} return(s) missing ({', '.join(r['missing_period_codes'])})")
    if r["working_days_late_max"] > LATE_NOTICE_DAYS:
        codes.append("late_return")
        zh.append(f"迟报{r['returns_late']}份，最长超期{r['working_days_late_max']}个工作日")
        en.append(f"{r['returns_late']} late return(s), up to {r['working_days_late_max']} working days late")
    if r["_failing_veto"]:
        codes.append("failing_veto")
        zh.append(f"牵头负责的一票否决（前置）指标未达标：{'、'.join(r['_failing_veto'])}")
        en.append(f"veto requirement(s) it owns failing: {', '.join(r['_failing_veto_codes'])}")
    if r["score"] is not None and r["score"] < LOW_SCORE:
        codes.append("low_score")
        zh.append(f"综合得分{r['score']:.1f}分，低于{LOW_SCORE:.0f}分")
        en.append(f"score {r['score']:.1f} below {LOW_SCORE:.0f}")
    stale = r.get("_stale_failing") or []
    if stale and {"failing_veto", "low_score"} & set(codes):  # issue 13: say when it rests on stale data
        codes.append("stale_data")
        zh.append(f"注：其中{len(stale)}项未达标所用数据已过期（{'、'.join(stale)}），请先补报最新数据")
        en.append(f"note: {len(stale)} failing requirement(s) rest on stale values ({', '.join(stale)})")
    if not codes:
        return None
    r["_reasons"] = codes
    month = _label(r["period_code"])
    name = r["unit_name_zh"] or r["org_code"]
    group_zh = RANK_GROUP_ZH.get(r["rank_group"], "单位")
    if r["rank"] is not None:
        rank_zh = f"本月在{group_zh}中排名第{r['rank']}/{r['n_ranked']}位。"
        rank_en = f" Rank {r['rank']}/{r['n_ranked']} among {r['rank_group']} units."
    else:
        rank_zh, rank_en = "本月无应报事项，不参与排名。", " Nothing due this month: not ranked."
    return {
        "county_code": r["county_code"],
        "period_code": r["period_code"],
        "org_code": r["org_code"],
        "unit_name_zh": r["unit_name_zh"],
        "score": r["score"],
        "rank": r["rank"],
        "reason_codes": codes,
        "reason_zh": f"{month}，{name}：" + "；".join(zh) + "。" + rank_zh,
        "reason_en": f"{r['period_code']}, {r['org_code']}: " + "; ".join(en) + "." + rank_en,
    }


def quality_defects(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    """Quality defects per unit × period: values flagged by a check (quality.flag, distinct values) plus
    cross-indicator rule violations on the unit's figures (quality.rule_violation)."""
    parts = []
    if table_exists(conn, "quality", "flag"):
        parts.append(
            "SELECT org_code, period_code, count(DISTINCT coalesce(observation_id, flag_id)) AS n "
            "FROM quality.flag WHERE org_code IS NOT NULL AND period_code IS NOT NULL GROUP BY ALL"
        )
    if table_exists(conn, "quality", "rule_violation"):
        parts.append(
            "SELECT org_code, period_code, count(*) AS n FROM quality.rule_violation "
            "WHERE org_code IS NOT NULL GROUP BY ALL"
        )
    if not parts:
        return []
    return fetch_dicts(
        conn, f"SELECT org_code, period_code, sum(n) AS n FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL"
    )


def data_horizon(conn: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest date a return was received (None when nothing was received)."""
    if not table_exists(conn, "core", "submission"):
        return None
    got = conn.execute("SELECT max(received_at) FROM core.submission").fetchone()[0]
    return got.date() if got is not None else None


def build(conn: duckdb.DuckDBPyConnection) -> dict:
    from pipelines.warehouse.tables import marts

    horizon = data_horizon(conn)
    rows, notices = ledger_rows(
        assignments=fetch_dicts(conn, "SELECT * FROM dim.assignment"),
        deadlines=fetch_dicts(conn, "SELECT * FROM dim.reporting_deadline"),
        submissions=fetch_dicts(conn, "SELECT * FROM core.submission"),
        quarantine=fetch_dicts(conn, "SELECT * FROM core.quarantine"),
        defects=quality_defects(conn),
        verdicts=fetch_dicts(
            conn,
            "SELECT county_code, requirement_code, subject_org_code, period_code, grain, status, margin, is_veto, "
            "is_stale FROM compliance.verdict WHERE grain = 'ytd_month' AND subject_org_code = county_code",
        ),
        requirements=fetch_dicts(
            conn, "SELECT requirement_code, responsible_short_code, name_zh FROM dim.requirement"
        ),
        units=fetch_dicts(conn, "SELECT * FROM dim.org_unit"),
        horizon=horizon,
    )
    return {marts.UNIT_ACCOUNTABILITY: rows, marts.LAGGING_UNIT: notices}


# ------------------------------------------------------------------------------ against the letter; supervision

#: Weight of the supervision component in the combined unit ranking (issue 17, docs/accountability.md §3).
SUPERVISION_WEIGHT = 0.25


def letter_rows(
    targets: list[dict],
    signings: dict[tuple[str, str, int], dict],
    names: dict[str, str],
    points_per_unit: dict[str, int],
) -> list[dict]:
    """One row per unit × year of the target letters: targets, signing and performance against them.
    A target without a year value counts as not met (`share_met` over all targets)."""
    groups: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
    for t in targets:
        groups[(t["county_code"], t["org_code"], t["year"])].append(t)
    out = []
    for (county, org, year), ts in sorted(groups.items()):
        s = signings.get((county, org, year)) or {}
        n_met = sum(1 for t in ts if t.get("met"))
        out.append(
            {
                "county_code": county,
                "org_code": org,
                "year": year,
                "unit_name_zh": names.get(org, org),
                "n_targets": len(ts),
                "n_points": points_per_unit.get(org, 0),
                "signed_on": s.get("signed_on"),
                "document_no": s.get("document_no"),
                "scan_name": s.get("scan_name"),
                "signing_source": s.get("source"),
                "n_assessed": sum(1 for t in ts if t.get("met") is not None),
                "n_met": n_met,
                # over all targets (no value counts as not met); NULL before any target has a value
                "share_met": n_met / len(ts) if ts and any(t.get("met") is not None for t in ts) else None,
            }
        )
    return out


def supervision_component(mean_score_pct: float | None, n_problems: int, n_late: int) -> float | None:
    """0..1: the mean inspection score share, times the share of the year's problems rectified in time.
    NULL when the unit's points were not inspected that year (neither earns nor costs)."""
    if mean_score_pct is None:
        return None
    timely = 1 - n_late / n_problems if n_problems else 1.0
    return max(0.0, min(1.0, mean_score_pct / 100)) * timely


def supervision_unit_scores(
    inspections: list[dict],
    problems: list[dict],
    ledger: list[dict],
    weight: float = SUPERVISION_WEIGHT,
    levels: dict[str, str] | None = None,
) -> list[dict]:
    """Per unit × year: the supervision component and the ledger score combined with it.

    combined = 100 × (w·supervision + (1 − w)·ledger/100) with w = SUPERVISION_WEIGHT when both exist;
    the ledger score alone when the unit had no inspection; the supervision component alone (× 100) when
    it had nothing due in the ledger that year. `ledger`: marts.unit_accountability rows (score, period_code,
    rank_group, is_ranked); the year's ledger score is the mean of its ranked months. Ranked within
    county × year × rank group (ties share a rank)."""
    by_key: dict[tuple[str, str, int], dict] = {}

    def slot(county: str, org: str, year: int) -> dict:
        return by_key.setdefault(
            (county, org, year),
            {"scores": [], "n_problems": 0, "n_late": 0, "n_repeat": 0, "ledger": [], "group": None},
        )

    for i in inspections:
        if i.get("unit_code") and i.get("score_pct") is not None:
            slot(i["county_code"], i["unit_code"], i["inspected_on"].year)["scores"].append(i["score_pct"])
    for p in problems:
        if not p.get("owner_org_code"):
            continue
        s = slot(p["county_code"], p["owner_org_code"], p["opened_date"].year)
        s["n_problems"] += 1
        s["n_late"] += p["status"] in ("overdue", "closed_late")
        s["n_repeat"] += bool(p.get("is_repeat"))
    for r in ledger:
        year = int(str(r["period_code"])[:4])
        s = slot(r["county_code"], r["org_code"], year)
        s["group"] = r.get("rank_group") or s["group"]
        if r.get("score") is not None and r.get("is_ranked", True):
            s["ledger"].append(float(r["score"]))
    rows = []
    for (county, org, year), s in sorted(by_key.items()):
        mean = sum(s["scores"]) / len(s["scores"]) if s["scores"] else None
        comp = supervision_component(mean, s["n_problems"], s["n_late"])
        led = sum(s["ledger"]) / len(s["ledger"]) if s["ledger"] else None
        if comp is not None and led is not None:
            combined = 100 * (weight * comp + (1 - weight) * led / 100)
        elif led is not None:
            combined = led
        elif comp is not None:
            combined = 100 * comp
        else:
            combined = None
        rows.append(
            {
                "county_code": county,
                "org_code": org,
                "year": year,
                "n_inspections": len(s["scores"]),
                "mean_score_pct": mean,
                "n_problems": s["n_problems"],
                "n_overdue": s["n_late"],
                "n_repeat": s["n_repeat"],
                "supervision_component": comp,
                "ledger_score": led,
                "combined_score": combined,
                "rank_group": s["group"] or ("town" if (levels or {}).get(org) == "town" else "department"),
                "rank": None,
                "n_ranked": None,
            }
        )
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["combined_score"] is not None:
            groups[(r["county_code"], r["year"], r["rank_group"])].append(r)
    for rs in groups.values():
        rs.sort(key=lambda r: -r["combined_score"])
        for r in rs:
            r["rank"] = 1 + sum(1 for o in rs if o["combined_score"] > r["combined_score"] + 1e-9)
            r["n_ranked"] = len(rs)
    return rows
