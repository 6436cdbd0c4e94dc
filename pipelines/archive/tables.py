"""`archive` schema of the warehouse: the evidence registry mirrored from the workflow store and the
archive readiness, rebuilt by every run (pipelines/assets/archive.py). Every table keeps county_code.

Declared with the warehouse's `Table` type but created by the archive asset itself (the `archive`
schema is not in `pipelines.warehouse.schema.SCHEMAS`, which another module owns); `create(conn)`
creates the schema and the tables, and recreates a table whose columns changed (the data are
rebuilt from the workflow store and the catalog on every run, nothing is lost).
"""

from __future__ import annotations

import duckdb

from pipelines.warehouse.schema import Column, Table

SCHEMA = "archive"


def _t(name: str, doc: str, cols: list[tuple]) -> Table:
    return Table(SCHEMA, name, doc, tuple(Column(*c) for c in cols))


_SLOT = [
    ("county_code", "VARCHAR", "County", False),
    ("campaign_code", "VARCHAR", "Campaign", False),
    ("clause_code", "VARCHAR", "Clause of the standard (or a requirement code for indicator clauses)", False),
    ("clause_order", "INTEGER", "Order of the clause in the binders"),
    ("category", "VARCHAR", "organisation | planning | publicity | basic | mechanism | indicator"),
    ("clause_name_zh", "VARCHAR", "Clause name"),
    ("clause_name_en", "VARCHAR", "Clause name (English)"),
    ("item_code", "VARCHAR", "Evidence item of the clause", False),
    ("kind", "VARCHAR", "plan | minutes | notice | ledger | photo | report | letter"),
    ("title_zh", "VARCHAR", "What the document is"),
    ("title_en", "VARCHAR", "What the document is (English)"),
    ("period", "VARCHAR", "once | yearly | quarterly | monthly"),
    ("period_code", "VARCHAR", "once, 2013, 2013Q2 or 2013-05", False),
    ("due_date", "DATE", "Due date (plan milestone, period end, or the acceptance date)"),
    ("provider_org_code", "VARCHAR", "Responsible unit (org code)"),
    ("provider_short", "VARCHAR", "Responsible unit (short code)"),
    ("prerequisite", "BOOLEAN", "Missing evidence caps readiness like a veto"),
    ("assumed", "BOOLEAN", "Inferred, not read in the standard or the plan"),
    ("source", "VARCHAR", "The standard's or the plan's wording behind the item"),
    ("requirement_code", "VARCHAR", "Indicator clauses: the catalog requirement"),
    ("required", "INTEGER", "Files owed for the slot"),
    ("provided", "INTEGER", "Files accepted or awaiting review (at most required)"),
    ("accepted", "INTEGER", "Files accepted by the office (at most required)"),
    ("n_returned", "INTEGER", "Items whose latest version was returned"),
    ("n_items", "INTEGER", "Items recorded for the slot"),
    ("state", "VARCHAR", "accepted | submitted | returned | missing"),
    ("is_due", "BOOLEAN", "Due date on or before the run's as-of date"),
    ("is_overdue", "BOOLEAN", "Not accepted and past its due date"),
]

