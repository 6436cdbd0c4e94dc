"""Rows of the `dim` tables, built from the catalog, the county profiles and the calendar.

Plain functions: the Dagster assets in `pipelines.assets.dimensions` call these and write the
rows, each asset in one transaction - or not at all when nothing changed (`write_rows_if_changed`).
"""

from __future__ import annotations

import hashlib
import json

import duckdb

from pipelines import reporting_calendar as rc
from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile
from pipelines.warehouse.schema import replace_rows, transaction
from pipelines.warehouse.tables import dim


def catalog_rows(catalog: Catalog) -> dict:
    reqs, variants = [], []
    for r in catalog.requirements.values():
        t = r.threshold
        reqs.append(
            (
                r.code,
                r.campaign,
                r.edition,
                r.indicator,
                r.name_zh,
                r.name_en,
                r.comparison,
                t.kind,
                t.value,
                t.high,
                t.token,
                t.reference,
                list(t.conditions),
                t.or_trend,
                list(t.pass_values),
                t.variant_dimension,
                r.veto,
                r.veto_reason,
                r.weight,
                r.frequency,
                r.responsible,
                list(r.also_reported_by),
                r.variant_note,
                r.source,
                r.confirmed,
            )
        )
        for variant, value in t.variants.items():
            variants.append((r.code, t.variant_dimension, variant, value))
    return {
        dim.CAMPAIGN: [(c.code, c.name_zh, c.name_en) for c in catalog.campaigns.values()],
        dim.EDITION: [
            (
                e.code,
                e.campaign,
                e.name_zh,
                e.name_en,
                e.document,
                e.effective_from,
                e.effective_to,
                e.approx_dates,
            )
            for e in catalog.editions.values()
        ],
        dim.UNIT_OF_MEASURE: [
            (u.unit, u.kind, u.name_en, u.min_value, u.max_value) for u in catalog.units.values()
        ],
        dim.INDICATOR: [
            (i.code, i.name_zh, i.name_en, i.unit, i.frequency, i.rollup, i.value_type, list(i.aliases))
            for i in catalog.indicators.values()
        ],
        dim.REQUIREMENT: reqs,
        dim.REQUIREMENT_VARIANT: variants,
        dim.REFERENCE_VALUE: [
            (s.reference, s.indicator, y, v, s.unit, s.confirmed, s.source)
            for s in catalog.reference_series
            for y, v in sorted(s.values.items())
        ],
    }


def profile_rows(catalog: Catalog, profiles: list[CountyProfile]) -> dict:
    rows: dict = {
        t: []
        for t in (
            dim.ORG_UNIT,
            dim.COUNTY,
            dim.COUNTY_REQUIREMENT,
            dim.COUNTY_CAMPAIGN,
            dim.WORKING_GROUP,
            dim.PLAN_PHASE,
            dim.MILESTONE,
            dim.ASSIGNMENT,
        )
    }
    seen_org: set[str] = set()
    for p in profiles:
        for u in p.org_units:
            if u.code in seen_org:  # shared parents (province, city) appear in several profiles
                continue
            seen_org.add(u.code)
            rows[dim.ORG_UNIT].append(
                (u.code, u.parent, u.county, u.level, u.short_code, u.name_zh, u.name_en)
            )
        v = p.variants
        rows[dim.COUNTY].append(
            (
                p.code,
                p.name_zh,
                p.name_en,
                v.get("terrain"),
                v.get("region"),
                v.get("development"),
                v.get("rainfall"),
                v.get("seat"),
                p.population,
                p.builtup_area_km2,
                p.area_km2,
                p.source_file,
            )
        )
        for r in catalog.requirements.values():
            dimn = r.threshold.variant_dimension
            rows[dim.COUNTY_REQUIREMENT].append(
                (p.code, r.code, r.threshold.resolve(v), dimn, v.get(dimn) if dimn else None)
            )
        for c in p.programmes:
            rows[dim.COUNTY_CAMPAIGN].append(
                (
                    p.code,
                    c.campaign,
                    c.level,
                    c.working_group,
                    c.start,
                    c.acceptance,
                    c.interim_level,
                    c.interim_acceptance,
                )
            )
        for g in p.working_groups:
            rows[dim.WORKING_GROUP].append(
                (p.code, g.code, g.name_zh, g.name_en, g.lead_unit, g.lead_assumed)
            )
        for ph in p.phases:
            rows[dim.PLAN_PHASE].append((p.code, ph.code, ph.name_zh, ph.name_en, ph.start, ph.end))
        for m in p.milestones:
            rows[dim.MILESTONE].append((p.code, m.code, m.campaign, m.name_zh, m.due))
        for c in p.programmes:
            camp = catalog.campaigns[c.campaign]
            rows[dim.MILESTONE].append(
                (p.code, f"{c.campaign}_start", c.campaign, f"{camp.name_zh}启动创建", c.start)
            )
            if c.interim_acceptance:
                rows[dim.MILESTONE].append(
                    (
                        p.code,
                        f"{c.campaign}_interim_acceptance",
                        c.campaign,
                        f"{camp.name_zh}通过{'省级' if c.interim_level == 'provincial' else ''}考核验收",
                        c.interim_acceptance,
                    )
                )
            rows[dim.MILESTONE].append(
                (p.code, f"{c.campaign}_acceptance", c.campaign, f"{camp.name_zh}通过考核验收", c.acceptance)
            )
        for a in p.assignments(catalog):
            rows[dim.ASSIGNMENT].append(
                (p.code, a.indicator, a.org_code, a.role, catalog.indicators[a.indicator].frequency)
            )
    return rows


