"""The one data module of the dashboards: every read of the warehouse goes through here.

- Reads only the latest **published snapshot** (`pipelines.warehouse.publish.latest_snapshot`),
  never the pipeline's working file: a name that is not a snapshot name is refused.
- One read-only connection per snapshot is kept for the whole process (`st.cache_resource` keyed
  by the snapshot's file name, at most `CONNECTIONS` kept); every query runs on its own cursor, so
  concurrent sessions never share cursor state. When `CURRENT` names a new snapshot, the new name
  opens a new connection and the previous one is released (closed once no query is running on it).
- Results are cached with bounded caches (`max_entries`, `ttl`) keyed by the snapshot's file name,
  so a new publish is picked up at once and old entries age out.
- Values always travel as bound parameters; the only SQL text assembled here is fixed.
- A table that is not built yet raises `MissingTables`; pages show a notice instead of a traceback.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from dashboards import analytics, auth
from dashboards.sql_guard import MEMORY_LIMIT
from pipelines.settings import Settings
from pipelines.warehouse.publish import SNAPSHOT_RE, NoSnapshotError, connect_readonly, latest_snapshot

CACHE_TTL_S = 300
CACHE_ENTRIES = 256
CONNECTIONS = 2  # kept read-only connections: the current snapshot and the one it just replaced


class MissingTables(LookupError):
    def __init__(self, tables: list[str]):
        super().__init__(", ".join(tables))
        self.tables = tables


def settings() -> Settings:
    return Settings.from_env()


def snapshot_path() -> Path | None:
    """The current published snapshot, or None if nothing has been published."""
    try:
        return latest_snapshot(settings().published_dir)
    except NoSnapshotError:
        return None


def _snapshot_file(published_dir: Path, snapshot_name: str) -> Path:
    """The snapshot's path inside the published folder; anything else (the writer's working file, a
    path, a name that is not a snapshot's) is refused."""
    if not SNAPSHOT_RE.match(snapshot_name):
        raise ValueError(
            f"不是已发布的数据快照名称：{snapshot_name!r} / not a published snapshot name: {snapshot_name!r}"
        )
    return published_dir / snapshot_name


# Settings of the database instance a snapshot's connections share (GLOBAL in DuckDB, set on open).
# - memory_limit: the kept connection keeps the instance, and its buffer pool, alive. The SQL console
#   does not share it: each console query runs in its own worker process with its own limits
#   (`dashboards.console_worker`), so a console query cannot starve the pages.
# - dynamic_or_filter_threshold: a join whose build side holds up to this many distinct keys pushes
#   them into the probe table's scan as an IN list (default 50). `observations` joins a county's
#   40–270 files to the 2.6 M-row file registry at national scale: with 50, p95 57 ms; with 1,000, 10–15 ms.
_INSTANCE_SETTINGS = (("memory_limit", f"'{MEMORY_LIMIT}'"), ("dynamic_or_filter_threshold", "1000"))