EVIDENCE_SLOT = _t(
    "evidence_slot",
    "One row per document owed: campaign clause × item × period, from expectations/standards/evidence and "
    "the county profile, with what was provided and accepted (pipelines.marts.readiness.archive_slot_rows).",
    _SLOT,
)
EVIDENCE_VERSION = _t(
    "evidence_version",
    "Every uploaded evidence file (a version of an item), mirrored from the workflow store; files are kept "
    "content-addressed under the evidence store (store_path).",
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("clause_code", "VARCHAR", "Clause", False),
        ("item_code", "VARCHAR", "Evidence item", False),
        ("period_code", "VARCHAR", "Period", False),
        ("item_id", "VARCHAR", "Item (a document across its versions)", False),
        ("version_id", "VARCHAR", "This version", False),
        ("version", "INTEGER", "1, 2, … (a re-upload is a new version)"),
        ("unit_code", "VARCHAR", "Providing unit (short code)"),
        ("title", "VARCHAR", "Item title"),
        ("original_name", "VARCHAR", "File name as uploaded"),
        ("content_type", "VARCHAR", "pdf | png | jpeg | docx | doc | odt | pptx | xlsx | xls | ods | csv"),
        ("size_bytes", "BIGINT", "Size"),
        ("sha256", "VARCHAR", "SHA-256 of the file"),
        ("store_path", "VARCHAR", "Path in the evidence store (ab/cdef…)"),
        ("channel", "VARCHAR", "browser | drop_folder | sample"),
        ("uploaded_by", "VARCHAR", "Uploader"),
        ("uploaded_at", "VARCHAR", "Upload time (UTC, ISO-8601)"),
        ("review_state", "VARCHAR", "submitted | accepted | returned | superseded"),
        ("review_comment", "VARCHAR", "The office's comment (required when returned)"),
        ("reviewed_by", "VARCHAR", "Reviewer"),
        ("reviewed_at", "VARCHAR", "Review time (UTC, ISO-8601)"),
        ("is_latest", "BOOLEAN", "The item's latest version"),
    ],
)
CLAUSE_READINESS = _t(
    "clause_readiness",
    "Per county × campaign × clause: required vs provided vs accepted, missing, overdue, next due date, and "
    "whether a prerequisite clause still lacks accepted evidence (pipelines.marts.readiness.archive_clause_rows).",
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("clause_code", "VARCHAR", "Clause", False),
        ("clause_order", "INTEGER", "Order"),
        ("category", "VARCHAR", "Category"),
        ("clause_name_zh", "VARCHAR", "Clause name"),
        ("clause_name_en", "VARCHAR", "Clause name (English)"),
        ("requirement_code", "VARCHAR", "Indicator clauses: the requirement"),
        ("prerequisite", "BOOLEAN", "Prerequisite clause"),
        ("n_slots", "INTEGER", "Slots (item × period)"),
        ("required", "INTEGER", "Files owed"),
        ("provided", "INTEGER", "Files accepted or awaiting review"),
        ("accepted", "INTEGER", "Files accepted"),
        ("n_returned", "INTEGER", "Items returned"),
        ("missing", "INTEGER", "required - provided"),
        ("share_accepted", "DOUBLE", "accepted / required"),
        ("n_overdue", "INTEGER", "Slots past their due date and not accepted"),
        (
            "prerequisite_missing",
            "BOOLEAN",
            "Prerequisite clause with a due slot not fully accepted: caps readiness",
        ),
        ("next_due_date", "DATE", "Earliest due date among slots not accepted"),
        ("units", "VARCHAR[]", "Responsible units (short codes)"),
        ("assumed", "BOOLEAN", "Some item is inferred"),
    ],
)
CAMPAIGN_READINESS = _t(
    "campaign_readiness",
    "Per county × campaign: archive readiness (accepted / required, capped at readiness_cap when a "
    "prerequisite clause lacks accepted evidence) next to the latest indicator readiness "
    "(marts.campaign_readiness), and the overall readiness = indicator readiness, capped the same way.",
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("as_of", "DATE", "Date the due dates were judged against"),
        ("n_clauses", "INTEGER", "Clauses"),
        ("n_clauses_complete", "INTEGER", "Clauses with every file accepted"),
        ("required", "INTEGER", "Files owed"),
        ("provided", "INTEGER", "Files accepted or awaiting review"),
        ("accepted", "INTEGER", "Files accepted"),
        ("n_returned", "INTEGER", "Items returned"),
        ("missing", "INTEGER", "required - provided"),
        ("n_overdue", "INTEGER", "Overdue slots"),
        ("share_provided", "DOUBLE", "provided / required"),
        ("share_accepted", "DOUBLE", "accepted / required"),
        ("prerequisite_missing_codes", "VARCHAR[]", "Prerequisite clauses lacking accepted evidence"),
        ("readiness_cap", "DOUBLE", "Cap applied when a prerequisite clause lacks evidence (0.6)"),
        ("is_capped", "BOOLEAN", "A prerequisite clause lacks accepted evidence"),
        ("archive_readiness", "DOUBLE", "share_accepted, capped when is_capped"),
        ("archive_status", "VARCHAR", "complete | prerequisite_missing | incomplete | no_requirements"),
        ("archive_status_zh", "VARCHAR", "Status in Chinese"),
        ("indicator_period_code", "VARCHAR", "Period of the indicator readiness used"),
        ("indicator_readiness", "DOUBLE", "marts.campaign_readiness.readiness of that period"),
        ("overall_readiness", "DOUBLE", "indicator_readiness, capped at readiness_cap when is_capped"),
        ("overall_capped", "BOOLEAN", "The cap lowered the overall readiness"),
    ],
)
TABLES = (EVIDENCE_SLOT, EVIDENCE_VERSION, CLAUSE_READINESS, CAMPAIGN_READINESS)


def create(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for t in TABLES:
        have = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "ORDER BY column_index",
                [t.schema, t.name],
            ).fetchall()
        ]
        if have and have != t.column_names:
            conn.execute(f"DROP TABLE {t.qualified}")
        conn.execute(t.ddl())
        conn.execute(f"COMMENT ON TABLE {t.qualified} IS '{t.doc.replace(chr(39), chr(39) * 2)}'")
