"""`marts` schema: campaign readiness, forecasts to the acceptance date, the accountability ledger,
the plan schedule with task ledgers, and rectification items (整改).

Every figure keeps the keys it came from (county_code, campaign_code, requirement_code,
subject_org_code, period_code, observation/verdict keys), so it can be traced back to
`compliance.verdict` and `core.observation` by SQL. Rules are documented in docs/accountability.md.
"""

from pipelines.warehouse.schema import table

CAMPAIGN_READINESS = table(
    "marts",
    "campaign_readiness",
    (
        "Readiness of each county campaign per assessment period, from county-level verdicts "
        "(subject_org_code = county_code). grain='ytd_month': monthly, from ytd_month verdicts; grain='year': "
        "yearly. share_met = normalised weight of requirements met / normalised weight of counted requirements. "
        "Counted: every requirement except those not assessable because the standard's value is unknown to us; "
        "no_data and not_assessable for missing county data count as not met. Weights are normalised to the "
        "standard's own scoring (pipelines.marts.readiness.SCORING, e.g. civ_2011: minors' moral score 20 %). "
        "A requirement is met when its verdict is pass, or near with margin >= 0. Cap rule: when any "
        "veto/prerequisite item (一票否决/基本条件) fails (fail, or near with margin < 0) or has no data, "
        "readiness = min(share_met, readiness_cap) with readiness_cap = 0.6; otherwise readiness = share_met. "
        "readiness_status: veto_failed, unknown (a veto item without data), ready, not_ready."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        (
            "period_code",
            "VARCHAR",
            "Assessment period: a month (2013-06) for ytd_month, a year (2013) for year",
            False,
        ),
        ("grain", "VARCHAR", "ytd_month | year (grain of the verdicts used)", False),
        ("period_end", "DATE", "Last day of the period"),
        ("edition_codes", "VARCHAR[]", "Editions of the standard in force for the verdicts used"),
        ("n_requirements", "INTEGER", "Requirements with a county-level verdict for the period"),
        ("n_pass", "INTEGER", "Verdicts with status pass"),
        ("n_near", "INTEGER", "Verdicts with status near (warning band)"),
        ("n_fail", "INTEGER", "Verdicts with status fail"),
        ("n_no_data", "INTEGER", "Verdicts with status no_data"),
        (
            "n_not_assessable",
            "INTEGER",
            "Verdicts with status not_assessable (either cause, see the next two columns)",
        ),
        (
            "n_not_assessable_data",
            "INTEGER",
            "not_assessable because the county's own data are missing (no value/text, earlier years missing): "
            "counted as not met",
        ),
        (
            "n_not_assessable_standard",
            "INTEGER",
            "not_assessable because the standard's value is unknown to us (threshold or reference value): "
            "left out of the shares",
        ),
        (
            "n_counted",
            "INTEGER",
            "Requirements in the denominator (n_requirements - n_not_assessable_standard)",
        ),
        ("n_met", "INTEGER", "Requirements met (pass, or near with margin >= 0)"),
        (
            "weight_assessable",
            "DOUBLE",
            "Sum of normalised weights of the counted requirements (denominator; 1 unless nothing counts)",
        ),
        ("weight_met", "DOUBLE", "Sum of normalised weights of requirements met (numerator)"),
        (
            "max_weight_share",
            "DOUBLE",
            "Largest share of the denominator held by one requirement (e.g. 0.20 for civ_minors_moral_score)",
        ),
        ("max_weight_requirement_code", "VARCHAR", "The requirement holding max_weight_share"),
        ("share_met", "DOUBLE", "weight_met / weight_assessable (0..1); NULL when nothing is counted"),
        ("share_met_unweighted", "DOUBLE", "n_met / n_counted"),
        ("n_veto", "INTEGER", "Veto / prerequisite items among the requirements"),
        ("n_veto_failed", "INTEGER", "Veto items failing (fail, or near with margin < 0)"),
        (
            "n_veto_no_data",
            "INTEGER",
            "Veto items without a verdict value (no_data or not_assessable): cap readiness, status unknown",
        ),
        ("veto_failed_codes", "VARCHAR[]", "requirement_code of each failing veto item"),
        ("veto_no_data_codes", "VARCHAR[]", "requirement_code of each veto item without data"),
        ("readiness_cap", "DOUBLE", "Cap applied when a veto item fails or has no data (0.6)"),
        (
            "is_capped",
            "BOOLEAN",
            "True when a failing or unscored veto item capped readiness below share_met",
        ),
        (
            "readiness",
            "DOUBLE",
            "Readiness 0..1: share_met, capped at readiness_cap when a veto item fails or has no data",
        ),
        (
            "readiness_status",
            "VARCHAR",
            "veto_failed | unknown (a veto item without data: unknown / at risk, never ready) | ready (every "
            "counted requirement met) | not_ready | no_requirements",
        ),
        (
            "readiness_status_zh",
            "VARCHAR",
            "Status in Chinese: 一票否决项未达标 / 否决项无数据（状态未知，有风险）/ 已达标 / 未达标",
        ),
        ("prev_period_code", "VARCHAR", "Previous period of the same grain with a readiness row"),
        ("readiness_prev", "DOUBLE", "Readiness in the previous period"),
        ("readiness_change", "DOUBLE", "readiness - readiness_prev (NULL for the first period)"),
        ("n_met_change", "INTEGER", "n_met - n_met of the previous period"),
        ("acceptance_date", "DATE", "Campaign acceptance target date (dim.county_campaign)"),
        (
            "days_to_acceptance",
            "INTEGER",
            "Calendar days from period_end to acceptance_date (negative after it)",
        ),
        (
            "failing_requirement_codes",
            "VARCHAR[]",
            "requirement_code of each counted requirement not met (fail/near<0/no_data/not_assessable for data)",
        ),
    ],
    ("county_code", "campaign_code", "grain", "period_code"),
)

