"""The one Dagster code location: `defs`, loaded by workspace.yaml."""

from __future__ import annotations

import dagster as dg

from pipelines.assets import dimensions, publishing
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings

_settings = Settings.from_env()

all_assets = [*dimensions.assets, *publishing.assets]

monitoring_job = dg.define_asset_job(
    "monitoring_job",
    selection=dg.AssetSelection.all(),
    description="Full refresh: catalog, profiles, calendar, returns, validation, marts, publish.",
)

defs = dg.Definitions(
    assets=all_assets,
    jobs=[monitoring_job],
    resources={"warehouse": WarehouseResource.from_settings(_settings)},
    # One writer process: DuckDB allows a single read-write process, so assets run in-process.
    executor=dg.in_process_executor,
)
