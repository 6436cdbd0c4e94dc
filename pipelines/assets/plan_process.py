"""The plan's own process (issue 17): inspection points, 督查 / self-inspection results and the
rectification of their problems; target letters and performance against them; application and
acceptance records, the title's status per campaign and regression alerts; the supervision component
of the unit ranking. Thin wrappers over `pipelines.plan_process.build`; each asset replaces its tables
in one transaction."""

import dagster as dg

from pipelines.catalog import load_catalog
from pipelines.marts.common import write_table
from pipelines.plan_process import build
from pipelines.plan_process import tables as t
from pipelines.profile import load_profiles
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings

PROFILES = dg.AssetKey("county_profiles")
RETURNS = dg.AssetKey("departmental_returns")
VERDICTS = dg.AssetKey("compliance_verdicts")
LEDGER = dg.AssetKey("unit_accountability")


def _load():
    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    return settings, catalog, load_profiles(settings.profiles_dir, catalog)


@dg.asset(
    group_name="plan_process",
    kinds={"duckdb"},
    deps=[PROFILES, RETURNS],
    description="Inspection points and checklists; 督查 / self-inspection spreadsheets from the supervision folder "
    "(lineage to file, sheet and cell; problems with feedback workbooks) and dashboard inspections; each deduction "
    "a rectification item with owner and deadline, closed by a full-score re-inspection.",
)
def supervision_inspections(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings, catalog, profiles = _load()
    store = build.existing_store(settings)
    with warehouse.get_connection() as conn:
        t.ensure(conn)
        rows, stats = build.supervision_rows(conn, settings, catalog, profiles, store)
        counts = write_table(conn, rows)
    open_n = sum(1 for r in rows[t.PROBLEM] if r["status"] in ("open", "overdue"))
    overdue = sum(1 for r in rows[t.PROBLEM] if r["status"] == "overdue")
    meta = {name: dg.MetadataValue.int(n) for name, n in counts.items()}
    meta |= {
        "files": dg.MetadataValue.int(stats["files"]),
        "file_issues": dg.MetadataValue.int(stats["issues"]),
        "open_problems": dg.MetadataValue.int(open_n),
        "overdue_problems": dg.MetadataValue.int(overdue),
    }
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    group_name="plan_process",
    kinds={"duckdb"},
    deps=[supervision_inspections, VERDICTS, LEDGER, PROFILES],
    description="Target letters per unit and year (targets by the catalog/plan rule, signing, performance against "
    "them); application and acceptance records; title status per campaign (creating → applied → passed → "
    "consolidating → re-reviewed / at risk); regression alerts after a pass; supervision component of the ranking.",
)
def plan_process_records(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings, catalog, profiles = _load()
    store = build.existing_store(settings)
    with warehouse.get_connection() as conn:
        t.ensure(conn)
        rows = build.plan_rows(conn, settings, catalog, profiles, store)
        counts = write_table(conn, rows)
    meta = {name: dg.MetadataValue.int(n) for name, n in counts.items()}
    meta["campaign_status"] = dg.MetadataValue.json(
        {r["campaign_code"]: r["status"] for r in rows[t.CAMPAIGN_STATUS]}
    )
    return dg.MaterializeResult(metadata=meta)


@dg.asset_check(
    asset=supervision_inspections,
    description="Every supervision rectification item has an owner and a due date after it was found; "
    "none is closed before it was found.",
)
def supervision_items_are_owned(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        t.ensure(conn)
        bad = conn.execute(
            "SELECT item_id FROM supervision.problem WHERE owner_org_code IS NULL OR due_date <= opened_date "
            "OR closed_date < opened_date LIMIT 5"
        ).fetchall()
        total = conn.execute("SELECT count(*) FROM supervision.problem").fetchone()[0]
    return dg.AssetCheckResult(
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(bad)} 个整改事项缺少责任单位或期限有误（共 {total} 个） / {len(bad)} of {total} items without owner or with bad dates"
            if bad
            else f"{total} 个督查整改事项均有责任单位和期限 / all {total} items owned and dated"
        ),
        metadata={"examples": dg.MetadataValue.json([r[0] for r in bad])},
    )


assets = [supervision_inspections, plan_process_records]
checks = [supervision_items_are_owned]
