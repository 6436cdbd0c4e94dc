"""`quality` schema: data-quality check results, flagged values, cross-indicator rule violations, outliers.

Written by the `quality_results` asset (issue 4). Each table is replaced as a whole on every run
(idempotent); trend quality per department and period with `quality.check_result`.
"""

from pipelines.warehouse.schema import table

CHECK_RESULT = table(
    "quality",
    "check_result",
    (
        "One row per check × expectation (or rule) × reporting unit × period: how many values were checked, how "
        "many failed, the observed failure rate against the allowed rate, and a few concrete examples."
    ),
    [
        (
            "check_name",
            "VARCHAR",
            "Check: observation_structure | observation_values | cross_indicator_rules | triangulation | value_outliers",
            False,
        ),
        (
            "expectation",
            "VARCHAR",
            "Expectation or rule inside the check (GX expectation type + column, or rule id)",
            False,
        ),
        (
            "dimension",
            "VARCHAR",
            "Data-quality dimension: completeness | validity | uniqueness | timeliness | consistency | accuracy",
        ),
        ("severity", "VARCHAR", "ERROR (structural: blocks downstream assets) | WARN (plausibility)", False),
        ("org_code", "VARCHAR", "Reporting unit ('?' when the row has no unit)", False),
        ("period_code", "VARCHAR", "Period reported ('?' when the row has no period)", False),
        ("n_checked", "INTEGER", "Values (or rule evaluations) checked"),
        ("n_failed", "INTEGER", "Values (or rule evaluations) that failed"),
        ("failure_rate", "DOUBLE", "n_failed / n_checked"),
        ("threshold_rate", "DOUBLE", "Largest failure rate the check accepts over the whole run"),
        ("bound", "VARCHAR", "The bound checked, e.g. 0 ≤ value ≤ 100 for unit %"),
        ("passed", "BOOLEAN", "True when no value of this unit and period failed"),
        ("examples", "VARCHAR", "JSON list of up to 5 failing values with file, sheet, cell, value"),
        ("message_zh", "VARCHAR", "What failed, in Chinese"),
        ("message_en", "VARCHAR", "What failed, in English"),
        ("evaluated_at", "TIMESTAMP", "When the check ran"),
    ],
    ("check_name", "expectation", "org_code", "period_code"),
)

FLAG = table(
    "quality",
    "flag",
    "Every value flagged by a check, with its lineage to file, sheet and cell. Flags are for follow-up: values are never dropped.",
    [
        ("flag_id", "VARCHAR", "check:expectation:observation_id", False),
        ("check_name", "VARCHAR", "Check that flagged the value", False),
        ("expectation", "VARCHAR", "Expectation or rule that failed", False),
        ("severity", "VARCHAR", "ERROR | WARN", False),
        ("observation_id", "VARCHAR", "core.observation id (NULL for rows without one)"),
        ("file_id", "VARCHAR", "Source file"),
        ("file_name", "VARCHAR", "Source file name"),
        ("sheet", "VARCHAR", "Sheet"),
        ("cell", "VARCHAR", "Cell"),
        ("org_code", "VARCHAR", "Reporting unit"),
        ("indicator_code", "VARCHAR", "Indicator"),
        ("period_code", "VARCHAR", "Period"),
        ("value", "DOUBLE", "Value flagged"),
        ("raw_text", "VARCHAR", "The cell as written"),
        ("bound", "VARCHAR", "Bound it was checked against"),
        (
            "reason_code",
            "VARCHAR",
            "Machine-readable reason, e.g. out_of_range, duplicate_value, outlier, rule_violation",
        ),
        ("message_zh", "VARCHAR", "Message in Chinese"),
        ("message_en", "VARCHAR", "Message in English"),
    ],
    ("flag_id",),
)

RULE_VIOLATION = table(
    "quality",
    "rule_violation",
    "Cross-indicator validation rules (expectations/rules/validation_rules.yaml) that failed, per unit and period.",
    [
        ("violation_id", "VARCHAR", "rule_id:org_code:period_code", False),
        ("rule_id", "VARCHAR", "Rule id in the rules file", False),
        ("rule_kind", "VARCHAR", "compare | town_vs_county | each_town | triangulation"),
        ("importance", "VARCHAR", "high | medium | low"),
        ("county_code", "VARCHAR", "County"),
        ("org_code", "VARCHAR", "Unit whose figure is questioned (the county code for county figures)"),
        ("period_code", "VARCHAR", "Period", False),
        ("left_value", "DOUBLE", "Left side value"),
        ("operator", "VARCHAR", "Operator"),
        ("right_value", "DOUBLE", "Right side value"),
        ("tolerance", "DOUBLE", "Tolerance allowed, natural units"),
        ("difference", "DOUBLE", "left − right"),
        ("observation_ids", "VARCHAR[]", "Observations the two sides came from"),
        ("message_zh", "VARCHAR", "Rule message in Chinese, with the values"),
        ("message_en", "VARCHAR", "Rule message in English, with the values"),
    ],
    ("violation_id",),
)

OUTLIER = table(
    "quality",
    "outlier",
    (
        "Values far from their indicator × unit series (modified z-score on median/MAD, |z| > 3.5) or outside the "
        "indicator's plausible min–max bounds. Flagged for follow-up, never dropped."
    ),
    [
        ("observation_id", "VARCHAR", "core.observation id", False),
        ("method", "VARCHAR", "modified_z | min_max", False),
        ("indicator_code", "VARCHAR", "Indicator"),
        ("org_code", "VARCHAR", "Reporting unit"),
        ("period_code", "VARCHAR", "Period"),
        ("value", "DOUBLE", "Value"),
        ("score", "DOUBLE", "Modified z-score (method modified_z)"),
        ("median", "DOUBLE", "Median of the series"),
        ("mad", "DOUBLE", "Median absolute deviation of the series"),
        ("bound_low", "DOUBLE", "Lowest value not flagged"),
        ("bound_high", "DOUBLE", "Highest value not flagged"),
        ("n_history", "INTEGER", "Values in the series"),
        ("file_id", "VARCHAR", "Source file"),
        ("sheet", "VARCHAR", "Sheet"),
        ("cell", "VARCHAR", "Cell"),
        ("follow_up", "VARCHAR", "open (to be confirmed by the reporting unit)"),
        ("message_zh", "VARCHAR", "Message in Chinese"),
        ("message_en", "VARCHAR", "Message in English"),
    ],
    ("observation_id", "method"),
)
