"""The published snapshot: the last step of every run, so readers see only complete runs."""

import dagster as dg

from pipelines.resources import WarehouseResource


def build_published_warehouse(upstream: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """The publishing asset, downstream of every other asset so it runs last."""
    deps = [key for a in upstream for key in a.keys]

    @dg.asset(
        group_name="publishing",
        kinds={"duckdb"},
        deps=deps,
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

    return published_warehouse
