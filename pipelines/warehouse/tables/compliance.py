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
        ("value_period_end", "DATE", "End of the newest period among the values used (NULL when no data)"),
        (
            "value_age_days",
            "INTEGER",
            "Days from value_period_end to period_end (0: the value covers the period)",
        ),
        ("value_frequency", "VARCHAR", "Frequency of the newest value used: annual | quarterly | monthly"),
        (
            "is_stale",
            "BOOLEAN",
            "The value is older than its frequency allows: period_end > value_period_end + 12 months (annual), "
            "3 (quarterly), 1 (monthly); e.g. a 2011 annual value used for 2013-01. NULL when no data",
        ),
        (
            "is_proxy",
            "BOOLEAN",
            "The requirement (or its edition) is a proxy: the nearest edition's value used where the edition in "
            "force could not be found",
        ),
        (
            "variant_dimension",
            "VARCHAR",
            "County class the threshold depends on (terrain, region …); NULL if none",
        ),
        ("variant_value", "VARCHAR", "Class declared in the county profile"),
        ("variant_confirmed", "BOOLEAN", "The declared class is confirmed by an official source (profile)"),
        (
            "variant_alternatives",
            "VARCHAR",
            "Status under every other class of the dimension, e.g. hill:pass;plain:pass (NULL: no data or no variant)",
        ),
        (
            "variant_decides",
            "BOOLEAN",
            "An UNCONFIRMED declared class decides the verdict: another class turns it between met and fail",
        ),
    ],
    ("county_code", "requirement_code", "subject_org_code", "period_code"),
)

COVERAGE = table(
    "compliance",
    "coverage",
    (
        "Coverage of the standard per county × campaign × assessment period (county figures): requirements of "
        "the edition in force, how many were assessed (pass/near/fail), proxies, stale values and unconfirmed "
        "variants that decide a verdict. Show label_zh / label_en next to every readiness figure."
    ),
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("period_code", "VARCHAR", "Assessment period: a year (2013) or a month (2013-06)", False),
        ("grain", "VARCHAR", "year | ytd_month", False),
        ("edition_code", "VARCHAR", "Edition in force at the period end", False),
        ("period_end", "DATE", "Last day of the assessment period"),
        ("n_requirements", "INTEGER", "Requirements of the edition in force (catalog)"),
        ("n_assessed", "INTEGER", "Requirements with a verdict pass, near or fail"),
        ("n_pass", "INTEGER", "Verdicts pass"),
        ("n_near", "INTEGER", "Verdicts near"),
        ("n_fail", "INTEGER", "Verdicts fail"),
        ("n_no_data", "INTEGER", "Verdicts no_data"),
        ("n_not_assessable", "INTEGER", "Verdicts not_assessable"),
        ("n_proxy", "INTEGER", "Requirements that are proxies (0 while the catalog marks none)"),
        ("n_proxy_assessed", "INTEGER", "Assessed requirements that are proxies"),
        ("coverage", "DOUBLE", "n_assessed / n_requirements"),
        ("n_veto", "INTEGER", "Veto requirements of the edition"),
        ("n_veto_assessed", "INTEGER", "Veto requirements assessed"),
        ("n_stale", "INTEGER", "Assessed verdicts that use a stale value (compliance.verdict.is_stale)"),
        ("n_stale_fail", "INTEGER", "Failing verdicts that use a stale value"),
        ("n_variant_decides", "INTEGER", "Verdicts decided by an unconfirmed county class (variant_decides)"),
        ("label_zh", "VARCHAR", "e.g. 按 22 项中的 18 项评价（3 项使用过期数据）"),
        ("label_en", "VARCHAR", "e.g. judged on 18 of 22 (3 on stale data)"),
    ],
    ("county_code", "campaign_code", "period_code"),
)
