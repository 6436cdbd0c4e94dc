"""County partitions end to end with the real pipeline: two counties run at the same time in
separate processes (multiprocess executor), each writes only its own database, a new file
re-runs only its county, and the drop-folder sensor asks for exactly the affected county."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.instance.ref import InstanceRef

from pipelines.warehouse import publish
from tests.scale.conftest import COUNTIES, province_env

DAGSTER = str(Path(sys.executable).with_name("dagster"))


def launch(env: dict, code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [DAGSTER, "job", "execute", "-m", "pipelines.definitions", "-j", "monitoring_job",
         "--tags", json.dumps({"dagster/partition": code})],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finish(proc: subprocess.Popen, timeout: float = 900) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


def run_records(home: Path):
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        records = instance.get_run_records()
        steps = {}
        for rec in records:
            events = instance.all_logs(rec.dagster_run.run_id)
            steps[rec.dagster_run.run_id] = {
                e.dagster_event.step_key: e.dagster_event.pid
                for e in events
                if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_START"
            }
        return records, steps


def counts(published: Path) -> dict[str, int]:
    conn = publish.connect_readonly(published)
    try:
        return dict(conn.execute("SELECT county_code, count(*) FROM core.observation GROUP BY 1").fetchall())
    finally:
        conn.close()


@pytest.mark.slow
def test_two_county_partitions_run_in_parallel_in_separate_processes(province: Path):
    env = province_env(province)
    env["WUCHUANG_EXECUTOR"] = "multiprocess"
    # Hold one file of county 2 back, to drop it in later.
    later = sorted(p for p in (province / "raw" / COUNTIES[1]).rglob("*.xlsx") if "台账" not in p.name)[0]
    held = province / "held" / later.name
    held.parent.mkdir()
    shutil.move(later, held)

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])):
        pass  # create the instance's storage once, before two processes open it at the same moment
    procs = [launch(env, code) for code in COUNTIES]
    for p in procs:
        finish(p)

    records, steps = run_records(province / "dagster_home")
    assert sorted(r.dagster_run.tags["dagster/partition"] for r in records) == sorted(COUNTIES)
    (a, b) = records
    # The two runs overlapped in time ...
    assert a.start_time < b.end_time and b.start_time < a.end_time
    # ... and every step ran in a process of its own (multiprocess executor), none shared by the runs.
    pids = [set(s.values()) for s in steps.values()]
    assert all(len(p) > 1 for p in pids) and not (pids[0] & pids[1])
    # Each county wrote only its own working database, and nothing of the other county is in it
    # (no row of any table names the other county's code: tasks, ledgers, files, units …).
    for code in COUNTIES:
        other = next(c for c in COUNTIES if c != code)
        db = province / "warehouse" / "counties" / code / "warehouse.duckdb"
        conn = duckdb.connect(str(db), read_only=True)
        try:
            assert conn.execute("SELECT DISTINCT county_code FROM core.observation").fetchall() == [(code,)]
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
            for schema, table in tables:
                text = [
                    c
                    for c, typ, *_ in conn.execute(f'DESCRIBE "{schema}"."{table}"').fetchall()
                    if typ == "VARCHAR"
                ]
                if not text:
                    continue
                where = " OR ".join(f"contains(\"{c}\", '{other}')" for c in text)
                n = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE {where}').fetchone()[0]
                assert n == 0, f"{code}: {schema}.{table} holds {n} rows of county {other}"
        finally:
            conn.close()
    assert not (province / "warehouse" / "warehouse.duckdb").exists()
    published = province / "warehouse" / "published"
    before = counts(published)
    assert set(before) == set(COUNTIES) and all(n > 0 for n in before.values())
    manifest = publish.snapshot_manifest(published)
    untouched = manifest["counties"][COUNTIES[0]]

    # A new file for county 2: the sensor asks for county 2 alone, and that run republishes only it.
    from pipelines.sensors import county_run_requests, detect_changes, scan_raw_folder

    old = scan_raw_folder(province / "raw")
    shutil.move(held, later)
    changes = detect_changes(old, scan_raw_folder(province / "raw"), settle_seconds=0)
    requests, stray = county_run_requests(changes, set(COUNTIES))
    assert [r.partition_key for r in requests] == [COUNTIES[1]] and not stray
    finish(launch(env, requests[0].partition_key))
    manifest = publish.snapshot_manifest(published)
    assert manifest["counties"][COUNTIES[0]] == untouched  # county 1 not re-exported
    after = counts(published)
    assert after[COUNTIES[0]] == before[COUNTIES[0]]
    assert after[COUNTIES[1]] > before[COUNTIES[1]]
