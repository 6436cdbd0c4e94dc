"""The dashboard's answers computed in pandas, for the scale comparison.

`load_frames(conn)` loads the tables the dashboard reads into pandas (the columns it uses); each
function below computes the same answer as the `dashboards.data` function of the same name from
those frames. The benchmark checks that both give the same number of rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

VERDICT_COLS = [
    "county_code",
    "subject_org_code",
    "requirement_code",
    "campaign_code",
    "edition_code",
    "indicator_code",
    "period_code",
    "grain",
    "status",
    "value",
    "value_text",
    "comparison",
    "threshold_value",
    "threshold_token",
    "margin",
    "is_veto",
    "weight",
    "is_confirmed",
    "explanation_zh",
    "explanation_en",
    "reporting_org_code",
]

TABLES = {
    "dim.county": None,
    "dim.campaign": None,
    "dim.county_campaign": None,
    "dim.org_unit": None,
    "dim.period": None,
    "dim.indicator": None,
    "dim.requirement": None,
    "dim.edition": None,
    "dim.county_requirement": None,
    "dim.assignment": None,
    "dim.reporting_deadline": None,
    "dim.plan_phase": None,
    "dim.milestone": None,
    "compliance.verdict": VERDICT_COLS,
    "core.observation": None,
    "core.source_file": None,
    "core.submission": None,
    "core.quarantine": None,
    "quality.outlier": None,
    "quality.check_result": None,
}


# identifiers and free text: one distinct value per row, kept as text
HIGH_CARDINALITY = {
    "observation_id",
    "submission_id",
    "file_id",
    "content_sha256",
    "duplicate_of",
    "path",
    "file_name",
    "quarantine_id",
    "raw_text",
    "cell",
    "item_id",
    "feedback_path",
}
# columns each dashboard answer needs from the marts (the SELECT lists of dashboards/data.py + filters)
MART_COLUMNS = {
    "marts.campaign_readiness": None,
    "marts.campaign_forecast": None,
    "marts.requirement_forecast": [
        "county_code",
        "as_of_period_code",
        "requirement_code",
        "campaign_code",
        "indicator_code",
        "as_of_date",
        "target_kind",
        "target_date",
        "latest_value",
        "threshold_value",
        "gap",
        "projected_value",
        "projected_low",
        "projected_high",
        "projected_margin",
        "required_pace_per_month",
        "slope_per_month",
        "status",
        "status_zh",
        "status_reason_zh",
        "status_reason_en",
        "expected_reach_date",
    ],
    "marts.unit_accountability": None,
    "marts.lagging_unit": None,
    "marts.plan_schedule": None,
    "marts.task": None,
    "marts.rectification_item": None,
}


def _text(t) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _load(conn: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Stream a query into pandas the way a careful pandas user holds millions of rows: text
    columns other than identifiers are dictionary-encoded batch by batch (→ categoricals with
    lexically ordered categories, so sorts give SQL's order); period codes stay text (compared
    with <=). Streaming keeps the peak near the size of the final frames."""
    cur = conn.cursor()  # its own result: DuckDB refuses new work while another result is unfinished
    reader = cur.sql(sql).to_arrow_reader(1 << 20)
    schema = reader.schema
    encode = [_text(f.type) and f.name not in HIGH_CARDINALITY and "period" not in f.name for f in schema]
    batches = []
    for batch in reader:
        arrays = [pc.dictionary_encode(a) if e else a for a, e in zip(batch.columns, encode, strict=True)]
        batches.append(pa.RecordBatch.from_arrays(arrays, names=schema.names))
    if batches:
        table = pa.Table.from_batches(batches).unify_dictionaries()
    else:
        table = pa.Table.from_batches([], schema=schema)
    del batches
    cur.close()
    df = table.to_pandas(self_destruct=True)
    for name in df.columns:
        if isinstance(df[name].dtype, pd.CategoricalDtype):
            df[name] = df[name].cat.set_categories(sorted(df[name].cat.categories), ordered=True)
    return df


