"""Synthetic warehouses in the real schema, generated directly in DuckDB.

1. A seed county: the real dimension rows of 平昌 (catalog, profile, calendar, from the same plain
   functions the pipeline uses), then five years (2012-01 … 2016-12) of returns generated in SQL from
   `dim.assignment` × `dim.period`: files, submissions (≈3 % resubmitted), observations with lineage,
   quarantined values (≈2 %), and compliance verdicts for every requirement in force × county (and
   town subjects) × year and month. Marts are built by the marts code when it can run on a
   connection; any table still empty is filled generically from its column names and types.
2. Replication: every row that belongs to the seed county (it has county_code / org_code /
   subject_org_code of the seed) is copied once per synthetic county with the county code replaced
   in every text column, ids suffixed consistently (so file_id in core.observation still joins
   core.source_file) and numeric values scaled by a per-county factor.

The seed is built once per run (`build_seed_file`) and copied for each size (`build_warehouse`);
a size's build time is the seed's plus its replication. All generation is set-based SQL inside DuckDB; nothing goes row by row through Python.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import shutil
import time
from pathlib import Path

import duckdb

from pipelines import dimensions
from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.settings import Settings
from pipelines.warehouse.schema import REGISTRY, Table, create_all

FIRST_YEAR, LAST_YEAR = 2012, 2016
ID_COLUMNS = {"file_id", "submission_id", "observation_id", "quarantine_id", "duplicate_of"}
# generic fill: rows per county (default 10,000); flags are a few percent of the ~2,500 observations
GENERIC_ROWS_PER_COUNTY = {"quality.outlier": 120, "quality.flag": 120, "quality.rule_violation": 120}
OWNER_COLUMNS = ("county_code", "org_code", "subject_org_code", "reporting_org_code", "owner_org_code")


def county_codes(n: int, seed_code: str) -> list[str]:
    """The seed county plus n-1 synthetic six-digit codes (never equal to the seed)."""
    codes = [seed_code]
    i = 0
    while len(codes) < n:
        code = f"{11 + i // 180:02d}{i % 180 + 1:04d}"
        if code != seed_code:
            codes.append(code)
        i += 1
    return codes


def load_dimensions(conn: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)[:1]
    for rows in (
        dimensions.catalog_rows(catalog),
        dimensions.profile_rows(catalog, profiles),
        dimensions.calendar_rows(profiles),
    ):
        dimensions.write_rows(conn, rows)
    return profiles[0].code


SEED_FACTS_SQL = [
    # one row per value a unit owes: assignment × period at the unit's frequency
    f"""
    CREATE OR REPLACE TEMP TABLE _owed AS
    SELECT a.county_code, a.org_code, a.indicator_code, p.period_code, p.end_date,
           coalesce(d.due_date, p.end_date + INTERVAL 10 DAY)::DATE AS due_date,
           i.unit, i.value_type, coalesce(u.min_value, 0) AS lo, coalesce(u.max_value, 100) AS hi,
           row_number() OVER (PARTITION BY a.org_code, p.period_code ORDER BY a.indicator_code) + 3 AS row_no
    FROM dim.assignment a
    JOIN dim.period p ON p.frequency = a.frequency AND p.year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}
    JOIN dim.indicator i USING (indicator_code)
    LEFT JOIN dim.unit_of_measure u ON u.unit = i.unit
    LEFT JOIN dim.reporting_deadline d ON d.county_code = a.county_code AND d.period_code = p.period_code
    """,
    # files: one per unit × period, a second (corrected) revision for ~3 %
    """
    CREATE OR REPLACE TEMP TABLE _files AS
    WITH base AS (
        SELECT DISTINCT county_code, org_code, period_code, due_date FROM _owed
    ), revs AS (
        SELECT b.*, r.revision_no FROM base b, (VALUES (1), (2)) r(revision_no)
        WHERE r.revision_no = 1 OR hash(b.org_code || b.period_code) % 100 < 3
    )
    SELECT *, sha256(org_code || '|' || period_code || '|' || revision_no) AS file_id,
           (due_date + to_days(CAST(hash(org_code || period_code) % 15 AS INTEGER) - 7 + 9 * (revision_no - 1))
            + INTERVAL 9 HOUR)::TIMESTAMP AS received_at
    FROM revs
    """,
    """
    INSERT INTO core.source_file BY NAME
    SELECT file_id, file_id AS content_sha256,
           county_code || '/' || split_part(org_code, '-', 2) || '/' || period_code || '_r' || revision_no || '.xlsx' AS path,
           period_code || '_' || split_part(org_code, '-', 2) || '.xlsx' AS file_name,
           CASE WHEN hash(file_id) % 10 < 7 THEN 'xlsx' WHEN hash(file_id) % 10 < 8 THEN 'xls'
                WHEN hash(file_id) % 10 < 9 THEN 'csv' ELSE 'ods' END AS file_format,
           8000 + hash(file_id) % 20000 AS size_bytes, received_at, received_at + INTERVAL 1 HOUR AS processed_at,
           county_code, org_code,
           CASE WHEN hash(file_id) % 10 < 6 THEN 'template' ELSE 'title' END AS org_detected_by,
           [period_code] AS period_codes,
           CASE WHEN hash(file_id) % 10 < 6 THEN 'template' ELSE 'title' END AS period_detected_by,
           CASE WHEN hash(file_id) % 10 < 6 THEN 'wuchuang-return/1' END AS template_version,
           CASE WHEN hash(file_id) % 10 < 6 THEN 'template' ELSE 'wide' END AS layout,
           CASE WHEN hash(file_id) % 50 = 0 THEN 'partial' ELSE 'accepted' END AS status,
           0 AS values_loaded, 0 AS values_quarantined, [] AS reason_codes
    FROM _files
    """,
    """
    INSERT INTO core.submission BY NAME
    SELECT file_id || ':' || org_code || ':' || period_code AS submission_id, file_id, county_code, org_code,
           period_code, revision_no, received_at, due_date,
           greatest(0, date_diff('day', due_date, received_at::DATE) * 5 // 7)::INTEGER AS working_days_late,
           received_at::DATE <= due_date AS is_on_time,
           revision_no = max(revision_no) OVER (PARTITION BY org_code, period_code) AS is_current,
           0 AS values_loaded, 0 AS values_quarantined
    FROM _files
    """,
    """
    INSERT INTO core.observation BY NAME
    SELECT md5(f.file_id || o.indicator_code) AS observation_id,
           f.file_id || ':' || f.org_code || ':' || f.period_code AS submission_id,
           f.file_id, o.county_code, o.org_code, o.indicator_code, o.period_code,
           CASE WHEN o.value_type = 'text' THEN NULL
                ELSE round(o.lo + (least(o.hi, o.lo + 200) - o.lo)
                     * ((hash(o.org_code || o.indicator_code || o.period_code) % 1000) / 1000.0), 2) END AS value,
           CASE WHEN o.value_type = 'text' THEN
                (CASE WHEN hash(o.org_code || o.period_code) % 4 = 0 THEN '不达标' ELSE '达标' END) END AS value_text,
           CAST(hash(o.org_code || o.indicator_code || o.period_code) % 1000 AS VARCHAR) AS raw_text, o.unit,
           '填报表' AS sheet, 'G' || o.row_no AS cell, f.revision_no, f.received_at AS valid_from,
           lead(f.received_at) OVER (PARTITION BY o.org_code, o.indicator_code, o.period_code
                                     ORDER BY f.revision_no) AS valid_to,
           f.revision_no = max(f.revision_no) OVER (PARTITION BY o.org_code, o.indicator_code, o.period_code)
               AS is_current
    FROM _owed o JOIN _files f USING (county_code, org_code, period_code)
    WHERE hash(o.org_code || o.indicator_code || o.period_code || f.revision_no) % 100 >= 2
    """,
    """
    INSERT INTO core.quarantine BY NAME
    SELECT md5('q' || f.file_id || o.indicator_code) AS quarantine_id, f.file_id,
           f.period_code || '.xlsx' AS file_name, '填报表' AS sheet, 'G' || o.row_no AS cell,
           o.org_code, o.period_code, o.indicator_code, '135%' AS raw_text, 'value' AS scope,
           CASE WHEN hash(o.indicator_code) % 2 = 0 THEN 'out_of_range' ELSE 'not_a_number' END AS reason_code,
           '数值超出该计量单位的可能范围' AS message_zh, 'value impossible for its unit' AS message_en,
           f.received_at + INTERVAL 1 HOUR AS detected_at
    FROM _owed o JOIN _files f USING (county_code, org_code, period_code)
    WHERE hash(o.org_code || o.indicator_code || o.period_code || f.revision_no) % 100 < 2
    """,
    """
    UPDATE core.submission s SET values_loaded = c.n
    FROM (SELECT submission_id, count(*) AS n FROM core.observation GROUP BY ALL) c
    WHERE c.submission_id = s.submission_id
    """,
    """
    UPDATE core.source_file s SET values_loaded = c.n
    FROM (SELECT file_id, count(*) AS n FROM core.observation GROUP BY ALL) c WHERE c.file_id = s.file_id
    """,
    # verdicts: requirement in force × subject (county, towns for town-reported indicators) × year/month
    f"""
    INSERT INTO compliance.verdict BY NAME
    WITH subj AS (
        SELECT c.county_code, r.requirement_code, c.county_code AS subject_org_code
        FROM dim.county c, dim.requirement r
        UNION ALL
        SELECT a.county_code, r.requirement_code, a.org_code
        FROM dim.assignment a JOIN dim.requirement r USING (indicator_code) WHERE a.role = 'town'
    ), per AS (
        SELECT period_code, end_date, CASE frequency WHEN 'annual' THEN 'year' ELSE 'ytd_month' END AS grain
        FROM dim.period WHERE frequency IN ('annual', 'monthly') AND year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}
    ), prim AS (
        SELECT county_code, indicator_code, min(org_code) AS org_code
        FROM dim.assignment WHERE role = 'primary' GROUP BY ALL
    ), v AS (
        SELECT s.*, r.campaign_code, r.edition_code, r.indicator_code, r.comparison, r.threshold_token,
               r.is_veto, r.weight, r.is_confirmed, r.threshold_kind, cr.threshold_value,
               i.rollup, p.period_code, p.grain, p.end_date, prim.org_code AS reporting_org_code,
               hash(s.subject_org_code || s.requirement_code || p.period_code) % 1000 AS h
        FROM subj s JOIN dim.requirement r USING (requirement_code)
        JOIN dim.edition e ON e.edition_code = r.edition_code
        JOIN dim.indicator i ON i.indicator_code = r.indicator_code
        LEFT JOIN prim ON prim.county_code = s.county_code AND prim.indicator_code = r.indicator_code
        LEFT JOIN dim.county_requirement cr
               ON cr.county_code = s.county_code AND cr.requirement_code = s.requirement_code
        JOIN per p ON p.end_date BETWEEN e.effective_from AND coalesce(e.effective_to, DATE '9999-12-31')
    )
    SELECT county_code, requirement_code, campaign_code, edition_code, indicator_code, subject_org_code,
           reporting_org_code, period_code, grain,
           CASE WHEN threshold_kind = 'unknown' THEN 'not_assessable' WHEN h < 80 THEN 'no_data'
                WHEN h < 550 THEN 'pass' WHEN h < 650 THEN 'near' ELSE 'fail' END AS status,
           CASE WHEN h >= 80 THEN round(coalesce(threshold_value, 50) * (0.7 + h / 1500.0), 2) END AS value,
           comparison, threshold_value, threshold_token,
           CASE WHEN h >= 80 THEN round(coalesce(threshold_value, 50) * (h / 1500.0 - 0.3), 2) END AS margin,
           rollup, CASE WHEN h >= 80 THEN 1 + h % 12 ELSE 0 END AS n_observations,
           [md5(period_code || indicator_code)] AS observation_ids, is_veto, weight, is_confirmed,
           '本期' || CASE WHEN h < 550 THEN '达标' ELSE '未达标' END AS explanation_zh,
           'synthetic verdict' AS explanation_en,
           CASE WHEN threshold_kind = 'unknown' OR h < 80 THEN NULL ELSE h < 650 END AS meets,
           abs(coalesce(threshold_value, 50)) * 0.05 AS near_band, end_date AS period_end
    FROM v
    """,
]


def build_seed(conn: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    conn.execute("BEGIN TRANSACTION")  # one commit instead of one per DDL/COMMENT statement
    create_all(conn)
    conn.execute("COMMIT")
    seed = load_dimensions(conn, settings)
    for sql in SEED_FACTS_SQL:
        conn.execute(sql)
    return seed


MARTS_MODULES = ("readiness", "forecast", "accountability", "plan", "rectification")


def build_marts_from_code(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Run the marts code on the seed county: `pipelines.marts.<module>.build(conn, ...)` returns
    {table: rows} (plan: the plan_schedule rows), written with `pipelines.marts.common.write_table`.
    Extra parameters get neutral values (no task ledger, horizon = end of the data). Returns what
    ran or failed; a failure is reported, never raised, and its tables are then filled generically."""
    ran = []
    extra = {"tasks": [], "as_of": dt.date(LAST_YEAR, 12, 31), "horizon": dt.date(LAST_YEAR, 12, 31)}
    try:
        from pipelines.marts.common import write_table
        from pipelines.warehouse.tables import marts as marts_tables
    except ImportError:
        return ran
    for name in MARTS_MODULES:
        try:
            mod = importlib.import_module(f"pipelines.marts.{name}")
        except ImportError:
            continue
        fn = getattr(mod, "build", None)
        if not callable(fn):
            continue
        try:
            params = list(inspect.signature(fn).parameters)[1:]
            out = fn(conn, *(extra[p] for p in params))
            if isinstance(out, list) and name == "plan":
                out = {marts_tables.PLAN_SCHEDULE: out}
            counts = write_table(conn, out)
            ran.append(f"pipelines.marts.{name}.build: {counts}")
        except Exception as exc:  # report, do not crash the benchmark
            ran.append(f"pipelines.marts.{name}.build failed: {type(exc).__name__}: {str(exc)[:200]}")
    return ran


