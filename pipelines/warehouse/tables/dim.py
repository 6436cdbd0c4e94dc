"""`dim` schema: the standards catalog, county profiles and the reporting calendar."""

from pipelines.warehouse.schema import table

CAMPAIGN = table(
    "dim",
    "campaign",
    "The five creation campaigns (创建项目).",
    [
        ("campaign_code", "VARCHAR", "Campaign code, e.g. env_model_city", False),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("name_en", "VARCHAR", "English name"),
    ],
    ("campaign_code",),
)

EDITION = table(
    "dim",
    "edition",
    "Editions of each campaign's standard with their effective dates; editions of one campaign never overlap.",
    [
        ("edition_code", "VARCHAR", "Edition code, e.g. hyg_county_2010", False),
        ("campaign_code", "VARCHAR", "Campaign the edition belongs to", False),
        ("name_zh", "VARCHAR", "Chinese title of the standard"),
        ("name_en", "VARCHAR", "English title"),
        ("document", "VARCHAR", "Issuing document number"),
        ("effective_from", "DATE", "First day in force", False),
        ("effective_to", "DATE", "Last day in force (inclusive); NULL while still in force"),
        ("approx_dates", "BOOLEAN", "True when the dates are the best reading of public copies"),
    ],
    ("edition_code",),
)

UNIT_OF_MEASURE = table(
    "dim",
    "unit_of_measure",
    "Units of measure with the physically possible range of a value.",
    [
        ("unit", "VARCHAR", "Unit as written in returns, e.g. %, ‰, dB(A)", False),
        ("kind", "VARCHAR", "Unit family: percent, permille, count, sound, ..."),
        ("name_en", "VARCHAR", "English name"),
        ("min_value", "DOUBLE", "Smallest possible value (NULL: no bound)"),
        ("max_value", "DOUBLE", "Largest possible value (NULL: no bound)"),
    ],
    ("unit",),
)

INDICATOR = table(
    "dim",
    "indicator",
    "Measured quantities. One indicator may count for several campaigns (see dim.requirement).",
    [
        ("indicator_code", "VARCHAR", "Indicator code, e.g. builtup_green_coverage", False),
        ("name_zh", "VARCHAR", "Chinese name as used on return forms"),
        ("name_en", "VARCHAR", "English name"),
        ("unit", "VARCHAR", "Unit of measure (dim.unit_of_measure.unit)"),
        ("frequency", "VARCHAR", "Reporting frequency: monthly | quarterly | annual"),
        (
            "rollup",
            "VARCHAR",
            "How sub-annual values roll up to the assessed period: mean | sum | last | min | max | all_pass | count_pass",
        ),
        ("value_type", "VARCHAR", "number, or text for qualitative assessments"),
        ("aliases", "VARCHAR[]", "Other names departments use for it (header matching)"),
    ],
    ("indicator_code",),
)

