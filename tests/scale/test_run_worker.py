"""The warm run worker (pipelines/run_worker.py): county runs launched through `WarmRunLauncher`
are forked from a zygote that has the definitions imported, run exactly as `dagster api
execute_run` runs them, two at a time, are reported dead by pid when killed, interrupted on
terminate, served fresh definitions after a profile change, and fall back to a spawned run process
when the zygote cannot start. The run queue of the project's instance allows one run per working
database. Every test stops the zygotes it started."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher.base import WorkerStatus

from pipelines import run_worker
from pipelines.settings import PROJECT_ROOT
from tests.scale.conftest import COUNTIES, province_env
from tests.scale.test_partition_crash import readable

slow = pytest.mark.slow

LAUNCHER_YAML = (
    "telemetry:\n  enabled: false\nrun_launcher:\n  module: pipelines.run_worker\n  class: WarmRunLauncher\n"
)


def _zygote_pids(sock: Path) -> list[int]:
    """Processes whose command line serves `sock` (zygotes left behind would show here)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = b"pipelines.run_worker" in cmd and str(sock).encode() in cmd
        if ours and run_worker.process_alive(int(d.name)):
            found.append(int(d.name))
    return found


@pytest.fixture
def warm_env(province: Path, monkeypatch: pytest.MonkeyPatch):
    """This process pointed at the private province (the launcher and the zygote it starts inherit
    the environment); the instance uses the warm launcher. Teardown: no zygote left."""
    env = province_env(province) | {"WUCHUANG_EXECUTOR": "in_process"}
    for key in ("WUCHUANG_GX_DIR",):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        if key.startswith("WUCHUANG_") or key == "DAGSTER_HOME":
            monkeypatch.setenv(key, value)
    (province / "dagster_home" / "dagster.yaml").write_text(LAUNCHER_YAML)
    client = run_worker.WorkerClient(env=env)
    yield env
    client.stop()
    deadline = time.monotonic() + 10
    while _zygote_pids(client.path) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _zygote_pids(client.path)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"zygotes left behind: {left}"


def _instance(env: dict) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))


def _prepare(env: dict, codes: list[str]) -> list[str]:
    """Runs created as the daemon creates them (in a process with the province's definitions)."""
    from bench.province import _prepare_runs

    rows = _prepare_runs(env, codes)
    return [rows[c].pop(0)["run_id"] for c in codes]


def _wait(instance: dg.DagsterInstance, run_id: str, timeout: float = 600) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def _wait_started(instance: dg.DagsterInstance, run_id: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
        if steps:
            return
        time.sleep(0.1)
    raise AssertionError("the run did not start a step")


@slow
def test_two_county_runs_forked_from_the_warm_worker_succeed_side_by_side_and_publish(warm_env):
    ids = _prepare(warm_env, COUNTIES)
    with _instance(warm_env) as instance:
        assert isinstance(instance.run_launcher, run_worker.WarmRunLauncher)
        for run_id in ids:
            instance.launch_run(run_id, workspace=None)
        zygote = instance.run_launcher.client().ping()
        assert zygote is not None
        runs = [_wait(instance, run_id) for run_id in ids]
        assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
        assert {r.tags[run_worker.KIND_TAG] for r in runs} == {"warm"}
        pids = [int(r.tags[run_worker.PID_TAG]) for r in runs]
        assert len(set(pids)) == 2 and zygote["pid"] not in pids
        for run, pid in zip(runs, pids, strict=True):
            # the same run-worker events as `dagster api execute_run`: started and exited, by pid
            messages = [
                e.message for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
            ]
            assert f"Started process for run (pid: {pid})." in messages
            assert f"Process for run exited (pid: {pid})." in messages
        records = sorted(instance.get_run_records(), key=lambda r: r.start_time)
        assert records[1].start_time < records[0].end_time  # the two counties overlapped
    published = Path(warm_env["WUCHUANG_WAREHOUSE_DIR"]) / "published"
    counts = readable(published)
    assert set(counts) == set(COUNTIES) and all(n > 0 for n in counts.values())


@slow
def test_a_killed_run_worker_is_reported_gone_the_run_failed_and_the_county_reruns(warm_env):
    from dagster._daemon.monitoring.run_monitoring import monitor_started_run

    code, other = COUNTIES[1], COUNTIES[0]
    published = Path(warm_env["WUCHUANG_WAREHOUSE_DIR"]) / "published"
    with _instance(warm_env) as instance:
        launcher = instance.run_launcher
        first = _prepare(warm_env, [other])[0]
        instance.launch_run(first, workspace=None)
        assert _wait(instance, first).status == dg.DagsterRunStatus.SUCCESS
        before = readable(published)

        run_id = _prepare(warm_env, [code])[0]
        instance.launch_run(run_id, workspace=None)
        _wait_started(instance, run_id)
        time.sleep(2)
        run = instance.get_run_by_id(run_id)
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
        pid = int(run.tags[run_worker.PID_TAG])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while run_worker.process_alive(pid) and time.monotonic() < deadline:  # the zygote reaps it
            time.sleep(0.05)
        health = launcher.check_run_worker_health(instance.get_run_by_id(run_id))
        assert health.status == WorkerStatus.NOT_FOUND, str(health)
        # Dagster's run monitoring acts on it: the run is marked failed instead of staying started.
        record = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))[0]
        assert record.dagster_run.status == dg.DagsterRunStatus.STARTED
        monitor_started_run(instance, None, record, logging.getLogger("test"))
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        # Crash safety: whatever the moment, the published union is complete and unchanged.
        after_kill = readable(published)
        assert after_kill[other] == before[other]

        again = _prepare(warm_env, [code])[0]
        instance.launch_run(again, workspace=None)
        assert _wait(instance, again).status == dg.DagsterRunStatus.SUCCESS
    final = readable(published)
    assert final[other] == before[other] and final[code] > 0