def _generic_value(col, ctx: dict) -> str:
    """A SQL expression for a column of a table we know only by its registry entry."""
    name, typ = col.name, col.type.upper()
    h = f"CAST(hash(k.key || '{name}') % 1000000 AS BIGINT)"
    if name in ctx:
        return ctx[name]
    if typ.endswith("[]"):
        return "[]"
    if typ in ("DOUBLE", "FLOAT", "REAL") or typ.startswith("DECIMAL"):
        return f"round(({h} % 10000) / 100.0, 2)"
    if typ in ("INTEGER", "BIGINT", "SMALLINT", "HUGEINT"):
        return f"CAST({h} % 100 AS {typ})"
    if typ == "BOOLEAN":
        return f"({h} % 2 = 0)"
    if typ == "DATE":
        return "k.end_date"
    if typ.startswith("TIMESTAMP"):
        return "CAST(k.end_date AS TIMESTAMP)"
    if "status" in name:
        return f"(['pass', 'near', 'fail', 'no_data'])[1 + {h} % 4]"
    return f"'{name}-' || ({h} % 50)"


def fill_generic(conn: duckdb.DuckDBPyConnection, t: Table) -> int:
    """Fill an empty table with plausible keys: its key-like columns cross-joined from the dims
    (county, campaign, org unit, requirement, indicator, month), bounded to ~10k rows per county."""
    names = set(t.column_names)
    parts = ["SELECT county_code FROM dim.county"]
    ctx = {"county_code": "k.county_code"}
    key = ["k.county_code"]
    if "campaign_code" in names:
        parts.append("SELECT campaign_code FROM dim.campaign")
        ctx["campaign_code"] = "k.campaign_code"
        key.append("k.campaign_code")
    if "requirement_code" in names:
        parts.append("SELECT requirement_code, indicator_code AS r_indicator FROM dim.requirement")
        ctx["requirement_code"] = "k.requirement_code"
        ctx.setdefault("indicator_code", "k.r_indicator")
        key.append("k.requirement_code")
    elif "indicator_code" in names:
        parts.append("SELECT indicator_code FROM dim.indicator")
        ctx["indicator_code"] = "k.indicator_code"
        key.append("k.indicator_code")
    org_col = next((c for c in ("org_code", "owner_org_code", "subject_org_code") if c in names), None)
    if org_col:
        parts.append(
            "SELECT org_code AS k_org, county_code AS k_county FROM dim.org_unit WHERE level = 'department'"
        )
        ctx[org_col] = "k.k_org"
        key.append("k.k_org")
    period_cols = [c for c in ("period_code", "as_of_period", "month") if c in names]
    if period_cols:
        parts.append(
            f"SELECT period_code AS k_period, end_date FROM dim.period WHERE frequency = 'monthly' "
            f"AND year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}"
        )
        for c in period_cols:
            ctx[c] = "k.k_period"
        key.append("k.k_period")
    else:
        parts.append(f"SELECT DATE '{LAST_YEAR}-12-31' AS end_date")
    sub = " , ".join(f"({p}) AS p{i}" for i, p in enumerate(parts))
    where = "WHERE k_county = county_code" if org_col else ""
    keyed = f"SELECT *, concat_ws('|', {', '.join(k.split('.')[1] for k in key)}) AS key FROM {sub} {where}"
    cols = ", ".join(_generic_value(c, ctx) for c in t.columns)
    limit = GENERIC_ROWS_PER_COUNTY.get(t.qualified, 10_000) * max(
        1, conn.execute("SELECT count(*) FROM dim.county").fetchone()[0]
    )
    conn.execute(f"INSERT OR IGNORE INTO {t.qualified} SELECT {cols} FROM ({keyed}) k LIMIT {limit}")
    return conn.execute(f"SELECT count(*) FROM {t.qualified}").fetchone()[0]


