"""Bulk writes of validation rows: a DataFrame insert instead of executemany (100× faster in DuckDB)."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.warehouse.schema import Table


def replace_frame(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    rows: list[dict],
    where: str | None = None,
    params: list | None = None,
) -> int:
    """Delete (all rows, or those matching `where` with bound `params`) and insert `rows`.

    Call inside a transaction. Columns missing from a row are NULL.
    """
    conn.execute(f"DELETE FROM {table.qualified}" + (f" WHERE {where}" if where else ""), params or [])
    if not rows:
        return 0
    names = table.column_names
    frame = pd.DataFrame([{n: r.get(n) for n in names} for r in rows], columns=names)
    # Python objects for DuckDB to cast, except naive timestamp columns: DuckDB reads those
    # natively (NaT as NULL), without a Python object per value (issue 18: a tenth of a second
    # per 10,000 rows).
    objects = [n for n in names if not pd.api.types.is_datetime64_dtype(frame[n])]
    frame[objects] = frame[objects].astype(object)
    frame[objects] = frame[objects].where(frame[objects].notna(), None)
    conn.register("_validation_rows", frame)
    try:
        cols = ", ".join(f'"{n}"' for n in names)
        casts = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in table.columns)
        conn.execute(f"INSERT INTO {table.qualified} ({cols}) SELECT {casts} FROM _validation_rows")
    finally:
        conn.unregister("_validation_rows")
    return len(rows)
