"""Plan and milestones: phases, the profile's milestones, campaign milestones scheduled backwards from
the acceptance date in Chinese working days (倒排工期), and tasks from task ledgers.

Derived milestones (offsets in Chinese working days before the campaign's acceptance date; a date that
would fall before the campaign start is moved to the first working day on or after the start):
    plan_approved   创建规划（实施方案）批准   440 working days before acceptance (about 21 months)
    application     提交创建申报                120 working days before acceptance (about 6 months)
    inspection      迎接考核验收（技术评估）      40 working days before acceptance (about 2 months)
    acceptance      通过考核验收                  0 (the acceptance date itself)
Status of an item as of the data horizon: phases and tasks as planned/in_progress/done/overdue by dates
(tasks by their ledger status); milestones before the horizon are `done`, except the acceptance
milestone, which is `done` only when the campaign's yearly readiness for the acceptance year is 1
(all assessable requirements met, no veto failing) and `overdue` otherwise.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines import reporting_calendar as rc
from pipelines.marts.common import fetch_dicts

DERIVED_MILESTONES = (
    # code, working days before acceptance, name_zh, name_en
    ("plan_approved", 440, "创建规划（实施方案）批准", "Creation plan approved"),
    ("application", 120, "提交创建申报", "Application submitted"),
    ("inspection", 40, "迎接考核验收（技术评估）", "Inspection / technical assessment"),
    ("acceptance", 0, "通过考核验收", "Acceptance"),
)


def subtract_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th Chinese working day strictly before `day` (n >= 1); `day` itself for n == 0."""
    if n < 0:
        raise rc.CalendarError("工作日数不能为负 / working-day offset must not be negative")
    d, count = day, 0
    while count < n:
        d -= dt.timedelta(days=1)
        if rc.is_working_day(d):
            count += 1
    return d


def next_working_day(day: dt.date) -> dt.date:
    """`day` if it is a working day, else the first working day after it."""
    return day if rc.is_working_day(day) else rc.add_working_days(day, 1)


def schedule_backwards(
    acceptance: dt.date, offset_working_days: int, not_before: dt.date | None = None
) -> dt.date:
    """Due date `offset_working_days` Chinese working days before `acceptance`, not before `not_before`."""
    due = subtract_working_days(acceptance, offset_working_days)
    if not_before is not None and due < not_before:
        due = next_working_day(not_before)
    return due


def derived_milestones(programmes: list[dict], leads: dict[tuple[str, str], str] | None = None) -> list[dict]:
    """Derived campaign milestones for dim.county_campaign rows (倒排工期)."""
    leads = leads or {}
    out = []
    for p in programmes:
        acc = p["acceptance_date"]
        if acc is None:
            continue
        for code, offset, zh, en in DERIVED_MILESTONES:
            due = schedule_backwards(acc, offset, p.get("start_date")) if offset else acc
            clamped = offset and due != subtract_working_days(acc, offset)
            out.append(
                {
                    "county_code": p["county_code"],
                    "item_id": f"derived:{p['campaign_code']}:{code}",
                    "item_kind": "derived_milestone",
                    "campaign_code": p["campaign_code"],
                    "code": code,
                    "name_zh": zh,
                    "name_en": en,
                    "owner_org_code": leads.get((p["county_code"], p.get("working_group_code"))),
                    "start_date": None,
                    "due_date": due,
                    "offset_working_days": offset,
                    "schedule_rule": (
                        f"验收日前{offset}个工作日 / {offset} working days before acceptance"
                        + ("（早于启动日，取启动日） / clamped to campaign start" if clamped else "")
                    ),
                    "source": "derived",
                    "source_file": None,
                }
            )
    return out


def _status_by_dates(start: dt.date | None, end: dt.date | None, as_of: dt.date | None) -> str:
    if as_of is None or end is None:
        return "planned"
    if end < as_of:
        return "done"
    if start is not None and start <= as_of:
        return "in_progress"
    return "planned"


