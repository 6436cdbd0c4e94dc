"""Plan and milestones: phases, the profile's milestones, campaign milestones scheduled backwards from
the acceptance date in Chinese working days (倒排工期), and tasks from task ledgers.

Derived milestones (offsets in Chinese working days before the campaign's acceptance date; a date that
would fall before the campaign start is moved to the first working day on or after the start):
    plan_approved   创建规划（实施方案）批准   440 working days before acceptance (about 21 months)
    application     提交创建申报                120 working days before acceptance (about 6 months)
    inspection      迎接考核验收（技术评估）      40 working days before acceptance (about 2 months)
    acceptance      通过考核验收                  0 (the acceptance date itself)
Status of an item as of the data horizon:
- phases by dates (planned / in_progress / done);
- tasks by their ledger status (done as written, overdue when not done past the due date);
- milestones FROM EVIDENCE: `done` only when the office has recorded its event (profile `events:`: a
  launch, approval, signing, application, inspection or acceptance, with date and document) on or
  before the horizon; otherwise `overdue` once the due date has passed, else `planned`. A date passing
  is never evidence, so no milestone is both done and overdue.
- acceptance-like milestones (the acceptance and the forest city's interim provincial acceptance) need
  an event with outcome `passed`; a recorded failed acceptance leaves them overdue.
- events come from the profile (`events:`) and from the office's application and acceptance records
  in the workflow store (`pipelines.plan_process.acceptance.plan_events`): a failed first attempt and
  the re-application's pass both show, the milestone done on the pass (late when after its date). Their row shows the
  campaign's yearly readiness of the due year (`readiness_at_due`) as context, never as evidence.
- one acceptance milestone per campaign: the derived `acceptance` (the profile's `<campaign>_acceptance`
  duplicate of the same date is dropped).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines import reporting_calendar as rc
from pipelines.marts.common import fetch_dicts

#: Milestone keys that are assessed like an acceptance (need an event with outcome 'passed').
ACCEPTANCE_LIKE = ("acceptance", "interim_acceptance")
STATUS_ZH = {"planned": "未开始", "in_progress": "进行中", "done": "已完成", "overdue": "已逾期"}

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


def milestone_key(code: str, campaign: str | None) -> str:
    """The milestone's key in the events: `forest_city_interim_acceptance` → `interim_acceptance`."""
    prefix = f"{campaign}_" if campaign else ""
    return code[len(prefix) :] if prefix and code.startswith(prefix) else code


def evidence_status(key: str, due: dt.date | None, events: list[dict], as_of: dt.date | None) -> dict:
    """Status of a milestone from its recorded events (dicts with date, kind, document, outcome, assumed).

    done: an event recorded on or before `as_of` (for acceptance-like milestones: with outcome passed);
    otherwise overdue once `due` is before `as_of`, else planned."""
    seen = sorted((e for e in events if as_of is None or e["date"] <= as_of), key=lambda e: e["date"])
    if key in ACCEPTANCE_LIKE:
        good = [e for e in seen if e.get("outcome") == "passed"]
    else:
        good = [e for e in seen if e.get("outcome") != "failed"]
    ev = good[0] if good else (seen[-1] if seen else None)
    out = {
        "evidence_date": ev["date"] if ev else None,
        "evidence_kind": ev["kind"] if ev else None,
        "evidence_document": ev["document"] if ev else None,
        "evidence_outcome": ev.get("outcome") if ev else None,
        "evidence_assumed": ev.get("assumed") if ev else None,
        "completed_late": None,
    }
    if good:
        out["completed_late"] = bool(due is not None and ev["date"] > due)
        return out | {
            "status": "done",
            "status_basis": "evidence",
            "status_reason_zh": f"已记录：{ev['document']}（{ev['date']}）",
            "status_reason_en": f"recorded: {ev['document']} ({ev['date']})",
        }
    overdue = as_of is not None and due is not None and due < as_of
    if ev is not None:  # an acceptance that was held and not passed
        zh = f"验收未通过：{ev['document']}（{ev['date']}）"
        en = f"not passed: {ev['document']} ({ev['date']})"
    elif overdue:
        zh, en = (
            "已过期限，未记录完成证据（文件、日期）",
            "past its date with no recorded evidence (document, date)",
        )
    else:
        zh, en = "未到期限，尚无完成记录", "not yet due; no record yet"
    return out | {
        "status": "overdue" if overdue else "planned",
        "status_basis": "no_evidence",
        "status_reason_zh": zh,
        "status_reason_en": en,
    }