def _owner_column(t: Table) -> str | None:
    return next((c for c in OWNER_COLUMNS if c in t.column_names), None)


def _replica_expr(col, seed: str) -> str:
    q = f's."{col.name}"'
    typ = col.type.upper()
    if col.name in ID_COLUMNS or col.name.endswith("_id"):
        return f"CASE WHEN {q} IS NULL THEN NULL ELSE replace({q}, '{seed}', r.r_code) || '~' || r.r_code END"
    if col.name.endswith("_ids") and typ.endswith("[]"):
        return f"list_transform({q}, lambda x: x || '~' || r.r_code)"
    if typ == "VARCHAR":
        return f"replace({q}, '{seed}', r.r_code)"
    if typ == "VARCHAR[]":
        return f"list_transform({q}, lambda x: replace(x, '{seed}', r.r_code))"
    if typ == "DOUBLE" and col.name in ("value", "margin", "threshold_value") or col.name.endswith("_value"):
        return f"{q} * r.r_factor"
    return q


def replicate(conn: duckdb.DuckDBPyConnection, seed: str, n_counties: int) -> dict[str, int]:
    """Copy every seed-county row to n_counties-1 synthetic counties; returns rows per table."""
    codes = county_codes(n_counties, seed)[1:]
    conn.execute("CREATE OR REPLACE TEMP TABLE _replica (r_code VARCHAR, r_factor DOUBLE)")
    if codes:
        conn.executemany(
            "INSERT INTO _replica VALUES (?, ?)",
            [(c, 0.9 + (i % 21) / 100) for i, c in enumerate(codes)],
        )
    counts = {}
    for t in REGISTRY.values():
        owner = _owner_column(t)
        if owner and codes:
            cols = ", ".join(_replica_expr(c, seed) for c in t.columns)
            pred = f"s.\"{owner}\" = '{seed}'" if owner == "county_code" else f"s.\"{owner}\" LIKE '{seed}-%'"
            conn.execute(
                f"INSERT INTO {t.qualified} SELECT {cols} FROM {t.qualified} s, _replica r WHERE {pred}"
            )
        counts[t.qualified] = conn.execute(f"SELECT count(*) FROM {t.qualified}").fetchone()[0]
    return counts