def schedule_rows(
    *,
    phases: list[dict],
    milestones: list[dict],
    programmes: list[dict],
    working_groups: list[dict],
    tasks: list[dict],
    yearly_readiness: dict[tuple[str, str, str], float | None],
    as_of: dt.date | None,
) -> list[dict]:
    rows = []
    for ph in phases:
        rows.append(
            {
                "county_code": ph["county_code"],
                "item_id": f"phase:{ph['phase_code']}",
                "item_kind": "phase",
                "campaign_code": None,
                "code": ph["phase_code"],
                "name_zh": ph["name_zh"],
                "name_en": ph["name_en"],
                "owner_org_code": None,
                "start_date": ph["start_date"],
                "due_date": ph["end_date"],
                "offset_working_days": None,
                "schedule_rule": "实施方案 / county plan (profile)",
                "status": _status_by_dates(ph["start_date"], ph["end_date"], as_of),
                "source": "profile",
                "source_file": None,
            }
        )
    for m in milestones:
        rows.append(
            {
                "county_code": m["county_code"],
                "item_id": f"milestone:{m['milestone_code']}",
                "item_kind": "milestone",
                "campaign_code": m["campaign_code"],
                "code": m["milestone_code"],
                "name_zh": m["name_zh"],
                "name_en": None,
                "owner_org_code": None,
                "start_date": None,
                "due_date": m["due_date"],
                "offset_working_days": None,
                "schedule_rule": "实施方案 / county plan (profile)",
                "status": _status_by_dates(None, m["due_date"], as_of),
                "source": "profile",
                "source_file": None,
            }
        )
    leads = {(g["county_code"], g["working_group_code"]): g.get("lead_org_code") for g in working_groups}
    for d in derived_milestones(programmes, leads):
        status = _status_by_dates(None, d["due_date"], as_of)
        if d["code"] == "acceptance" and status == "done":
            ready = yearly_readiness.get((d["county_code"], d["campaign_code"], str(d["due_date"].year)))
            status = "done" if ready is not None and ready >= 1 else "overdue"
        rows.append(d | {"status": status})
    for t in tasks:
        status = t.get("status") or "not_started"
        if status != "done" and t.get("is_overdue"):
            status = "overdue"
        elif status == "not_started":
            status = "planned"
        rows.append(
            {
                "county_code": t["county_code"],
                "item_id": f"task:{t['task_id']}",
                "item_kind": "task",
                "campaign_code": t.get("campaign_code"),
                "code": t.get("task_code"),
                "name_zh": t["task_name"],
                "name_en": None,
                "owner_org_code": t.get("owner_org_code"),
                "start_date": None,
                "due_date": t.get("due_date"),
                "offset_working_days": None,
                "schedule_rule": "任务台账 / task ledger",
                "status": status,
                "source": "task_ledger",
                "source_file": t.get("source_file"),
            }
        )
    for r in rows:
        r["as_of_date"] = as_of
    return rows


def build(conn: duckdb.DuckDBPyConnection, tasks: list[dict], as_of: dt.date | None) -> list[dict]:
    readiness = {
        (r["county_code"], r["campaign_code"], r["period_code"]): r["readiness"]
        for r in fetch_dicts(
            conn,
            "SELECT county_code, campaign_code, period_code, readiness FROM marts.campaign_readiness "
            "WHERE grain = 'year'",
        )
    }
    return schedule_rows(
        phases=fetch_dicts(conn, "SELECT * FROM dim.plan_phase"),
        milestones=fetch_dicts(conn, "SELECT * FROM dim.milestone"),
        programmes=fetch_dicts(conn, "SELECT * FROM dim.county_campaign"),
        working_groups=fetch_dicts(conn, "SELECT * FROM dim.working_group"),
        tasks=tasks,
        yearly_readiness=readiness,
        as_of=as_of,
    )
