"""Validation assets and checks: data quality on the departmental returns, and compliance verdicts.

Thin wrappers over `pipelines.validation`. The checks attach to `departmental_returns` (by key):
structural suites block downstream assets (ERROR), plausibility checks warn (WARN). Results are
also written to the `quality` schema by `quality_results`, and verdicts to `compliance.verdict`
by `compliance_verdicts`. The checks and `quality_results` share their evaluations: each unit of
work is evaluated once per run and observation state (`pipelines.validation.shared`).
"""

import traceback

import dagster as dg

from pipelines.assets.dimensions import county_profiles, standards_catalog
from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings
from pipelines.validation import compliance, frame, outliers, quality, rules, shared, suites

RETURNS = dg.AssetKey("departmental_returns")


def _context():
    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    return settings, catalog, load_profiles(settings.profiles_dir, catalog)


def accepted_only(obs, store=None):
    """With WUCHUANG_VERDICTS_ACCEPTED_ONLY=1, verdicts use only data the office accepted: values of
    browser uploads still submitted, returned or superseded are left out (files that reach the raw
    folder otherwise are not under review and stay in)."""
    from pipelines.workflow import review
    from pipelines.workflow.store import Store, workflow_dir

    if not review.accepted_only_enabled() or obs is None or obs.empty or "file_path" not in obs:
        return obs
    if store is None:
        path = workflow_dir() / "workflow.sqlite"
        if not path.exists():
            return obs
        store = Store(path)
    pending = review.unaccepted_rel_paths(store)
    if not pending:
        return obs
    return obs[~obs["file_path"].isin(pending)].reset_index(drop=True)


def _observations(warehouse: WarehouseResource, catalog, current_only: bool = False):
    with warehouse.get_connection() as conn:
        return frame.enrich(frame.read_observations(conn, current_only), catalog)


def _evaluate(
    run_id: str, warehouse: WarehouseResource, settings, catalog, profiles, checks: tuple[str, ...]
):
    """The checks on the warehouse's observations, each unit evaluated once per run and state."""
    return shared.evaluate(
        run_id,
        warehouse.get_connection,
        warehouse.database,
        catalog,
        profiles,
        settings.expectations_dir,
        settings.gx_dir,
        settings.standards_dir,
        settings.profiles_dir,
        checks,
    )


def _check_result(rep) -> dg.AssetCheckResult:
    meta = rep.metadata()
    return dg.AssetCheckResult(
        check_name=rep.check_name,
        asset_key=RETURNS,
        passed=rep.passed,
        severity=dg.AssetCheckSeverity.ERROR if rep.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=meta["summary_en"],
        metadata={
            "summary_zh": dg.MetadataValue.text(meta["summary_zh"]),
            "n_checked": dg.MetadataValue.int(meta["n_checked"]),
            "n_failed": dg.MetadataValue.int(meta["n_failed"]),
            "failure_rate": dg.MetadataValue.float(float(meta["failure_rate"])),
            "threshold_rate": dg.MetadataValue.float(float(meta["threshold_rate"])),
            "failing_expectations": dg.MetadataValue.json(meta["failing_expectations"]),
            "examples": dg.MetadataValue.json(meta["examples"]),
        },
    )


def _quarantined_result(rep, plan: quality.QuarantinePlan, moved: int) -> dg.AssetCheckResult:
    """A structural check that failed on a few values, now quarantined: WARN, does not block."""
    meta = rep.metadata()
    result = _check_result(rep)
    return dg.AssetCheckResult(
        check_name=rep.check_name,
        asset_key=RETURNS,
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{plan.reason_en}. {meta['summary_en']}",
        metadata={
            **result.metadata,
            "summary_zh": dg.MetadataValue.text(f"{plan.reason_zh}。{meta['summary_zh']}"),
            "values_quarantined": dg.MetadataValue.int(moved),
            "systemic_share": dg.MetadataValue.float(float(plan.allowed_share)),
            "quarantined_cells": dg.MetadataValue.json(
                [
                    {
                        "file": r["file_name"],
                        "sheet": r["sheet"],
                        "cell": r["cell"],
                        "message_zh": r["message_zh"],
                    }
                    for r in plan.rows[:20]
                ]
            ),
        },
    )


