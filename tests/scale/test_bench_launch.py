"""The province benchmark launches county runs as Dagster's run launcher does (runs created in the
instance, each executed by a spawned `python -m dagster api execute_run`), two at a time, and
measures the memory of all runs together."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from tests.scale.conftest import COUNTIES, province_env

pytestmark = [pytest.mark.slow]


def test_bench_runs_two_county_partitions_at_a_time_through_the_run_launcher_path(province: Path):
    from dagster._core.instance.ref import InstanceRef

    from bench.province import _run_counties

    env = province_env(province) | {"WUCHUANG_EXECUTOR": "in_process"}
    times, peak_mb = _run_counties(env, COUNTIES, parallel=2)
    assert len(times) == 2 and all(t > 0 for t in times)
    assert peak_mb > 100  # two Python processes with Dagster and DuckDB loaded were seen
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(COUNTIES)
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        starts = sorted((rec.start_time, rec.end_time) for rec in instance.get_run_records())
    assert starts[1][0] < starts[0][1]  # the second county started before the first ended
    for code in COUNTIES:
        assert (province / "warehouse" / "counties" / code / "warehouse.duckdb").is_file()


def test_a_failed_county_run_is_reported_not_counted(province: Path):
    from bench.province import _run_counties

    env = province_env(province) | {"WUCHUANG_EXECUTOR": "in_process"}
    with pytest.raises(RuntimeError, match="999999"):
        _run_counties(env, ["999999"], parallel=1)  # no such county partition