TOWN_REQUIREMENT_STATUS = table(
    "marts",
    "town_requirement_status",
    (
        "Breakdown of towns' own verdicts (subject_org_code = a town) per requirement and period: how many "
        "towns pass, fail or have no data. Not part of county readiness."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("requirement_code", "VARCHAR", "Requirement", False),
        ("period_code", "VARCHAR", "Assessment period", False),
        ("grain", "VARCHAR", "ytd_month | year", False),
        ("n_towns", "INTEGER", "Towns with a verdict"),
        ("n_pass", "INTEGER", "Towns passing (pass, or near with margin >= 0)"),
        ("n_fail", "INTEGER", "Towns failing (fail, or near with margin < 0)"),
        ("n_no_data", "INTEGER", "Towns without data or not assessable"),
        ("share_pass", "DOUBLE", "n_pass / n_towns"),
        ("failing_town_codes", "VARCHAR[]", "subject_org_code of failing towns"),
    ],
    ("county_code", "requirement_code", "grain", "period_code"),
)

REQUIREMENT_FORECAST = table(
    "marts",
    "requirement_forecast",
    (
        "Forecast of each requirement's county figure to the target date, as of each month (as_of_period_code). "
        "Target: the campaign's acceptance_date while as-of is on or before it; afterwards the next year-end "
        "(巩固 monitoring). Trend: Theil–Sen slope (scipy.stats.theilslopes, 90% band) over the verdict margins "
        "(ytd_month verdicts of the last 24 months; for annual / sum / count_pass requirements the year "
        "verdicts of the last 5 completed years), converted back to values with the latest threshold. "
        "At least min_points points (6 monthly, 3 yearly) else insufficient_data; on_track only when the "
        "expected reach date (counted from the last data point) is on or before target_date. "
        "Statuses in the manner of Open SDG; rules in docs/accountability.md."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("requirement_code", "VARCHAR", "Requirement", False),
        ("indicator_code", "VARCHAR", "Indicator", False),
        ("subject_org_code", "VARCHAR", "Whose figure: always the county code here", False),
        ("as_of_period_code", "VARCHAR", "Month as of which the forecast is made (2013-06)", False),
        ("as_of_date", "DATE", "Last day of the as-of month"),
        ("is_latest", "BOOLEAN", "True for the latest as-of month of the requirement"),
        ("target_kind", "VARCHAR", "acceptance | consolidation (巩固: next year-end after acceptance)"),
        ("target_date", "DATE", "Date the projection is made for"),
        ("months_to_target", "DOUBLE", "Months from as_of_date to target_date"),
        ("comparison", "VARCHAR", "Comparison of the requirement (>=, >, <=, <, ==, between, qualitative)"),
        ("direction", "INTEGER", "+1 when higher values pass, -1 when lower values pass, NULL otherwise"),
        ("threshold_value", "DOUBLE", "Threshold at the latest verdict (for between: the binding end)"),
        ("latest_period_code", "VARCHAR", "Period of the latest verdict used"),
        ("latest_grain", "VARCHAR", "Grain of the series (ytd_month | year)"),
        ("latest_status", "VARCHAR", "Status of the latest verdict"),
        ("latest_value", "DOUBLE", "Value of the latest verdict"),
        ("gap", "DOUBLE", "Distance still to close in natural units (>= 0; 0 when already met)"),
        ("n_points", "INTEGER", "Points in the trend window"),
        ("min_points", "INTEGER", "Points required for a trend (6 monthly series, 3 yearly; configurable)"),
        (
            "last_point_date",
            "DATE",
            "Date of the latest data point (end of its period); the reach date counts from it",
        ),
        (
            "series_period_codes",
            "VARCHAR[]",
            "Verdict period_codes of the points used (trace to compliance.verdict)",
        ),
        ("slope_per_month", "DOUBLE", "Theil–Sen slope in natural units per month"),
        ("slope_low", "DOUBLE", "Lower end of the 90% confidence band of the slope"),
        ("slope_high", "DOUBLE", "Upper end of the 90% confidence band of the slope"),
        ("projected_value", "DOUBLE", "Projected value at target_date (through the series' median point)"),
        ("projected_low", "DOUBLE", "Projection with slope_low"),
        ("projected_high", "DOUBLE", "Projection with slope_high"),
        ("projected_margin", "DOUBLE", "Projected distance from the threshold; > 0 on the passing side"),
        (
            "required_pace_per_month",
            "DOUBLE",
            "Change per month needed from latest_value to reach the threshold by target_date (signed)",
        ),
        ("pace_ratio", "DOUBLE", "Current slope towards passing / required pace (>= 1: fast enough)"),
        (
            "expected_reach_date",
            "DATE",
            "Date the threshold is reached at the current pace, from the last data point: last_point_date + "
            "gap / slope (last_point_date if met; NULL if never or beyond 10 years)",
        ),
        (
            "status",
            "VARCHAR",
            "achieved | on_track | at_risk | off_track | deteriorating | insufficient_data | no_data",
            False,
        ),
        (
            "status_zh",
            "VARCHAR",
            "Status in Chinese: 已达标 / 按期可达 / 有风险 / 难以按期达标 / 趋势恶化 / 数据不足 / 无数据",
        ),
        ("status_reason_zh", "VARCHAR", "Why this status, in Chinese"),
        ("status_reason_en", "VARCHAR", "Why this status, in English"),
        ("is_veto", "BOOLEAN", "Veto / prerequisite item"),
        ("weight", "DOUBLE", "Requirement weight (catalog)"),
        ("edition_code", "VARCHAR", "Edition of the as-of verdict (selects the standard's scoring)"),
        (
            "unassessable_cause",
            "VARCHAR",
            "For a not_assessable latest verdict: data (county data missing: counts as unmet) | standard "
            "(the standard's value unknown: left out of the campaign share); NULL otherwise",
        ),
    ],
    ("county_code", "requirement_code", "as_of_period_code"),
)

