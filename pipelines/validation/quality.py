"""All data-quality checks on the observations, as one run: reports for the asset checks and rows
for the `quality` schema.

Checks and severities:
- `observation_structure` (ERROR, blocking, allowed rate 0): GX suite observation_structure;
- `observation_values` (ERROR, blocking, allowed rate 0): GX suite observation_values;
- `cross_indicator_rules` (WARN): compare / town_vs_county / each_town rules;
- `triangulation` (WARN): the same quantity from two units;
- `value_outliers` (WARN): modified z-score and min–max bounds.
The allowed rates of the WARN checks are the share of evaluations that may fail before the check
warns; any single failure is still listed in quality.flag / rule_violation / outlier.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile
from pipelines.validation import gx_runner, outliers, rules, suites
from pipelines.validation.results import ERROR, WARN, CheckReport, ExpectationResult, examples
from pipelines.validation.store import replace_frame
from pipelines.warehouse.schema import transaction
from pipelines.warehouse.tables import quality as qt

CHECKS = {
    suites.STRUCTURE: (
        ERROR,
        0.0,
        "观测数据结构（必填、代码、唯一、报告期）",
        "observation structure (required, codes, uniqueness, periods)",
    ),
    suites.VALUES: (ERROR, 0.0, "数值须符合计量单位的可能范围", "values possible for their unit"),
    rules.RULES_CHECK: (WARN, 0.05, "跨指标校验规则", "cross-indicator validation rules"),
    rules.TRIANGULATION_CHECK: (WARN, 0.10, "多部门同一数据互证", "triangulation between departments"),
    outliers.OUTLIER_CHECK: (
        WARN,
        0.02,
        "异常值（修正Z分数、合理范围）",
        "outliers (modified z-score, plausible range)",
    ),
}


def rules_path(expectations_dir: Path) -> Path:
    return Path(expectations_dir) / "rules" / "validation_rules.yaml"


def report(check_name: str, results: list[ExpectationResult]) -> CheckReport:
    severity, rate, zh, en = CHECKS[check_name]
    for r in results:
        r.severity = severity
    return CheckReport(check_name, severity, rate, zh, en, results)


@dataclass
class QualityRun:
    reports: dict[str, CheckReport]
    violations: list[dict] = field(default_factory=list)
    outlier_rows: list[dict] = field(default_factory=list)
    evaluated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    def check_result_rows(self) -> list[dict]:
        rows = []
        for rep in self.reports.values():
            for r in rep.results:
                if not r.n_checked and not r.error:
                    continue
                items = r.items.copy()
                items["org_code"] = items["org_code"].where(items["org_code"].notna(), "?").astype(str)
                items["period_code"] = (
                    items["period_code"].where(items["period_code"].notna(), "?").astype(str)
                )
                groups = items.groupby(["org_code", "period_code"], sort=True) if len(items) else []
                for (org, period), g in groups:
                    sub = ExpectationResult(
                        r.check_name,
                        r.key,
                        r.severity,
                        r.dimension,
                        r.bound,
                        r.reason_code,
                        r.description_zh,
                        r.description_en,
                        g,
                    )
                    n, f = sub.n_checked, sub.n_failed
                    rows.append(
                        {
                            "check_name": r.check_name,
                            "expectation": r.key,
                            "dimension": r.dimension,
                            "severity": r.severity,
                            "org_code": org,
                            "period_code": period,
                            "n_checked": n,
                            "n_failed": f,
                            "failure_rate": f / n if n else 0.0,
                            "threshold_rate": rep.threshold_rate,
                            "bound": r.bound,
                            "passed": f == 0,
                            "examples": json.dumps(examples([sub]), ensure_ascii=False) if f else None,
                            "message_zh": f"{r.description_zh}：{f}/{n} 未通过（{r.bound}）"
                            if f
                            else r.description_zh,
                            "message_en": f"{r.description_en}: {f}/{n} failed ({r.bound})"
                            if f
                            else r.description_en,
                            "evaluated_at": self.evaluated_at,
                        }
                    )
                if r.error:
                    rows.append(
                        {
                            "check_name": r.check_name,
                            "expectation": r.key,
                            "dimension": r.dimension,
                            "severity": r.severity,
                            "org_code": "?",
                            "period_code": "?",
                            "n_checked": 0,
                            "n_failed": 0,
                            "failure_rate": None,
                            "threshold_rate": rep.threshold_rate,
                            "bound": r.bound,
                            "passed": False,
                            "examples": None,
                            "message_zh": f"无法评估：{r.error}",
                            "message_en": f"could not evaluate: {r.error}",
                            "evaluated_at": self.evaluated_at,
                        }
                    )
        return rows

    def flag_rows(self) -> list[dict]:
        rows: dict[str, dict] = {}
        for rep in self.reports.values():
            for r in rep.results:
                for i, it in r.failed.iterrows():
                    oid = it.get("observation_id")
                    ident = (
                        oid
                        if isinstance(oid, str) and oid
                        else f"row{i}:{it.get('org_code')}:{it.get('period_code')}"
                    )
                    fid = f"{r.check_name}:{r.key}:{ident}"
                    value = it.get("value")
                    rows[fid] = {
                        "flag_id": fid,
                        "check_name": r.check_name,
                        "expectation": r.key,
                        "severity": r.severity,
                        "observation_id": oid if isinstance(oid, str) else None,
                        "file_id": _s(it.get("file_id")),
                        "file_name": _s(it.get("file_name")),
                        "sheet": _s(it.get("sheet")),
                        "cell": _s(it.get("cell")),
                        "org_code": _s(it.get("org_code")),
                        "indicator_code": _s(it.get("indicator_code")),
                        "period_code": _s(it.get("period_code")),
                        "value": float(value)
                        if isinstance(value, (int, float)) and not pd.isna(value)
                        else None,
                        "raw_text": _s(it.get("raw_text")),
                        "bound": r.bound,
                        "reason_code": r.reason_code,
                        "message_zh": _s(it.get("detail_zh")) or r.description_zh,
                        "message_en": _s(it.get("detail_en")) or r.description_en,
                    }
        return list(rows.values())


def _s(v):
    if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
        return None
    return str(v)


def evaluate(
    frame: pd.DataFrame,
    catalog: Catalog,
    profiles: list[CountyProfile],
    expectations_dir: Path,
    gx_dir: Path,
    checks: tuple[str, ...] | None = None,
    build_docs: bool = False,
) -> QualityRun:
    """Run the selected checks (default all) on an enriched observation frame."""
    checks = checks or tuple(CHECKS)
    reports: dict[str, CheckReport] = {}
    run = QualityRun(reports)
    gx_suites = tuple(c for c in suites.SUITE_NAMES if c in checks)
    if gx_suites:
        for name, results in gx_runner.run_suites(
            frame, expectations_dir, gx_dir, gx_suites, build_docs
        ).items():
            reports[name] = report(name, results)
    need_rules = (
        rules.RULES_CHECK in checks or rules.TRIANGULATION_CHECK in checks or outliers.OUTLIER_CHECK in checks
    )
    ruleset = rules.load_rules(rules_path(expectations_dir), catalog, profiles) if need_rules else None
    if ruleset and (rules.RULES_CHECK in checks or rules.TRIANGULATION_CHECK in checks):
        results, violations = rules.evaluate_rules(frame, ruleset, catalog, profiles)
        for name in (rules.RULES_CHECK, rules.TRIANGULATION_CHECK):
            if name in checks:
                reports[name] = report(name, [r for r in results if r.check_name == name])
        wanted = {r.id for r in ruleset.rules if r.check_name in checks}
        run.violations = [v for v in violations if v["rule_id"] in wanted]
    if ruleset and outliers.OUTLIER_CHECK in checks:
        results, rows = outliers.find_outliers(frame, ruleset.bounds)
        reports[outliers.OUTLIER_CHECK] = report(outliers.OUTLIER_CHECK, results)
        run.outlier_rows = rows
    return run


def write(conn: duckdb.DuckDBPyConnection, run: QualityRun) -> dict[str, int]:
    """Replace the quality tables with this run's rows, in one transaction."""
    data = {
        qt.CHECK_RESULT: run.check_result_rows(),
        qt.FLAG: run.flag_rows(),
        qt.RULE_VIOLATION: run.violations,
        qt.OUTLIER: run.outlier_rows,
    }
    counts = {}
    with transaction(conn):
        for t, rows in data.items():
            counts[t.qualified] = replace_frame(conn, t, rows)
    return counts
