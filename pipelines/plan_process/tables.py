"""Warehouse tables of the plan's process, in their own schemas `plan_process` and `supervision`.

Declared with `pipelines.warehouse.schema.Table` but NOT in the shared registry (whose schema list
and docs belong to the warehouse module): `ensure(conn)` creates them, `docs_markdown()` renders
their documentation into docs/plan_process.md (a test keeps the two equal). Every table carries
`county_code`.
"""

from __future__ import annotations

import duckdb

from pipelines.warehouse.schema import Column, Table

SCHEMAS = ("plan_process", "supervision")


def _t(schema: str, name: str, doc: str, cols: list[tuple]) -> Table:
    return Table(schema, name, doc, tuple(Column(*c) for c in cols))


C = ("county_code", "VARCHAR", "County", False)

POINT = _t(
    "supervision",
    "point",
    "Inspection points (督查点位) from expectations/points/<county>.yaml.",
    [
        C,
        ("point_code", "VARCHAR", "Point code", False),
        (
            "point_type",
            "VARCHAR",
            "Checklist type: market, back_lane, toilet, school, hospital, construction_site, river",
        ),
        ("type_name_zh", "VARCHAR", "Type in Chinese (农贸市场 …)"),
        ("type_name_en", "VARCHAR", "Type in English"),
        ("name_zh", "VARCHAR", "Point name"),
        ("town_code", "VARCHAR", "Town (org code)"),
        ("address", "VARCHAR", "Address"),
        ("unit_code", "VARCHAR", "Responsible unit (包保单位, org code)"),
        ("campaigns", "VARCHAR[]", "Campaigns the point serves"),
        ("lon", "DOUBLE", "Longitude (WGS-84), NULL when unknown"),
        ("lat", "DOUBLE", "Latitude"),
        ("coords_approx", "BOOLEAN", "Coordinates are approximate"),
    ],
)
CHECKLIST_ITEM = _t(
    "supervision",
    "checklist_item",
    "Checklist items per point type with their maximum score (expectations/standards/checklists).",
    [
        C,
        ("point_type", "VARCHAR", "Checklist type", False),
        ("item_code", "VARCHAR", "Item code", False),
        ("name_zh", "VARCHAR", "Item wording"),
        ("name_en", "VARCHAR", "English wording"),
        ("max_score", "DOUBLE", "Maximum score"),
        ("score_assumed", "BOOLEAN", "The maximum score is the office's weighting, not the standard's"),
        ("source", "VARCHAR", "Where the item's wording comes from"),
    ],
)
INSPECTION = _t(
    "supervision",
    "inspection",
    "One inspection of one point (a row of a 督查 spreadsheet or a dashboard form), with its score.",
    [
        C,
        ("inspection_id", "VARCHAR", "sheet:<file>:<sheet>:<row> or form:…", False),
        ("point_code", "VARCHAR", "Point"),
        ("point_type", "VARCHAR", "Checklist type"),
        ("town_code", "VARCHAR", "Town of the point"),
        ("unit_code", "VARCHAR", "Responsible unit of the point"),
        ("inspected_on", "DATE", "Inspection date"),
        ("round_kind", "VARCHAR", "self (自查) | supervision (督查)"),
        ("round_name", "VARCHAR", "The round's title"),
        ("team", "VARCHAR", "Inspection team"),
        ("score", "DOUBLE", "Points scored over the items read"),
        ("max_score", "DOUBLE", "Maximum over the items read"),
        ("score_pct", "DOUBLE", "score / max_score × 100"),
        ("n_items", "INTEGER", "Items scored"),
        ("n_items_checklist", "INTEGER", "Items of the checklist (fewer read: a partial row)"),
        ("n_deductions", "INTEGER", "Items below their maximum"),
        ("problem_text", "VARCHAR", "问题描述 as written"),
        ("photo_ref", "VARCHAR", "照片编号 or attached photo names"),
        ("source", "VARCHAR", "spreadsheet | form"),
        ("source_file", "VARCHAR", "File under the supervision folder (spreadsheets)"),
        ("sheet", "VARCHAR", "Sheet"),
        ("row_cell", "VARCHAR", "Cell of the point name"),
    ],
)
SCORE = _t(
    "supervision",
    "score",
    "Item scores of each inspection, with the cell they were read from.",
    [
        C,
        ("inspection_id", "VARCHAR", "Inspection", False),
        ("item_code", "VARCHAR", "Checklist item", False),
        ("score", "DOUBLE", "Score"),
        ("max_score", "DOUBLE", "Maximum"),
        ("deduction", "DOUBLE", "max_score − score"),
        ("problem", "VARCHAR", "Problem description of the row / form item"),
        ("photo_ref", "VARCHAR", "Photo reference"),
        ("sheet", "VARCHAR", "Sheet (spreadsheets)"),
        ("cell", "VARCHAR", "Cell (spreadsheets)"),
    ],
)
FILE = _t(
    "supervision",
    "file",
    "督查 spreadsheets read from the supervision folder and their outcome.",
    [
        C,
        ("rel_path", "VARCHAR", "Path under the supervision folder", False),
        ("status", "VARCHAR", "accepted | partial | rejected"),
        ("n_inspections", "INTEGER", "Point inspections read"),
        ("n_scores", "INTEGER", "Item scores read"),
        ("n_issues", "INTEGER", "Problems found"),
        ("feedback_path", "VARCHAR", "Feedback workbook (relative to the feedback folder)"),
    ],
)
ISSUE = _t(
    "supervision",
    "issue",
    "Problems in 督查 spreadsheets: file, sheet, cell, reason (Chinese and English).",
    [
        C,
        ("rel_path", "VARCHAR", "File", False),
        ("sheet", "VARCHAR", "Sheet"),
        ("cell", "VARCHAR", "Cell"),
        (
            "reason_code",
            "VARCHAR",
            "no_date, no_point_column, no_items, unknown_point, unknown_column, not_a_number, out_of_range, missing_score, total_mismatch, unreadable",
        ),
        ("raw_text", "VARCHAR", "The cell's text"),
        ("message_zh", "VARCHAR", "Message in Chinese"),
        ("message_en", "VARCHAR", "Message in English"),
    ],
)
PROBLEM = _t(
    "supervision",
    "problem",
    "Rectification items from inspections: a checklist item scored below its maximum at a point opens one "
    "(owner: the point's 包保单位, due N Chinese working days later); the next inspection scoring the item in full "
    "closes it, a deduction again keeps it open (found again). Also each finding of an acceptance or re-review "
    "(point_type 'acceptance', owner the campaign group's lead unit, closed by the campaign's next pass).",
    [
        C,
        ("item_id", "VARCHAR", "supervision:<point>:<item>:<opening date>", False),
        ("point_code", "VARCHAR", "Point"),
        ("point_name_zh", "VARCHAR", "Point name"),
        ("point_type", "VARCHAR", "Point type"),
        ("town_code", "VARCHAR", "Town"),
        ("item_code", "VARCHAR", "Checklist item"),
        ("item_name_zh", "VARCHAR", "Checklist item wording"),
        ("owner_org_code", "VARCHAR", "Responsible unit (包保单位)"),
        ("opened_inspection_id", "VARCHAR", "Inspection that found it"),
        ("opened_date", "DATE", "Found on"),
        ("due_date", "DATE", "Rectify by (Chinese working days)"),
        ("closed_inspection_id", "VARCHAR", "Re-inspection that closed it"),
        ("closed_date", "DATE", "Closed on"),
        ("status", "VARCHAR", "open | overdue | closed | closed_late"),
        (
            "times_found",
            "INTEGER",
            "Inspections that found it (1 = found once; ≥ 2: found again at re-inspection)",
        ),
        (
            "recurrence",
            "INTEGER",
            "Earlier items of the same point and item that were closed (the problem came back)",
        ),
        ("is_repeat", "BOOLEAN", "times_found ≥ 2 or recurrence ≥ 1"),
        ("score_at_open", "DOUBLE", "Score when found"),
        ("max_score", "DOUBLE", "Item maximum"),
        ("problem_text", "VARCHAR", "问题描述 when found"),
        ("photo_ref", "VARCHAR", "Photo reference when found"),
        ("description_zh", "VARCHAR", "Item text in Chinese"),
        ("description_en", "VARCHAR", "Item text in English"),
        ("source_file", "VARCHAR", "File of the finding inspection (spreadsheets)"),
        ("sheet", "VARCHAR", "Sheet"),
        ("cell", "VARCHAR", "Cell of the score"),
        ("as_of_date", "DATE", "Horizon the status is evaluated at"),
    ],
)
PROBLEM_EVENT = _t(
    "supervision",
    "problem_event",
    "History of each supervision rectification item: opened, found_again, closed.",
    [
        C,
        ("item_id", "VARCHAR", "Item", False),
        ("seq", "INTEGER", "Order", False),
        ("inspection_id", "VARCHAR", "Inspection"),
        ("event", "VARCHAR", "opened | found_again | closed"),
        ("event_date", "DATE", "Date"),
        ("score", "DOUBLE", "Score at that inspection"),
    ],
)
UNIT_SCORE = _t(
    "supervision",
    "unit_score",
    "Supervision component of the unit ranking per unit and year, and the ledger score combined with it "
    "(docs/accountability.md §3).",
    [
        C,
        ("org_code", "VARCHAR", "Unit", False),
        ("year", "INTEGER", "Year", False),
        ("n_inspections", "INTEGER", "Inspections of the unit's points"),
        ("mean_score_pct", "DOUBLE", "Mean inspection score (%)"),
        ("n_problems", "INTEGER", "Items opened that year"),
        ("n_overdue", "INTEGER", "Of those, overdue or closed late"),
        ("n_repeat", "INTEGER", "Of those, found again or recurring"),
        (
            "supervision_component",
            "DOUBLE",
            "0..1: mean score share × (1 − share of problems overdue/closed late)",
        ),
        (
            "ledger_score",
            "DOUBLE",
            "Mean monthly score of marts.unit_accountability that year (NULL if not ranked)",
        ),
        (
            "combined_score",
            "DOUBLE",
            "100 × (w·supervision + (1 − w)·ledger/100), w = SUPERVISION_WEIGHT; the ledger score alone without inspections",
        ),
        ("rank", "INTEGER", "Rank by combined score within county × year × rank group"),
        ("rank_group", "VARCHAR", "department | town"),
        ("n_ranked", "INTEGER", "Units ranked in the group"),
    ],
)
LETTER = _t(
    "plan_process",
    "letter",
    "Target responsibility letters (目标责任书) per unit and year, with the signing record.",
    [
        C,
        ("org_code", "VARCHAR", "Unit", False),
        ("year", "INTEGER", "Year", False),
        ("unit_name_zh", "VARCHAR", "Unit name"),
        ("n_targets", "INTEGER", "Indicator targets in the letter"),
        ("n_points", "INTEGER", "Inspection points the unit answers for"),
        ("signed_on", "DATE", "Signing date (NULL: not signed / not recorded)"),
        ("document_no", "VARCHAR", "Document number"),
        ("scan_name", "VARCHAR", "Signed scan on file"),
        ("signing_source", "VARCHAR", "office | sample"),
        ("n_assessed", "INTEGER", "Targets with a year verdict value"),
        ("n_met", "INTEGER", "Targets met by the year's value"),
        ("share_met", "DOUBLE", "n_met / n_targets (targets without a value count as not met)"),
    ],
)
LETTER_TARGET = _t(
    "plan_process",
    "letter_target",
    "The letter's indicator targets: threshold in force at the year end, or the interim target on the linear path "
    "from the baseline to the threshold at the acceptance date; with the year's value against it.",
    [
        C,
        ("org_code", "VARCHAR", "Unit", False),
        ("year", "INTEGER", "Year", False),
        ("requirement_code", "VARCHAR", "Requirement", False),
        ("campaign_code", "VARCHAR", "Campaign"),
        ("indicator_code", "VARCHAR", "Indicator"),
        ("name_zh", "VARCHAR", "Requirement wording"),
        ("name_en", "VARCHAR", "Requirement wording in English"),
        ("unit", "VARCHAR", "Unit of measure"),
        ("comparison", "VARCHAR", "Comparison"),
        ("threshold_token", "VARCHAR", "Threshold in force at the year end"),
        (
            "target_value",
            "DOUBLE",
            "Numeric target (NULL: qualitative / relative: the threshold's own wording)",
        ),
        ("target_text_zh", "VARCHAR", "Target as written in the letter"),
        (
            "target_rule",
            "VARCHAR",
            "threshold | interim_linear | keep_passing | threshold_no_baseline | qualitative",
        ),
        ("baseline_value", "DOUBLE", "Baseline (last year verdict value before the campaign start)"),
        ("baseline_year", "INTEGER", "Baseline year"),
        ("acceptance_date", "DATE", "Campaign acceptance date"),
        ("is_veto", "BOOLEAN", "Veto / prerequisite"),
        ("actual_value", "DOUBLE", "The year's county value (year verdict)"),
        ("met", "BOOLEAN", "actual meets the target (NULL: no value)"),
    ],
)
ACCEPTANCE = _t(
    "plan_process",
    "acceptance",
    "Application, acceptance and re-review records per campaign (entered by the office; workflow store).",
    [
        C,
        ("record_id", "VARCHAR", "Record", False),
        ("campaign_code", "VARCHAR", "Campaign"),
        ("kind", "VARCHAR", "acceptance | re_review"),
        ("milestone", "VARCHAR", "acceptance | interim_acceptance (the forest city's provincial step)"),
        ("attempt", "INTEGER", "1 = first application; 2 = re-application …"),
        ("applied_on", "DATE", "Application date"),
        ("application_documents", "VARCHAR", "Documents submitted"),
        ("inspection_from", "DATE", "Inspection start"),
        ("inspection_to", "DATE", "Inspection end"),
        ("team", "VARCHAR", "Inspection team"),
        ("result", "VARCHAR", "passed | failed | conditional | NULL (pending)"),
        ("result_on", "DATE", "Result date"),
        ("result_document", "VARCHAR", "Result document"),
        ("findings", "VARCHAR", "Findings, one per line (each a rectification item)"),
        ("reapplication_of", "VARCHAR", "Failed record this one re-applies for"),
        ("source", "VARCHAR", "office | sample"),
    ],
)
CAMPAIGN_STATUS = _t(
    "plan_process",
    "campaign_status",
    "Title status per campaign: creating → applied → passed → consolidating → re_reviewed | at_risk (the Overview's).",
    [
        C,
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("status", "VARCHAR", "creating | applied | failed | passed | consolidating | re_reviewed | at_risk"),
        ("status_zh", "VARCHAR", "Status in Chinese"),
        ("status_en", "VARCHAR", "Status in English"),
        ("reason_zh", "VARCHAR", "Why, in Chinese"),
        ("reason_en", "VARCHAR", "Why, in English"),
        ("attempts", "INTEGER", "Applications made"),
        ("passed_on", "DATE", "Date of the pass (NULL before)"),
        ("next_re_review", "DATE", "Next re-review due (passed date + cycle)"),
        ("re_review_name_zh", "VARCHAR", "复审 / 复查 / 复核"),
        ("cycle_years", "INTEGER", "Re-review cycle (catalog: campaigns.yaml consolidation)"),
        ("cycle_assumed", "BOOLEAN", "The cycle is not confirmed from the standard's text"),
        ("n_regressions", "INTEGER", "Open regression alerts (passed requirement now near or failing)"),
        ("n_veto_regressions", "INTEGER", "Of those, veto items"),
        ("as_of_date", "DATE", "Horizon"),
    ],
)
REGRESSION = _t(
    "plan_process",
    "regression_alert",
    "After a recorded pass: a requirement met at acceptance whose later county verdict falls to near or fail.",
    [
        C,
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("requirement_code", "VARCHAR", "Requirement", False),
        ("name_zh", "VARCHAR", "Requirement wording"),
        ("grain", "VARCHAR", "ytd_month | year", False),
        ("period_code", "VARCHAR", "Period of the slip", False),
        ("status", "VARCHAR", "near | fail"),
        ("value", "DOUBLE", "Value"),
        ("threshold_token", "VARCHAR", "Threshold"),
        ("margin", "DOUBLE", "Margin"),
        ("status_at_pass", "VARCHAR", "Verdict status in the period of the pass"),
        ("passed_on", "DATE", "Pass date"),
        ("is_veto", "BOOLEAN", "Veto item"),
        ("is_latest", "BOOLEAN", "The latest period of the series (the alert is current)"),
        ("message_zh", "VARCHAR", "Alert text in Chinese"),
        ("message_en", "VARCHAR", "Alert text in English"),
    ],
)

