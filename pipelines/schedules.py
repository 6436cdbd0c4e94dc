"""The monthly refresh: the full job on the 6th Chinese working day of each month, 09:00 Shanghai.

Monthly returns are due on the 5th working day after the month ends (county profile), so the
morning after that deadline the office wants the month's picture. Working days follow the State
Council's holiday schedule (chinesecalendar), including make-up working days on weekends (调休),
so the cron expression fires EVERY day at 09:00 and the function decides: a weekday-only cron
would miss the months in which the 6th working day is a make-up weekend day (2024-05-11, a
Saturday; 2021-02-07, a Sunday).
For a year the calendar package does not cover yet, Monday–Friday are counted instead and the
run is tagged so someone updates the package.
"""

import datetime as dt

import dagster as dg

from pipelines.reporting_calendar import CalendarError, is_working_day

REFRESH_WORKING_DAY = 6
TIMEZONE = "Asia/Shanghai"


def _working(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, decided by the official calendar)."""
    try:
        return is_working_day(day), True
    except CalendarError:
        return day.weekday() < 5, False


def nth_working_day(day: dt.date) -> tuple[int | None, bool]:
    """Which working day of its month `day` is (None if it is not one), and whether the official
    calendar decided it (False: Monday–Friday fallback for a year the package does not cover)."""
    official = True
    count = 0
    d = day.replace(day=1)
    while d <= day:
        working, known = _working(d)
        official = official and known
        if working:
            count += 1
        d += dt.timedelta(days=1)
    working, _ = _working(day)
    return (count if working else None), official


def is_refresh_day(day: dt.date, n: int = REFRESH_WORKING_DAY) -> bool:
    return nth_working_day(day)[0] == n


@dg.schedule(
    cron_schedule="0 9 * * *",
    execution_timezone=TIMEZONE,
    job_name="monitoring_job",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "每月第6个工作日09:00（北京时间）全量刷新并发布 / monthly full refresh and publish on the 6th Chinese "
        "working day, 09:00 Asia/Shanghai (fires daily, skips other days)."
    ),
)
def monthly_refresh_schedule(context: dg.ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    day = when.astimezone(dt.timezone(dt.timedelta(hours=8))).date() if when else dt.date.today()
    nth, official = nth_working_day(day)
    if nth != REFRESH_WORKING_DAY:
        what = f"第{nth}个工作日" if nth else "非工作日"
        what_en = f"working day {nth}" if nth else "not a working day"
        return dg.SkipReason(
            f"{day.isoformat()} 是本月{what}，刷新在第{REFRESH_WORKING_DAY}个工作日 / {day.isoformat()} is "
            f"{what_en} of the month; the refresh runs on working day {REFRESH_WORKING_DAY}"
        )
    tags = {"wuchuang/trigger": "monthly_schedule", "wuchuang/refresh_day": day.isoformat()}
    if not official:
        tags["wuchuang/calendar"] = "weekday-fallback: update chinesecalendar"
    from pipelines.settings import Settings
    from pipelines.warehouse import counties

    profiles_dir = Settings.from_env().profiles_dir
    if counties.partitioned(profiles_dir):  # one run per county partition (docs/scaling.md)
        return [
            dg.RunRequest(run_key=f"monthly-{day.isoformat()}-{code}", partition_key=code, tags=tags)
            for code in counties.county_codes(profiles_dir)
        ]
    return dg.RunRequest(run_key=f"monthly-{day.isoformat()}", tags=tags)


schedules = [monthly_refresh_schedule]
