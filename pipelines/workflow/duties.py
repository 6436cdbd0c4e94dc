"""What a unit owes: returns due per period with their working-day deadlines, from a published
snapshot (dim.assignment, dim.reporting_deadline, dim.period, core.submission). Shared by the
department workspace (我的任务) and the notices outbox, which run the same SQL on their own
read-only connections (`run(sql, params) -> DataFrame`)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

import pandas as pd

from pipelines.reporting_calendar import CalendarError, is_working_day

DUE_SQL = """
WITH a AS (
    SELECT DISTINCT org_code, frequency FROM dim.assignment WHERE county_code = ?
), d AS (
    SELECT d.period_code, d.due_date, p.frequency, p.end_date
    FROM dim.reporting_deadline d JOIN dim.period p ON p.period_code = d.period_code
    WHERE d.county_code = ? AND d.due_date BETWEEN ? AND ?
), s AS (
    SELECT org_code, period_code, min(received_at) AS first_received, max(revision_no) AS revisions
    FROM core.submission WHERE county_code = ? AND received_at::DATE <= ? GROUP BY ALL
)
SELECT a.org_code, ou.short_code, ou.name_zh AS org_name_zh, ou.name_en AS org_name_en, d.period_code,
       d.frequency, d.end_date, d.due_date, s.first_received, s.revisions,
       CASE WHEN s.org_code IS NOT NULL THEN 'received' WHEN d.due_date < ? THEN 'overdue' ELSE 'due' END
         AS due_state
FROM a JOIN d ON d.frequency = a.frequency
LEFT JOIN s ON s.org_code = a.org_code AND s.period_code = d.period_code
LEFT JOIN dim.org_unit ou ON ou.org_code = a.org_code
WHERE ?::VARCHAR IS NULL OR a.org_code = ?::VARCHAR
ORDER BY CASE due_state WHEN 'overdue' THEN 0 WHEN 'due' THEN 1 ELSE 2 END, d.due_date, a.org_code
"""


def today() -> dt.date:
    """`WUCHUANG_TODAY` (YYYY-MM-DD; for demonstrations on the historical sample and for tests) or today."""
    value = os.environ.get("WUCHUANG_TODAY", "").strip()
    return dt.date.fromisoformat(value) if value else dt.date.today()


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end] (negative when end is before start); Mon–Fri outside the calendar."""
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    n, d = 0, start
    while d < end:
        d += dt.timedelta(days=1)
        try:
            n += is_working_day(d)
        except CalendarError:
            n += d.weekday() < 5
    return sign * n


def due_returns(
    run: Callable[[str, list], pd.DataFrame],
    county: str,
    on: dt.date,
    org_code: str | None = None,
    lookback_days: int = 400,
    lookahead_days: int = 45,
) -> pd.DataFrame:
    """Returns due from `on - lookback_days` to `on + lookahead_days` (one row per unit × period),
    overdue first, with `working_days_left` (negative: working days overdue)."""
    lo, hi = on - dt.timedelta(days=lookback_days), on + dt.timedelta(days=lookahead_days)
    df = run(DUE_SQL, [county, county, lo, hi, county, on, on, org_code, org_code])
    if df.empty:
        df["working_days_left"] = pd.Series(dtype="int64")
        return df
    df["due_date"] = pd.to_datetime(df["due_date"]).dt.date
    df["working_days_left"] = [working_days_between(on, d) for d in df["due_date"]]
    return df.reset_index(drop=True)
