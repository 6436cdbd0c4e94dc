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
