"""Backward scheduling in Chinese working days (倒排工期) and the plan schedule."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import reporting_calendar as rc
from pipelines.marts import plan


def test_backward_scheduling_skips_the_national_day_holiday_and_counts_make_up_working_days():
    # 2013-10-01..07 is the National Day holiday; Sunday 2013-09-29 is a make-up working day (调休).
    assert plan.subtract_working_days(dt.date(2013, 10, 8), 1) == dt.date(2013, 9, 30)
    assert plan.subtract_working_days(dt.date(2013, 10, 8), 2) == dt.date(2013, 9, 29)
    assert plan.subtract_working_days(dt.date(2013, 10, 8), 3) == dt.date(2013, 9, 27)  # Sat 28 is off
    assert plan.subtract_working_days(dt.date(2013, 10, 8), 0) == dt.date(2013, 10, 8)


def test_backward_scheduling_across_spring_festival_is_the_inverse_of_adding_working_days():
    due = plan.schedule_backwards(dt.date(2014, 2, 10), 5)
    assert rc.add_working_days(due, 5) == dt.date(2014, 2, 10)
    assert due == dt.date(2014, 1, 28)  # 2014-01-31..02-06 holiday; Sun 01-26 make-up day
    with pytest.raises(rc.CalendarError):
        plan.subtract_working_days(dt.date(2013, 1, 1), -1)


def test_derived_milestones_are_scheduled_backwards_and_clamped_to_the_start():
    prog = {
        "county_code": "511923",
        "campaign_code": "hygienic_county",
        "working_group_code": "wg_hygiene",
        "start_date": dt.date(2012, 1, 1),
        "acceptance_date": dt.date(2013, 12, 31),
    }
    ms = {m["code"]: m for m in plan.derived_milestones([prog], {("511923", "wg_hygiene"): "511923-awb"})}
    assert list(ms) == ["plan_approved", "application", "inspection", "acceptance"]
    assert ms["acceptance"]["due_date"] == dt.date(2013, 12, 31)
    assert ms["inspection"]["due_date"] == plan.subtract_working_days(dt.date(2013, 12, 31), 40)
    assert ms["application"]["due_date"] < ms["inspection"]["due_date"] < ms["acceptance"]["due_date"]
    assert ms["plan_approved"]["due_date"] >= dt.date(2012, 1, 4)  # never before the campaign starts
    assert ms["inspection"]["owner_org_code"] == "511923-awb"
    late_start = prog | {"start_date": dt.date(2013, 6, 1)}
    clamped = {m["code"]: m for m in plan.derived_milestones([late_start])}["plan_approved"]
    assert clamped["due_date"] == dt.date(2013, 6, 3)  # first working day on or after the start
    assert "clamped" in clamped["schedule_rule"]


PROG = {
    "county_code": "511923",
    "campaign_code": "forest_city",
    "working_group_code": None,
    "start_date": dt.date(2012, 1, 1),
    "acceptance_date": dt.date(2016, 12, 31),
}
MILESTONES = [
    {
        "county_code": "511923",
        "milestone_code": "forest_city_interim_acceptance",
        "campaign_code": "forest_city",
        "name_zh": "森林城市通过省级考核验收",
        "due_date": dt.date(2013, 12, 31),
    },
    {
        "county_code": "511923",
        "milestone_code": "forest_city_acceptance",
        "campaign_code": "forest_city",
        "name_zh": "森林城市通过考核验收",
        "due_date": dt.date(2016, 12, 31),
    },
    {
        "county_code": "511923",
        "milestone_code": "mobilisation",
        "campaign_code": None,
        "name_zh": "召开动员大会",
        "due_date": dt.date(2012, 2, 29),
    },
]


def _event(milestone, date, campaign="forest_city", kind="acceptance", outcome=None):
    return {
        "county_code": "511923",
        "campaign_code": campaign,
        "milestone": milestone,
        "kind": kind,
        "date": date,
        "document": f"文件 {milestone} {date}",
        "outcome": outcome,
        "assumed": False,
    }


def _schedule(events, as_of=dt.date(2014, 3, 1), readiness=None):
    rows = plan.schedule_rows(
        phases=[],
        milestones=MILESTONES,
        programmes=[PROG],
        working_groups=[],
        tasks=[],
        yearly_readiness=readiness or {("511923", "forest_city", "2013"): 0.33},
        as_of=as_of,
        events=events,
    )
    return {r["item_id"]: r for r in rows}


INTERIM = "milestone:forest_city_interim_acceptance"


@pytest.mark.parametrize(
    ("events", "status", "basis"),
    [
        # a date passing is never evidence: the interim provincial acceptance of 2013 is overdue
        ([], "overdue", "no_evidence"),
        # an acceptance held and failed stays overdue
        ([_event("interim_acceptance", dt.date(2013, 12, 10), outcome="failed")], "overdue", "no_evidence"),
        # an acceptance event without a passed outcome is not proof of passing
        ([_event("interim_acceptance", dt.date(2013, 12, 10))], "overdue", "no_evidence"),
        # recorded and passed: done, whatever the readiness figure says
        ([_event("interim_acceptance", dt.date(2013, 12, 10), outcome="passed")], "done", "evidence"),
        # recorded after the horizon: not yet known at the horizon
        ([_event("interim_acceptance", dt.date(2014, 6, 1), outcome="passed")], "overdue", "no_evidence"),
        # another campaign's event does not count
        (
            [_event("interim_acceptance", dt.date(2013, 12, 10), campaign="eco_county", outcome="passed")],
            "overdue",
            "no_evidence",
        ),
    ],
)
def test_the_interim_acceptance_is_assessed_like_an_acceptance(events, status, basis):
    row = _schedule(events)[INTERIM]
    assert (row["status"], row["status_basis"]) == (status, basis)
    assert row["readiness_at_due"] == pytest.approx(0.33)
    assert row["milestone_key"] == "interim_acceptance"


@pytest.mark.parametrize(
    ("events", "as_of", "status", "late"),
    [
        ([], dt.date(2012, 2, 1), "planned", None),  # not yet due, nothing recorded: pending
        ([], dt.date(2012, 3, 1), "overdue", None),
        (
            [_event("mobilisation", dt.date(2012, 2, 20), campaign=None, kind="meeting")],
            dt.date(2012, 3, 1),
            "done",
            False,
        ),
        (
            [_event("mobilisation", dt.date(2012, 3, 5), campaign=None, kind="meeting")],
            dt.date(2012, 4, 1),
            "done",
            True,
        ),
    ],
)
def test_a_milestone_is_done_only_when_its_event_is_recorded(events, as_of, status, late):
    row = _schedule(events, as_of=as_of)["milestone:mobilisation"]
    assert row["status"] == status
    assert row["completed_late"] is late
    if status == "done":
        assert row["evidence_document"].startswith("文件 mobilisation")


def test_one_acceptance_milestone_per_campaign_and_never_done_and_overdue():
    rows = _schedule(
        [_event("acceptance", dt.date(2016, 12, 20), outcome="passed")], as_of=dt.date(2017, 1, 31)
    )
    acceptance = [r for r in rows.values() if r.get("milestone_key") == "acceptance"]
    assert [r["item_id"] for r in acceptance] == ["derived:forest_city:acceptance"]
    assert acceptance[0]["status"] == "done" and acceptance[0]["evidence_outcome"] == "passed"
    # application / inspection without records are overdue, never "done because the date passed"
    assert rows["derived:forest_city:application"]["status"] == "overdue"
    for r in rows.values():
        assert not (r["status"] == "done" and r["status_basis"] != "evidence")
        assert r["status_zh"] in ("未开始", "进行中", "已完成", "已逾期")


def test_profile_events_reach_the_schedule(profile):
    events = plan.event_rows([profile])
    starts = {e["campaign_code"] for e in events if e["milestone"] == "start"}
    assert starts == {p.campaign for p in profile.programmes}
    assert all(e["document"] and e["date"] for e in events)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (
            {"milestone": "acceptance", "campaign": "no_such", "kind": "acceptance", "document": "d"},
            "campaign",
        ),
        ({"milestone": "signed", "campaign": "forest_city", "kind": "signing", "document": "d"}, "milestone"),
        ({"milestone": "mobilisation", "kind": "party", "document": "d"}, "kind"),
        (
            {
                "milestone": "acceptance",
                "campaign": "forest_city",
                "kind": "acceptance",
                "document": "d",
                "outcome": "ok",
            },
            "outcome",
        ),
        ({"milestone": "mobilisation", "kind": "meeting", "document": ""}, "document"),
        ({"milestone": "mobilisation", "kind": "meeting", "document": "d", "date": "2012-13-01"}, "date"),
    ],
)
def test_the_profile_rejects_a_malformed_event(tmp_path, catalog, entry, field):
    import yaml

    from pipelines.catalog.loader import CatalogError
    from pipelines.profile import load_profile
    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "pingchang.yaml").read_text(encoding="utf-8"))
    data["events"] = [{"date": "2012-02-20"} | entry]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_profile(path, catalog)
    assert [p.field for p in err.value.problems] == [field]
    data["events"] = [
        {"milestone": "mobilisation", "kind": "meeting", "document": "县委办通知", "date": "2012-02-20"}
    ]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_profile(path, catalog).events[0].document == "县委办通知"
