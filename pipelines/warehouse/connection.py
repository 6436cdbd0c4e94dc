"""The writer connection. Only the pipeline (one process) opens the working database for writing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.warehouse.schema import create_all


@contextmanager
def writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working database read-write, make sure all tables exist, close on exit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path))
    try:
        create_all(conn)
        yield conn
    finally:
        conn.close()