CAMPAIGN_FORECAST = table(
    "marts",
    "campaign_forecast",
    (
        "Campaign-level forecast as of each month: requirements projected to pass (achieved + on_track), at "
        "risk, off track; requirements without a forecast (no_data, insufficient_data) count as not passing. "
        "Projected readiness (normalised weights) is capped at readiness_cap when a veto item is not projected "
        "to pass or has no forecast; projected_status is insufficient_data when more than 20 % of the weight "
        "has no forecast, on_track only when every requirement is achieved/on_track and no veto blocks, "
        "at_risk when nothing is off track, else off_track. Earliest date readiness could be reached at the "
        "current pace: the latest expected_reach_date (NULL when any requirement never reaches its threshold "
        "or has no forecast)."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("as_of_period_code", "VARCHAR", "As-of month", False),
        ("as_of_date", "DATE", "Last day of the as-of month"),
        ("is_latest", "BOOLEAN", "True for the latest as-of month"),
        ("target_kind", "VARCHAR", "acceptance | consolidation"),
        ("target_date", "DATE", "Target date"),
        ("n_requirements", "INTEGER", "Requirements forecast"),
        ("n_counted", "INTEGER", "Requirements in the share (all but those whose standard value is unknown)"),
        ("n_achieved", "INTEGER", "Status achieved"),
        ("n_on_track", "INTEGER", "Status on_track"),
        ("n_at_risk", "INTEGER", "Status at_risk"),
        ("n_off_track", "INTEGER", "Status off_track"),
        ("n_deteriorating", "INTEGER", "Status deteriorating"),
        ("n_no_data", "INTEGER", "Status no_data"),
        ("n_insufficient_data", "INTEGER", "Status insufficient_data (too few points for a trend)"),
        ("n_projected_pass", "INTEGER", "n_achieved + n_on_track"),
        (
            "projected_share",
            "DOUBLE",
            "Normalised weight projected to pass / normalised weight of the counted requirements (no_data and "
            "insufficient_data count as not passing)",
        ),
        (
            "no_data_weight_share",
            "DOUBLE",
            "Share of the counted weight without a forecast (no_data, insufficient_data)",
        ),
        (
            "n_veto_projected_fail",
            "INTEGER",
            "Veto items not projected to pass (at_risk, off_track, deteriorating)",
        ),
        ("n_veto_no_data", "INTEGER", "Veto items without a forecast (no_data, insufficient_data): unscored"),
        ("veto_blocking_codes", "VARCHAR[]", "Veto items not projected to pass or unscored"),
        ("readiness_cap", "DOUBLE", "Cap applied when a veto item blocks (0.6)"),
        (
            "projected_readiness",
            "DOUBLE",
            "projected_share, capped at readiness_cap when a veto item is not projected to pass or is unscored",
        ),
        (
            "projected_status",
            "VARCHAR",
            "on_track | at_risk | off_track | insufficient_data (rule in the table doc)",
        ),
        ("projected_status_zh", "VARCHAR", "按期可达 / 有风险 / 难以按期达标 / 数据不足，无法预测"),
        ("n_unreachable", "INTEGER", "Requirements that never reach the threshold at the current pace"),
        (
            "earliest_ready_date",
            "DATE",
            "Earliest date every trended requirement meets its threshold at the current pace",
        ),
        ("blocking_requirement_codes", "VARCHAR[]", "Requirements not projected to pass"),
    ],
    ("county_code", "campaign_code", "as_of_period_code"),
)

