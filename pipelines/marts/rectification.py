"""Rectification items (整改) and their history.

Verdict items, per county requirement × grain (ytd_month and year tracked separately), over the
county-level verdicts in period order:
- a failing verdict (fail, or near with margin < 0) while no item is open opens one;
- the item stays open through failing and no_data / not_assessable periods (an event per period);
- the first later period whose verdict is met (pass, or near with margin >= 0) closes it;
- an item still open when its requirement leaves the standard (the campaign's verdicts go on under
  another edition without it) is retired at the campaign's first period without it: status
  `withdrawn` (要求已取消 / requirement withdrawn), event `withdrawn`;
- nothing opens for a period ending before the campaign starts (dim.county_campaign.start_date: the
  pre-plan baseline month is a baseline, not a failure to rectify).
Quality items: each unresolved quality problem — an outlier still open for follow-up
(quality.outlier.follow_up = 'open') or a cross-indicator rule violation (quality.rule_violation) —
opens one item per unit × indicator × period (rule violations: indicator NULL). The quality tables
hold only current problems, so the history is kept across rebuilds (`merge_quality_history`): an
item whose problem is no longer reported closes at the data horizon, and reopens if it comes back.

Due date: 60 Chinese working days after the opening period ends; when the campaign's acceptance date
is still ahead, not later than the acceptance date (but at least 10 working days after the period end).
Status: open, overdue (open past its due date at the data horizon), closed, closed_late (closed by a
period ending after the due date), withdrawn (the requirement left the standard at an edition change).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb

from pipelines import reporting_calendar as rc
from pipelines.marts.common import (
    county_verdicts,
    fetch_dicts,
    is_failing,
    is_met,
    month_code,
    period_end,
    table_exists,
)

DUE_WORKING_DAYS = 60
MIN_WORKING_DAYS = 10


def due_date_for(opened: dt.date, acceptance: dt.date | None) -> dt.date:
    due = rc.add_working_days(opened, DUE_WORKING_DAYS)
    if acceptance is not None and acceptance > opened:
        due = min(due, max(acceptance, rc.add_working_days(opened, MIN_WORKING_DAYS)))
    return due


def verdict_items(
    verdicts: list[dict], programmes: list[dict], responsible: dict[str, str | None]
) -> tuple[list[dict], list[dict]]:
    """Items and events from county-level verdict dicts. `responsible`: requirement → short code."""
    acceptance = {(p["county_code"], p["campaign_code"]): p.get("acceptance_date") for p in programmes}
    start = {(p["county_code"], p["campaign_code"]): p.get("start_date") for p in programmes}
    series: dict[tuple, list[dict]] = defaultdict(list)
    # Periods of each campaign × grain with their editions: where a requirement's series stops while the
    # campaign's goes on, the requirement has left the standard.
    campaign_periods: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for v in verdicts:
        if v["subject_org_code"] != v["county_code"]:
            continue
        series[(v["county_code"], v["requirement_code"], v["grain"])].append(v)
        campaign_periods[(v["county_code"], v["campaign_code"], v["grain"])][v["period_code"]].add(
            v.get("edition_code")
        )
    items: list[dict] = []
    events: list[dict] = []
    for (county, req, grain), vs in sorted(series.items()):
        vs = sorted(vs, key=lambda v: period_end(v["period_code"]))
        horizon = period_end(vs[-1]["period_code"])
        item = None
        campaign = vs[-1]["campaign_code"]
        first_day = start.get((county, campaign))
        for v in vs:
            end = period_end(v["period_code"])
            failing = is_failing(v["status"], v.get("margin"))
            if item is None:
                if not failing or (first_day is not None and end < first_day):
                    continue
                short = responsible.get(req)
                acc = acceptance.get((county, v["campaign_code"]))
                item = {
                    "item_id": f"verdict:{county}:{req}:{county}:{grain}:{v['period_code']}",
                    "county_code": county,
                    "source_kind": "verdict",
                    "campaign_code": v["campaign_code"],
                    "requirement_code": req,
                    "indicator_code": v.get("indicator_code"),
                    "subject_org_code": county,
                    "grain": grain,
                    "owner_org_code": f"{county}-{short}" if short else None,
                    "is_veto": v.get("is_veto"),
                    "opened_period_code": v["period_code"],
                    "opened_date": end,
                    "due_date": due_date_for(end, acc),
                    "closed_period_code": None,
                    "closed_date": None,
                    "periods_open": 0,
                    "value_at_open": v.get("value"),
                    "threshold_at_open": v.get("threshold_value"),
                    "margin_at_open": v.get("margin"),
                    "problem_ref": None,
                    "description_zh": (
                        f"{req}未达标（{v['period_code']}）：数值{_fmt(v.get('value'))}，"
                        f"标准{v.get('threshold_token') or _fmt(v.get('threshold_value'))}，须整改达标"
                    ),
                    "description_en": (
                        f"{req} failing in {v['period_code']}: value {_fmt(v.get('value'))}, "
                        f"threshold {v.get('threshold_token') or _fmt(v.get('threshold_value'))}; rectify"
                    ),
                    "as_of_date": horizon,
                    "_seq": 0,
                }
                items.append(item)
                event = "opened"
            elif is_met(v["status"], v.get("margin")):
                item["closed_period_code"] = v["period_code"]
                item["closed_date"] = end
                event = "closed"
            else:
                event = "overdue" if end > item["due_date"] else "still_open"
            item["_seq"] += 1
            item["periods_open"] += 0 if event == "closed" else 1
            if v.get("value") is not None:
                item["latest_value"], item["latest_margin"] = v.get("value"), v.get("margin")
            events.append(
                {
                    "item_id": item["item_id"],
                    "seq": item["_seq"],
                    "period_code": v["period_code"],
                    "event": event,
                    "verdict_status": v["status"],
                    "value": v.get("value"),
                    "margin": v.get("margin"),
                    "event_date": end,
                }
            )
            if event == "closed":
                item = None
        if item is not None:
            _retire_if_withdrawn(item, vs, campaign_periods[(county, campaign, grain)], events)
    for it in items:
        it.pop("_seq", None)
        it.setdefault("latest_value", it["value_at_open"])
        it.setdefault("latest_margin", it["margin_at_open"])
        if it["closed_date"] is not None:
            it.setdefault("closed_reason", "met")
        it["status"] = _status(it)
    return items, events


def _retire_if_withdrawn(item: dict, vs: list[dict], periods: dict[str, set], events: list[dict]) -> None:
    """Retire an open item whose requirement has no verdict in a later period of its campaign while the
    campaign goes on under another edition (the requirement left the standard)."""
    last = vs[-1]
    last_end = period_end(last["period_code"])
    later = sorted((p for p in periods if period_end(p) > last_end), key=period_end)
    if not later:
        return
    nxt = later[0]
    editions = {e for e in periods[nxt] if e}
    if last.get("edition_code") and last["edition_code"] in editions:
        return  # same edition: a missing verdict, not a withdrawn requirement
    end = period_end(nxt)
    item["closed_period_code"] = nxt
    item["closed_date"] = end
    item["closed_reason"] = "withdrawn"
    item["as_of_date"] = max(item["as_of_date"], period_end(max(periods, key=period_end)))
    item["_seq"] += 1
    new_ed = "、".join(sorted(editions)) or "?"
    item["description_zh"] += f"；{nxt}起标准换版（{new_ed}），该要求已取消"
    item["description_en"] += (
        f"; from {nxt} the standard's new edition ({new_ed}) no longer has it: withdrawn"
    )
    events.append(
        {
            "item_id": item["item_id"],
            "seq": item["_seq"],
            "period_code": nxt,
            "event": "withdrawn",
            "verdict_status": None,
            "value": None,
            "margin": None,
            "event_date": end,
        }
    )


def _status(it: dict) -> str:
    if it.get("closed_reason") == "withdrawn":
        return "withdrawn"
    if it["closed_date"] is not None:
        return "closed_late" if it["closed_date"] > it["due_date"] else "closed"
    return "overdue" if it["as_of_date"] > it["due_date"] else "open"


def _fmt(x) -> str:
    if x is None:
        return "无"
    return f"{x:g}" if isinstance(x, float) else str(x)


def quality_items(problems: list[dict], horizon: dt.date | None) -> tuple[list[dict], list[dict]]:
    """Open items for unresolved quality problems: dicts with problem_ref, county_code, org_code,
    indicator_code, period_code and an optional description."""
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for p in problems:
        grouped[(p["county_code"], p["org_code"], p.get("indicator_code"), p["period_code"])].append(p)
    items, events = [], []
    for (county, org, ind, period), ps in sorted(
        grouped.items(), key=lambda kv: tuple(str(x) for x in kv[0])
    ):
        try:
            per = rc.parse_period(period)
        except rc.CalendarError:
            continue
        due = due_date_for(per.end, None)
        as_of = horizon or per.end
        item_id = f"quality:{county}:{org}:{ind}:{period}"
        desc = "；".join(sorted({p.get("description_zh") or p["problem_ref"] for p in ps}))[:500]
        items.append(
            {
                "item_id": item_id,
                "county_code": county,
                "source_kind": "quality",
                "campaign_code": None,
                "requirement_code": None,
                "indicator_code": ind,
                "subject_org_code": org,
                "grain": per.frequency,
                "owner_org_code": org,
                "is_veto": None,
                "opened_period_code": period,
                "opened_date": per.end,
                "due_date": due,
                "closed_period_code": None,
                "closed_date": None,
                "status": "overdue" if as_of > due else "open",
                "periods_open": None,
                "value_at_open": None,
                "threshold_at_open": None,
                "margin_at_open": None,
                "latest_value": None,
                "latest_margin": None,
                "problem_ref": ";".join(sorted({p["problem_ref"] for p in ps}))[:500],
                "description_zh": f"数据质量问题待核实更正（{period}）：{desc}",
                "description_en": f"{len(ps)} unresolved data-quality problem(s) in {period}; verify and correct",
                "as_of_date": as_of,
            }
        )
        events.append(
            {
                "item_id": item_id,
                "seq": 1,
                "period_code": period,
                "event": "opened",
                "verdict_status": None,
                "value": None,
                "margin": None,
                "event_date": per.end,
            }
        )
    return items, events


def merge_quality_history(
    current: tuple[list[dict], list[dict]],
    previous: tuple[list[dict], list[dict]],
    horizon: dt.date,
) -> tuple[list[dict], list[dict]]:
    """Keep the history of quality items across rebuilds (the quality tables hold only current problems).

    - a problem still reported keeps its item and events;
    - an item open before whose problem is no longer reported closes at the horizon ('closed' event);
    - a closed item whose problem is reported again reopens ('reopened' event);
    - closed items stay closed. The same inputs give the same rows (idempotent).
    """
    cur_items, cur_events = current
    prev_items = {i["item_id"]: i for i in previous[0] if i["source_kind"] == "quality"}
    prev_events: dict[str, list[dict]] = defaultdict(list)
    for e in previous[1]:
        if e["item_id"] in prev_items:
            prev_events[e["item_id"]].append(e)
    for evs in prev_events.values():
        evs.sort(key=lambda e: e["seq"])
    new_events = {e["item_id"]: e for e in cur_events}
    items, events = [], []

    def add_event(item_id: str, event: str) -> dict:
        seq = (prev_events[item_id][-1]["seq"] if prev_events[item_id] else 0) + 1
        return {
            "item_id": item_id,
            "seq": seq,
            "period_code": month_code(horizon),
            "event": event,
            "verdict_status": None,
            "value": None,
            "margin": None,
            "event_date": horizon,
        }

    for it in cur_items:
        old = prev_items.get(it["item_id"])
        if old is None:
            items.append(it)
            events.append(new_events[it["item_id"]])
            continue
        events.extend(prev_events[it["item_id"]])
        last = prev_events[it["item_id"]][-1]["event"] if prev_events[it["item_id"]] else None
        if old["status"] in ("closed", "closed_late") or last == "closed":
            events.append(add_event(it["item_id"], "reopened"))
        items.append(it)
    current_ids = {i["item_id"] for i in cur_items}
    for item_id, old in prev_items.items():
        if item_id in current_ids:
            continue
        events.extend(prev_events[item_id])
        if old["status"] in ("open", "overdue"):
            closed = dict(old)
            closed.update(
                closed_period_code=month_code(horizon),
                closed_date=horizon,
                closed_reason="resolved",
                status="closed_late" if horizon > old["due_date"] else "closed",
                as_of_date=horizon,
            )
            events.append(add_event(item_id, "closed"))
            items.append(closed)
        else:
            items.append(old)
    return items, events


def quality_problems(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    """Unresolved quality problems: outliers still open for follow-up (quality.outlier) and cross-indicator
    rule violations (quality.rule_violation), with the keys that trace them back."""
    parts = []
    if table_exists(conn, "quality", "outlier"):
        parts.append(
            "SELECT 'outlier:' || observation_id || ':' || method AS problem_ref, "
            "split_part(org_code, '-', 1) AS county_code, org_code, indicator_code, period_code, "
            "message_zh AS description_zh FROM quality.outlier "
            "WHERE coalesce(follow_up, 'open') = 'open' AND org_code IS NOT NULL AND period_code IS NOT NULL"
        )
    if table_exists(conn, "quality", "rule_violation"):
        parts.append(
            "SELECT 'rule:' || violation_id AS problem_ref, coalesce(county_code, split_part(org_code, '-', 1)), "
            "org_code, NULL AS indicator_code, period_code, message_zh FROM quality.rule_violation "
            "WHERE org_code IS NOT NULL"
        )
    if not parts:
        return []
    return fetch_dicts(conn, " UNION ALL ".join(parts))


def build(conn: duckdb.DuckDBPyConnection, horizon: dt.date | None) -> dict:
    from pipelines.warehouse.tables import marts

    programmes = fetch_dicts(conn, "SELECT * FROM dim.county_campaign")
    responsible = {
        r["requirement_code"]: r["responsible_short_code"]
        for r in fetch_dicts(conn, "SELECT requirement_code, responsible_short_code FROM dim.requirement")
    }
    items, events = verdict_items(county_verdicts(conn, True), programmes, responsible)
    q_items, q_events = quality_items(quality_problems(conn), horizon)
    previous = (
        fetch_dicts(conn, "SELECT * FROM marts.rectification_item WHERE source_kind = 'quality'"),
        fetch_dicts(
            conn,
            "SELECT e.* FROM marts.rectification_event e JOIN marts.rectification_item i USING (item_id) "
            "WHERE i.source_kind = 'quality'",
        ),
    )
    q_items, q_events = merge_quality_history((q_items, q_events), previous, horizon or dt.date.today())
    return {marts.RECTIFICATION_ITEM: items + q_items, marts.RECTIFICATION_EVENT: events + q_events}


# ------------------------------------------------------------------------------ supervision (督查) items

#: Chinese working days a unit has to rectify a problem found at an inspection (限期整改).
SUPERVISION_DUE_WORKING_DAYS = 10


def supervision_items(
    inspections: list[dict],
    scores: list[dict],
    points: dict[str, dict],
    items: dict[tuple[str, str], dict],
    horizon: dt.date | None,
    due_working_days: int = SUPERVISION_DUE_WORKING_DAYS,
) -> tuple[list[dict], list[dict]]:
    """Rectification items from inspections (issue 17).

    `inspections`: dicts with inspection_id, county_code, point_code, inspected_on and (optional) the
    lineage source_file / sheet; `scores`: inspection_id, item_code, score, max_score, problem, photo_ref,
    cell; `points`: point_code → {name_zh, point_type, town_code, unit_code}; `items`: (type, item_code)
    → {name_zh, name_en}.

    Per point × checklist item, over the inspections in date order:
    - a score below the item's maximum while no item is open opens one (owner: the point's 包保单位;
      due `due_working_days` Chinese working days after the inspection);
    - a later inspection scoring the item below its maximum again keeps it open (`found_again`);
    - a later inspection scoring it in full closes it (`closed`; `closed_late` after the due date);
    - an item closed and found again later is a new item with `recurrence` counting the earlier ones.
    Status at the horizon: open, or overdue when the horizon is after the due date."""
    by_id = {i["inspection_id"]: i for i in inspections}
    series: dict[tuple, list[tuple[dict, dict]]] = defaultdict(list)
    for s in scores:
        insp = by_id.get(s["inspection_id"])
        if insp is None or insp["point_code"] not in points:
            continue
        series[(insp["county_code"], insp["point_code"], s["item_code"])].append((insp, s))
    out_items: list[dict] = []
    events: list[dict] = []
    latest = max((i["inspected_on"] for i in inspections), default=None)
    as_of = max(d for d in (horizon, latest) if d is not None) if (horizon or latest) else None
    for (county, point_code, item_code), seq in sorted(series.items()):
        seq.sort(key=lambda x: (x[0]["inspected_on"], x[0]["inspection_id"]))
        pt = points[point_code]
        meta = items.get((pt["point_type"], item_code), {})
        open_item = None
        closed_before = 0
        for insp, s in seq:
            day = insp["inspected_on"]
            short = s["score"] < s["max_score"] - 1e-9
            if open_item is None:
                if not short:
                    continue
                open_item = {
                    "county_code": county,
                    "item_id": f"supervision:{point_code}:{item_code}:{day.isoformat()}",
                    "point_code": point_code,
                    "point_name_zh": pt["name_zh"],
                    "point_type": pt["point_type"],
                    "town_code": pt.get("town_code"),
                    "item_code": item_code,
                    "item_name_zh": meta.get("name_zh", item_code),
                    "owner_org_code": pt.get("unit_code"),
                    "opened_inspection_id": insp["inspection_id"],
                    "opened_date": day,
                    "due_date": rc.add_working_days(day, due_working_days),
                    "closed_inspection_id": None,
                    "closed_date": None,
                    "times_found": 1,
                    "recurrence": closed_before,
                    "score_at_open": s["score"],
                    "max_score": s["max_score"],
                    "problem_text": s.get("problem"),
                    "photo_ref": s.get("photo_ref"),
                    "description_zh": (
                        f"{pt['name_zh']}·{meta.get('name_zh', item_code)}：扣{s['max_score'] - s['score']:g}分"
                        + (f"（{s['problem']}）" if s.get("problem") else "")
                        + "，限期整改"
                    ),
                    "description_en": (
                        f"{pt['name_zh']} · {meta.get('name_en', item_code)}: "
                        f"{s['max_score'] - s['score']:g} point(s) deducted; rectify"
                    ),
                    "source_file": insp.get("source_file"),
                    "sheet": s.get("sheet"),
                    "cell": s.get("cell"),
                    "as_of_date": as_of,
                    "_seq": 1,
                }
                out_items.append(open_item)
                events.append(_sup_event(open_item, insp, s, "opened"))
                continue
            open_item["_seq"] += 1
            if short:
                open_item["times_found"] += 1
                events.append(_sup_event(open_item, insp, s, "found_again"))
            else:
                open_item["closed_inspection_id"] = insp["inspection_id"]
                open_item["closed_date"] = day
                events.append(_sup_event(open_item, insp, s, "closed"))
                open_item = None
                closed_before += 1
    for it in out_items:
        it.pop("_seq", None)
        it["is_repeat"] = it["times_found"] >= 2 or it["recurrence"] >= 1
        if it["closed_date"] is not None:
            it["status"] = "closed_late" if it["closed_date"] > it["due_date"] else "closed"
        else:
            it["status"] = "overdue" if as_of is not None and as_of > it["due_date"] else "open"
    return out_items, events


def _sup_event(item: dict, insp: dict, s: dict, event: str) -> dict:
    return {
        "county_code": item["county_code"],
        "item_id": item["item_id"],
        "seq": item["_seq"],
        "inspection_id": insp["inspection_id"],
        "event": event,
        "event_date": insp["inspected_on"],
        "score": s["score"],
    }


def acceptance_finding_items(
    records: list[dict],
    owners: dict[tuple[str, str], str | None],
    campaign_names: dict[str, str],
    horizon: dt.date | None,
    campaign_names_en: dict[str, str] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Rectification items from the findings of acceptance and re-review records (one per line of
    `findings`, in the shape of supervision.problem with point_type 'acceptance').

    Owner: the lead unit of the campaign's working group (`owners`: (county, campaign) → org code);
    due DUE_WORKING_DAYS Chinese working days after the result; closed by the next passing record of
    the campaign (the re-application's pass after a failure, the next passed re-review after a pass),
    closed_late when that is after the due date; otherwise open, or overdue at the horizon."""
    items, events = [], []
    for r in records:
        if not r.get("findings") or not r.get("result_on"):
            continue
        opened = dt.date.fromisoformat(str(r["result_on"])[:10])
        later = sorted(
            dt.date.fromisoformat(str(o["result_on"])[:10])
            for o in records
            if o["county_code"] == r["county_code"]
            and o["campaign_code"] == r["campaign_code"]
            and o.get("result") in ("passed", "conditional")
            and o.get("result_on")
            and dt.date.fromisoformat(str(o["result_on"])[:10]) > opened
        )
        closed = later[0] if later and (horizon is None or later[0] <= horizon) else None
        due = rc.add_working_days(opened, DUE_WORKING_DAYS)
        camp = campaign_names.get(r["campaign_code"], r["campaign_code"])
        camp_en = (campaign_names_en or {}).get(r["campaign_code"]) or camp  # a name, never the code
        lines = [x.strip() for x in str(r["findings"]).splitlines() if x.strip()]
        for n, text in enumerate(lines, 1):
            item_id = f"acceptance:{r['record_id']}:{n}"
            status = (
                ("closed_late" if closed > due else "closed")
                if closed
                else ("overdue" if horizon is not None and horizon > due else "open")
            )
            items.append(
                {
                    "county_code": r["county_code"],
                    "item_id": item_id,
                    "point_code": None,
                    "point_name_zh": camp,
                    "point_type": "acceptance",
                    "town_code": None,
                    "item_code": None,
                    "item_name_zh": "验收反馈问题",
                    "owner_org_code": owners.get((r["county_code"], r["campaign_code"])),
                    "opened_inspection_id": r["record_id"],
                    "opened_date": opened,
                    "due_date": due,
                    "closed_inspection_id": None,
                    "closed_date": closed,
                    "status": status,
                    "times_found": 1,
                    "recurrence": 0,
                    "is_repeat": False,
                    "score_at_open": None,
                    "max_score": None,
                    "problem_text": text,
                    "photo_ref": None,
                    "description_zh": f"{camp}验收反馈问题：{text}，限期整改",
                    "description_en": f"finding of the {camp_en} acceptance on {opened}: {text}",
                    "source_file": None,
                    "sheet": None,
                    "cell": None,
                    "as_of_date": horizon,
                }
            )
            events.append(
                {
                    "county_code": r["county_code"],
                    "item_id": item_id,
                    "seq": 1,
                    "inspection_id": r["record_id"],
                    "event": "opened",
                    "event_date": opened,
                    "score": None,
                }  # fmt: skip
            )
            if closed:
                events.append(
                    {
                        "county_code": r["county_code"],
                        "item_id": item_id,
                        "seq": 2,
                        "inspection_id": None,
                        "event": "closed",
                        "event_date": closed,
                        "score": None,
                    }  # fmt: skip
                )
    return items, events
