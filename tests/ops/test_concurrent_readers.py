"""Readers hammering the published snapshot while ingests and publishes run: zero errors."""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipelines import dimensions
from pipelines.assets.returns import ingest_return_files
from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.resources import WarehouseResource
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse import publish
from tests.ops.conftest import write_raw
from tests.ops.reader_child import hammer

READER_PROCESSES = 3
READER_THREADS = 2
BATCHES = 4


@pytest.mark.slow
def test_readers_never_fail_while_ingests_and_publishes_run(tmp_settings, small_corpus, tmp_path):
    staging = tmp_path / "staging"
    write_raw(small_corpus, staging)
    files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != "manifest.json")
    batches = [files[i::BATCHES] for i in range(BATCHES)]

    warehouse = WarehouseResource.from_settings(tmp_settings)
    catalog = load_catalog(tmp_settings.standards_dir)
    profiles = load_profiles(tmp_settings.profiles_dir, catalog)
    with warehouse.get_connection() as conn:
        for rows in (
            dimensions.catalog_rows(catalog),
            dimensions.profile_rows(catalog, profiles),
            dimensions.calendar_rows(profiles),
        ):
            dimensions.write_rows(conn, rows)
    warehouse.publish()

    stop_file = tmp_path / "stop"
    stop_event = threading.Event()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ops.reader_child", str(tmp_settings.published_dir), str(stop_file)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(READER_PROCESSES)
    ]
    results: list[dict] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(hammer(tmp_settings.published_dir, stop_event.is_set)), daemon=True
        )
        for _ in range(READER_THREADS)
    ]
    for t in threads:
        t.start()

    publishes = 1
    try:
        for batch in batches:
            for src in batch:
                dst = tmp_settings.raw_dir / src.relative_to(staging)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
            ingest_return_files(warehouse, None)
            for _ in range(2):  # publish more often than `keep`, so snapshots are pruned under readers
                warehouse.publish()
                publishes += 1
    finally:
        stop_file.touch()
        stop_event.set()
        for t in threads:
            t.join(timeout=60)
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))

    assert len(results) == READER_PROCESSES + READER_THREADS
    assert [r["errors"] for r in results] == [[]] * len(results)
    assert sum(r["regressions"] for r in results) == 0
    assert all(r["iterations"] > 0 for r in results)
    assert sum(r["iterations"] for r in results) >= 20, results
    snaps = list(tmp_settings.published_dir.glob("warehouse-*.duckdb"))
    assert len(snaps) <= tmp_settings.keep_snapshots
    conn = publish.connect_readonly(tmp_settings.published_dir)
    try:
        assert conn.execute("SELECT count(*) FROM core.source_file").fetchone()[0] == len(files)
    finally:
        conn.close()
    assert publishes == 1 + 2 * BATCHES
    assert Path(tmp_settings.published_dir / "CURRENT").is_file()
    total = sum(r["iterations"] for r in results)
    sys.stderr.write(f"readers: {len(results)}, reads: {total}, publishes: {publishes}, errors: 0\n")
