"""Due dates in Chinese working days, across Spring Festival and National Day, with make-up days."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import reporting_calendar as rc

D = dt.date


def test_make_up_saturday_before_spring_festival_is_a_working_day():
    assert rc.add_working_days(D(2012, 1, 20), 1) == D(2012, 1, 21)  # Saturday 调休 working day


def test_spring_festival_week_is_skipped_to_the_sunday_make_up_day():
    assert rc.add_working_days(D(2012, 1, 21), 1) == D(2012, 1, 29)  # 22–28 Jan holiday; Sunday 29 works


def test_monthly_return_due_on_fifth_working_day_after_spring_festival_month():
    assert rc.due_date(rc.month(2012, 1), 5) == D(2012, 2, 7)


def test_monthly_return_due_across_national_day_holiday():
    # September 2012 ends on a holiday; 1–7 Oct are off; the 5th working day after is 12 Oct.
    assert rc.due_date(rc.month(2012, 9), 5) == D(2012, 10, 12)


def test_national_day_make_up_saturday_counts():
    assert rc.add_working_days(D(2012, 9, 28), 1) == D(2012, 9, 29)


def test_quarterly_due_counts_new_year_make_up_sunday_2015():
    # 1–3 Jan 2015 off, Sunday 4 Jan worked: Q4 2014 + 10 working days = 15 Jan 2015.
    assert rc.due_date(rc.quarter(2014, 4), 10) == D(2015, 1, 15)


def test_working_days_late_skips_holidays_and_counts_make_up_days():
    assert rc.working_days_late(D(2012, 9, 28), D(2012, 9, 28)) == 0
    assert rc.working_days_late(D(2012, 9, 28), D(2012, 10, 8)) == 2  # 29 Sep (make-up) and 8 Oct
    assert rc.working_days_late(D(2012, 10, 12), D(2012, 10, 1)) == 0


def test_period_codes_round_trip():
    for code in ("2012-03", "2012-Q4", "2013"):
        assert rc.parse_period(code).code == code
    assert rc.parse_period("2012-Q1").end == D(2012, 3, 31)
    assert rc.parse_period("2012-02").end == D(2012, 2, 29)


@pytest.mark.parametrize("bad", ["2012-13", "2012-Q5", "12-03", "", "2012/03"])
def test_bad_period_codes_are_rejected(bad):
    with pytest.raises(rc.CalendarError):
        rc.parse_period(bad)


def test_periods_between_the_plan_span():
    months = rc.periods_between(D(2011, 12, 1), D(2016, 12, 31), "monthly")
    assert (months[0].code, months[-1].code, len(months)) == ("2011-12", "2016-12", 61)
    years = rc.periods_between(D(2011, 12, 1), D(2016, 12, 31), "annual")
    assert [y.code for y in years] == ["2011", "2012", "2013", "2014", "2015", "2016"]


def test_year_outside_the_holiday_data_is_a_clear_error():
    with pytest.raises(rc.CalendarError, match="working-day calendar has no data"):
        rc.is_working_day(D(1999, 1, 1))
