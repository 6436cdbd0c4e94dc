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


def test_acceptance_milestone_is_done_only_when_the_year_is_ready():
    prog = {
        "county_code": "511923",
        "campaign_code": "hygienic_county",
        "working_group_code": None,
        "start_date": dt.date(2012, 1, 1),
        "acceptance_date": dt.date(2013, 12, 31),
    }
    common = dict(
        phases=[], milestones=[], programmes=[prog], working_groups=[], tasks=[], as_of=dt.date(2014, 3, 1)
    )
    ready = plan.schedule_rows(**common, yearly_readiness={("511923", "hygienic_county", "2013"): 1.0})
    short = plan.schedule_rows(**common, yearly_readiness={("511923", "hygienic_county", "2013"): 0.8})
    status = lambda rows: {r["code"]: r["status"] for r in rows}["acceptance"]  # noqa: E731
    assert status(ready) == "done"
    assert status(short) == "overdue"
