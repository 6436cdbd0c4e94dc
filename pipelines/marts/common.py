"""Shared helpers of the marts: verdict status rules, period arithmetic and small SQL helpers."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import duckdb

from pipelines import reporting_calendar as rc
from pipelines.warehouse.schema import transaction

#: Readiness is capped at this share when a veto / prerequisite item fails.
VETO_CAP = 0.6


def is_met(status: str | None, margin: float | None) -> bool:
    """A verdict counts as met when it passes, or is in the warning band on the passing side."""
    if status == "pass":
        return True
    if status == "near":
        return margin is None or margin >= 0
    return False


def is_failing(status: str | None, margin: float | None) -> bool:
    """A verdict fails when its status is fail, or near on the failing side (margin < 0)."""
    if status == "fail":
        return True
    return status == "near" and margin is not None and margin < 0


@functools.lru_cache(maxsize=8192)
def period_end(code: str) -> dt.date:
    """Last day of a period code (cached: the forecast asks for the same few codes ~10⁵ times)."""
    return rc.parse_period(code).end


def month_code(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def months_between(a: dt.date, b: dt.date) -> float:
    """Months from a to b (fractional, 30.436875-day months)."""
    return (b - a).days / 30.436875


@functools.lru_cache(maxsize=16384)
def add_months(day: dt.date, months: float) -> dt.date:
    return day + dt.timedelta(days=round(months * 30.436875))


def fetch_dicts(conn: duckdb.DuckDBPyConnection, sql: str, params: Iterable | None = None) -> list[dict]:
    cur = conn.execute(sql, list(params or []))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
        ).fetchone()[0]
    )


def columns_of(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?", [schema, name]
    ).fetchall()
    return {r[0] for r in rows}


_VERDICT_SQL = """
        SELECT v.*, r.frequency AS req_frequency, i.rollup AS ind_rollup, r.responsible_short_code
        FROM compliance.verdict v
        LEFT JOIN dim.requirement r USING (requirement_code)
        LEFT JOIN dim.indicator i ON i.indicator_code = v.indicator_code
        WHERE v.subject_org_code {op} v.county_code
        ORDER BY v.county_code, v.requirement_code, v.grain, v.period_code
        """
# The last verdict rows read per (database, county level), with the fingerprint of the tables they
# were read from: readiness, forecasts, rectification and the plan read the same verdicts in one run.
_VERDICT_CACHE: dict[tuple[str, bool], tuple[str, list[dict]]] = {}


def _verdict_tables_fingerprint(conn: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(database file, fingerprint of compliance.verdict, dim.requirement and dim.indicator): row
    counts and order-independent aggregates (sum, xor) of DuckDB's hash of every row. Scanning to
    hash takes ~20 ms where fetching the verdicts into Python takes ~200 ms."""
    parts = " || '/' || ".join(
        f"(SELECT count(*) || ':' || coalesce(sum(hash(x)::HUGEINT), 0) || ':' || coalesce(bit_xor(hash(x)), 0) "
        f"FROM {t} x)"
        for t in ("compliance.verdict", "dim.requirement", "dim.indicator")
    )
    path, fp = conn.execute(
        f"SELECT (SELECT path FROM duckdb_databases() WHERE database_name = current_database()), {parts}"
    ).fetchone()
    return (str(path) if path else ""), str(fp)  # an in-memory database has no path: not remembered


def county_verdicts(conn: duckdb.DuckDBPyConnection, county_level: bool = True) -> list[dict]:
    """compliance.verdict rows of county figures (subject = county) or of other subjects (towns).

    Read once per process while the tables stay the same: a later call on the same database whose
    verdict, requirement and indicator tables have the same fingerprint gets copies of the rows read
    before (new dicts, so a caller that changes its rows does not change another caller's)."""
    op = "=" if county_level else "<>"
    try:
        path, fp = _verdict_tables_fingerprint(conn)
    except duckdb.Error:
        path, fp = "", ""
    key = (path, county_level)
    cached = _VERDICT_CACHE.get(key)
    if path and cached is not None and cached[0] == fp:
        return [dict(r) for r in cached[1]]
    rows = fetch_dicts(conn, _VERDICT_SQL.format(op=op))
    if path:
        if len(_VERDICT_CACHE) > 4:
            _VERDICT_CACHE.clear()
        _VERDICT_CACHE[key] = (fp, [dict(r) for r in rows])
    return rows


def _arrow_table(names: list[str], rows: list[dict]):
    """The rows as one Arrow table (column by column; NaN becomes NULL, as in the pandas path), or
    None when a column mixes types Arrow cannot hold in one array (e.g. text and numbers)."""
    import pyarrow as pa

    try:
        return pa.table({n: pa.array([r.get(n) for r in rows], from_pandas=True) for n in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return None


def _insert(conn: duckdb.DuckDBPyConnection, t, rows: list[dict]) -> int:
    """Insert dict rows as one Arrow table (5-10x faster than a pandas object frame, which DuckDB has
    to analyse value by value). A row set Arrow cannot type (a column mixing text and numbers) goes
    through a DataFrame as before: object dtype keeps None as NULL; the analyse sample covers every
    row so a late value cannot break type inference. Either way DuckDB casts to the table's types."""
    if not rows:
        return 0
    names = t.column_names
    cols = ", ".join(f'"{n}"' for n in names)
    data = _arrow_table(names, rows)
    if data is None:
        import pandas as pd

        data = pd.DataFrame([[r.get(n) for n in names] for r in rows], columns=names, dtype=object)
        conn.execute(f"SET pandas_analyze_sample = {max(1000, len(rows) + 1)}")
    conn.register("_marts_rows", data)
    try:
        conn.execute(f"INSERT INTO {t.qualified} ({cols}) SELECT {cols} FROM _marts_rows")
    finally:
        conn.unregister("_marts_rows")
    return len(rows)


def write_table(conn: duckdb.DuckDBPyConnection, tables_rows: dict) -> dict[str, int]:
    """Replace the content of each marts table with its rows, all in one transaction (idempotent)."""
    counts: dict[str, int] = {}
    with transaction(conn):
        for t, rows in tables_rows.items():
            conn.execute(f"DELETE FROM {t.qualified}")
            counts[t.qualified] = _insert(conn, t, rows)
    return counts
