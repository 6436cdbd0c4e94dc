"""`compliance` schema: verdicts of every requirement against the reported values.

Owned by the validation work (issue 4), which may add columns; the columns below are the contract
that the marts and dashboards rely on.
"""

from pipelines.warehouse.schema import table

VERDICT = table(
    "compliance",
    "verdict",
    (
        "One verdict per county × requirement × subject unit × assessment period. grain='year': the year's "
        "assessment (sub-annual values rolled up as the catalog says). grain='ytd_month': year-to-date "
        "assessment as of that month's end (annual indicators: the latest annual value available)."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("requirement_code", "VARCHAR", "Requirement", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("edition_code", "VARCHAR", "Edition in force at the period end", False),
        ("indicator_code", "VARCHAR", "Indicator", False),
        (
            "subject_org_code",
            "VARCHAR",
            "Whose figure: the county code for the county figure, a town code for a town's",
            False,
        ),
        ("reporting_org_code", "VARCHAR", "Unit whose return supplied the value (NULL when no data)"),
        ("period_code", "VARCHAR", "Assessment period: a year (2013) or a month (2013-06)", False),
        ("grain", "VARCHAR", "year | ytd_month", False),
        ("status", "VARCHAR", "pass | near | fail | no_data | not_assessable (threshold unknown)", False),
        ("value", "DOUBLE", "Rolled-up value assessed"),
        ("value_text", "VARCHAR", "Assessed text for qualitative items"),
        ("comparison", "VARCHAR", "Comparison applied"),
        (
            "threshold_value",
            "DOUBLE",
            "Threshold applied (resolved variant, or the reference value for relative thresholds)",
        ),
        ("threshold_token", "VARCHAR", "Threshold as written in the catalog"),
        ("margin", "DOUBLE", "Distance from the threshold in natural units; > 0 on the passing side"),
        ("rollup", "VARCHAR", "Roll-up used for sub-annual values"),
        ("n_observations", "INTEGER", "Observations used"),
        ("observation_ids", "VARCHAR[]", "core.observation ids the verdict came from"),
        ("is_veto", "BOOLEAN", "Veto / prerequisite item"),
        ("weight", "DOUBLE", "Requirement weight"),
        ("is_confirmed", "BOOLEAN", "Threshold confirmed in a copy of the standard"),
        ("explanation_zh", "VARCHAR", "One-line explanation in Chinese"),
        ("explanation_en", "VARCHAR", "One-line explanation in English"),
        ("meets", "BOOLEAN", "True for pass and near (the standard is met), False for fail, NULL otherwise"),
        (
            "near_band",
            "DOUBLE",
            "Width of the warning band in natural units: 'near' = meets the threshold with margin <= near_band "
            "(5% of |threshold|); a value that misses the threshold is 'fail', however narrowly",
        ),
        (
            "period_end",
            "DATE",
            "Last day of the assessment period (the edition in force on this day applies)",
        ),
        (
            "trend_holds",
            "BOOLEAN",
            "For declining_3y / or_trend: whether the 3-year trend holds (NULL: not used)",
        ),
    ],
    ("county_code", "requirement_code", "subject_org_code", "period_code"),
)
