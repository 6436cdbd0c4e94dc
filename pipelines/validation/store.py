"""Bulk writes of validation rows: one Arrow table (or DataFrame) insert instead of executemany.

`replace_frame` turns the rows into one Arrow table column by column (issue 18: the pandas frame
built from a dict per row cost ~0.3 s per 18,000 quality rows) and lets DuckDB cast it to the
declared column types. A row set Arrow cannot type in one array (a column mixing text and numbers)
goes through a pandas object frame as before (`_pandas_frame`). Both give the same table content
(types, NULLs, values): tests/validation/test_store.py compares them on every quality table.
"""

from __future__ import annotations

import contextlib

import duckdb
import pandas as pd

from pipelines.warehouse.schema import Table


def _arrow_table(names: list[str], rows: list[dict]):
    """The rows as one Arrow table (NaN and None become NULL), or None when a column mixes types
    Arrow cannot hold in one array."""
    import pyarrow as pa

    try:
        return pa.table({n: pa.array([r.get(n) for r in rows], from_pandas=True) for n in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return None


def _pandas_frame(names: list[str], rows: list[dict]) -> pd.DataFrame:
    """The rows as a pandas frame of Python objects for DuckDB to cast (the slower fallback)."""
    frame = pd.DataFrame([{n: r.get(n) for n in names} for r in rows], columns=names)
    # Python objects for DuckDB to cast, except naive timestamp columns: DuckDB reads those
    # natively (NaT as NULL), without a Python object per value.
    objects = [n for n in names if not pd.api.types.is_datetime64_dtype(frame[n])]
    frame[objects] = frame[objects].astype(object)
    frame[objects] = frame[objects].where(frame[objects].notna(), None)
    return frame


def replace_frame(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    rows: list[dict],
    where: str | None = None,
    params: list | None = None,
    *,
    arrow: bool = True,
) -> int:
    """Delete (all rows, or those matching `where` with bound `params`) and insert `rows`.

    Call inside a transaction. Columns missing from a row are NULL. `arrow=False` forces the
    pandas path (the reference the Arrow path is tested against)."""
    conn.execute(f"DELETE FROM {table.qualified}" + (f" WHERE {where}" if where else ""), params or [])
    if not rows:
        return 0
    names = table.column_names
    data = _arrow_table(names, rows) if arrow else None
    if data is None:
        data = _pandas_frame(names, rows)
    conn.register("_validation_rows", data)
    try:
        cols = ", ".join(f'"{n}"' for n in names)
        casts = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in table.columns)
        conn.execute(f"INSERT INTO {table.qualified} ({cols}) SELECT {casts} FROM _validation_rows")
    finally:
        # In an aborted transaction unregistering fails too: the insert's own error is the one to see.
        with contextlib.suppress(duckdb.Error):
            conn.unregister("_validation_rows")
    return len(rows)


_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8")


def _same(table: Table, a: str, b: str, skip: frozenset[str]) -> str:
    """SQL: row `a` and row `b` hold the same values in every column but `skip` (NULL equals NULL;
    -0.0 and 0.0 differ, as two writes of them would)."""
    conds = []
    for c in table.columns:
        if c.name in skip:
            continue
        q = f'"{c.name}"'
        conds.append(f"{a}.{q} IS NOT DISTINCT FROM {b}.{q}")
        if c.type.upper() in _FLOAT_TYPES:
            conds.append(f"signbit({a}.{q}) IS NOT DISTINCT FROM signbit({b}.{q})")
    return " AND ".join(conds) or "TRUE"


def sync_table(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    data,
    where: str | None = None,
    params: list | None = None,
    refresh: dict | None = None,
) -> int:
    """Make the rows of `table` matching `where` (all rows without it) equal `data`, writing only
    what differs (issue 18: a county run after one new file changes a few hundred of ~10⁴ rows,
    and a DELETE + INSERT of all of them was most of the write's cost, commit included).

    `data`: the new rows as an Arrow table or pandas frame with the table's column names (cast to
    the declared types). By the table's primary key: rows in scope whose key is gone or whose
    content differs are deleted, new rows whose key is not (any more) in scope are inserted,
    identical rows stay. `refresh`: columns set to one value on every row in scope afterwards
    (clock columns such as `evaluated_at`; `data` must hold that value in them), not compared.

    The content afterwards is the content `replace_frame` (DELETE + INSERT) gives, row for row
    (tests/validation/test_store_sync.py), errors included: new rows with a duplicate key, or with
    the key of a row outside the scope, violate the primary key as before. Physical row order may
    differ. Call inside a transaction. Returns the rows of `data`."""
    if not table.primary_key:
        raise ValueError(f"{table.qualified} has no primary key to synchronise by")
    refresh = dict(refresh or {})
    scope = f"({where})" if where else "TRUE"
    scope_params = list(params or [])
    conn.register("_sync_rows", data)
    try:
        casts = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in table.columns)
        new = f"(SELECT {casts} FROM _sync_rows)"
        keys = ", ".join(f'"{k}"' for k in table.primary_key)
        n, distinct = conn.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM {new}").fetchone()
        if n != distinct:
            # Duplicate keys: the full rewrite, which fails on the primary key as it always did.
            conn.execute(f"DELETE FROM {table.qualified} WHERE {scope}", scope_params)
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            conn.execute(f"INSERT INTO {table.qualified} ({cols}) SELECT {cols} FROM {new}")
            return int(n)
        for col, value in refresh.items():
            bad = conn.execute(
                f'SELECT count(*) FROM {new} n WHERE n."{col}" IS DISTINCT FROM ?', [value]
            ).fetchone()[0]
            if bad:
                raise ValueError(f"{table.qualified}.{col}: {bad} new row(s) without the refreshed value")
        key = " AND ".join(f'n."{k}" = t."{k}"' for k in table.primary_key)
        same = _same(table, "n", "t", frozenset(refresh))
        conn.execute(
            f"DELETE FROM {table.qualified} t WHERE {scope} "
            f"AND NOT EXISTS (SELECT 1 FROM {new} n WHERE {key} AND {same})",
            scope_params,
        )
        cols = ", ".join(f'"{c}"' for c in table.column_names)
        inner = f"(SELECT * FROM {table.qualified} WHERE {scope})"
        conn.execute(
            f"INSERT INTO {table.qualified} ({cols}) SELECT {cols} FROM {new} n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {inner} t WHERE {key})",
            scope_params,
        )
        for col, value in refresh.items():
            conn.execute(
                f'UPDATE {table.qualified} SET "{col}" = ? WHERE {scope} AND "{col}" IS DISTINCT FROM ?',
                [value, *scope_params, value],
            )
    finally:
        # In an aborted transaction unregistering fails too: the write's own error is the one to see.
        with contextlib.suppress(duckdb.Error):
            conn.unregister("_sync_rows")
    return int(n)


def sync_rows(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    rows: list[dict] | pd.DataFrame,
    where: str | None = None,
    params: list | None = None,
    refresh: dict | None = None,
) -> int:
    """`replace_frame`'s result written by `sync_table`: only the rows that differ. `rows`: dicts
    (missing columns NULL) or a frame with the table's columns (NaN and None NULL). Call inside a
    transaction."""
    if not len(rows):
        conn.execute(f"DELETE FROM {table.qualified}" + (f" WHERE {where}" if where else ""), params or [])
        return 0
    names = table.column_names
    if isinstance(rows, pd.DataFrame):
        data = _arrow_of_frame(rows[names])
    else:
        data = _arrow_table(names, rows)
        if data is None:
            data = _pandas_frame(names, rows)
    return sync_table(conn, table, data, where, params, refresh)


def _arrow_of_frame(frame: pd.DataFrame):
    """The frame as an Arrow table (NaN and None become NULL), or the frame itself for DuckDB to
    read when a column mixes types Arrow cannot hold in one array."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        out = frame.astype(object)
        return out.where(out.notna(), None)
