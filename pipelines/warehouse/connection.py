"""The writer connection. Only the pipeline (one process) opens the working database for writing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.warehouse.schema import create_all


class WarehouseBusyError(RuntimeError):
    """Another process holds the working database (someone opened it by hand, or a second writer)."""


def _connect(path: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                if "lock" in str(exc).lower():
                    raise WarehouseBusyError(
                        f"数据仓库正被其他进程占用（请读取已发布快照，不要直接打开工作库） / the working database "
                        f"{path.name} is locked by another process (read the published snapshot instead): {exc}"
                    ) from exc
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def open_writer(path: Path, wait_seconds: float = 60.0) -> duckdb.DuckDBPyConnection:
    """Open the working database read-write (waiting up to `wait_seconds` for a lock held
    elsewhere) and make sure all tables exist; the caller closes it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _connect(path, wait_seconds)
    try:
        create_all(conn)
        # Consume the last result fully: a result left pending keeps the connection's transaction
        # open, and a long-lived connection (a run's anchor, pipelines/resources.py) would then
        # make every later CHECKPOINT fail ("other write transactions are active").
        conn.execute("SELECT 1").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def writer(path: Path, wait_seconds: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working database read-write (waiting up to `wait_seconds` for a lock held elsewhere),
    make sure all tables exist, close on exit."""
    conn = open_writer(path, wait_seconds)
    try:
        yield conn
    finally:
        conn.close()
