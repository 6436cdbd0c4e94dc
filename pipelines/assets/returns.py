"""Departmental returns: the raw drop folder ingested into `core`, with feedback workbooks."""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from pipelines.assets.dimensions import county_profiles, reporting_calendar
from pipelines.resources import WarehouseResource
from pipelines.returns.load import IngestSummary, ingest_returns
from pipelines.settings import Settings


def ingest_return_files(warehouse: WarehouseResource, paths: Iterable[Path] | None = None) -> IngestSummary:
    """Ingest the given files (None: the whole raw folder) and write their feedback.

    For the folder sensor and the CLI: opens the single writer connection and closes it.
    """
    settings = Settings.from_env()
    settings.ensure_dirs()
    with warehouse.get_connection() as conn:
        return ingest_returns(conn, settings, paths)


@dg.asset(
    group_name="returns",
    kinds={"duckdb"},
    deps=[reporting_calendar, county_profiles],
    description=(
        "Departmental returns from data/raw/: file registry, returns with revisions and timeliness, "
        "observations with lineage to the cell, quarantine; feedback workbooks for the departments."
    ),
)
def departmental_returns(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    paths = None  # the whole raw folder
    if warehouse.county:  # a county partition: only <raw>/<county>/
        from pipelines.warehouse.counties import county_raw_files

        paths = county_raw_files(Settings.from_env().raw_dir, warehouse.county)
    summary = ingest_return_files(warehouse, paths)
    context.log.info("\n".join(summary.lines()))  # one log event (each is a write to the event log)
    metadata = {k: dg.MetadataValue.int(v) for k, v in summary.as_dict().items()}
    return dg.MaterializeResult(metadata=metadata)


assets = [departmental_returns]