UNIT_ACCOUNTABILITY = table(
    "marts",
    "unit_accountability",
    (
        "Accountability ledger per responsible unit × month. The month is the month in which the reported "
        "periods end (monthly returns of that month, quarterly returns of a quarter ending then, annual returns "
        "in December). Returns due = one per unit × period of each frequency the unit reports (dim.assignment), "
        "whatever its role. Score (0–100) = 100 × Σ w·component / Σ w over the components with a denominator "
        "(w: 0.35 timeliness, 0.25 completeness, 0.20 data_quality, 0.20 compliance); a component without a "
        "denominator is NULL and neither earns nor costs. A unit with nothing due has no score and no rank; "
        "departments and towns are ranked separately. See docs/accountability.md."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("org_code", "VARCHAR", "Responsible unit", False),
        ("period_code", "VARCHAR", "Ledger month (2013-06)", False),
        ("unit_name_zh", "VARCHAR", "Unit name in Chinese"),
        ("unit_level", "VARCHAR", "department | town"),
        ("roles", "VARCHAR[]", "Assignment roles of the unit (primary, secondary, town)"),
        ("returns_due", "INTEGER", "Returns due for periods ending this month"),
        ("returns_not_yet_due", "INTEGER", "Of those, due after the data horizon (not counted as missing)"),
        ("returns_received", "INTEGER", "Returns received (any revision)"),
        ("returns_on_time", "INTEGER", "Returns whose first revision arrived by the due date"),
        ("returns_late", "INTEGER", "Returns whose first revision arrived after the due date"),
        ("returns_missing", "INTEGER", "Returns due by the data horizon with no submission"),
        ("working_days_late_total", "INTEGER", "Sum of working days late over late returns"),
        ("working_days_late_max", "INTEGER", "Largest working days late"),
        ("resubmissions", "INTEGER", "Corrected resubmissions (submissions with revision_no > 1)"),
        ("resubmitted_returns", "INTEGER", "Returns with at least one resubmission"),
        ("values_loaded", "INTEGER", "Observations loaded from the unit's returns for these periods"),
        ("values_quarantined", "INTEGER", "Values quarantined from the unit's returns for these periods"),
        ("files_rejected", "INTEGER", "Files of the unit rejected whole for these periods"),
        (
            "quality_defects",
            "INTEGER",
            "Values flagged by quality checks (quality.flag, distinct values) plus cross-indicator rule violations "
            "(quality.rule_violation) on the unit's figures for these periods",
        ),
        (
            "requirements_owned",
            "INTEGER",
            "Requirements whose responsible unit it is (county figure assessed this month)",
        ),
        (
            "requirements_failing",
            "INTEGER",
            "Of those, failing in this month's ytd_month verdict (fail, or near < 0)",
        ),
        ("failing_requirement_codes", "VARCHAR[]", "requirement_code of the failing owned requirements"),
        (
            "requirements_no_data",
            "INTEGER",
            "Owned requirements without data this month (no_data): not met in compliance",
        ),
        ("no_data_requirement_codes", "VARCHAR[]", "requirement_code of the owned requirements without data"),
        ("missing_period_codes", "VARCHAR[]", "Reported periods with a missing return"),
        (
            "timeliness",
            "DOUBLE",
            "(returns_on_time + Σ over late returns of max(0, 1 - working_days_late/10)) / (returns_due - "
            "returns_not_yet_due); NULL when no return was due",
        ),
        (
            "completeness",
            "DOUBLE",
            "returns_received / (returns_due - returns_not_yet_due), at most 1; NULL when no return was due",
        ),
        (
            "data_quality",
            "DOUBLE",
            "1 - (values_quarantined + quality_defects) / (values_loaded + values_quarantined), floored at 0; "
            "NULL when no value was received",
        ),
        (
            "compliance",
            "DOUBLE",
            "1 - (requirements_failing + requirements_no_data) / requirements_owned; NULL when none is owned",
        ),
        (
            "score",
            "DOUBLE",
            "100 × Σ w·component / Σ w over the non-NULL components (w: 0.35 timeliness, 0.25 completeness, "
            "0.20 data_quality, 0.20 compliance); NULL when nothing was due",
        ),
        ("score_components", "VARCHAR[]", "Components the score is computed on (those with a denominator)"),
        ("rank_group", "VARCHAR", "department | town | other: units are ranked within their group"),
        ("is_ranked", "BOOLEAN", "False when nothing was due from the unit that month (no score, no rank)"),
        (
            "rank",
            "INTEGER",
            "Rank by score within county × month × rank_group (1 = best; ties share the rank); NULL when not "
            "ranked",
        ),
        ("n_ranked", "INTEGER", "Units ranked in the same group that month"),
        ("is_lagging", "BOOLEAN", "On the month's 通报 list (see marts.lagging_unit)"),
    ],
    ("county_code", "org_code", "period_code"),
)

