"""The same county run on a real dask.distributed cluster (dagster-dask executor): a scheduler and
two single-threaded worker processes started by scripts/dask-cluster.sh; every step of the run
executes inside a worker process, and the union is published as with the other executors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse import publish
from tests.scale.conftest import COUNTIES, province_env

DAGSTER = str(Path(sys.executable).with_name("dagster"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_county_run_on_a_two_worker_dask_cluster(province: Path):
    from distributed import Client

    env = province_env(province)
    env["WUCHUANG_VENV_BIN"] = str(Path(sys.executable).parent)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    cluster = subprocess.Popen(
        ["bash", str(PROJECT_ROOT / "scripts" / "dask-cluster.sh"), "2", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                client = Client(address, timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "dask scheduler did not start"
                time.sleep(1)
        with client:
            client.wait_for_workers(2, timeout=120)
            worker_pids = set(client.run(os.getpid).values())
            assert len(worker_pids) == 2
            with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])):
                pass
            run_env = {**env, "WUCHUANG_EXECUTOR": "dask", "WUCHUANG_DASK_SCHEDULER": address}
            code = COUNTIES[1]
            done = subprocess.run(
                [DAGSTER, "job", "execute", "-m", "pipelines.definitions", "-j", "monitoring_job",
                 "--tags", json.dumps({"dagster/partition": code})],
                env=run_env, capture_output=True, text=True, timeout=1200,
            )  # fmt: skip
            assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
            with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as instance:
                (record,) = instance.get_run_records()
                step_pids = {
                    e.dagster_event.pid
                    for e in instance.all_logs(record.dagster_run.run_id)
                    if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_START"
                }
            assert step_pids and step_pids <= worker_pids  # every step ran on a dask worker
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        cluster.wait(timeout=60)
    conn = publish.connect_readonly(province / "warehouse" / "published")
    try:
        assert conn.execute("SELECT DISTINCT county_code FROM core.observation").fetchall() == [(code,)]
    finally:
        conn.close()
