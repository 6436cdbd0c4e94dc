"""Dimension assets: the standards catalog, county profiles and reporting calendar in `dim`."""

import dagster as dg

from pipelines import dimensions
from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings


def _load():
    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    return catalog, load_profiles(settings.profiles_dir, catalog)


def _result(counts: dict[str, int], rewritten: bool) -> dg.MaterializeResult:
    meta: dict = {name: dg.MetadataValue.int(n) for name, n in counts.items()}
    meta["rewritten"] = dg.MetadataValue.bool(rewritten)  # False: the tables already held these rows
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    group_name="dimensions",
    kinds={"duckdb"},
    description="Campaigns, editions, units, indicators, requirements (all 147) and reference series, validated.",
)
def standards_catalog(warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog, _ = _load()
    with warehouse.get_connection() as conn:
        counts, rewritten = dimensions.write_rows_if_changed(
            conn, "standards_catalog", dimensions.catalog_rows(catalog)
        )
    return _result(counts, rewritten)


@dg.asset(
    group_name="dimensions",
    kinds={"duckdb"},
    deps=[standards_catalog],
    description="Counties, org hierarchy, campaign programmes, working groups, phases, milestones, assignments, resolved thresholds.",
)
def county_profiles(warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog, profiles = _load()
    with warehouse.get_connection() as conn:
        counts, rewritten = dimensions.write_rows_if_changed(
            conn, "county_profiles", dimensions.profile_rows(catalog, profiles)
        )
    return _result(counts, rewritten)


@dg.asset(
    group_name="dimensions",
    kinds={"duckdb"},
    deps=[county_profiles],
    description="Reporting periods and due dates in Chinese working days.",
)
def reporting_calendar(warehouse: WarehouseResource) -> dg.MaterializeResult:
    _, profiles = _load()
    with warehouse.get_connection() as conn:
        counts, rewritten = dimensions.write_rows_if_changed(
            conn, "reporting_calendar", dimensions.calendar_rows(profiles)
        )
    return _result(counts, rewritten)


assets = [standards_catalog, county_profiles, reporting_calendar]