def _run_check(name: str, run_id: str, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """One check: its report on the warehouse's observations; a structural check that fails on a
    few values quarantines them and warns, on many (systemic) it fails with ERROR and blocks."""
    settings, catalog, profiles = _context()
    run, n_values, _ = _evaluate(run_id, warehouse, settings, catalog, profiles, (name,))
    rep = run.reports[name]
    if name in quality.STRUCTURAL and not rep.passed:
        plan = quality.plan_quarantine(rep, None, catalog, n_values=n_values)
        if not plan.systemic:
            from pipelines.returns.feedback import write_feedback

            with warehouse.get_connection() as conn:
                moved = quality.apply_quarantine(conn, plan)
                write_feedback(conn, settings.raw_dir, settings.feedback_dir, plan.file_ids)
            return _quarantined_result(rep, plan, moved)
        result = _check_result(rep)
        return dg.AssetCheckResult(
            check_name=name,
            asset_key=RETURNS,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{plan.reason_en}. {result.description}",
            metadata={**result.metadata, "summary_zh": dg.MetadataValue.text(plan.reason_zh)},
        )
    return _check_result(rep)


def _crashed_result(name: str, exc: Exception) -> dg.AssetCheckResult:
    """A plausibility check that could not be evaluated: a failed WARN naming the error (it never
    blocked, and must not block the others)."""
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=RETURNS,
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"could not evaluate: {type(exc).__name__}: {exc}"[:1000],
        metadata={"summary_zh": dg.MetadataValue.text(f"无法评估：{type(exc).__name__}: {exc}"[:1000])},
    )


_QUARANTINE_NOTE = (
    " A few failing values are quarantined (core.quarantine, feedback to the unit) and the check only warns; "
    "it blocks when the failure is systemic (share above WUCHUANG_SYSTEMIC_SHARE, default 5 %)."
)

_SPECS = [
    (
        suites.STRUCTURE,
        True,
        "Structural (ERROR, blocks downstream): required fields, known indicator/unit/org/period codes, "
        "one current value per indicator × unit × period × revision, periods not in the future (GX suite)."
        + _QUARANTINE_NOTE,
    ),
    (
        suites.VALUES,
        True,
        "Structural (ERROR, blocks downstream): values possible for their unit and days within the period (GX suite)."
        + _QUARANTINE_NOTE,
    ),
    (
        rules.RULES_CHECK,
        False,
        "Plausibility (WARN): cross-indicator validation rules (expectations/rules/validation_rules.yaml).",
    ),
    (
        rules.TRIANGULATION_CHECK,
        False,
        "Plausibility (WARN): the same quantity reported by two departments agrees within the tolerance.",
    ),
    (
        outliers.OUTLIER_CHECK,
        False,
        "Plausibility (WARN): outliers per indicator × unit series (modified z-score > 3.5, min–max bounds).",
    ),
]
BLOCKING = {name: blocking for name, blocking, _ in _SPECS}
# The order the in-process executor ran them when each was its own step (by step key, i.e. by
# name): the cross-indicator rules before the structural checks, the triangulation and outliers
# after them (after any quarantine). Kept so that every check reports what it reported before.
ORDER = tuple(sorted(BLOCKING))