LAGGING_UNIT = table(
    "marts",
    "lagging_unit",
    (
        "The monthly list of lagging units the creation office would publish (通报). A unit is listed when it "
        "has a missing return, a return more than 5 working days late, a failing veto requirement it owns, or "
        "a score below 70."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("period_code", "VARCHAR", "Ledger month", False),
        ("org_code", "VARCHAR", "Unit", False),
        ("unit_name_zh", "VARCHAR", "Unit name in Chinese"),
        ("score", "DOUBLE", "Score of the month"),
        ("rank", "INTEGER", "Rank of the month"),
        ("reason_codes", "VARCHAR[]", "missing_return | late_return | failing_veto | low_score"),
        ("reason_zh", "VARCHAR", "通报 reason text in Chinese"),
        ("reason_en", "VARCHAR", "Reason in English"),
    ],
    ("county_code", "period_code", "org_code"),
)

PLAN_SCHEDULE = table(
    "marts",
    "plan_schedule",
    (
        "The plan as a schedule (Gantt): the three phases, the profile's milestones, derived campaign milestones "
        "scheduled backwards from the acceptance date in Chinese working days (倒排工期: creation plan approved, "
        "application, inspection, acceptance), and tasks from task ledgers (任务台账). Milestone status comes from "
        "evidence: done only when the office recorded the event (profile events: date and document; "
        "acceptances and the interim provincial acceptance need outcome passed), otherwise planned, or overdue "
        "once the due date has passed; one acceptance milestone per campaign."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        (
            "item_id",
            "VARCHAR",
            "Stable id: phase:<code>, milestone:<code>, derived:<campaign>:<code>, task:<task_id>",
            False,
        ),
        ("item_kind", "VARCHAR", "phase | milestone | derived_milestone | task", False),
        ("campaign_code", "VARCHAR", "Campaign, NULL for the whole programme"),
        ("code", "VARCHAR", "Phase, milestone or task code"),
        ("name_zh", "VARCHAR", "Name in Chinese"),
        ("name_en", "VARCHAR", "Name in English"),
        ("owner_org_code", "VARCHAR", "Owner unit (tasks; working-group lead for derived milestones)"),
        ("start_date", "DATE", "Start (phases, tasks with a start); NULL for milestones"),
        ("due_date", "DATE", "End or due date"),
        (
            "offset_working_days",
            "INTEGER",
            "Derived milestones: Chinese working days before the acceptance date",
        ),
        (
            "schedule_rule",
            "VARCHAR",
            "How the date was obtained (profile, rule text for derived items, ledger)",
        ),
        ("status", "VARCHAR", "planned | in_progress | done | overdue (as of the data horizon)"),
        ("status_zh", "VARCHAR", "Status in Chinese: 未开始 / 进行中 / 已完成 / 已逾期"),
        (
            "status_basis",
            "VARCHAR",
            "What the status rests on: evidence | no_evidence (milestones), dates (phases), task_ledger",
        ),
        ("status_reason_zh", "VARCHAR", "Milestones: why this status, in Chinese (names the document)"),
        ("status_reason_en", "VARCHAR", "Milestones: why this status, in English"),
        (
            "milestone_key",
            "VARCHAR",
            "Milestones: key matched against the recorded events (start, plan_approved, application, inspection, "
            "interim_acceptance, acceptance, or the profile milestone code)",
        ),
        ("evidence_date", "DATE", "Date of the recorded event (the passing one for acceptances)"),
        (
            "evidence_kind",
            "VARCHAR",
            "launch | approval | signing | meeting | application | inspection | acceptance",
        ),
        ("evidence_document", "VARCHAR", "Document of the recorded event (name and number)"),
        ("evidence_outcome", "VARCHAR", "passed | failed (inspections and acceptances)"),
        (
            "evidence_assumed",
            "BOOLEAN",
            "The event is recorded but still to be confirmed against the document",
        ),
        ("completed_late", "BOOLEAN", "Done, with the event dated after the due date"),
        (
            "readiness_at_due",
            "DOUBLE",
            "Acceptance-like milestones: the campaign's yearly readiness in the due year (context, not evidence)",
        ),
        ("as_of_date", "DATE", "Date the status is evaluated at (data horizon)"),
        ("source", "VARCHAR", "profile | derived | task_ledger"),
        ("source_file", "VARCHAR", "Task ledger file (relative path) for tasks"),
    ],
    ("county_code", "item_id"),
)

