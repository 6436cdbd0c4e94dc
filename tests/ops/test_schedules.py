"""The monthly refresh fires on the 6th Chinese working day only, make-up weekend days included."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.schedules import is_refresh_day, monthly_refresh_schedule, nth_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")


def evaluate(day: dt.date):
    when = dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)
    return monthly_refresh_schedule(dg.build_schedule_context(scheduled_execution_time=when))


@pytest.mark.parametrize(
    ("day", "fires"),
    [
        (dt.date(2024, 6, 11), True),  # June 2024: 3–7 are working days 1–5, 10 is 端午, 11 is the 6th
        (dt.date(2024, 6, 10), False),  # 端午节 holiday (a Monday)
        (dt.date(2024, 6, 7), False),  # 5th working day
        (dt.date(2024, 6, 12), False),  # 7th working day
        (dt.date(2024, 5, 11), True),  # a make-up Saturday (调休) is the 6th working day of May 2024
        (dt.date(2024, 5, 10), False),
        (dt.date(2021, 2, 7), True),  # a make-up Sunday before the Spring Festival
        (dt.date(2023, 10, 12), True),  # after the National Day week, with two make-up weekend days
        (dt.date(2023, 10, 9), False),
    ],
)
def test_schedule_fires_only_on_the_sixth_working_day(day, fires):
    result = evaluate(day)
    if fires:
        assert isinstance(result, dg.RunRequest)
        assert result.run_key == f"monthly-{day.isoformat()}"
        assert result.tags["wuchuang/trigger"] == "monthly_schedule"
        assert "wuchuang/calendar" not in result.tags
    else:
        assert isinstance(result, dg.SkipReason)
        assert "第6个工作日" in result.skip_message


def test_exactly_one_refresh_day_per_month():
    for year in (2016, 2024):
        for month in range(1, 13):
            days = [
                dt.date(year, month, d)
                for d in range(1, 32)
                if _valid(year, month, d) and is_refresh_day(dt.date(year, month, d))
            ]
            assert len(days) == 1, (year, month, days)


def _valid(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def test_a_year_the_calendar_does_not_know_falls_back_to_weekdays_and_says_so():
    nth, official = nth_working_day(dt.date(2031, 1, 8))
    assert not official
    # 2031-01-01 is a Wednesday: Jan 1, 2, 3, 6, 7, 8 → the 8th is weekday number 6
    assert nth == 6
    result = evaluate(dt.date(2031, 1, 8))
    assert isinstance(result, dg.RunRequest)
    assert "update chinesecalendar" in result.tags["wuchuang/calendar"]


def test_the_schedule_uses_the_shanghai_date_not_utc():
    # 2024-06-11 09:00 in Shanghai is 2024-06-11 01:00 UTC; the UTC evening before would be the 10th.
    when = dt.datetime(2024, 6, 11, 1, 0, tzinfo=dt.UTC)
    result = monthly_refresh_schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert isinstance(result, dg.RunRequest)