@dg.multi_asset_check(
    name="departmental_returns_checks",
    specs=[
        dg.AssetCheckSpec(name, asset=RETURNS, blocking=blocking, description=description)
        for name, blocking, description in _SPECS
    ],
    can_subset=True,
    description=(
        "The five data-quality checks on departmental_returns in one step (issue 18: a step per check "
        "cost a fifth of a second of Dagster overhead each). Each check keeps its own result, severity "
        "and blocking; a crash of a plausibility check is reported as its failed WARN result and the "
        "others still run; a crash of a structural check fails the step (blocks), after the others."
    ),
)
def departmental_returns_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    selected = {key.name for key in context.selected_asset_check_keys}
    crashed: list[Exception] = []
    for name in ORDER:
        if name not in selected:
            continue
        try:
            result = _run_check(name, context.run.run_id, warehouse)
        except Exception as exc:
            context.log.error(f"check {name} could not be evaluated:\n{traceback.format_exc()}")
            if BLOCKING[name]:
                crashed.append(exc)
                continue
            result = _crashed_result(name, exc)
        yield result
    # No Data Docs site is built here (issue 18: ~1.1 s per run): GX stores each validation result
    # under the gx folder, and the Submissions page renders a result's Data Docs page when the office
    # opens it (dashboards/gx_docs.py).
    if crashed:
        raise crashed[0]


checks = [departmental_returns_checks]


@dg.asset(
    group_name="validation",
    kinds={"duckdb"},
    deps=[RETURNS, standards_catalog, county_profiles],
    description=(
        "Data-quality results per check, unit and period, flagged values, rule violations and outliers "
        "(quality schema); GX validation results under the gx folder (the Submissions page renders "
        "their Data Docs on demand)."
    ),
)
def quality_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings, catalog, profiles = _context()
    run, _, _ = _evaluate(context.run.run_id, warehouse, settings, catalog, profiles, tuple(quality.CHECKS))
    with warehouse.get_connection() as conn:
        counts = quality.write(conn, run)
    shared.discard_run(settings.gx_dir, context.run.run_id)
    meta = {name: dg.MetadataValue.int(n) for name, n in counts.items()}
    for name, rep in run.reports.items():
        meta[f"{name}_failed"] = dg.MetadataValue.int(rep.n_failed)
        meta[f"{name}_checked"] = dg.MetadataValue.int(rep.n_checked)
    meta["gx_results"] = dg.MetadataValue.path(str(settings.gx_dir / "gx" / "uncommitted" / "validations"))
    context.log.info("; ".join(rep.summary()[1] for rep in run.reports.values()))
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    group_name="validation",
    kinds={"duckdb"},
    deps=[RETURNS, standards_catalog, county_profiles],
    description=(
        "Verdict of every requirement in force × subject unit × year / year-to-date month: pass, near, fail, "
        "no_data, not_assessable, with value, threshold, margin and the observations used."
    ),
)
def compliance_verdicts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings, catalog, profiles = _context()
    obs = accepted_only(_observations(warehouse, catalog, current_only=True))
    # verdicts of unchanged series reused, also from the previous run's process (issue 18)
    rows = compliance.compute_verdicts(
        obs,
        catalog,
        profiles,
        reuse=True,
        memo_dir=settings.gx_dir / "verdicts",
        memo_key=compliance.verdict_memo_key(settings.standards_dir, settings.profiles_dir),
    )
    coverage = compliance.coverage_rows(rows)
    counties = [p.code for p in profiles]
    with warehouse.get_connection() as conn:
        n = compliance.write_verdicts(conn, rows, coverage, counties)
    by_status = {s: sum(r["status"] == s for r in rows) for s in compliance.STATUSES}
    return dg.MaterializeResult(
        metadata={
            "verdicts": dg.MetadataValue.int(n),
            "stale_verdicts": dg.MetadataValue.int(sum(bool(r.get("is_stale")) for r in rows)),
            "variant_decided_verdicts": dg.MetadataValue.int(
                sum(bool(r.get("variant_decides")) for r in rows)
            ),
            "coverage_rows": dg.MetadataValue.int(len(coverage)),
            **{f"status_{s}": dg.MetadataValue.int(c) for s, c in by_status.items()},
        }
    )


assets = [quality_results, compliance_verdicts]
