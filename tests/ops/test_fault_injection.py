"""Fault injection: SIGKILL the pipeline at random points; nothing published is ever damaged, the
writer's database stays consistent, and the next run converges to the uninterrupted result."""

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse import publish
from tests.ops.conftest import RUN_TIME_COLUMNS, consistency_problems, folder_env, table_contents, write_raw

KILLS = 8
CHILD = [sys.executable, "-m", "tests.ops.pipeline_child"]


def start(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        CHILD, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(proc: subprocess.Popen, stage: str) -> bool:
    """Read the child's stage markers until `stage`; False if it ended first."""
    return any(line.strip() == f"stage {stage}" for line in proc.stdout)


def run_to_end(env: dict) -> None:
    proc = start(env)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "stage done" in out


def check_published(root: Path) -> str | None:
    """The published snapshot (if any) opens read-only, matches its manifest and is consistent."""
    pub = root / "warehouse" / "published"
    try:
        snap = publish.latest_snapshot(pub)
    except publish.NoSnapshotError:
        return None
    conn = publish.connect_readonly(pub)
    try:
        assert consistency_problems(conn, published=True) == []
        manifest = json.loads(snap.with_suffix(".json").read_text(encoding="utf-8"))
        assert publish.table_counts(conn) == manifest["tables"]
    finally:
        conn.close()
    return snap.name


def check_writer(root: Path) -> None:
    """The writer's database opens (WAL replayed, uncommitted work dropped) and is consistent."""
    db = root / "warehouse" / "warehouse.duckdb"
    if not db.exists():
        return
    conn = duckdb.connect(str(db), read_only=True)
    try:
        assert consistency_problems(conn, published=False) == []
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_at_random_points_never_corrupts_and_converges(tmp_path, small_corpus):
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    env_crashed, env_clean = folder_env(crashed), folder_env(clean)
    write_raw(small_corpus, clean / "raw")
    reference = start(env_clean)  # the uninterrupted run, meanwhile
    # Files reach the crashed side a few at a time, in the order they were received, so that kills
    # keep landing in the middle of loading (each run has new files to load).
    staging = tmp_path / "staging"
    write_raw(small_corpus, staging)
    arriving = sorted(
        (p for p in staging.rglob("*") if p.is_file() and p.name != "manifest.json"),
        key=lambda p: (p.stat().st_mtime_ns, p.relative_to(staging).as_posix()),
    )
    per_run = max(1, len(arriving) // KILLS)

    def deliver(n: int) -> None:
        for src in arriving[:n]:
            dst = crashed / "raw" / src.relative_to(staging)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        del arriving[:n]

    rng = random.Random(20120301)
    kills, modes = 0, []
    deadline = time.monotonic() + 180
    while kills < KILLS and time.monotonic() < deadline:
        mode = ["dimensions", "ingest", "publish", "ingest"][kills % 4]
        deliver(per_run)
        proc = start(env_crashed)
        if wait_for(proc, mode):
            # publishing takes tens of ms: aim inside it; dimensions and ingest last seconds
            time.sleep(rng.uniform(0, 0.08) if mode == "publish" else rng.uniform(0, 1.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            modes.append(mode)
        proc.communicate(timeout=60)
        check_published(crashed)
        check_writer(crashed)
    assert kills >= 8, f"only {kills} kills landed ({modes})"
    assert {"dimensions", "ingest", "publish"} <= set(modes)

    deliver(len(arriving))
    run_to_end(env_crashed)
    out, err = reference.communicate(timeout=300)
    assert reference.returncode == 0 and "stage done" in out, err[-3000:]
    assert check_published(crashed) and check_published(clean)
    assert not list((crashed / "warehouse" / "published").glob(".tmp-*"))

    # feedback_path is compared in test_feedback_is_written_for_files_loaded_before_a_crash
    exclude = RUN_TIME_COLUMNS | {"feedback_path"}
    got = table_contents(publish.latest_snapshot(crashed / "warehouse" / "published"), exclude=exclude)
    want = table_contents(publish.latest_snapshot(clean / "warehouse" / "published"), exclude=exclude)
    assert set(got) == set(want)
    assert [t for t in want if got[t] != want[t]] == [], "tables differ after the crashes"
    assert got["core.observation"], "the corpus must load some values"


@pytest.mark.slow
def test_feedback_is_written_for_files_loaded_before_a_crash(tmp_settings, small_corpus):
    from pipelines.assets.returns import ingest_return_files
    from pipelines.resources import WarehouseResource
    from pipelines.returns.load import ingest_returns

    write_raw(small_corpus, tmp_settings.raw_dir)
    bad = tmp_settings.raw_dir / "511923" / "sthjj" / "2012年5月报表.xlsx"
    bad.write_bytes(b"")  # an empty file: rejected, so its unit must get a feedback workbook
    warehouse = WarehouseResource.from_settings(tmp_settings)
    with warehouse.get_connection() as conn:
        ingest_returns(conn, tmp_settings, feedback=False)  # the process dies before the feedback step
    from pipelines.returns.feedback import pending_feedback

    with warehouse.get_connection() as conn:
        before = len(pending_feedback(conn))
    assert before > 0  # the crashed run left files with problems and no workbook
    ingest_return_files(warehouse)  # the next run
    conn = duckdb.connect(str(tmp_settings.warehouse_path), read_only=True)
    try:
        # Files with problems get their workbook; clean files get none (their registry row is the receipt).
        assert pending_feedback(conn) == []
        written = conn.execute(
            "SELECT count(*) FROM core.source_file WHERE feedback_path IS NOT NULL"
        ).fetchone()[0]
    finally:
        conn.close()
    assert written == before
    assert (tmp_settings.feedback_dir / "511923" / "sthjj").is_dir()