def estimate_bytes(conn: duckdb.DuckDBPyConnection, marts: list[str]) -> int:
    """Rough size of the frames before loading them: per row, 60 bytes per identifier column and
    10 per other column (categorical codes, numbers, dates)."""
    total = 0
    for name, cols in _wanted(marts).items():
        schema, table = name.split(".")
        names = cols or [
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                [schema, table],
            ).fetchall()
        ]
        per_row = sum(60 if c in HIGH_CARDINALITY else 10 for c in names)
        total += conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] * per_row
    return total


def _wanted(marts: list[str]) -> dict[str, list[str] | None]:
    return {**TABLES, **{m: MART_COLUMNS[m] for m in marts if m in MART_COLUMNS}}


class OutOfMemory(MemoryError):
    """Loading stopped: the machine's available memory fell below the floor."""


def load_frames(
    conn: duckdb.DuckDBPyConnection, marts: list[str], available=None, floor: int = 4 << 30
) -> dict[str, pd.DataFrame]:
    """The frames the answers need. `available()` (bytes) is checked after each table: below
    `floor` the load stops (OutOfMemory) rather than push a shared machine into swap or the OOM killer."""
    frames = {}
    for name, cols in _wanted(marts).items():
        if available is not None and 0 < available() < floor:
            frames.clear()
            raise OutOfMemory(f"available memory below {floor / 2**30:.0f} GiB while loading {name}")
        select = ", ".join(f'"{c}"' for c in cols) if cols else "*"
        frames[name] = _load(conn, f"SELECT {select} FROM {name}")
    return frames


def _sort(df: pd.DataFrame, by: list[str], ascending=True, na_position="last") -> pd.DataFrame:
    return df.sort_values(by, ascending=ascending, na_position=na_position, kind="stable").reset_index(
        drop=True
    )


def counties(f):
    return _sort(f["dim.county"][["county_code", "name_zh", "name_en"]], ["county_code"])


def campaigns(f, county):
    cc = f["dim.county_campaign"]
    cc = cc[cc["county_code"] == county]
    out = f["dim.campaign"].merge(cc, on="campaign_code", how="left", suffixes=("", "_cc"))
    return _sort(out, ["acceptance_date", "campaign_code"])


def units(f, county):
    o = f["dim.org_unit"]
    o = o[(o["county_code"] == county) & o["level"].isin(["department", "town"])].copy()
    o["_k"] = (o["level"] != "department").astype(int)
    return _sort(o, ["_k", "org_code"]).drop(columns="_k")


def months(f, county):
    v = f["compliance.verdict"]
    found = set(v.loc[(v["county_code"] == county) & (v["grain"] == "ytd_month"), "period_code"])
    s = f["core.submission"]
    p = f["dim.period"]
    monthly = set(p.loc[p["frequency"] == "monthly", "period_code"])
    sub = s.loc[s["county_code"] == county, "period_code"]
    found |= set(sub[sub.isin(monthly)])
    return sorted(found or monthly)


def period_info(f, period_code):
    p = f["dim.period"]
    return p[p["period_code"] == period_code]


def indicators(f, county):
    m = f["dim.indicator"].merge(
        f["dim.requirement"][["indicator_code", "campaign_code"]], on="indicator_code"
    )
    g = m.groupby(
        ["indicator_code", "name_zh", "name_en", "unit", "frequency"], dropna=False, sort=True, observed=True
    )["campaign_code"].agg(lambda s: sorted(set(s)))
    return g.reset_index()


def verdicts_asof(f, county, period, campaign=None):
    v = f["compliance.verdict"]
    mask = (
        (v["county_code"] == county)
        & (v["subject_org_code"] == county)
        & (v["grain"] == "ytd_month")
        & (v["period_code"] == period)
    )
    if campaign is not None:
        mask &= v["campaign_code"] == campaign
    out = v[mask]
    r = f["dim.requirement"][["requirement_code", "name_zh", "name_en"]].rename(
        columns={"name_zh": "req_name_zh", "name_en": "req_name_en"}
    )
    i = f["dim.indicator"][["indicator_code", "name_zh", "name_en", "unit"]].rename(
        columns={"name_zh": "ind_name_zh", "name_en": "ind_name_en"}
    )
    e = f["dim.edition"][["edition_code", "name_zh", "name_en"]].rename(
        columns={"name_zh": "edition_name_zh", "name_en": "edition_name_en"}
    )
    out = out.merge(r, on="requirement_code", how="left").merge(i, on="indicator_code", how="left")
    out = out.merge(e, on="edition_code", how="left")
    return _sort(out, ["campaign_code", "is_veto", "requirement_code"], ascending=[True, False, True])


