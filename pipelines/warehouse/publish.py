"""Publishing immutable read-only snapshots of the warehouse for readers.

DuckDB allows one writer process or many readers, never both. The pipeline writes
`warehouse.duckdb`; after each successful run it publishes a copy:

1. checkpoint the working database (folds the WAL into the file) and close it;
2. copy it to `published/.tmp-<id>.duckdb`, fsync, verify it opens read-only;
3. rename it to `published/warehouse-<stamp>.duckdb` (atomic on one filesystem);
4. write `published/CURRENT.tmp` naming the new file, fsync, rename over `CURRENT`.

Readers resolve `CURRENT` and open that file read-only, so they never see a half-written run
and never hold a lock on the writer's file. A crash at any step leaves the previous snapshot and
pointer intact; leftovers (`.tmp-*`) are swept by the next publish. Old snapshots beyond
`keep` are deleted (open readers keep their file handle on POSIX systems).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import duckdb

POINTER = "CURRENT"


class NoSnapshotError(FileNotFoundError):
    """Nothing has been published yet."""

    def __init__(self, published_dir: Path):
        super().__init__(
            f"尚未发布数据快照，请先运行 make run / no published snapshot in {published_dir.name}: run `make run` first"
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def publish(warehouse_path: Path, published_dir: Path, keep: int = 3) -> Path:
    """Publish a snapshot of `warehouse_path`; return the snapshot's path."""
    warehouse_path, published_dir = Path(warehouse_path), Path(published_dir)
    published_dir.mkdir(parents=True, exist_ok=True)
    for stale in published_dir.glob(".tmp-*"):
        stale.unlink(missing_ok=True)
    conn = duckdb.connect(str(warehouse_path))
    try:
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    token = uuid.uuid4().hex[:8]
    tmp = published_dir / f".tmp-{token}.duckdb"
    shutil.copyfile(warehouse_path, tmp)
    _fsync_file(tmp)
    check = duckdb.connect(str(tmp), read_only=True)
    try:
        check.execute("SELECT count(*) FROM information_schema.tables").fetchone()
    finally:
        check.close()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = published_dir / f"warehouse-{stamp}-{token}.duckdb"
    os.replace(tmp, final)
    pointer_tmp = published_dir / f".tmp-{token}.{POINTER}"
    pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
    _fsync_file(pointer_tmp)
    os.replace(pointer_tmp, published_dir / POINTER)
    _fsync_dir(published_dir)
    _prune(published_dir, final, keep)
    return final


def _prune(published_dir: Path, current: Path, keep: int) -> None:
    snaps = sorted(published_dir.glob("warehouse-*.duckdb"), key=lambda p: p.name, reverse=True)
    for old in snaps[max(keep, 1) :]:
        if old != current:
            old.unlink(missing_ok=True)


def latest_snapshot(published_dir: Path) -> Path:
    """Path of the current published snapshot; NoSnapshotError if none."""
    published_dir = Path(published_dir)
    pointer = published_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoSnapshotError(published_dir) from None
    path = published_dir / name
    if not name or not path.exists():
        raise NoSnapshotError(published_dir)
    return path


def connect_readonly(published_dir: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the latest published snapshot."""
    return duckdb.connect(str(latest_snapshot(published_dir)), read_only=True)
