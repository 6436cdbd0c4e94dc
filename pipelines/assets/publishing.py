"""The published snapshot: the last step of every run, so readers see only complete runs."""

import json

import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.warehouse.publish import PublishError


def build_published_warehouse(upstream: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """The publishing asset, downstream of every other asset so it runs last (and not at all when
    an upstream asset or a blocking check fails: readers keep the last good snapshot)."""
    deps = [key for a in upstream for key in a.keys]

    @dg.asset(
        group_name="publishing",
        kinds={"duckdb"},
        deps=deps,
        description="Immutable read-only copy of the warehouse for dashboards and SQL (verified, atomic rename).",
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        try:
            path = warehouse.publish()
        except PublishError as exc:
            raise dg.Failure(str(exc)) from None
        context.log.info(f"published {path.name}")
        try:
            tables = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["tables"]
        except (OSError, ValueError, KeyError):
            tables = {}
        return dg.MaterializeResult(
            metadata={
                "snapshot": dg.MetadataValue.path(str(path)),
                "size_bytes": dg.MetadataValue.int(path.stat().st_size),
                "tables": dg.MetadataValue.int(len(tables)),
                "rows": dg.MetadataValue.int(sum(tables.values())),
            }
        )

    return published_warehouse
