"""The observation frame every check reads: core.observation + file name + catalog/calendar columns.

Derived columns (added by `enrich`, so the Great Expectations suites can refer to them):
`indicator_unit`, `value_type`, `indicator_frequency` (from the catalog), `period_start`,
`period_end`, `period_days`, `period_frequency` (from the period code; NaT when unparsable).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines import reporting_calendar as rc
from pipelines.catalog.model import Catalog
from pipelines.warehouse.tables import core

OBSERVATION_COLUMNS = core.OBSERVATION.column_names
LINEAGE_COLUMNS = ["observation_id", "file_id", "file_name", "sheet", "cell", "raw_text"]

_SQL = """
SELECT o.*, f.file_name, f.path AS file_path
FROM core.observation o LEFT JOIN core.source_file f ON f.file_id = o.file_id
{where}
ORDER BY o.org_code, o.indicator_code, o.period_code, o.revision_no, o.observation_id
"""


def read_observations(conn: duckdb.DuckDBPyConnection, current_only: bool = False) -> pd.DataFrame:
    """All observations (or only current ones) with the source file name."""
    sql = _SQL.format(where="WHERE o.is_current" if current_only else "")
    return conn.execute(sql).df()


def empty_observations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*OBSERVATION_COLUMNS, "file_name"]})


def _period_info(code) -> tuple:
    try:
        p = rc.parse_period(str(code))
    except (rc.CalendarError, ValueError):
        return (pd.NaT, pd.NaT, None, None)
    return (pd.Timestamp(p.start), pd.Timestamp(p.end), (p.end - p.start).days + 1, p.frequency)


def enrich(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """A copy of `frame` (positional index) with the catalog and calendar columns the checks use."""
    out = frame.reset_index(drop=True).copy()
    for c in [*OBSERVATION_COLUMNS, "file_name"]:
        if c not in out.columns:
            out[c] = None
    ind = catalog.indicators
    codes = out["indicator_code"]
    out["indicator_unit"] = [ind[c].unit if c in ind else None for c in codes]
    out["value_type"] = [ind[c].value_type if c in ind else None for c in codes]
    out["indicator_frequency"] = [ind[c].frequency if c in ind else None for c in codes]
    info = [_period_info(c) for c in out["period_code"]]
    out["period_start"] = pd.to_datetime(pd.Series([i[0] for i in info], dtype=object), errors="coerce")
    out["period_end"] = pd.to_datetime(pd.Series([i[1] for i in info], dtype=object), errors="coerce")
    out["period_days"] = pd.Series([i[2] for i in info], dtype="Float64").astype(float)
    out["period_frequency"] = [i[3] for i in info]
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    out["valid_from"] = pd.to_datetime(out["valid_from"], errors="coerce")
    out["is_current"] = out["is_current"].astype(object).map(lambda v: bool(v) if pd.notna(v) else False)
    out["revision_no"] = pd.to_numeric(out["revision_no"], errors="coerce")
    return out