TABLES = (
    POINT,
    CHECKLIST_ITEM,
    INSPECTION,
    SCORE,
    FILE,
    ISSUE,
    PROBLEM,
    PROBLEM_EVENT,
    UNIT_SCORE,
    LETTER,
    LETTER_TARGET,
    ACCEPTANCE,
    CAMPAIGN_STATUS,
    REGRESSION,
)


def ensure(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas and tables; a table whose columns changed is recreated (rebuilt every run)."""
    for s in SCHEMAS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    have: dict[str, list[str]] = {}
    for schema, name, column in conn.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE schema_name IN ('plan_process', 'supervision') "
        "ORDER BY column_index"
    ).fetchall():
        have.setdefault(f"{schema}.{name}", []).append(column)
    for t in TABLES:
        cols = have.get(t.qualified)
        if cols is not None and cols != t.column_names:
            conn.execute(f"DROP TABLE {t.qualified}")
            cols = None
        if cols is None:
            conn.execute(t.ddl())
            conn.execute(f"COMMENT ON TABLE {t.qualified} IS '{t.doc.replace(chr(39), chr(39) * 2)}'")


def docs_markdown() -> str:
    lines = []
    for t in TABLES:
        lines += [f"### `{t.qualified}`", "", t.doc, "", "| column | type | description |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type} | {c.doc} |" for c in t.columns]
        lines.append("")
    return "\n".join(lines)
