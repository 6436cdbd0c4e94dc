"""The writer waits for a lock held by another process, then gives a clear error."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pipelines.warehouse.connection import WarehouseBusyError, writer

HOLD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold(path, seconds):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_writer_waits_for_a_lock_that_is_released(tmp_path):
    path = tmp_path / "w.duckdb"
    proc = _hold(path, 1.5)
    try:
        started = time.monotonic()
        with writer(path, wait_seconds=20) as conn:
            assert conn.execute("SELECT count(*) FROM dim.campaign").fetchone()[0] == 0
        assert time.monotonic() - started >= 0.5
    finally:
        proc.wait(timeout=30)


def test_writer_gives_a_clear_error_when_the_lock_is_kept(tmp_path):
    path = tmp_path / "w.duckdb"
    proc = _hold(path, 10)
    try:
        with (
            pytest.raises(WarehouseBusyError, match="locked by another process"),
            writer(path, wait_seconds=0.5),
        ):
            pass
    finally:
        proc.kill()
        proc.wait(timeout=30)


def _in_run(tmp_path):
    """A WarehouseResource as a Dagster run sets it up (not partitioned)."""
    from types import SimpleNamespace

    from pipelines.resources import WarehouseResource

    res = WarehouseResource(database=str(tmp_path / "w.duckdb"), published_dir=str(tmp_path / "pub"))
    res.setup_for_execution(SimpleNamespace(run=SimpleNamespace(tags={})))
    return res


def test_a_run_opens_the_database_once_and_each_step_gets_its_own_connection(tmp_path):
    res = _in_run(tmp_path)
    try:
        with res.get_connection() as first:
            first.execute("CREATE TABLE ops.step_one AS SELECT 1 AS x")
        anchor = res._anchor
        assert anchor is not None
        with res.get_connection() as second:
            assert second is not first  # a separate connection per step …
            assert second.execute("SELECT x FROM ops.step_one").fetchone() == (1,)
        assert res._anchor is anchor  # … to the database opened once for the run
        # A step that left a transaction open: rolled back when its connection closes.
        with res.get_connection() as third:
            third.execute("BEGIN TRANSACTION")
            third.execute("DELETE FROM ops.step_one")
        with res.get_connection() as fourth:
            assert fourth.execute("SELECT count(*) FROM ops.step_one").fetchone() == (1,)
    finally:
        res.teardown_after_execution(None)
    assert res._anchor is None
    # Closed for good: another process can open it now.
    subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(tmp_path / 'w.duckdb')!r}).close()"],
        check=True,
    )


def test_a_catalog_change_in_a_step_does_not_block_the_publish_checkpoint(tmp_path):
    """Regression: the run's anchor connection kept its last result pending (an open transaction),
    so after a step's COMMENT ON every CHECKPOINT — the publish's first statement — failed with
    "other write transactions are active"."""
    import duckdb

    with writer(tmp_path / "w.duckdb"):
        pass  # an existing, up-to-date warehouse: opening it ends with a one-row SELECT
    res = _in_run(tmp_path)
    try:
        with res.get_connection() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS ops.commented (x INTEGER)")
            conn.execute("COMMENT ON TABLE ops.commented IS 'a step that documents its table'")
        other = duckdb.connect(str(tmp_path / "w.duckdb"))  # as the publish opens it, same process
        try:
            other.execute("CHECKPOINT")
        finally:
            other.close()
    finally:
        res.teardown_after_execution(None)


def test_outside_a_run_every_connection_opens_and_closes_the_file(tmp_path):
    from pipelines.resources import WarehouseResource

    res = WarehouseResource(database=str(tmp_path / "w.duckdb"), published_dir=str(tmp_path / "pub"))
    with res.get_connection() as conn:
        conn.execute("CREATE TABLE ops.t AS SELECT 1 AS x")
    assert res._anchor is None
    proc = _hold(tmp_path / "w.duckdb", 0.1)  # would fail on the lock if the file were still open
    proc.wait(timeout=30)
    assert proc.returncode == 0
