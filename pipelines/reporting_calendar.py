"""Reporting periods and due dates counted in Chinese working days.

Working days come from the `chinesecalendar` package (statutory holidays and make-up working
days, 调休), never from a hand-written list. Periods are coded `2012-03` (month), `2012-Q1`
(quarter) and `2012` (year).
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import functools
import re
from dataclasses import dataclass

import chinese_calendar

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class CalendarError(ValueError):
    """A date outside the years the working-day calendar knows, or a malformed period code."""


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date
    code: str
    frequency: str

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def label_zh(self) -> str:
        if self.frequency == "monthly":
            return f"{self.start.year}年{self.start.month}月"
        if self.frequency == "quarterly":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年"


def month(year: int, m: int) -> Period:
    last = _cal.monthrange(year, m)[1]
    return Period(dt.date(year, m, 1), dt.date(year, m, last), f"{year}-{m:02d}", "monthly")


def quarter(year: int, q: int) -> Period:
    start = dt.date(year, 3 * q - 2, 1)
    end_month = 3 * q
    return Period(
        start, dt.date(year, end_month, _cal.monthrange(year, end_month)[1]), f"{year}-Q{q}", "quarterly"
    )


def year(y: int) -> Period:
    return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), f"{y}", "annual")


def parse_period(code: str) -> Period:
    """Period from its code: `2012-03`, `2012-Q1` or `2012`."""
    code = str(code).strip()
    if m := _MONTH.match(code):
        mm = int(m.group(2))
        if not 1 <= mm <= 12:
            raise CalendarError(f"月份无效 / invalid month in period '{code}'")
        return month(int(m.group(1)), mm)
    if m := _QUARTER.match(code):
        return quarter(int(m.group(1)), int(m.group(2)))
    if m := _YEAR.match(code):
        return year(int(m.group(1)))
    raise CalendarError(f"无法识别的报告期代码 / unrecognised period code '{code}'")


def periods_between(first: dt.date, last: dt.date, frequency: str) -> list[Period]:
    """All periods of a frequency that start on or after `first`'s period and end by `last`."""
    out: list[Period] = []
    y, m = first.year, first.month
    while True:
        if frequency == "monthly":
            p = month(y, m)
        elif frequency == "quarterly":
            p = quarter(y, (m - 1) // 3 + 1)
        elif frequency == "annual":
            p = year(y)
        else:
            raise CalendarError(f"未知报送频率 / unknown frequency '{frequency}'")
        if p.start > last:
            break
        if p.end <= last and (not out or out[-1].code != p.code):
            out.append(p)
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


@functools.lru_cache(maxsize=16384)  # every due date and lateness walks the same days
def is_working_day(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as exc:
        raise CalendarError(
            f"工作日历不含 {day.year} 年 / working-day calendar has no data for {day.year}"
        ) from exc


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day strictly after `day` (n >= 1)."""
    if n < 1:
        raise CalendarError("工作日数须为正 / working-day offset must be positive")
    d, count = day, 0
    while count < n:
        d += dt.timedelta(days=1)
        if is_working_day(d):
            count += 1
    return d


def due_date(period: Period, working_days: int) -> dt.date:
    """A return for `period` is due on the `working_days`-th working day after the period ends."""
    return add_working_days(period.end, working_days)


def working_days_late(due: dt.date, received: dt.date) -> int:
    """Working days after the due date up to and including the day received (0 if on time)."""
    if received <= due:
        return 0
    d, late = due, 0
    while d < received:
        d += dt.timedelta(days=1)
        if is_working_day(d):
            late += 1
    return late