def calendar_rows(profiles: list[CountyProfile]) -> dict:
    periods: dict[str, rc.Period] = {}
    deadlines = []
    for p in profiles:
        for freq in ("monthly", "quarterly", "annual"):
            n = p.due_working_days[freq]
            for per in rc.periods_between(p.first_period, p.last_period, freq):
                periods[per.code] = per
                deadlines.append((p.code, per.code, rc.due_date(per, n), n))
    return {
        dim.PERIOD: [
            (x.code, x.frequency, x.year, x.start, x.end, x.label_zh) for x in sorted(periods.values())
        ],
        dim.REPORTING_DEADLINE: deadlines,
    }


def write_rows(conn: duckdb.DuckDBPyConnection, rows: dict) -> dict[str, int]:
    """Replace each table's content with `rows`, all in one transaction."""
    counts = {}
    with transaction(conn):
        for t, data in rows.items():
            counts[t.qualified] = replace_rows(conn, t, data)
    return counts


# Which content each dimension asset last wrote: a hash of its rows and a fingerprint of its tables as
# written. Not a registry table (like ops.schema_state): it describes the working database itself.
STATE_TABLE = "ops.dimension_state"


def rows_hash(rows: dict) -> str:
    """Hash of the rows an asset would write (tables, their columns, every value's repr)."""
    h = hashlib.sha256()
    for t, data in sorted(rows.items(), key=lambda kv: kv[0].qualified):
        h.update(repr((t.qualified, t.column_names, data)).encode("utf-8"))
    return h.hexdigest()


def tables_fingerprint(conn: duckdb.DuckDBPyConnection, tables) -> str:
    """Fingerprint of the tables' current content: row count and order-independent aggregates (sum,
    xor) of DuckDB's hash of every row, per table. Catches rows changed or dropped since (a schema
    migration recreates a table empty), without comparing row by row."""
    sql = " UNION ALL ".join(
        f"SELECT '{t.qualified}', count(*), coalesce(sum(hash(x)::HUGEINT), 0)::VARCHAR, "
        f"coalesce(bit_xor(hash(x)), 0)::VARCHAR FROM {t.qualified} x"
        for t in sorted(tables, key=lambda t: t.qualified)
    )
    return hashlib.sha256(json.dumps(conn.execute(sql).fetchall()).encode("utf-8")).hexdigest()


def _recorded(conn: duckdb.DuckDBPyConnection, asset: str) -> tuple[str, str] | None:
    exists = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'dimension_state'"
    ).fetchone()[0]
    if not exists:
        return None
    row = conn.execute(
        f"SELECT rows_hash, tables_fingerprint FROM {STATE_TABLE} WHERE asset = ?", [asset]
    ).fetchone()
    return (row[0], row[1]) if row else None


def write_rows_if_changed(
    conn: duckdb.DuckDBPyConnection, asset: str, rows: dict
) -> tuple[dict[str, int], bool]:
    """Write `rows` (as `write_rows`) unless the tables already hold exactly them: the rows' hash equals
    the one recorded at the last write AND the tables' fingerprint equals the one taken right after
    it. Returns the row counts and whether the tables were rewritten. A county run whose catalog,
    profile and calendar did not change then rewrites none of its dimension tables."""
    digest = rows_hash(rows)
    recorded = _recorded(conn, asset)
    if recorded is not None and recorded[0] == digest and recorded[1] == tables_fingerprint(conn, rows):
        return {t.qualified: len(data) for t, data in rows.items()}, False
    counts = {}
    with transaction(conn):
        for t, data in rows.items():
            counts[t.qualified] = replace_rows(conn, t, data)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
            "(asset VARCHAR PRIMARY KEY, rows_hash VARCHAR, tables_fingerprint VARCHAR)"
        )
        conn.execute(
            f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?)",
            [asset, digest, tables_fingerprint(conn, rows)],
        )
    return counts, True