def schedule_rows(
    *,
    phases: list[dict],
    milestones: list[dict],
    programmes: list[dict],
    working_groups: list[dict],
    tasks: list[dict],
    yearly_readiness: dict[tuple[str, str, str], float | None],
    as_of: dt.date | None,
    events: list[dict] | None = None,
) -> list[dict]:
    """Rows of marts.plan_schedule. `events`: recorded plan events (county_code, campaign_code,
    milestone, kind, date, document, outcome, assumed)."""
    by_milestone: dict[tuple, list[dict]] = {}
    for e in events or []:
        by_milestone.setdefault((e["county_code"], e.get("campaign_code"), e["milestone"]), []).append(e)

    def with_evidence(row: dict) -> dict:
        key = milestone_key(row["code"], row["campaign_code"])
        ev = evidence_status(
            key, row["due_date"], by_milestone.get((row["county_code"], row["campaign_code"], key), []), as_of
        )
        ready = None
        if key in ACCEPTANCE_LIKE and row["due_date"] is not None and row["campaign_code"]:
            ready = yearly_readiness.get(
                (row["county_code"], row["campaign_code"], str(row["due_date"].year))
            )
        return row | ev | {"milestone_key": key, "readiness_at_due": ready}

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
                "status_basis": "dates",
                "source": "profile",
                "source_file": None,
            }
        )
    derived_campaigns = {
        (p["county_code"], p["campaign_code"]) for p in programmes if p.get("acceptance_date")
    }
    for m in milestones:
        if (
            m.get("campaign_code")
            and m["milestone_code"] == f"{m['campaign_code']}_acceptance"
            and (m["county_code"], m["campaign_code"]) in derived_campaigns
        ):
            continue  # one acceptance milestone per campaign: the derived one
        rows.append(
            with_evidence(
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
                    "source": "profile",
                    "source_file": None,
                }
            )
        )
    leads = {(g["county_code"], g["working_group_code"]): g.get("lead_org_code") for g in working_groups}
    for d in derived_milestones(programmes, leads):
        rows.append(with_evidence(d))
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
                "status_basis": "task_ledger",
                "source": "task_ledger",
                "source_file": t.get("source_file"),
            }
        )
    for r in rows:
        r["as_of_date"] = as_of
        r["status_zh"] = STATUS_ZH.get(r["status"])
    return rows


def event_rows(profiles, store_path=None) -> list[dict]:
    """Recorded plan events as dicts for `schedule_rows`: the county profiles' `events:` and the
    application / inspection / acceptance records the office keeps in the workflow store
    (`pipelines.plan_process.store`, read only when the store file exists; `store_path` overrides
    its location)."""
    return _profile_events(profiles) + acceptance_events({p.code for p in profiles}, store_path)


def acceptance_events(counties: set[str], store_path=None) -> list[dict]:
    """Milestone events from the acceptance records of the workflow store (none when it does not exist)."""
    from pathlib import Path

    from pipelines.plan_process import acceptance, store
    from pipelines.workflow.store import Store, workflow_dir

    path = Path(store_path) if store_path else workflow_dir() / "workflow.sqlite"
    if not path.is_file():
        return []
    records = [r for r in store.acceptance_records(Store(path)) if r["county_code"] in counties]
    return acceptance.plan_events(records)


def _profile_events(profiles) -> list[dict]:
    return [
        {
            "county_code": p.code,
            "campaign_code": e.campaign,
            "milestone": e.milestone,
            "kind": e.kind,
            "date": e.date,
            "document": e.document,
            "outcome": e.outcome,
            "assumed": e.assumed,
        }
        for p in profiles
        for e in p.events
    ]


def build(
    conn: duckdb.DuckDBPyConnection,
    tasks: list[dict],
    as_of: dt.date | None,
    events: list[dict] | None = None,
) -> list[dict]:
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
        events=events,
    )