TASK = table(
    "marts",
    "task",
    "Tasks read from task-ledger spreadsheets (任务台账) under the raw folder, one row per valid ledger row.",
    [
        (
            "task_id",
            "VARCHAR",
            "Stable id: sha1(county, ledger path, sheet, row)[:16] (stable across ledger updates)",
            False,
        ),
        ("county_code", "VARCHAR", "County", False),
        ("source_file", "VARCHAR", "Ledger file path relative to the raw folder"),
        ("file_id", "VARCHAR", "SHA-256 of the ledger file content"),
        ("sheet", "VARCHAR", "Sheet name (CSV: file name)"),
        ("row_no", "INTEGER", "Spreadsheet row number (1-based)"),
        ("task_code", "VARCHAR", "Task number as written (序号/编号), if any"),
        ("task_name", "VARCHAR", "Task (任务内容)", False),
        ("campaign_code", "VARCHAR", "Campaign, if the ledger names one"),
        ("owner_text", "VARCHAR", "Owner unit as written"),
        ("owner_org_code", "VARCHAR", "Owner unit resolved to dim.org_unit"),
        ("due_date", "DATE", "Due date (完成时限)"),
        ("status", "VARCHAR", "not_started | in_progress | done (as written, normalised)"),
        ("status_text", "VARCHAR", "Status as written"),
        ("completed_date", "DATE", "Completion date, if given"),
        ("is_overdue", "BOOLEAN", "Not done and due before the as-of date"),
        ("as_of_date", "DATE", "Date overdue is evaluated at"),
        ("remark", "VARCHAR", "Remark (备注)"),
    ],
    ("task_id",),
)

