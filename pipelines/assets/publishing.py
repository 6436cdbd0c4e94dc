"""The published snapshot: the last step of every run, so readers see only complete runs."""

import dagster as dg

from pipelines.resources import WarehouseResource


@dg.asset(
    group_name="publishing",
    kinds={"duckdb"},
    deps=[dg.AssetKey("reporting_calendar")],
    description="Immutable read-only copy of the warehouse for dashboards and SQL (atomic rename).",
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    path = warehouse.publish()
    context.log.info(f"published {path.name}")
    return dg.MaterializeResult(
        metadata={
            "snapshot": dg.MetadataValue.path(str(path)),
            "size_bytes": dg.MetadataValue.int(path.stat().st_size),
        }
    )


assets = [published_warehouse]