def verdict_history(f, county, upto, campaign=None):
    v = f["compliance.verdict"]
    mask = (
        (v["county_code"] == county)
        & (v["subject_org_code"] == county)
        & (v["grain"] == "ytd_month")
        & (v["period_code"] <= upto)
    )
    if campaign is not None:
        mask &= v["campaign_code"] == campaign
    cols = [
        "requirement_code",
        "campaign_code",
        "indicator_code",
        "period_code",
        "status",
        "value",
        "margin",
        "weight",
        "is_veto",
    ]
    return _sort(v.loc[mask, cols], ["period_code"])


def mart(f, name, county):
    m = f[f"marts.{name}"]
    return m[m["county_code"] == county] if "county_code" in m.columns else m


def observations(f, county, indicator):
    o = f["core.observation"]
    o = o[(o["county_code"] == county) & (o["indicator_code"] == indicator)]
    o = o.merge(f["core.source_file"][["file_id", "file_name", "path"]], on="file_id", how="left")
    ou = f["dim.org_unit"][["org_code", "name_zh", "name_en"]].rename(
        columns={"name_zh": "org_name_zh", "name_en": "org_name_en"}
    )
    o = o.merge(ou, on="org_code", how="left")
    o = o.merge(f["dim.period"][["period_code", "frequency", "end_date"]], on="period_code", how="left")
    return _sort(o, ["end_date", "org_code", "revision_no"])


def indicator_requirements(f, county, indicator):
    r = f["dim.requirement"]
    r = r[r["indicator_code"] == indicator]
    c = f["dim.campaign"][["campaign_code", "name_zh", "name_en"]].rename(
        columns={"name_zh": "campaign_zh", "name_en": "campaign_en"}
    )
    e = f["dim.edition"][["edition_code", "effective_from", "effective_to"]]
    cr = f["dim.county_requirement"]
    cr = cr.loc[cr["county_code"] == county, ["requirement_code", "threshold_value"]].rename(
        columns={"threshold_value": "cr_threshold"}
    )
    out = (
        r.merge(c, on="campaign_code")
        .merge(e, on="edition_code")
        .merge(cr, on="requirement_code", how="left")
    )
    out["threshold_value"] = out["cr_threshold"].fillna(out["threshold_value"])
    return _sort(out, ["campaign_code", "effective_from"])


def submissions(f, county):
    s = f["core.submission"]
    s = s[s["county_code"] == county]
    ou = f["dim.org_unit"][["org_code", "name_zh", "name_en"]].rename(
        columns={"name_zh": "org_name_zh", "name_en": "org_name_en"}
    )
    s = s.merge(ou, on="org_code", how="left")
    s = s.merge(
        f["dim.period"][["period_code", "frequency", "year", "end_date"]], on="period_code", how="left"
    )
    return _sort(s, ["end_date", "org_code", "revision_no"])


def expected_returns(f, county, period):
    p = f["dim.period"]
    p = p[p["period_code"] == period]
    a = f["dim.assignment"]
    a = a[(a["county_code"] == county) & a["frequency"].isin(p["frequency"])]
    expected = a[["org_code"]].drop_duplicates()
    s = f["core.submission"]
    s = s[(s["county_code"] == county) & (s["period_code"] == period)]
    sent = (
        s.groupby("org_code", observed=True)
        .agg(
            first_received=("received_at", "min"),
            revisions=("revision_no", "max"),
            any_on_time=("is_on_time", "any"),
            working_days_late=("working_days_late", "min"),
        )
        .reset_index()
    )
    out = expected.merge(sent, on="org_code", how="left")
    ou = f["dim.org_unit"][["org_code", "name_zh", "name_en"]]
    out = out.merge(ou, on="org_code", how="left")
    d = f["dim.reporting_deadline"]
    d = d[(d["county_code"] == county) & (d["period_code"] == period)]
    out["due_date"] = d["due_date"].iloc[0] if len(d) else pd.NaT
    out["return_status"] = "late"
    out.loc[out["any_on_time"].fillna(False).astype(bool), "return_status"] = "on_time"
    out.loc[out["first_received"].isna(), "return_status"] = "missing"
    return _sort(
        out,
        ["return_status", "working_days_late", "org_code"],
        ascending=[False, False, True],
        na_position="first",
    )