TASK_LEDGER_ERROR = table(
    "marts",
    "task_ledger_error",
    "Problems found reading task ledgers, naming file, sheet and cell, in Chinese and English.",
    [
        ("error_id", "VARCHAR", "Stable id", False),
        ("source_file", "VARCHAR", "Ledger file path relative to the raw folder", False),
        ("sheet", "VARCHAR", "Sheet (NULL for file-level problems)"),
        ("cell", "VARCHAR", "Cell (NULL for file- or row-level problems)"),
        ("row_no", "INTEGER", "Row number"),
        (
            "reason_code",
            "VARCHAR",
            "unreadable_file | no_header | missing_task | unknown_owner | bad_date | bad_status",
            False,
        ),
        ("raw_text", "VARCHAR", "The offending text"),
        ("message_zh", "VARCHAR", "Message in Chinese", False),
        ("message_en", "VARCHAR", "Message in English", False),
    ],
    ("error_id",),
)

RECTIFICATION_ITEM = table(
    "marts",
    "rectification_item",
    (
        "Rectification items (整改). A county-level verdict failing (fail, or near with margin < 0) after a "
        "non-failing or no earlier period opens an item per requirement × grain; it closes by itself at the "
        "first later period of the same grain whose verdict passes (pass, or near with margin >= 0). A quality "
        "problem still unresolved (quality.outlier open for follow-up, quality.rule_violation) opens an item per "
        "unit × indicator × period; it closes at the data horizon of the first rebuild where the problem is no "
        "longer reported (history kept across rebuilds). Due date: "
        "60 Chinese working days after the opening period ends, but not after the campaign acceptance date when "
        "that is still ahead (at least 10 working days after the period end). An item still open when its "
        "requirement leaves the standard at an edition change is retired (status withdrawn); no item opens for "
        "a period ending before the campaign starts."
    ),
    [
        ("item_id", "VARCHAR", "Stable id: source:county:requirement|org:subject:grain:opened_period", False),
        ("county_code", "VARCHAR", "County", False),
        ("source_kind", "VARCHAR", "verdict | quality", False),
        ("campaign_code", "VARCHAR", "Campaign (verdict items)"),
        ("requirement_code", "VARCHAR", "Requirement (verdict items)"),
        ("indicator_code", "VARCHAR", "Indicator"),
        ("subject_org_code", "VARCHAR", "Whose figure (county code; reporting unit for quality items)"),
        ("grain", "VARCHAR", "ytd_month | year (verdict items); the period's frequency for quality items"),
        (
            "owner_org_code",
            "VARCHAR",
            "Owner unit: the requirement's responsible unit, or the reporting unit",
        ),
        ("is_veto", "BOOLEAN", "Veto item"),
        ("opened_period_code", "VARCHAR", "Period in which the item opened", False),
        ("opened_date", "DATE", "End of the opening period"),
        ("due_date", "DATE", "Rectification due date (rule in the table doc)"),
        ("closed_period_code", "VARCHAR", "Period whose passing verdict closed it (NULL while open)"),
        ("closed_date", "DATE", "End of the closing period"),
        ("status", "VARCHAR", "open | overdue | closed | closed_late | withdrawn", False),
        (
            "closed_reason",
            "VARCHAR",
            "met (a later verdict met) | withdrawn (requirement left the standard at an edition change: "
            "要求已取消) | resolved (quality problem no longer reported); NULL while open",
        ),
        ("periods_open", "INTEGER", "Periods of the grain from opening to closing (or to the horizon)"),
        ("value_at_open", "DOUBLE", "Value when opened"),
        ("threshold_at_open", "DOUBLE", "Threshold when opened"),
        ("margin_at_open", "DOUBLE", "Margin when opened (< 0)"),
        ("latest_value", "DOUBLE", "Latest value seen while open (or at closing)"),
        ("latest_margin", "DOUBLE", "Latest margin"),
        ("problem_ref", "VARCHAR", "Quality items: the quality problem key"),
        ("description_zh", "VARCHAR", "What must be fixed, in Chinese"),
        ("description_en", "VARCHAR", "What must be fixed, in English"),
        ("as_of_date", "DATE", "Data horizon the status is evaluated at"),
    ],
    ("item_id",),
)

RECTIFICATION_EVENT = table(
    "marts",
    "rectification_event",
    (
        "History of each rectification item: one row per period it was seen (opened, still_open, overdue, "
        "closed). Quality items: opened, then closed at the data horizon of the first rebuild where the "
        "problem is no longer reported (reopened if it comes back); kept across rebuilds."
    ),
    [
        ("item_id", "VARCHAR", "Rectification item", False),
        ("seq", "INTEGER", "Event order within the item (1 = opened)", False),
        ("period_code", "VARCHAR", "Period of the verdict (or quality result) seen", False),
        (
            "event",
            "VARCHAR",
            "opened | still_open | overdue | closed | withdrawn (edition change) | reopened (quality items)",
            False,
        ),
        ("verdict_status", "VARCHAR", "Verdict status in that period"),
        ("value", "DOUBLE", "Value in that period"),
        ("margin", "DOUBLE", "Margin in that period"),
        ("event_date", "DATE", "End of that period"),
    ],
    ("item_id", "seq"),
)
