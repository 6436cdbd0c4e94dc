"""The one Dagster code location: `defs`, loaded by workspace.yaml.

Each domain module under `pipelines.assets` exposes `assets` (and optionally `checks`); add a
domain by adding its module to DOMAINS.
"""

import dagster as dg

from pipelines import jobs, schedules, sensors
from pipelines.assets import archive, dimensions, marts, plan_process, returns, validation
from pipelines.assets.publishing import build_published_warehouse
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings
from pipelines.workflow import notices_job

DOMAINS = [dimensions, returns, validation, marts, plan_process, archive]

_settings = Settings.from_env()
domain_assets = [a for m in DOMAINS for a in m.assets]
domain_checks = [c for m in DOMAINS for c in getattr(m, "checks", [])]
published_warehouse = build_published_warehouse(domain_assets)

# Automation (pipelines/jobs.py, sensors.py, schedules.py): the full refresh `monitoring_job`, a
# re-run job for chosen files or a period, the drop-folder sensor and the monthly schedule.
monitoring_job = jobs.monitoring_job

defs = dg.Definitions(
    assets=[*domain_assets, published_warehouse],
    asset_checks=domain_checks,
    jobs=[*jobs.jobs, *notices_job.jobs],
    sensors=[*sensors.sensors, *jobs.sensors],
    schedules=[*schedules.schedules, *notices_job.schedules],  # + notices: fill and send the outbox
    resources={"warehouse": WarehouseResource.from_settings(_settings)},
    # One writer process: DuckDB allows a single read-write process, so assets run in-process.
    executor=dg.in_process_executor,
)
