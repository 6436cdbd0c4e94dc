"""Archive assets (档案资料): the evidence registry mirrored into the warehouse, and archive readiness.

Thin wrappers over `pipelines.archive` (requirements, store, intake) and `pipelines.marts.readiness`
(the rules). Workflow state (items, versions, reviews) lives in the workflow SQLite store, written by
the dashboard; these assets read it, take in new files from the evidence drop folder, and replace the
`archive.*` tables in one transaction (re-running changes nothing).
"""

import datetime as dt

import dagster as dg

from pipelines.archive import intake, tables
from pipelines.archive import store as es
from pipelines.archive.service import Archive
from pipelines.marts.common import _insert, fetch_dicts, table_exists
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings
from pipelines.warehouse.schema import transaction

READINESS = dg.AssetKey("campaign_readiness")
PROFILES = dg.AssetKey("county_profiles")


def _replace(conn, rows_by_table: dict) -> dict[str, int]:
    counts = {}
    with transaction(conn):
        for t, rows in rows_by_table.items():
            conn.execute(f"DELETE FROM {t.qualified}")
            counts[t.qualified] = _insert(conn, t, rows)
    return counts


@dg.asset(
    group_name="archive",
    kinds={"duckdb"},
    deps=[PROFILES],
    description="Evidence registry (档案资料): new files from the evidence drop folder taken in through the upload gate, "
    "then every item version with its review mirrored from the workflow store into archive.evidence_version.",
)
def evidence_registry(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    archive = Archive.load(Settings.from_env(), warehouse.county or None)
    report = intake.scan_inbox(archive.store, archive.paths, archive.slots, archive.county)
    if report.messages:  # one log event for all (each is a write to the event log)
        context.log.warning("\n".join(report.messages[:20]))
    rows = []
    latest: set[str] = set()
    for v in es.versions(archive.store, archive.county):
        rows.append({**v, "is_latest": v["item_id"] not in latest})
        latest.add(v["item_id"])
    with warehouse.get_connection() as conn:
        tables.create(conn)
        counts = _replace(conn, {tables.EVIDENCE_VERSION: rows})
    return dg.MaterializeResult(
        metadata={
            **{k: dg.MetadataValue.int(n) for k, n in counts.items()},
            "inbox_added": dg.MetadataValue.int(report.added),
            "inbox_skipped": dg.MetadataValue.int(report.skipped),
            "inbox_refused": dg.MetadataValue.int(report.refused),
        }
    )


@dg.asset(
    group_name="archive",
    kinds={"duckdb"},
    deps=[evidence_registry, READINESS],
    description="Archive readiness per campaign and clause: required vs provided vs accepted, missing items with the "
    "responsible unit and due date; prerequisite clauses lacking accepted evidence cap readiness (0.6) like a veto, "
    "next to and applied to the indicator readiness.",
)
def archive_readiness(warehouse: WarehouseResource) -> dg.MaterializeResult:
    archive = Archive.load(Settings.from_env(), warehouse.county or None)
    as_of = dt.date.today()
    with warehouse.get_connection() as conn:
        tables.create(conn)
        ind = (
            fetch_dicts(
                conn, "SELECT * FROM marts.campaign_readiness WHERE county_code = ?", [archive.county]
            )
            if table_exists(conn, "marts", "campaign_readiness")
            else []
        )
        slot_rows = archive.slot_rows(None, as_of)
        from pipelines.marts import readiness

        clause_rows = readiness.archive_clause_rows(slot_rows)
        camp_rows = [{**r, "as_of": as_of} for r in readiness.archive_campaign_rows(clause_rows, ind, as_of)]
        counts = _replace(
            conn,
            {
                tables.EVIDENCE_SLOT: slot_rows,
                tables.CLAUSE_READINESS: clause_rows,
                tables.CAMPAIGN_READINESS: camp_rows,
            },
        )
    meta = {k: dg.MetadataValue.int(n) for k, n in counts.items()}
    for r in camp_rows:
        meta[f"{r['campaign_code']}_accepted_share"] = dg.MetadataValue.float(
            float(r["share_accepted"] or 0.0)
        )
    return dg.MaterializeResult(metadata=meta)


@dg.asset_check(
    asset=archive_readiness,
    description="Accepted never exceeds provided, provided never exceeds required, and a campaign with a prerequisite "
    "clause lacking accepted evidence is capped (readiness <= 0.6, never complete).",
)
def archive_readiness_consistent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        bad = fetch_dicts(
            conn,
            "SELECT campaign_code, clause_code, required, provided, accepted FROM archive.clause_readiness "
            "WHERE accepted > provided OR provided > required OR accepted < 0 LIMIT 5",
        )
        bad += fetch_dicts(
            conn,
            "SELECT campaign_code, archive_readiness, archive_status FROM archive.campaign_readiness "
            "WHERE is_capped AND (archive_readiness > readiness_cap + 1e-9 OR archive_status = 'complete' "
            "OR overall_readiness > readiness_cap + 1e-9) LIMIT 5",
        )
        total = conn.execute("SELECT count(*) FROM archive.clause_readiness").fetchone()[0]
    return dg.AssetCheckResult(
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"档案准备度不一致 {len(bad)} 行 / {len(bad)} inconsistent archive readiness rows"
            if bad
            else f"档案准备度一致（{total} 个条款） / archive readiness consistent ({total} clauses)"
        ),
        metadata={
            "clauses": total,
            "examples": dg.MetadataValue.json([{k: str(v) for k, v in r.items()} for r in bad]),
        },
    )


assets = [evidence_registry, archive_readiness]
checks = [archive_readiness_consistent]
