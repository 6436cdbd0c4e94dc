"""Marts assets: campaign readiness, forecasts, the accountability ledger, the plan schedule with task
ledgers, and rectification items. Thin wrappers over `pipelines.marts`; each asset replaces its tables
in one transaction, so re-running changes nothing."""

import datetime as dt

import dagster as dg

from pipelines.catalog import load_catalog
from pipelines.marts import accountability, forecast, plan, readiness, rectification, task_ledger
from pipelines.marts.common import fetch_dicts, write_table
from pipelines.profile import load_profiles
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings
from pipelines.warehouse.tables import marts as t

VERDICTS = dg.AssetKey("compliance_verdicts")
RETURNS = dg.AssetKey("departmental_returns")
QUALITY = dg.AssetKey("quality_results")
PROFILES = dg.AssetKey("county_profiles")
CALENDAR = dg.AssetKey("reporting_calendar")


def _result(counts: dict[str, int], **extra) -> dg.MaterializeResult:
    meta = {name: dg.MetadataValue.int(n) for name, n in counts.items()}
    meta.update(extra)
    return dg.MaterializeResult(metadata=meta)


def _horizon(conn) -> dt.date | None:
    """Data horizon: the latest return received, else the latest verdict period end."""
    got = accountability.data_horizon(conn)
    if got is None:
        row = conn.execute(
            "SELECT max(p.end_date) FROM compliance.verdict v JOIN dim.period p USING (period_code)"
        ).fetchone()
        got = row[0] if row else None
    return got


@dg.asset(
    group_name="marts",
    kinds={"duckdb"},
    deps=[VERDICTS, PROFILES],
    description="Readiness per county campaign and period (share met on normalised weights, missing data counted as unmet, veto cap 0.6 for failing or unscored vetoes, status, change since last period); towns' breakdown.",
)
def campaign_readiness(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        rows = readiness.build(conn)
        counts = write_table(conn, rows)
        capped = sum(1 for r in rows[t.CAMPAIGN_READINESS] if r["is_capped"])
    return _result(counts, capped_periods=dg.MetadataValue.int(capped))


@dg.asset(
    group_name="marts",
    kinds={"duckdb"},
    deps=[VERDICTS, PROFILES],
    description="Theil–Sen forecast of every requirement to its acceptance date with Open SDG-style statuses; campaign roll-up.",
)
def requirement_forecasts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        rows = forecast.build(conn)
        counts = write_table(conn, rows)
    latest = [r for r in rows[t.REQUIREMENT_FORECAST] if r["is_latest"]]
    by_status = {s: sum(1 for r in latest if r["status"] == s) for s in forecast.STATUS_ZH}
    return _result(counts, **{f"latest_{k}": dg.MetadataValue.int(v) for k, v in by_status.items()})


@dg.asset(
    group_name="marts",
    kinds={"duckdb"},
    deps=[RETURNS, QUALITY, VERDICTS, CALENDAR],
    description="Accountability ledger per unit and month (returns due/on time/late/missing, quarantine, failing requirements), score, rank and the 通报 list.",
)
def unit_accountability(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        rows = accountability.build(conn)
        counts = write_table(conn, rows)
    return _result(counts)


@dg.asset(
    group_name="marts",
    kinds={"duckdb"},
    deps=[campaign_readiness, RETURNS, PROFILES],
    description="Phases, milestones (with derived 倒排工期 milestones) and task-ledger (任务台账) tasks, with their status.",
)
def plan_schedule(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    with warehouse.get_connection() as conn:
        as_of = _horizon(conn)
        tasks, errors = task_ledger.read_task_ledgers(
            settings.raw_dir, profiles, catalog.campaigns.values(), as_of
        )
        if errors:  # one log event for all (each is a write to the event log)
            context.log.warning("\n".join(e["message_zh"] + " / " + e["message_en"] for e in errors[:20]))
        schedule = plan.build(conn, tasks, as_of, plan.event_rows(profiles))
        counts = write_table(conn, {t.TASK: tasks, t.TASK_LEDGER_ERROR: errors, t.PLAN_SCHEDULE: schedule})
    return _result(counts, as_of=dg.MetadataValue.text(str(as_of)))


@dg.asset(
    group_name="marts",
    kinds={"duckdb"},
    deps=[VERDICTS, QUALITY, PROFILES],
    description="Rectification items (整改) opened by failing verdicts and unresolved quality problems, closed by later passing periods, with history.",
)
def rectification_items(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        rows = rectification.build(conn, _horizon(conn))
        counts = write_table(conn, rows)
        open_n = conn.execute(
            "SELECT count(*) FROM marts.rectification_item WHERE status IN ('open', 'overdue')"
        ).fetchone()[0]
    return _result(counts, open_items=dg.MetadataValue.int(open_n))


@dg.asset_check(
    asset=campaign_readiness,
    description="Readiness lies in 0..1 and never exceeds the cap (nor is 'ready') when a veto item fails or has no data.",
)
def readiness_respects_veto_cap(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        bad = fetch_dicts(
            conn,
            "SELECT county_code, campaign_code, grain, period_code, readiness, n_veto_failed FROM marts.campaign_readiness "
            "WHERE readiness < 0 OR readiness > 1 OR ((n_veto_failed > 0 OR coalesce(n_veto_no_data, 0) > 0) "
            "AND (readiness > readiness_cap + 1e-9 OR readiness_status = 'ready')) LIMIT 5",
        )
        total = conn.execute("SELECT count(*) FROM marts.campaign_readiness").fetchone()[0]
    return dg.AssetCheckResult(
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"准备度越界或未按一票否决封顶 {len(bad)} 行（共 {total} 行） / "
            f"{len(bad)} of {total} rows out of 0..1 or above the veto cap"
            if bad
            else f"准备度均在0–1之间且一票否决封顶生效（{total} 行） / all {total} rows in 0..1 and capped"
        ),
        metadata={
            "rows": total,
            "examples": dg.MetadataValue.json([{k: str(v) for k, v in r.items()} for r in bad]),
        },
    )


assets = [campaign_readiness, requirement_forecasts, unit_accountability, plan_schedule, rectification_items]
checks = [readiness_respects_veto_cap]