REQUIREMENT = table(
    "dim",
    "requirement",
    "A campaign edition's requirement on an indicator: comparison and threshold, veto flag, source and confirmation.",
    [
        ("requirement_code", "VARCHAR", "Requirement code (the research CSV's code)", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("edition_code", "VARCHAR", "Edition of the standard it belongs to", False),
        ("indicator_code", "VARCHAR", "Indicator measured", False),
        ("name_zh", "VARCHAR", "Chinese wording of the requirement"),
        ("name_en", "VARCHAR", "English wording"),
        (
            "comparison",
            "VARCHAR",
            ">=, >, <=, <, ==, between or qualitative (> and < where the standard says strictly 大于/低于)",
        ),
        ("threshold_kind", "VARCHAR", "absolute | relative | qualitative | unknown"),
        (
            "threshold_value",
            "DOUBLE",
            "Absolute threshold as researched (before county variants); range low end for between",
        ),
        ("threshold_high", "DOUBLE", "Range high end for between"),
        (
            "threshold_token",
            "VARCHAR",
            "Machine-readable threshold, e.g. 85, ref:national_avg;declining_3y, C级",
        ),
        (
            "reference",
            "VARCHAR",
            "Relative threshold reference: national_avg, provincial_avg, previous_year, 5yr_avg, regional_health_plan, state_control_target",
        ),
        ("conditions", "VARCHAR[]", "Relative threshold extra conditions, e.g. declining_3y"),
        ("or_trend", "VARCHAR", "Escape clause 'X 或持续降低/逐年提高': declining | increasing"),
        ("pass_values", "VARCHAR[]", "Qualitative items: assessed values that count as a pass"),
        (
            "variant_dimension",
            "VARCHAR",
            "Profile class that selects the threshold (terrain, region, ...); see dim.requirement_variant",
        ),
        (
            "is_veto",
            "BOOLEAN",
            "Veto / prerequisite item (一票否决/基本条件/前置条件): failing it caps readiness",
        ),
        ("veto_reason", "VARCHAR", "Why it is a veto item"),
        ("weight", "DOUBLE", "Weight in readiness (1 unless the standard weights it)"),
        ("frequency", "VARCHAR", "Reporting frequency"),
        (
            "responsible_short_code",
            "VARCHAR",
            "Responsible department's short code (see dim.org_unit.short_code)",
        ),
        ("also_reported_by", "VARCHAR[]", "Other departments that report the same quantity"),
        ("variant_note", "VARCHAR", "Research note: variants, wording, doubts"),
        ("source", "VARCHAR", "Where the threshold was read"),
        ("is_confirmed", "BOOLEAN", "True if the number was seen in a copy of the standard"),
    ],
    ("requirement_code",),
)

REQUIREMENT_VARIANT = table(
    "dim",
    "requirement_variant",
    "Thresholds that depend on a county's declared class (terrain, region, development, rainfall, seat).",
    [
        ("requirement_code", "VARCHAR", "Requirement", False),
        ("dimension", "VARCHAR", "Variant dimension", False),
        ("variant", "VARCHAR", "Class value, e.g. mountain, hill, plain", False),
        ("threshold_value", "DOUBLE", "Threshold for that class", False),
    ],
    ("requirement_code", "variant"),
)

REFERENCE_VALUE = table(
    "dim",
    "reference_value",
    "Reference series for relative thresholds (national/provincial averages, plan targets), per indicator and year.",
    [
        ("reference", "VARCHAR", "Reference name", False),
        ("indicator_code", "VARCHAR", "Indicator", False),
        ("year", "INTEGER", "Year", False),
        ("value", "DOUBLE", "Reference value", False),
        ("unit", "VARCHAR", "Unit"),
        ("is_confirmed", "BOOLEAN", "False for placeholders that must be replaced with published figures"),
        ("source", "VARCHAR", "Source"),
    ],
    ("reference", "indicator_code", "year"),
)

ORG_UNIT = table(
    "dim",
    "org_unit",
    "Organisation hierarchy: province → city → county → departments, towns, leading group and office.",
    [
        (
            "org_code",
            "VARCHAR",
            "Unit code, unique across counties (county code, or county-short code)",
            False,
        ),
        ("parent_code", "VARCHAR", "Parent unit"),
        ("county_code", "VARCHAR", "County the unit belongs to (NULL above county level)"),
        ("level", "VARCHAR", "province | city | county | department | town | group | office"),
        ("short_code", "VARCHAR", "Code inside the county, e.g. sthjj"),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("name_en", "VARCHAR", "English name"),
    ],
    ("org_code",),
)

COUNTY = table(
    "dim",
    "county",
    "Counties with their declared classes and size figures.",
    [
        ("county_code", "VARCHAR", "County code", False),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("name_en", "VARCHAR", "English name"),
        ("terrain", "VARCHAR", "Declared terrain class"),
        ("region", "VARCHAR", "East / central / west"),
        ("development", "VARCHAR", "Development class"),
        ("rainfall", "VARCHAR", "Annual precipitation class"),
        ("seat", "VARCHAR", "Which seat values apply (county_town | township)"),
        ("population", "BIGINT", "Population"),
        ("builtup_area_km2", "DOUBLE", "Built-up area of the county town, km²"),
        ("area_km2", "DOUBLE", "Land area, km²"),
        ("profile_file", "VARCHAR", "Profile file the county was loaded from"),
    ],
    ("county_code",),
)

COUNTY_REQUIREMENT = table(
    "dim",
    "county_requirement",
    "Each requirement resolved for a county: the threshold after applying the county's declared classes.",
    [
        ("county_code", "VARCHAR", "County", False),
        ("requirement_code", "VARCHAR", "Requirement", False),
        ("threshold_value", "DOUBLE", "Resolved numeric threshold (NULL for relative/qualitative/unknown)"),
        ("variant_dimension", "VARCHAR", "Dimension used, if any"),
        ("variant", "VARCHAR", "County's class on that dimension"),
    ],
    ("county_code", "requirement_code"),
)

COUNTY_CAMPAIGN = table(
    "dim",
    "county_campaign",
    "A county's programme for a campaign: level, working group, start and acceptance target dates.",
    [
        ("county_code", "VARCHAR", "County", False),
        ("campaign_code", "VARCHAR", "Campaign", False),
        ("level", "VARCHAR", "provincial | national"),
        ("working_group_code", "VARCHAR", "Working group in charge"),
        ("start_date", "DATE", "Campaign start"),
        ("acceptance_date", "DATE", "Acceptance target date"),
        ("interim_level", "VARCHAR", "Level of an interim acceptance (e.g. provincial forest city first)"),
        ("interim_acceptance_date", "DATE", "Interim acceptance target date"),
    ],
    ("county_code", "campaign_code"),
)

WORKING_GROUP = table(
    "dim",
    "working_group",
    "The county's working groups (创建组) and their lead units.",
    [
        ("county_code", "VARCHAR", "County", False),
        ("working_group_code", "VARCHAR", "Working group code", False),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("name_en", "VARCHAR", "English name"),
        ("lead_org_code", "VARCHAR", "Lead responsible unit (牵头责任单位)"),
        ("lead_assumed", "BOOLEAN", "True when the lead unit is not named in the plan text"),
    ],
    ("county_code", "working_group_code"),
)

PLAN_PHASE = table(
    "dim",
    "plan_phase",
    "Phases of the county's plan.",
    [
        ("county_code", "VARCHAR", "County", False),
        ("phase_code", "VARCHAR", "preparation | implementation | acceptance", False),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("name_en", "VARCHAR", "English name"),
        ("start_date", "DATE", "Start"),
        ("end_date", "DATE", "End"),
    ],
    ("county_code", "phase_code"),
)

MILESTONE = table(
    "dim",
    "milestone",
    "Milestones named in the plan (campaign NULL: all campaigns).",
    [
        ("county_code", "VARCHAR", "County", False),
        ("milestone_code", "VARCHAR", "Milestone code", False),
        ("campaign_code", "VARCHAR", "Campaign, or NULL for the whole programme"),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("due_date", "DATE", "Due date"),
    ],
    ("county_code", "milestone_code"),
)

ASSIGNMENT = table(
    "dim",
    "assignment",
    "Which unit reports which indicator: primary (the figure assessed), secondary (triangulation), town (its own figure).",
    [
        ("county_code", "VARCHAR", "County", False),
        ("indicator_code", "VARCHAR", "Indicator", False),
        ("org_code", "VARCHAR", "Reporting unit", False),
        ("role", "VARCHAR", "primary | secondary | town"),
        ("frequency", "VARCHAR", "Frequency at which the unit reports it"),
    ],
    ("county_code", "indicator_code", "org_code"),
)

PERIOD = table(
    "dim",
    "period",
    "Reporting periods: months (2012-03), quarters (2012-Q1) and years (2012).",
    [
        ("period_code", "VARCHAR", "Period code", False),
        ("frequency", "VARCHAR", "monthly | quarterly | annual"),
        ("year", "INTEGER", "Calendar year"),
        ("start_date", "DATE", "First day"),
        ("end_date", "DATE", "Last day"),
        ("label_zh", "VARCHAR", "Chinese label, e.g. 2012年3月"),
    ],
    ("period_code",),
)

REPORTING_DEADLINE = table(
    "dim",
    "reporting_deadline",
    "When a county's returns for a period are due, counted in Chinese working days after period end.",
    [
        ("county_code", "VARCHAR", "County", False),
        ("period_code", "VARCHAR", "Period", False),
        ("due_date", "DATE", "Due date"),
        ("due_working_days", "INTEGER", "Working days after period end"),
    ],
    ("county_code", "period_code"),
)