def source_files(f, county):
    sf = f["core.source_file"]
    sf = sf[(sf["county_code"] == county) | sf["county_code"].isna()]
    return _sort(sf, ["received_at", "file_name"], ascending=[False, True])


def quarantine(f, county):
    q = f["core.quarantine"]
    sf = f["core.source_file"][["file_id", "county_code"]]
    q = q.merge(sf, on="file_id", how="left")
    q = q[(q["county_code"] == county) | q["county_code"].isna()]
    return _sort(q, ["detected_at", "file_name", "sheet", "cell"], ascending=[False, True, True, True])


def plan(f, county):
    ph = f["dim.plan_phase"]
    ph = _sort(ph[ph["county_code"] == county], ["start_date"])
    m = f["dim.milestone"]
    m = m[m["county_code"] == county].merge(
        f["dim.campaign"][["campaign_code", "name_zh", "name_en"]].rename(
            columns={"name_zh": "campaign_zh", "name_en": "campaign_en"}
        ),
        on="campaign_code",
        how="left",
    )
    return {"phases": ph, "milestones": _sort(m, ["due_date"])}


def _county_rows(f, table, county, **eq):
    m = f[table]
    mask = m["county_code"] == county
    for col, val in eq.items():
        mask &= m[col] == val
    return m[mask]


def readiness(f, county, upto):
    m = f["marts.campaign_readiness"]
    m = m[(m["county_code"] == county) & (m["grain"] == "ytd_month") & (m["period_code"] <= upto)]
    if len(m):
        return _sort(m, ["period_code", "campaign_code"]), False
    from dashboards import analytics

    return analytics.readiness(verdict_history(f, county, upto)), True


def campaign_forecast(f, county, period):
    return _county_rows(f, "marts.campaign_forecast", county, as_of_period_code=period)


def requirement_forecast(f, county, period):
    return _county_rows(f, "marts.requirement_forecast", county, as_of_period_code=period)


def unit_accountability(f, county, period):
    a = _county_rows(f, "marts.unit_accountability", county, period_code=period)
    a = a.merge(f["dim.org_unit"][["org_code", "name_en"]], on="org_code", how="left")
    return _sort(a, ["rank", "org_code"])


def lagging_units(f, county, period):
    return _sort(_county_rows(f, "marts.lagging_unit", county, period_code=period), ["rank", "org_code"])


def plan_schedule(f, county):
    p = _county_rows(f, "marts.plan_schedule", county).copy()
    p["_k"] = p["start_date"].fillna(p["due_date"])
    return _sort(p, ["_k", "item_id"]).drop(columns="_k")


def tasks(f, county):
    return _sort(_county_rows(f, "marts.task", county), ["due_date", "task_code"])


def rectification(f, county):
    r = _county_rows(f, "marts.rectification_item", county).copy()
    r["_k"] = r["status"].astype(str).map({"overdue": 0, "open": 1}).fillna(2)
    return _sort(r, ["_k", "due_date", "item_id"]).drop(columns="_k")


def outlier_flags(f, indicator):
    o = f["quality.outlier"]
    return o[o["indicator_code"] == indicator]


def quality_by_period(f, county):
    r = f["quality.check_result"].merge(
        f["dim.org_unit"][["org_code", "county_code"]], on="org_code", how="left"
    )
    r = r[((r["county_code"] == county) | r["county_code"].isna()) & (r["period_code"] != "?")].copy()
    check = r["check_name"].astype(object)
    r["dimension"] = r["dimension"].astype(object).fillna(check) if "dimension" in r else check
    g = (
        r.groupby(["period_code", "dimension"], sort=True, observed=True)[["n_checked", "n_failed"]]
        .sum()
        .reset_index()
    )
    g["failure_rate"] = g["n_failed"] / g["n_checked"].clip(lower=1)
    return g