def _configure(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    for name, literal in _INSTANCE_SETTINGS:
        with contextlib.suppress(duckdb.InvalidInputException):
            conn.execute(f"SET GLOBAL {name} = {literal}")
    return conn


def _open(snapshot_name: str, published_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the named snapshot read-only; if it was pruned meanwhile, the newest published one."""
    published_dir = settings().published_dir if published_dir is None else published_dir
    path = _snapshot_file(published_dir, snapshot_name)
    try:
        return _configure(duckdb.connect(str(path), read_only=True))
    except duckdb.IOException:
        if path.exists():
            raise
        return _configure(connect_readonly(published_dir))


def _release(conn: duckdb.DuckDBPyConnection) -> None:
    """Close an evicted connection. DuckDB refuses while a cursor of it is running a query: then the
    connection is only dropped, and its database closes when the last cursor is gone."""
    with contextlib.suppress(duckdb.Error):
        conn.close()


@st.cache_resource(max_entries=CONNECTIONS, show_spinner=False, on_release=_release)
def _connection(published_dir: str, snapshot_name: str) -> duckdb.DuckDBPyConnection:
    """The process's one read-only connection to a snapshot (keyed by folder and file name)."""
    return _open(snapshot_name, Path(published_dir))


_current: dict[str, str] = {}  # published folder -> snapshot name last served from it
_current_lock = threading.Lock()


def _kept(snapshot_name: str) -> duckdb.DuckDBPyConnection:
    """The kept connection to a snapshot; the first query on a new snapshot releases the previous one."""
    published_dir = str(settings().published_dir)
    with _current_lock:
        previous = _current.get(published_dir)
        _current[published_dir] = snapshot_name
    if previous is not None and previous != snapshot_name:
        _connection.clear(published_dir, previous)
    return _connection(published_dir, snapshot_name)


def _run(snapshot_name: str, sql: str, params: list) -> pd.DataFrame:
    """Run one query on its own cursor of the kept connection. If that connection was closed by a
    concurrent switch to a newer snapshot, a short-lived connection answers instead."""
    try:
        cur = _kept(snapshot_name).cursor()
    except duckdb.ConnectionException:
        cur = None
    if cur is not None:
        try:
            return cur.execute(sql, params).df()
        except duckdb.ConnectionException:
            pass  # closed under us: fall through to a connection of our own
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.close()
    conn = _open(snapshot_name)
    try:
        return conn.execute(sql, params).df()
    finally:
        conn.close()


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _query(snapshot_name: str, sql: str, params: tuple) -> pd.DataFrame:
    return _run(snapshot_name, sql, list(params))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def _catalog(snapshot_name: str) -> dict[str, frozenset[str]]:
    """{schema.table: column names} of the snapshot. Read once per snapshot (and TTL) on a short-lived
    connection, so that nothing but the queries holds the kept one (bench/scale.py times the queries
    with a fresh connection each by replacing `_query`, which an open kept connection would skew)."""
    conn = _open(snapshot_name)
    try:
        rows = conn.execute(
            "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database()"
        ).fetchall()
    finally:
        conn.close()
    out: dict[str, set[str]] = {}
    for t, c in rows:
        out.setdefault(t, set()).add(c)
    return {t: frozenset(cs) for t, cs in out.items()}


def snapshot_name() -> str:
    path = snapshot_path()
    if path is None:
        raise NoSnapshotError(settings().published_dir)
    return path.name


def tables() -> dict[str, frozenset[str]]:
    return _catalog(snapshot_name())


def has(*names: str) -> bool:
    known = tables()
    return all(n in known for n in names)


def require(*names: str) -> None:
    known = tables()
    missing = [n for n in names if n not in known]
    if missing:
        raise MissingTables(missing)


def has_rows(table: str) -> bool:
    """True when `table` (a name from the page code, checked against the snapshot) exists and is not empty."""
    if table not in tables():
        return False
    schema, name = table.split(".")
    return bool(_select(f'SELECT count(*) AS n FROM "{schema}"."{name}"')["n"].iloc[0])


def has_columns(table: str, *cols: str) -> bool:
    known = tables().get(table, frozenset())
    return all(c in known for c in cols)


def _select(sql: str, params: tuple | list = (), needs: tuple[str, ...] = ()) -> pd.DataFrame:
    """Run a fixed SQL text with bound parameters on the latest snapshot (cached). Not scoped: only the
    functions below call it, each with the viewer's scope in its SQL."""
    if needs:
        require(*needs)
    return _query(snapshot_name(), sql, tuple(params)).copy()


def query(
    sql: str, params: tuple | list = (), needs: tuple[str, ...] = (), scope: auth.Viewer | None = None
) -> pd.DataFrame:
    """An ad-hoc fixed SQL text, only for a viewer who sees everything (office pages such as 导入映射)."""
    if not _viewer(scope).sees_all:
        raise PermissionError(
            "只有可查看全部数据的角色可以执行 / only roles that see everything may run this"
        )
    return _select(sql, params, needs)


# ---------------------------------------------------------------- the viewer's scope
# Every function below takes `scope` (a `dashboards.auth.Viewer`; default: the signed-in viewer of
# this session, and no viewer at all is refused) and filters in SQL:
# - county: a viewer sees only its own county (another county's code is bound as NULL: no rows);
# - units: rows of a unit (org_code, owner_org_code, reporting_org_code) only for the viewer's units;
#   figures without a unit column (requirement forecasts, indicators) only for the indicators its
#   units report (dim.assignment);
# - campaigns: a group lead's campaigns only.
# The scope travels as bound parameters, so cached results are kept per scope.

_IN_UNITS = "(? OR list_contains(?::VARCHAR[], {}))"
_IN_CAMPAIGNS = "(? OR list_contains(?::VARCHAR[], {}))"
_UNIT_INDICATOR = "(? OR {} IN (SELECT a.indicator_code FROM dim.assignment a WHERE list_contains(?::VARCHAR[], a.org_code)))"


def _viewer(scope: auth.Viewer | None) -> auth.Viewer:
    viewer = scope if scope is not None else auth.current_viewer()
    if viewer is None:
        raise auth.NotSignedIn("未登录 / not signed in")
    return viewer


def _county(v: auth.Viewer, county: str | None) -> str | None:
    return county if v.sees_county(county) else None


def _units(v: auth.Viewer) -> list:
    return [not v.units, list(v.units)]


def _camps(v: auth.Viewer) -> list:
    return [not v.campaigns, list(v.campaigns)]


def campaign_units(county: str, campaigns: tuple[str, ...]) -> list[str]:
    """The units that report an indicator of these campaigns, and their working groups' lead units
    (a group lead's default unit scope, resolved when it signs in)."""
    df = _select(
        """
        SELECT DISTINCT a.org_code FROM dim.assignment a
        JOIN dim.requirement r ON r.indicator_code = a.indicator_code
        WHERE a.county_code = ? AND list_contains(?::VARCHAR[], r.campaign_code)
        UNION
        SELECT wg.lead_org_code FROM dim.county_campaign cc
        JOIN dim.working_group wg ON wg.county_code = cc.county_code AND wg.working_group_code = cc.working_group_code
        WHERE cc.county_code = ? AND list_contains(?::VARCHAR[], cc.campaign_code) AND wg.lead_org_code IS NOT NULL
        ORDER BY 1
        """,
        [county, list(campaigns), county, list(campaigns)],
        needs=("dim.assignment", "dim.requirement", "dim.county_campaign", "dim.working_group"),
    )
    return list(df["org_code"])


# ---------------------------------------------------------------- dimensions and filter values


def counties(scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        "SELECT county_code, name_zh, name_en FROM dim.county WHERE (? = '' OR county_code = ?) ORDER BY county_code",
        [v.county_code, v.county_code],
        needs=("dim.county",),
    )


def campaigns(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT c.campaign_code, c.name_zh, c.name_en, cc.level, cc.start_date, cc.acceptance_date,
               cc.interim_acceptance_date, cc.working_group_code
        FROM dim.campaign c
        LEFT JOIN dim.county_campaign cc ON cc.campaign_code = c.campaign_code AND cc.county_code = ?
        WHERE ? IS NOT NULL AND {_IN_CAMPAIGNS.format("c.campaign_code")}
        ORDER BY cc.acceptance_date NULLS LAST, c.campaign_code
        """,
        [county, _county(v, county), *_camps(v)],
        needs=("dim.campaign", "dim.county_campaign"),
    )


def units(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT org_code, short_code, name_zh, name_en, level FROM dim.org_unit
        WHERE county_code = ? AND level IN ('department', 'town') AND {_IN_UNITS.format("org_code")}
        ORDER BY CASE level WHEN 'department' THEN 0 ELSE 1 END, org_code
        """,
        [_county(v, county), *_units(v)],
        needs=("dim.org_unit",),
    )


def months(county: str, scope: auth.Viewer | None = None) -> list[str]:
    """Monthly periods the filter offers: those with verdicts or returns, else the calendar's."""
    v = _viewer(scope)
    county = _county(v, county)
    found: set[str] = set()
    if has("compliance.verdict"):
        found |= set(
            _select(
                "SELECT DISTINCT period_code FROM compliance.verdict WHERE county_code = ? AND grain = 'ytd_month'",
                [county],
            )["period_code"]
        )
    if has("core.submission", "dim.period"):
        found |= set(
            _select(
                f"""SELECT DISTINCT s.period_code FROM core.submission s JOIN dim.period p USING (period_code)
                   WHERE s.county_code = ? AND p.frequency = 'monthly' AND {_IN_UNITS.format("s.org_code")}""",
                [county, *_units(v)],
            )["period_code"]
        )
    if not found:
        found = set(
            _select("SELECT period_code FROM dim.period WHERE frequency = 'monthly'", needs=("dim.period",))[
                "period_code"
            ]
        )
    return sorted(found)


def period_info(period_code: str, scope: auth.Viewer | None = None) -> dict:
    _viewer(scope)  # calendar facts only, but still only for a signed-in viewer
    df = _select(
        "SELECT period_code, frequency, year, start_date, end_date, label_zh FROM dim.period WHERE period_code = ?",
        [period_code],
        needs=("dim.period",),
    )
    return df.iloc[0].to_dict() if len(df) else {}


def indicators(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT i.indicator_code, i.name_zh, i.name_en, i.unit, i.frequency,
               list(DISTINCT r.campaign_code ORDER BY r.campaign_code) AS campaigns
        FROM dim.indicator i JOIN dim.requirement r USING (indicator_code)
        WHERE ? IS NOT NULL AND {_IN_CAMPAIGNS.format("r.campaign_code")}
          AND {_UNIT_INDICATOR.format("i.indicator_code")}
        GROUP BY ALL ORDER BY i.indicator_code
        """,
        [_county(v, county), *_camps(v), *_units(v)],
        needs=("dim.indicator", "dim.requirement", "dim.assignment"),
    )


# ---------------------------------------------------------------- verdicts


_VERDICT_COLS = """
    v.requirement_code, v.campaign_code, v.edition_code, v.indicator_code, v.period_code, v.grain,
    v.status, v.value, v.value_text, v.comparison, v.threshold_value, v.threshold_token, v.margin,
    v.is_veto, v.weight, v.is_confirmed, v.explanation_zh, v.explanation_en, v.reporting_org_code
"""


def verdicts_asof(
    county: str, period: str, campaign: str | None = None, scope: auth.Viewer | None = None
) -> pd.DataFrame:
    """County-level year-to-date verdicts at a month, with requirement, indicator and edition names
    (a unit-scoped viewer: the requirements its units report)."""
    v = _viewer(scope)
    county = _county(v, county)
    return _select(
        f"""
        SELECT {_VERDICT_COLS},
               r.name_zh AS req_name_zh, r.name_en AS req_name_en,
               i.name_zh AS ind_name_zh, i.name_en AS ind_name_en, i.unit,
               e.name_zh AS edition_name_zh, e.name_en AS edition_name_en,
               ow.org_code AS owner_org_code, ow.name_zh AS owner_name_zh, ow.name_en AS owner_name_en
        FROM compliance.verdict v
        LEFT JOIN dim.requirement r ON r.requirement_code = v.requirement_code
        LEFT JOIN dim.indicator i ON i.indicator_code = v.indicator_code
        LEFT JOIN dim.edition e ON e.edition_code = v.edition_code
        LEFT JOIN dim.org_unit ow ON ow.county_code = v.county_code AND ow.short_code = r.responsible_short_code
          AND {_IN_UNITS.format("ow.org_code")}
        WHERE v.county_code = ? AND v.subject_org_code = ? AND v.grain = 'ytd_month' AND v.period_code = ?
          AND (? IS NULL OR v.campaign_code = ?)
          AND {_IN_CAMPAIGNS.format("v.campaign_code")} AND {_IN_UNITS.format("v.reporting_org_code")}
        ORDER BY v.campaign_code, v.is_veto DESC, v.requirement_code
        """,
        [*_units(v), county, county, period, campaign, campaign, *_camps(v), *_units(v)],
        needs=("compliance.verdict", "dim.requirement", "dim.indicator", "dim.edition", "dim.org_unit"),
    )


def verdict_history(
    county: str, upto: str, campaign: str | None = None, scope: auth.Viewer | None = None
) -> pd.DataFrame:
    """County-level ytd_month verdicts up to a month (readiness trends, sparklines, changes)."""
    v = _viewer(scope)
    county = _county(v, county)
    return _select(
        f"""
        SELECT requirement_code, campaign_code, indicator_code, period_code, status, value, margin,
               weight, is_veto
        FROM compliance.verdict
        WHERE county_code = ? AND subject_org_code = ? AND grain = 'ytd_month' AND period_code <= ?
          AND (? IS NULL OR campaign_code = ?)
          AND {_IN_CAMPAIGNS.format("campaign_code")} AND {_IN_UNITS.format("reporting_org_code")}
        ORDER BY period_code
        """,
        [county, county, upto, campaign, campaign, *_camps(v), *_units(v)],
        needs=("compliance.verdict",),
    )


# ---------------------------------------------------------------- marts (issue 5) and quality (issue 4)
# Each returns an empty frame when the table exists but holds no rows; pages then fall back.
# Campaign-level figures (readiness, forecast) are the county's per campaign: scoped by campaign.


def readiness_mart(county: str, upto: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT campaign_code, period_code, readiness, n_pass, n_near, n_fail, n_no_data, n_not_assessable,
               n_met, n_requirements, is_capped, n_veto_failed AS veto_failed_n, n_veto_failed > 0 AS veto_failed,
               readiness_change, days_to_acceptance, acceptance_date, readiness_status, veto_failed_codes,
               veto_no_data_codes, failing_requirement_codes
        FROM marts.campaign_readiness
        WHERE county_code = ? AND grain = 'ytd_month' AND period_code <= ?
          AND {_IN_CAMPAIGNS.format("campaign_code")}
        ORDER BY period_code, campaign_code
        """,
        [_county(v, county), upto, *_camps(v)],
        needs=("marts.campaign_readiness",),
    )


def coverage(county: str, upto: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """What each readiness figure is judged on, per campaign × period (compliance.coverage): the
    requirements of the edition in force, how many were assessed, proxies among them, stale ones, and
    the label shown next to readiness ("按 22 项中的 18 项评价"). Empty when the table is not built."""
    v = _viewer(scope)
    if not has("compliance.coverage"):
        return pd.DataFrame(
            columns=[
                "campaign_code",
                "period_code",
                "grain",
                "n_requirements",
                "n_assessed",
                "n_proxy_assessed",
            ]
            + ["n_stale", "coverage", "label_zh", "label_en"]
        )
    return _select(
        f"""
        SELECT campaign_code, period_code, grain, n_requirements, n_assessed, n_proxy_assessed, n_stale,
               coverage, label_zh, label_en
        FROM compliance.coverage
        WHERE county_code = ? AND period_code <= ? AND {_IN_CAMPAIGNS.format("campaign_code")}
        ORDER BY period_code, campaign_code
        """,
        [_county(v, county), upto, *_camps(v)],
        needs=("compliance.coverage",),
    )


def readiness(county: str, upto: str, scope: auth.Viewer | None = None) -> tuple[pd.DataFrame, bool]:
    """Readiness per campaign × month up to `upto`: the mart when built, else estimated from verdicts
    with the same rule (second value True when estimated)."""
    v = _viewer(scope)
    if has("marts.campaign_readiness"):
        df = readiness_mart(county, upto, scope=v)
        if not df.empty:
            return df, False
    return analytics.readiness(verdict_history(county, upto, scope=v)), True


def campaign_forecast(county: str, period: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT campaign_code, target_kind, target_date, n_requirements, n_projected_pass, n_at_risk, n_off_track,
               n_deteriorating, projected_readiness, earliest_ready_date, n_unreachable, projected_status,
               n_no_data, n_insufficient_data, no_data_weight_share, veto_blocking_codes, blocking_requirement_codes
        FROM marts.campaign_forecast
        WHERE county_code = ? AND as_of_period_code = ? AND {_IN_CAMPAIGNS.format("campaign_code")}
        """,
        [_county(v, county), period, *_camps(v)],
        needs=("marts.campaign_forecast",),
    )


def requirement_forecast(
    county: str, period: str, indicator: str | None = None, scope: auth.Viewer | None = None
) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT requirement_code, campaign_code, indicator_code, as_of_date, target_kind, target_date,
               latest_value, threshold_value, gap, projected_value, projected_low, projected_high,
               projected_margin, required_pace_per_month, slope_per_month, status, status_zh,
               status_reason_zh, status_reason_en, expected_reach_date
        FROM marts.requirement_forecast
        WHERE county_code = ? AND as_of_period_code = ? AND (? IS NULL OR indicator_code = ?)
          AND {_IN_CAMPAIGNS.format("campaign_code")} AND {_UNIT_INDICATOR.format("indicator_code")}
        """,
        [_county(v, county), period, indicator, indicator, *_camps(v), *_units(v)],
        needs=("marts.requirement_forecast", "dim.assignment"),
    )


def unit_accountability(county: str, period: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT a.rank, a.org_code, coalesce(ou.name_zh, a.unit_name_zh) AS org_name_zh, ou.name_en AS org_name_en, a.score,
               a.timeliness, a.completeness, a.data_quality, a.compliance, a.returns_due, a.returns_on_time,
               a.returns_late, a.returns_missing, a.working_days_late_max, a.resubmissions,
               a.values_quarantined, a.quality_defects, a.requirements_owned, a.requirements_failing,
               a.is_lagging, a.n_ranked, a.rank_group, a.is_ranked, a.score_components, a.returns_not_yet_due,
               a.requirements_no_data, a.unit_level
        FROM marts.unit_accountability a
        LEFT JOIN dim.org_unit ou ON ou.org_code = a.org_code
        WHERE a.county_code = ? AND a.period_code = ? AND {_IN_UNITS.format("a.org_code")}
        ORDER BY a.rank, a.org_code
        """,
        [_county(v, county), period, *_units(v)],
        needs=("marts.unit_accountability", "dim.org_unit"),
    )


def lagging_units(county: str, period: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT rank, org_code, unit_name_zh, score, reason_codes, reason_zh, reason_en
        FROM marts.lagging_unit WHERE county_code = ? AND period_code = ? AND {_IN_UNITS.format("org_code")}
        ORDER BY rank, org_code
        """,
        [_county(v, county), period, *_units(v)],
        needs=("marts.lagging_unit",),
    )


def plan_schedule(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """The plan's items; the county-wide phases and milestones (no owner) are shown to every viewer."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT item_id, item_kind, campaign_code, code, name_zh, name_en, owner_org_code, start_date, due_date,
               status, source, as_of_date
        FROM marts.plan_schedule WHERE county_code = ?
          AND (campaign_code IS NULL OR {_IN_CAMPAIGNS.format("campaign_code")})
          AND ((owner_org_code IS NULL AND item_kind <> 'task') OR {_IN_UNITS.format("owner_org_code")})
        ORDER BY coalesce(start_date, due_date), item_id
        """,
        [_county(v, county), *_camps(v), *_units(v)],
        needs=("marts.plan_schedule",),
    )


def tasks(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT task_code, task_name, campaign_code, owner_text, owner_org_code, due_date, status, completed_date,
               is_overdue, source_file, sheet, row_no, remark
        FROM marts.task WHERE county_code = ?
          AND (campaign_code IS NULL OR {_IN_CAMPAIGNS.format("campaign_code")})
          AND {_IN_UNITS.format("owner_org_code")}
        ORDER BY due_date, task_code
        """,
        [_county(v, county), *_camps(v), *_units(v)],
        needs=("marts.task",),
    )


def rectification(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT item_id, status, source_kind, campaign_code, requirement_code, indicator_code, owner_org_code,
               is_veto, opened_period_code, due_date, closed_period_code, periods_open, value_at_open,
               threshold_at_open, latest_value, latest_margin, description_zh, description_en
        FROM marts.rectification_item WHERE county_code = ?
          AND {_IN_CAMPAIGNS.format("campaign_code")} AND {_IN_UNITS.format("owner_org_code")}
        ORDER BY CASE status WHEN 'overdue' THEN 0 WHEN 'open' THEN 1 ELSE 2 END, due_date, item_id
        """,
        [_county(v, county), *_camps(v), *_units(v)],
        needs=("marts.rectification_item",),
    )


def outlier_flags(indicator: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT observation_id, method, org_code, period_code, value, score, bound_low, bound_high,
               message_zh, message_en
        FROM quality.outlier WHERE indicator_code = ? AND {_IN_UNITS.format("org_code")}
        """,
        [indicator, *_units(v)],
        needs=("quality.outlier",),
    )


def quality_by_period(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Failure rate per period and data-quality dimension from the quality checks."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT r.period_code, coalesce(r.dimension, r.check_name) AS dimension,
               sum(r.n_checked) AS n_checked, sum(r.n_failed) AS n_failed,
               sum(r.n_failed) / greatest(sum(r.n_checked), 1) AS failure_rate
        FROM quality.check_result r
        LEFT JOIN dim.org_unit ou ON ou.org_code = r.org_code
        WHERE (ou.county_code = ? OR (ou.county_code IS NULL AND ? IS NOT NULL)) AND r.period_code <> '?'
          AND {_IN_UNITS.format("r.org_code")}
        GROUP BY ALL ORDER BY 1, 2
        """,
        [_county(v, county), _county(v, county), *_units(v)],
        needs=("quality.check_result", "dim.org_unit"),
    )


# ---------------------------------------------------------------- observations and lineage


def observations(county: str, indicator: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Every observation of an indicator (all revisions), with lineage and unit names.

    No county filter on `core.source_file`: a file's detected county may differ from its
    observations' (the file's comes from the detected unit or the path, each observation's from its
    own unit), and the file must still be named. None is needed either: the county's observations
    of one indicator come from few files (40–270 in the benchmark's warehouses), and DuckDB builds
    the join on them and pushes their file ids into the scan of `core.source_file` as dynamic
    filters (an IN list and a Bloom filter: see EXPLAIN ANALYZE)."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT o.observation_id, o.org_code, ou.name_zh AS org_name_zh, ou.name_en AS org_name_en,
               o.period_code, p.frequency, p.end_date, o.value, o.value_text, o.raw_text, o.unit,
               f.file_name, f.path, o.sheet, o.cell, o.revision_no, o.valid_from, o.valid_to, o.is_current
        FROM core.observation o
        LEFT JOIN core.source_file f ON f.file_id = o.file_id
        LEFT JOIN dim.org_unit ou ON ou.org_code = o.org_code
        LEFT JOIN dim.period p ON p.period_code = o.period_code
        WHERE o.county_code = ? AND o.indicator_code = ? AND {_IN_UNITS.format("o.org_code")}
        ORDER BY p.end_date, o.org_code, o.revision_no
        """,
        [_county(v, county), indicator, *_units(v)],
        needs=("core.observation", "core.source_file", "dim.org_unit", "dim.period"),
    )


def indicator_requirements(county: str, indicator: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Every requirement on an indicator with the county's resolved threshold and edition dates."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT r.requirement_code, r.campaign_code, c.name_zh AS campaign_zh, c.name_en AS campaign_en,
               r.edition_code, e.effective_from, e.effective_to, r.comparison, r.threshold_kind,
               coalesce(cr.threshold_value, r.threshold_value) AS threshold_value, r.threshold_high,
               r.threshold_token, r.is_veto
        FROM dim.requirement r
        JOIN dim.campaign c USING (campaign_code)
        JOIN dim.edition e ON e.edition_code = r.edition_code
        LEFT JOIN dim.county_requirement cr ON cr.requirement_code = r.requirement_code AND cr.county_code = ?
        WHERE r.indicator_code = ? AND ? IS NOT NULL AND {_IN_CAMPAIGNS.format("r.campaign_code")}
        ORDER BY r.campaign_code, e.effective_from
        """,
        [county, indicator, _county(v, county), *_camps(v)],
        needs=("dim.requirement", "dim.campaign", "dim.edition", "dim.county_requirement"),
    )


# ---------------------------------------------------------------- returns and quality


def submissions(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT s.submission_id, s.file_id, s.org_code, ou.name_zh AS org_name_zh, ou.name_en AS org_name_en,
               s.period_code, p.frequency, p.year, p.end_date, s.revision_no, s.received_at, s.due_date,
               s.working_days_late, s.is_on_time, s.is_current, s.values_loaded, s.values_quarantined
        FROM core.submission s
        LEFT JOIN dim.org_unit ou ON ou.org_code = s.org_code
        LEFT JOIN dim.period p ON p.period_code = s.period_code
        WHERE s.county_code = ? AND {_IN_UNITS.format("s.org_code")}
        ORDER BY p.end_date, s.org_code, s.revision_no
        """,
        [_county(v, county), *_units(v)],
        needs=("core.submission", "dim.org_unit", "dim.period"),
    )


def expected_returns(county: str, period: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Units expected to report for a period (from assignments at its frequency) and what they sent."""
    v = _viewer(scope)
    county = _county(v, county)
    return _select(
        f"""
        WITH p AS (SELECT * FROM dim.period WHERE period_code = ?),
        expected AS (
            SELECT DISTINCT a.org_code FROM dim.assignment a, p
            WHERE a.county_code = ? AND a.frequency = p.frequency AND {_IN_UNITS.format("a.org_code")}
        ),
        sent AS (
            SELECT org_code, min(received_at) AS first_received, max(revision_no) AS revisions,
                   bool_or(is_on_time) AS any_on_time, min(working_days_late) AS working_days_late
            FROM core.submission WHERE county_code = ? AND period_code = ? GROUP BY org_code
        )
        SELECT e.org_code, ou.name_zh AS org_name_zh, ou.name_en AS org_name_en,
               d.due_date, s.first_received, s.revisions, s.working_days_late,
               CASE WHEN s.org_code IS NULL THEN 'missing' WHEN s.any_on_time THEN 'on_time' ELSE 'late' END
                 AS return_status
        FROM expected e
        LEFT JOIN sent s USING (org_code)
        LEFT JOIN dim.org_unit ou ON ou.org_code = e.org_code
        LEFT JOIN dim.reporting_deadline d ON d.county_code = ? AND d.period_code = ?
        ORDER BY return_status DESC, s.working_days_late DESC NULLS FIRST, e.org_code
        """,
        [period, county, *_units(v), county, period, county, period],
        needs=("dim.assignment", "dim.period", "core.submission", "dim.org_unit", "dim.reporting_deadline"),
    )


def source_files(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Files received for the county (and files whose county is unknown: only for viewers who see
    every unit, since such a file has no unit yet either)."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT file_id, path, file_name, file_format, size_bytes, received_at, processed_at, org_code,
               period_codes, layout, status, values_loaded, values_quarantined, reason_codes,
               message_zh, message_en, feedback_path
        FROM core.source_file
        WHERE (county_code = ? OR (county_code IS NULL AND ? IS NOT NULL)) AND {_IN_UNITS.format("org_code")}
        ORDER BY received_at DESC NULLS LAST, file_name
        """,
        [_county(v, county), _county(v, county), *_units(v)],
        needs=("core.source_file",),
    )


def quarantine(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Quarantined files and values of the county's files (and of files whose county is unknown).

    The county's files are selected first and matched by id, instead of joining every quarantined
    value to every file and filtering afterwards (241 → 32 ms at national scale). Same rows as the
    join: the loader writes each quarantine row together with its file's row (one transaction), so
    every `q.file_id` is in `core.source_file`, where `file_id` is the key. A unit-scoped viewer
    gets the rows of its units' files."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT q.file_name, q.sheet, q.cell, q.org_code, q.period_code, q.indicator_code, q.raw_text,
               q.scope, q.reason_code, q.message_zh, q.message_en, q.detected_at
        FROM core.quarantine q
        WHERE q.file_id IN (
            SELECT file_id FROM core.source_file
            WHERE (county_code = ? OR (county_code IS NULL AND ? IS NOT NULL)) AND {_IN_UNITS.format("org_code")}
        )
        ORDER BY q.detected_at DESC NULLS LAST, q.file_name, q.sheet, q.cell
        """,
        [_county(v, county), _county(v, county), *_units(v)],
        needs=("core.quarantine", "core.source_file"),
    )


def feedback_file(recorded: str | None, scope: auth.Viewer | None = None) -> Path | None:
    """The feedback workbook a row points to: only if it resolves inside settings.feedback_dir, and
    only for the office and the clerk of the unit whose file it answers (checked against the
    snapshot's `core.source_file`, not the caller's row)."""
    if not recorded:
        return None
    v = _viewer(scope)
    owners = _select(
        "SELECT DISTINCT org_code FROM core.source_file WHERE feedback_path = ?",
        [recorded],
        needs=("core.source_file",),
    )["org_code"]
    if owners.empty or not all(
        v.can(f"download_feedback:{o}" if o else "download_feedback:") for o in owners
    ):
        return None
    base = settings().feedback_dir.resolve()
    candidate = Path(recorded)
    if not candidate.is_absolute():
        candidate = base / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(base) or not resolved.is_file():
        return None
    return resolved


# ---------------------------------------------------------------- plan


def plan(county: str, scope: auth.Viewer | None = None) -> dict[str, pd.DataFrame]:
    """The county's plan phases (everyone in the county) and milestones (county-wide or of the
    viewer's campaigns)."""
    v = _viewer(scope)
    county = _county(v, county)
    phases = _select(
        "SELECT phase_code, name_zh, name_en, start_date, end_date FROM dim.plan_phase WHERE county_code = ? "
        "ORDER BY start_date",
        [county],
        needs=("dim.plan_phase",),
    )
    milestones = _select(
        f"""SELECT m.milestone_code, m.campaign_code, c.name_zh AS campaign_zh, c.name_en AS campaign_en,
                  m.name_zh, m.due_date
           FROM dim.milestone m LEFT JOIN dim.campaign c USING (campaign_code)
           WHERE m.county_code = ? AND (m.campaign_code IS NULL OR {_IN_CAMPAIGNS.format("m.campaign_code")})
           ORDER BY m.due_date""",
        [county, *_camps(v)],
        needs=("dim.milestone", "dim.campaign"),
    )
    return {"phases": phases, "milestones": milestones}


# ---------------------------------------------------------------- responsibility and outcomes (issue 14)


def requirement_owners(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Every requirement of the county's campaigns with its responsible unit (dim.requirement's
    responsible_short_code resolved in the county) and its working group's lead unit."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT r.requirement_code, r.campaign_code, r.indicator_code, r.name_zh AS req_name_zh,
               r.name_en AS req_name_en, r.is_veto, r.weight,
               ow.org_code AS owner_org_code, ow.name_zh AS owner_name_zh, ow.name_en AS owner_name_en,
               wg.working_group_code, wg.name_zh AS group_name_zh, wg.name_en AS group_name_en,
               ld.org_code AS lead_org_code, ld.name_zh AS lead_name_zh, ld.name_en AS lead_name_en
        FROM dim.requirement r
        JOIN dim.county_campaign cc ON cc.campaign_code = r.campaign_code AND cc.county_code = ?
        LEFT JOIN dim.org_unit ow ON ow.county_code = cc.county_code AND ow.short_code = r.responsible_short_code
          AND {_IN_UNITS.format("ow.org_code")}
        LEFT JOIN dim.working_group wg
          ON wg.county_code = cc.county_code AND wg.working_group_code = cc.working_group_code
        LEFT JOIN dim.org_unit ld ON ld.org_code = wg.lead_org_code AND {_IN_UNITS.format("ld.org_code")}
        WHERE {_IN_CAMPAIGNS.format("r.campaign_code")} AND {_UNIT_INDICATOR.format("r.indicator_code")}
        ORDER BY r.campaign_code, r.requirement_code
        """,
        [_county(v, county), *_units(v), *_units(v), *_camps(v), *_units(v)],
        needs=("dim.requirement", "dim.county_campaign", "dim.org_unit", "dim.working_group"),
    )


def working_groups(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """The county's working groups (创建组), their campaigns and lead units."""
    v = _viewer(scope)
    return _select(
        f"""
        SELECT cc.campaign_code, wg.working_group_code, wg.name_zh, wg.name_en, ld.org_code AS lead_org_code,
               ld.name_zh AS lead_name_zh, ld.name_en AS lead_name_en, wg.lead_assumed
        FROM dim.county_campaign cc
        JOIN dim.working_group wg ON wg.county_code = cc.county_code AND wg.working_group_code = cc.working_group_code
        LEFT JOIN dim.org_unit ld ON ld.org_code = wg.lead_org_code AND {_IN_UNITS.format("ld.org_code")}
        WHERE cc.county_code = ? AND {_IN_CAMPAIGNS.format("cc.campaign_code")}
        ORDER BY cc.campaign_code
        """,
        [*_units(v), _county(v, county), *_camps(v)],
        needs=("dim.county_campaign", "dim.working_group", "dim.org_unit"),
    )


OUTCOME_COLUMNS = ["campaign_code", "outcome", "decided_date", "document", "source"]


def acceptance_outcomes(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Recorded acceptance outcomes per campaign (outcome 'passed' | 'failed'), newest first.

    Read from the acceptance milestone's recorded event (marts.plan_schedule, evidence_outcome), the
    office's acceptance records (plan_process.acceptance: result passed | failed of kind and milestone
    'acceptance') and a `marts.acceptance_record` table if one is built (campaign_code, outcome,
    decided_date, document). The newest decision counts (a re-application after a failure). Empty when nothing is recorded: the pages then derive the outcome from
    the data and say so."""
    v = _viewer(scope)
    parts = []
    if has_columns("marts.plan_schedule", "milestone_key", "evidence_outcome", "evidence_date"):
        parts.append(
            _select(
                f"""
                SELECT campaign_code, evidence_outcome AS outcome, evidence_date AS decided_date,
                       evidence_document AS document, 'plan_event' AS source
                FROM marts.plan_schedule
                WHERE county_code = ? AND milestone_key = 'acceptance' AND evidence_outcome IS NOT NULL
                  AND {_IN_CAMPAIGNS.format("campaign_code")}
                """,
                [_county(v, county), *_camps(v)],
            )
        )
    if has_columns(
        "plan_process.acceptance",
        "campaign_code",
        "kind",
        "milestone",
        "result",
        "result_on",
        "result_document",
    ):  # the office's acceptance records (issue 17): a final result of the campaign's own acceptance
        parts.append(
            _select(
                f"""
                SELECT campaign_code, result AS outcome, result_on AS decided_date, result_document AS document,
                       'acceptance' AS source
                FROM plan_process.acceptance
                WHERE county_code = ? AND kind = 'acceptance' AND milestone = 'acceptance'
                  AND result IN ('passed', 'failed') AND {_IN_CAMPAIGNS.format("campaign_code")}
                """,
                [_county(v, county), *_camps(v)],
            )
        )
    if has_columns("marts.acceptance_record", "campaign_code", "outcome", "decided_date", "document"):
        parts.append(
            _select(
                f"""
                SELECT campaign_code, outcome, decided_date, document, 'acceptance_record' AS source
                FROM marts.acceptance_record
                WHERE county_code = ? AND {_IN_CAMPAIGNS.format("campaign_code")}
                """,
                [_county(v, county), *_camps(v)],
            )
        )
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("decided_date", ascending=False, na_position="last").reset_index(drop=True)


def unit_returns(county: str, org: str, upto: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """The returns a unit owes, period by period, for the as-of year up to the next due date after
    `upto`: frequency, period, due date (Chinese working days: dim.reporting_deadline), the first
    revision's receipt and working days late, and return_status on_time | late | missing | not_due
    (not due: the due date is after the data horizon — the latest receipt, at least the as-of month's
    end — as in marts.unit_accountability)."""
    v = _viewer(scope)
    return _select(
        f"""
        WITH asof_p AS (
            SELECT p.year, greatest(p.end_date, coalesce(
                (SELECT max(received_at)::DATE FROM core.submission WHERE county_code = ?), p.end_date)) AS end_date
            FROM dim.period p WHERE p.period_code = ?
        ),
        freqs AS (
            SELECT DISTINCT frequency, count(DISTINCT indicator_code) OVER (PARTITION BY frequency) AS n_indicators
            FROM dim.assignment WHERE county_code = ? AND org_code = ? AND {_IN_UNITS.format("org_code")}
        ),
        due AS (
            SELECT p.period_code, p.frequency, p.label_zh, p.end_date, d.due_date, f.n_indicators,
                   row_number() OVER (PARTITION BY p.frequency ORDER BY d.due_date) AS k,
                   d.due_date > asof_p.end_date AS after_asof
            FROM dim.reporting_deadline d
            JOIN dim.period p ON p.period_code = d.period_code
            JOIN freqs f ON f.frequency = p.frequency, asof_p
            WHERE d.county_code = ? AND (p.year = asof_p.year OR d.due_date > asof_p.end_date)
        ),
        nxt AS (SELECT frequency, min(due_date) AS next_due FROM due WHERE after_asof GROUP BY frequency),
        sent AS (
            SELECT period_code, min(received_at) AS received_at, min(working_days_late) FILTER (WHERE revision_no = 1)
                   AS working_days_late, bool_or(is_on_time) FILTER (WHERE revision_no = 1) AS on_time,
                   max(revision_no) AS revisions
            FROM core.submission WHERE county_code = ? AND org_code = ? GROUP BY period_code
        )
        SELECT due.period_code, due.frequency, due.label_zh AS period_label_zh, due.end_date, due.due_date,
               due.n_indicators, sent.received_at, sent.working_days_late, sent.revisions,
               CASE WHEN due.after_asof AND sent.period_code IS NULL THEN 'not_due'
                    WHEN sent.period_code IS NULL THEN 'missing'
                    WHEN coalesce(sent.on_time, false) THEN 'on_time' ELSE 'late' END AS return_status
        FROM due LEFT JOIN sent USING (period_code) LEFT JOIN nxt USING (frequency)
        WHERE NOT due.after_asof OR due.due_date = nxt.next_due
        ORDER BY CASE return_status WHEN 'not_due' THEN 0 WHEN 'missing' THEN 1 WHEN 'late' THEN 2 ELSE 3 END,
                 due.due_date DESC, due.frequency
        """,
        [
            _county(v, county),
            upto,
            _county(v, county),
            org,
            *_units(v),
            _county(v, county),
            _county(v, county),
            org,
        ],
        needs=("dim.assignment", "dim.reporting_deadline", "dim.period", "core.submission"),
    )