def build_seed_file(path: Path, marts_from_code: bool = True, settings: Settings | None = None) -> dict:
    """The seed county as a warehouse file (built once, copied for each size)."""
    settings = settings or Settings.from_env()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_suffix(path.suffix + ".wal")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    conn = duckdb.connect(str(path))
    conn.execute("SET enable_progress_bar = false")
    try:
        seed = build_seed(conn, settings)
        notes = build_marts_from_code(conn) if marts_from_code else ["marts filled generically (size tiny)"]
        generic = []
        for t in REGISTRY.values():
            if conn.execute(f"SELECT count(*) FROM {t.qualified}").fetchone()[0] == 0:
                fill_generic(conn, t)
                generic.append(t.qualified)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return {
        "seed_county": seed,
        "seed_build_s": time.perf_counter() - t0,
        "generic_tables": generic,
        "notes": notes,
    }


def build_warehouse(path: Path, n_counties: int, seed_file: Path, seed_info: dict) -> dict:
    """A warehouse of n_counties at `path`: a copy of the seed file, replicated in SQL."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_suffix(path.suffix + ".wal")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    shutil.copyfile(seed_file, path)
    conn = duckdb.connect(str(path))
    conn.execute("SET enable_progress_bar = false")
    try:
        counts = replicate(conn, seed_info["seed_county"], n_counties)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    replicate_s = time.perf_counter() - t0
    return {
        **seed_info,
        "counties": n_counties,
        "replicate_s": replicate_s,
        "build_s": seed_info["seed_build_s"] + replicate_s,
        "file_bytes": path.stat().st_size,
        "rows": counts,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
