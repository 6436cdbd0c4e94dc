"""Re-running files or a period (forget, ingest again) gives the same warehouse; bad targets are refused."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.assets.returns import ingest_return_files
from pipelines.jobs import RerunTargetError, forget_files, rerun_returns, rerun_returns_job, rerun_targets
from pipelines.resources import WarehouseResource
from tests.ops.conftest import table_contents, write_raw

FILES = 4


@pytest.fixture(scope="module")
def loaded_once(tmp_path_factory, small_corpus):
    """A few files of the small corpus ingested once per module: (raw folder, warehouse file)."""
    from pipelines.settings import Settings

    root = tmp_path_factory.mktemp("loaded")
    staging = root / "staging"
    write_raw(small_corpus, staging)
    with pytest.MonkeyPatch.context() as mp:
        for var, sub in (("RAW", "raw"), ("WAREHOUSE", "warehouse"), ("FEEDBACK", "feedback"), ("GX", "gx")):
            mp.setenv(f"WUCHUANG_{var}_DIR", str(root / sub))
        settings = Settings.from_env()
        settings.ensure_dirs()
        for src in sorted(staging.rglob("*.xlsx"))[:FILES]:
            dst = settings.raw_dir / src.relative_to(staging)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        ingest_return_files(WarehouseResource.from_settings(settings))
    return settings.raw_dir, settings.warehouse_path


@pytest.fixture
def loaded(tmp_settings, loaded_once):
    """This test's own copy of the loaded raw folder and warehouse."""
    raw, db = loaded_once
    shutil.copytree(raw, tmp_settings.raw_dir, copy_function=shutil.copy2, dirs_exist_ok=True)
    shutil.copy2(db, tmp_settings.warehouse_path)
    return WarehouseResource.from_settings(tmp_settings)


def core_contents(settings) -> dict:
    return table_contents(settings.warehouse_path, schemas=("core",))


def registered(settings) -> list[tuple[str, str]]:
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return conn.execute("SELECT path, file_id FROM core.source_file ORDER BY 1").fetchall()
    finally:
        conn.close()


def test_rerun_of_one_file_changes_nothing_but_run_times(tmp_settings, loaded):
    before = core_contents(tmp_settings)
    path = registered(tmp_settings)[0][0]
    forgotten, summary = rerun_returns(loaded, [path], None)
    assert forgotten == 1
    assert summary.as_dict()
    assert core_contents(tmp_settings) == before


def test_rerun_of_a_period_rereads_every_file_of_that_period(tmp_settings, loaded):
    before = core_contents(tmp_settings)
    conn = duckdb.connect(str(tmp_settings.warehouse_path), read_only=True)
    period = conn.execute("SELECT min(period_code) FROM core.submission").fetchone()[0]
    expected = conn.execute(
        "SELECT count(DISTINCT file_id) FROM core.submission WHERE period_code = ?", [period]
    ).fetchone()[0]
    conn.close()
    forgotten, _ = rerun_returns(loaded, [], period)
    assert forgotten >= expected >= 1
    assert core_contents(tmp_settings) == before


def test_forgetting_without_reingesting_unregisters_and_the_next_ingest_restores(tmp_settings, loaded):
    """A crash between the two steps of a re-run loses nothing: the next ingest picks the file up."""
    before = core_contents(tmp_settings)
    path, file_id = registered(tmp_settings)[0]
    with loaded.get_connection() as conn:
        assert forget_files(conn, [file_id]) == 1
    assert path not in [p for p, _ in registered(tmp_settings)]
    ingest_return_files(loaded)
    assert core_contents(tmp_settings) == before


def test_rerun_job_runs_from_run_config(tmp_settings, loaded):
    path = registered(tmp_settings)[0][0]
    result = rerun_returns_job.execute_in_process(
        run_config={"ops": {"rerun_returns": {"config": {"files": [path]}}}},
        resources={"warehouse": loaded},
        raise_on_error=False,
    )
    assert result.success
    assert path in [p for p, _ in registered(tmp_settings)]


def test_rerun_job_without_a_target_fails_with_a_message(tmp_settings, loaded):
    result = rerun_returns_job.execute_in_process(resources={"warehouse": loaded}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "files" in failure.step_failure_data.error.message


@pytest.mark.parametrize(
    ("files", "period", "match"),
    [
        (["no/such.xlsx"], None, "not found in the raw folder"),
        (["../outside.xlsx"], None, "must not contain"),
        (["/etc/passwd"], None, "not inside the raw folder"),
        ([], "1999-01", "no registered file for period"),
    ],
)
def test_bad_rerun_targets_are_refused(tmp_settings, loaded, files, period, match):
    with loaded.get_connection() as conn, pytest.raises(RerunTargetError, match=match):
        rerun_targets(conn, Path(tmp_settings.raw_dir), files, period)


def test_runs_of_a_killed_cli_process_are_marked_failed(tmp_path, monkeypatch):
    from pipelines import cli

    with dg.instance_for_test() as instance:
        job = rerun_returns_job
        dead = instance.create_run_for_job(job, tags={"wuchuang/pid": "999999999"})
        alive = instance.create_run_for_job(job, tags={"wuchuang/pid": "1"})
        for run in (dead, alive):
            instance.handle_run_event(
                run.run_id,
                dg.DagsterEvent(
                    event_type_value=dg.DagsterEventType.RUN_START.value, job_name=job.name, message="start"
                ),
            )
        cli._mark_dead_cli_runs(instance)
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
