"""The office's tools in a deployment with county partitions: `wuchuang ingest` (all counties, one
county, chosen files, a re-run of files or of a period), `wuchuang publish`, the partitioned
`rerun_returns_job` and its follow-up, and a browser upload's worker — each works on the county's
own working database and publishes that county; none writes the single warehouse."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import publish
from tests.scale.conftest import COUNTIES, province_env

pytestmark = [pytest.mark.slow]
A, B = COUNTIES


def wuchuang(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], env=env, capture_output=True, text=True, timeout=900
    )


def published_counts(root: Path) -> dict[str, int]:
    conn = publish.connect_readonly(root / "warehouse" / "published")
    try:
        return dict(conn.execute("SELECT county_code, count(*) FROM core.observation GROUP BY 1").fetchall())
    finally:
        conn.close()


def files_of(root: Path, code: str) -> list[str]:
    """Return files of the county (not its task ledger), as paths relative to the raw folder."""
    raw = root / "raw"
    return sorted(p.relative_to(raw).as_posix() for p in (raw / code).rglob("*.xlsx") if "台账" not in p.name)


def county_rows(root: Path, code: str, sql: str):
    conn = duckdb.connect(str(root / "warehouse" / "counties" / code / "warehouse.duckdb"), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, province_source):
    """The province after `wuchuang ingest --county A` (B untouched) — shared by the tests below."""
    import shutil

    root = tmp_path_factory.mktemp("county-tools")
    shutil.copytree(province_source / "raw", root / "raw")
    shutil.copytree(province_source / "profiles", root / "profiles")
    env = province_env(root) | {"WUCHUANG_WORKFLOW_DIR": str(root / "workflow")}
    done = wuchuang(env, "ingest", "--county", A)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root, env, done.stdout


def test_ingest_of_one_county_writes_and_publishes_only_that_county(ingested):
    root, _, out = ingested
    assert f"县 county {A}" in out and f"县 county {B}" not in out
    assert not (root / "warehouse" / "warehouse.duckdb").exists()  # never the single warehouse
    assert (root / "warehouse" / "counties" / A / "warehouse.duckdb").is_file()
    assert not (root / "warehouse" / "counties" / B / "warehouse.duckdb").exists()
    assert set(published_counts(root)) == {A}


def test_rerun_of_a_file_forgets_and_reads_it_again_in_its_county(ingested):
    root, env, _ = ingested
    rel = files_of(root, A)[0]
    before = county_rows(root, A, f"SELECT file_id FROM core.source_file WHERE path = '{rel}'")
    assert len(before) == 1
    done = wuchuang(env, "ingest", "--rerun", rel)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "清除 forgot 1" in done.stdout and f"县 county {A}" in done.stdout
    after = county_rows(root, A, f"SELECT file_id FROM core.source_file WHERE path = '{rel}'")
    assert len(after) == 1
    assert not (root / "warehouse" / "warehouse.duckdb").exists()


def test_files_outside_every_county_folder_are_refused_in_both_languages(ingested, tmp_path):
    root, env, _ = ingested
    loose = root / "raw" / "loose.xlsx"
    loose.write_bytes((root / "raw" / files_of(root, A)[0]).read_bytes())
    try:
        done = wuchuang(env, "ingest", "raw/loose.xlsx".replace("raw/", str(root / "raw") + "/"))
    finally:
        loose.unlink()
    assert done.returncode != 0
    assert "不在任何县的文件夹" in done.stderr and "outside any county's folder" in done.stderr
    wrong = wuchuang(env, "ingest", "--county", B, str(root / "raw" / files_of(root, A)[0]))
    assert wrong.returncode != 0 and f"county {B}'s folder" in wrong.stderr


def test_unknown_county_and_a_period_nobody_has_are_refused(ingested):
    _, env, _ = ingested
    done = wuchuang(env, "ingest", "--county", "999999")
    assert done.returncode != 0 and "未知的县代码" in done.stderr and "unknown county 999999" in done.stderr
    none = wuchuang(env, "ingest", "--period", "1999-01", "--county", A)
    assert none.returncode != 0 and "no registered file for period 1999-01" in none.stderr


def test_publish_in_county_mode_publishes_each_county_with_a_database(ingested):
    root, env, _ = ingested
    before = publish.latest_snapshot(root / "warehouse" / "published").name
    done = wuchuang(env, "publish")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"published county {A}" in done.stdout
    assert f"{B}: 尚无工作数据库" in done.stdout  # skipped, said so
    assert publish.latest_snapshot(root / "warehouse" / "published").name != before
    assert set(published_counts(root)) == {A}


def test_the_partitioned_rerun_job_refuses_another_countys_files_and_follows_up_its_county(ingested):
    """In a process whose definitions load in county mode (as the daemon's code server does)."""
    root, env, _ = ingested
    script = f"""
import dagster as dg
from pipelines import definitions as d
job = d.defs.resolve_job_def("rerun_returns_job")
assert job.partitions_def is not None
inst = dg.DagsterInstance.get()
bad = job.execute_in_process(
    instance=inst, partition_key="{A}", raise_on_error=False,
    run_config={{"ops": {{"rerun_returns": {{"config": {{"files": ["{files_of(root, B)[0]}"]}}}}}}}},
)
assert not bad.success
msg = [e for e in bad.all_events if e.is_step_failure][0].step_failure_data.error.message
assert "不属于本次运行的县" in msg and "outside the run's county {A}" in msg, msg
good = job.execute_in_process(
    instance=inst, partition_key="{A}", raise_on_error=False,
    run_config={{"ops": {{"rerun_returns": {{"config": {{"files": ["{files_of(root, A)[1]}"]}}}}}}}},
)
assert good.success
sensor = d.defs.resolve_sensor_def("rerun_followup_sensor")
run = inst.get_run_by_id(good.run_id)
event = [e for e in inst.all_logs(good.run_id) if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_SUCCESS"][0]
ctx = dg.build_run_status_sensor_context(
    sensor_name="rerun_followup_sensor", dagster_event=event.dagster_event, dagster_instance=inst, dagster_run=run
)
req = sensor(ctx)
print("FOLLOWUP", req.partition_key)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"FOLLOWUP {A}" in done.stdout
    assert not (root / "warehouse" / "warehouse.duckdb").exists()


def test_a_browser_upload_is_ingested_into_its_countys_database(ingested):
    root, env, _ = ingested
    src = root / "raw" / files_of(root, A)[2]
    rel = f"{A}/upload-test/{src.name}"
    dest = root / "raw" / rel
    dest.parent.mkdir(parents=True)
    data = src.read_bytes().replace(b"", b"")
    dest.write_bytes(data)
    script = f"""
from pathlib import Path
from pipelines.uploads import SavedUpload
from pipelines.workflow import review, upload_worker
from pipelines.workflow.store import Store
store = Store.default()
saved = SavedUpload(Path({str(dest)!r}), {rel!r}, {len(data)}, {hashlib.sha256(data).hexdigest()!r})
uid = review.register_upload(store, saved, "{A}", "upload-test", "{A}-upload-test", "2012-03", "clerk")
rc = upload_worker.run(uid)
row = review.upload_row(store, uid)
print("RESULT", rc, row["ingest_state"], row["result_status"], row["ingest_message"])
"""
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT")][0]
    assert line.startswith("RESULT 0 published"), line  # a resubmission of known content: duplicate
    assert not (root / "warehouse" / "warehouse.duckdb").exists()


def test_an_upload_outside_every_county_fails_with_a_reason(ingested):
    root, env, _ = ingested
    script = f"""
from pathlib import Path
from pipelines.uploads import SavedUpload
from pipelines.workflow import review, upload_worker
from pipelines.workflow.store import Store
store = Store.default()
saved = SavedUpload(Path("/nonexistent/x.xlsx"), "elsewhere/x.xlsx", 1, "0" * 64)
uid = review.register_upload(store, saved, "{A}", "x", "{A}-x", "2012-04", "clerk")
rc = upload_worker.run(uid)
row = review.upload_row(store, uid)
print("RESULT", rc, row["ingest_state"], row["ingest_message"])
"""
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT")][0]
    assert "RESULT 2 failed" in line and "outside every county's folder" in line