@slow
def test_terminate_interrupts_the_run_worker_and_the_run_is_canceled(warm_env):
    with _instance(warm_env) as instance:
        run_id = _prepare(warm_env, [COUNTIES[0]])[0]
        instance.launch_run(run_id, workspace=None)
        _wait_started(instance, run_id)
        assert instance.run_launcher.terminate(run_id) is True
        run = _wait(instance, run_id, timeout=120)
        assert run.status == dg.DagsterRunStatus.CANCELED
        assert instance.run_launcher.terminate(run_id) is False  # finished: nothing to terminate


@slow
def test_a_new_county_profile_makes_the_worker_reload_and_its_partition_runs(warm_env, province: Path):
    from pipelines.sample.__main__ import synthetic_code, synthetic_profile_text

    with _instance(warm_env) as instance:
        client = instance.run_launcher.client()
        started = client.ensure_started()
        new = synthetic_code(3)
        base = (province / "profiles" / f"{COUNTIES[0]}.yaml").read_text(encoding="utf-8")
        (province / "profiles" / f"{new}.yaml").write_text(synthetic_profile_text(base, 3), encoding="utf-8")
        run_id = _prepare(warm_env, [new])[0]  # a partition the zygote's definitions do not know
        instance.launch_run(run_id, workspace=None)
        run = _wait(instance, run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS, run.status
        assert run.tags[run_worker.KIND_TAG] == "warm"
        again = client.ping()
        assert again is not None and again["pid"] == started["pid"]  # the same process, re-executed
        assert "re-executing with fresh imports" in client.log_path.read_text()
        # Nothing changed since: the next request is served without a reload.
        client.log_path.write_text("")
        run_id = _prepare(warm_env, [new])[0]
        instance.launch_run(run_id, workspace=None)
        assert _wait(instance, run_id).status == dg.DagsterRunStatus.SUCCESS
        log = client.log_path.read_text()
        # No reload unless code changed meanwhile (this checkout is shared: a re-exec may name files
        # of the pipelines package edited since, never the profiles folder, which did not change).
        for line in (x for x in log.splitlines() if "re-executing" in x):
            assert str(province / "profiles") not in line and "/pipelines/" in line, line


@slow
def test_without_a_worker_the_launcher_falls_back_to_a_spawned_run_process(warm_env, province: Path):
    home = province / "dagster_home"
    (home / "dagster.yaml").write_text(
        LAUNCHER_YAML
        + "  config:\n    preload: [dagster, no_such_module_for_the_test]\n    start_timeout: 120\n"
    )
    with _instance(warm_env) as instance:
        run_id = _prepare(warm_env, [COUNTIES[0]])[0]
        instance.launch_run(run_id, workspace=None)  # the zygote dies on its import: never lost
        run = instance.get_run_by_id(run_id)
        assert run.tags[run_worker.KIND_TAG] == "spawned"
        health = instance.run_launcher.check_run_worker_health(run)
        assert health.status in (WorkerStatus.RUNNING, WorkerStatus.NOT_FOUND)
        run = _wait(instance, run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        messages = [e.message for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]
        assert any("warm run worker unavailable" in (m or "") for m in messages)
        assert f"Started process for run (pid: {run.tags[run_worker.PID_TAG]})." in messages


def test_runs_not_launched_by_the_launcher_are_never_reported_dead(tmp_path: Path):
    """`make run` (dagster job execute) and the CLI run outside any launcher: run monitoring must
    not fail them because they carry no run worker pid."""
    launcher = run_worker.WarmRunLauncher()
    run = dg.DagsterRun(job_name="monitoring_job", run_id="r1", status=dg.DagsterRunStatus.STARTED)
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    dead = run.with_tags({run_worker.PID_TAG: "999999999", run_worker.START_TAG: "1"})
    assert launcher.check_run_worker_health(dead).status == WorkerStatus.NOT_FOUND
    alive = run.with_tags(
        {run_worker.PID_TAG: str(os.getpid()), run_worker.START_TAG: run_worker.process_start(os.getpid())}
    )
    assert launcher.check_run_worker_health(alive).status == WorkerStatus.RUNNING


def test_the_process_checks_tell_a_live_process_from_a_dead_or_reused_pid():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        start = run_worker.process_start(proc.pid)
        assert run_worker.process_alive(proc.pid, start)
        assert not run_worker.process_alive(proc.pid, str(int(start) + 1))  # a reused pid
        proc.kill()
        time.sleep(0.2)
        assert not run_worker.process_alive(proc.pid)  # a zombie until reaped: not alive
    finally:
        proc.wait()
    assert not run_worker.process_alive(proc.pid)


def test_the_code_fingerprint_changes_with_the_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "a.yaml").write_text("x")
    monkeypatch.setenv("WUCHUANG_PROFILES_DIR", str(profiles))
    first = run_worker.code_fingerprint()
    assert run_worker.code_fingerprint() == first
    (profiles / "b.yaml").write_text("y")
    second = run_worker.code_fingerprint()
    assert second != first
    os.utime(profiles / "a.yaml", ns=(1, 1))
    assert run_worker.code_fingerprint() != second


def test_environments_get_their_own_zygote_and_long_paths_a_short_socket(tmp_path: Path):
    a = {"WUCHUANG_RAW_DIR": "/x", "DAGSTER_HOME": str(tmp_path)}
    b = {"WUCHUANG_RAW_DIR": "/y", "DAGSTER_HOME": str(tmp_path)}
    assert run_worker.socket_path(tmp_path, a) != run_worker.socket_path(tmp_path, b)
    deep = tmp_path / ("d" * 120)
    assert len(str(run_worker.socket_path(deep, a))) <= run_worker.SOCKET_PATH_MAX


def _queue_job():
    @dg.op
    def noop() -> None:
        return None

    @dg.job(partitions_def=dg.StaticPartitionsDefinition(["511923", "519001"]))
    def partitioned_job():
        noop()

    @dg.job
    def plain_job():
        noop()

    return partitioned_job, plain_job


def test_the_project_queue_allows_one_run_per_working_database_two_at_a_time(tmp_path: Path):
    from dagster._core.remote_origin import (
        RegisteredCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.run_coordinator.base import SubmitRunContext
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / ".dagster_home" / "dagster.yaml").read_text())
    partitioned_job, plain_job = _queue_job()
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        assert isinstance(instance.run_launcher, run_worker.WarmRunLauncher)
        assert instance.run_launcher.supports_check_run_worker_health
        assert instance.run_monitoring_enabled
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, run_worker.WriterQueuedRunCoordinator)
        config = coordinator.get_run_queue_config()
        assert config.max_concurrent_runs == 2

        def submitted(job, partition=None):
            tags = {"dagster/partition": partition} if partition else {}
            origin = RemoteJobOrigin(
                RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("test"), "__repository__"), job.name
            )
            run = instance.create_run_for_job(job_def=job, tags=tags, remote_job_origin=origin)
            return coordinator.submit_run(SubmitRunContext(run, None))

        a1, a2 = submitted(partitioned_job, "511923"), submitted(partitioned_job, "511923")
        b = submitted(partitioned_job, "519001")
        u1, u2 = submitted(plain_job), submitted(plain_job)
        assert [r.status for r in (a1, a2, b, u1, u2)] == [dg.DagsterRunStatus.QUEUED] * 5
        assert [r.tags[run_worker.WRITES_TAG] for r in (a1, b, u1)] == ["511923", "519001", "warehouse"]

        def blocked(in_progress, candidate) -> bool:
            counter = TagConcurrencyLimitsCounter(config.tag_concurrency_limits, in_progress)
            return counter.is_blocked(candidate)

        assert blocked([a1], a2)  # two runs of one county: never
        assert not blocked([a1], b)  # two counties: side by side
        assert blocked([u1], u2)  # two unpartitioned runs (the single warehouse): never
        assert not blocked([a1], u1)
