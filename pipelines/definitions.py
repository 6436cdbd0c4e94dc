"""The one Dagster code location: `defs`, loaded by workspace.yaml.

Each domain module under `pipelines.assets` exposes `assets` (and optionally `checks`); add a
domain by adding its module to DOMAINS. Every domain asset (and the publishing asset) is
partitioned by county here, generically (`by_county`): a run with a partition key works on that
county alone (its own working database, see pipelines/warehouse/counties.py); a run without one
(`make run`, tests) works on the single warehouse as before. docs/scaling.md explains both.
"""

import os

import dagster as dg

from pipelines import jobs, schedules, sensors
from pipelines.assets import archive, dimensions, marts, plan_process, returns, validation
from pipelines.assets.publishing import build_published_warehouse
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings
from pipelines.warehouse.counties import county_codes, partitioned
from pipelines.workflow import notices_job

DOMAINS = [dimensions, returns, validation, marts, plan_process, archive]

_settings = Settings.from_env()
# Partition keys: the county codes of expectations/profiles/*.yaml, read when the code location
# loads (a new profile appears after a reload of the code location; docs/scaling.md).
counties = dg.StaticPartitionsDefinition(county_codes(_settings.profiles_dir))


def by_county(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The same assets, partitioned by county (dependencies map county to the same county) when the
    deployment runs county partitions (`partitioned`: more than one county profile, or
    WUCHUANG_COUNTY_PARTITIONS=on). A one-county deployment (`make run`) keeps unpartitioned assets:
    Dagster cannot run partitioned assets with dependencies without a partition key."""
    if not partitioned(_settings.profiles_dir):
        return list(assets)
    return [a.map_asset_specs(lambda spec: spec.replace_attributes(partitions_def=counties)) for a in assets]


_unpartitioned = [a for m in DOMAINS for a in m.assets]
domain_assets = by_county(_unpartitioned)
domain_checks = [c for m in DOMAINS for c in getattr(m, "checks", [])]
published_warehouse = by_county([build_published_warehouse(_unpartitioned)])[0]


def _executor() -> dg.ExecutorDefinition:
    """WUCHUANG_EXECUTOR: `in_process` (default; one process, the single-warehouse mode),
    `multiprocess` (each step in its own process; county runs in parallel) or `dask` (steps on a
    dask.distributed cluster at WUCHUANG_DASK_SCHEDULER, e.g. tcp://10.0.0.5:8786; workers started
    with `--nthreads 1`, see docs/scaling.md)."""
    kind = os.environ.get("WUCHUANG_EXECUTOR", "in_process").strip().lower()
    if kind == "multiprocess":
        # forkserver: step processes fork from one server that imported the definitions once,
        # instead of every step importing them again (seconds per step).
        return dg.multiprocess_executor.configured({"start_method": {"forkserver": {}}})
    if kind == "dask":
        from dagster_dask import dask_executor

        address = os.environ.get("WUCHUANG_DASK_SCHEDULER", "")
        if not address:
            raise ValueError(
                "WUCHUANG_EXECUTOR=dask 需要 WUCHUANG_DASK_SCHEDULER（调度器地址） / "
                "WUCHUANG_EXECUTOR=dask needs WUCHUANG_DASK_SCHEDULER (the scheduler address)"
            )
        return dask_executor.configured({"cluster": {"existing": {"address": address}}})
    if kind not in ("", "in_process"):
        raise ValueError(
            f"未知的 WUCHUANG_EXECUTOR：{kind}（可选 in_process、multiprocess、dask） / "
            f"unknown WUCHUANG_EXECUTOR: {kind} (in_process, multiprocess or dask)"
        )
    return dg.in_process_executor


# Automation (pipelines/jobs.py, sensors.py, schedules.py): the full refresh `monitoring_job`, a
# re-run job for chosen files or a period, the drop-folder sensor and the monthly schedule.
monitoring_job = jobs.monitoring_job
rerun_jobs, rerun_sensors = jobs.jobs, jobs.sensors
if partitioned(_settings.profiles_dir):
    _rerun, _followup = jobs.build_rerun(counties)
    rerun_jobs, rerun_sensors = [monitoring_job, _rerun], [_followup]

defs = dg.Definitions(
    assets=[*domain_assets, published_warehouse],
    asset_checks=domain_checks,
    jobs=[*rerun_jobs, *notices_job.jobs],
    sensors=[*sensors.sensors, *rerun_sensors],
    schedules=[*schedules.schedules, *notices_job.schedules],  # + notices: fill and send the outbox
    resources={"warehouse": WarehouseResource.from_settings(_settings)},
    # Single-warehouse runs: one writer process, assets in-process. County runs may use the
    # multiprocess or dask executor (each county its own database file).
    executor=_executor(),
)
