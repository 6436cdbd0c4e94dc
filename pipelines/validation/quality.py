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

Bad rows do not stop the county (issue 13, item 6). When a structural check fails on a few values,
`plan_quarantine` / `apply_quarantine` move exactly those values out of `core.observation` into
`core.quarantine` (scope `value`, the suite's reason code, a message in Chinese and English naming
file, sheet and cell), mark their files `partial`, restore the previous revision's value where a
corrected return brought the bad one, and the unit's feedback workbook is rewritten with the cell
marked. The check then reports a WARN (not blocking) and the rest of the run publishes. The run
stops (ERROR, blocking) only when the failure is systemic:
- more than `systemic_share()` of the values checked fail (`WUCHUANG_SYSTEMIC_SHARE`, default 5 %),
- or an expectation could not be evaluated at all,
- or a failing row cannot be traced to an observation (no observation_id).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines import reporting_calendar as rc
from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile
from pipelines.validation import gx_runner, outliers, rules, suites
from pipelines.validation.results import ERROR, WARN, CheckReport, ExpectationResult, examples
from pipelines.validation.store import sync_rows
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
        """One row per check, expectation, unit and period (counts by one vectorised group-by over
        every expectation's items; the examples are built only for the groups that failed). Same
        rows, in the same order, as grouping item by item (tests/validation/test_quality_rows.py
        proves it)."""
        todo = [(rep, r) for rep in self.reports.values() for r in rep.results if r.n_checked or r.error]
        groups = _group_counts([r.items for _, r in todo])
        rows = []
        for i, (rep, r) in enumerate(todo):
            rows.extend(self._group_rows(rep, r, groups.get(i, [])))
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

    def check_result_frame(self) -> pd.DataFrame:
        """`check_result_rows` as one frame (same rows, same order, the table's column names),
        built column by column: the write of ~18,000 check results (issue 18) spends no Python dict
        per row. The failing groups' examples and messages are the rows' own (few)."""
        names = qt.CHECK_RESULT.column_names
        todo = [(rep, r) for rep in self.reports.values() for r in rep.results if r.n_checked or r.error]
        counts = _group_count_frame([r.items for _, r in todo])
        parts = []
        if len(counts):
            idx = counts["i"].to_numpy()
            n = counts["n"].to_numpy(dtype=np.int64)
            f = counts["f"].to_numpy(dtype=np.int64)
            attr = {
                "check_name": [r.check_name for _, r in todo],
                "expectation": [r.key for _, r in todo],
                "dimension": [r.dimension for _, r in todo],
                "severity": [r.severity for _, r in todo],
                "bound": [r.bound for _, r in todo],
                "message_zh": [r.description_zh for _, r in todo],
                "message_en": [r.description_en for _, r in todo],
            }
            frame = pd.DataFrame({k: np.asarray(v, dtype=object)[idx] for k, v in attr.items()})
            frame["org_code"] = counts["org_code"].to_numpy(dtype=object)
            frame["period_code"] = counts["period_code"].to_numpy(dtype=object)
            frame["n_checked"] = n
            frame["n_failed"] = f
            frame["failure_rate"] = f / n  # every group has at least one item
            frame["threshold_rate"] = np.asarray([rep.threshold_rate for rep, _ in todo], dtype=float)[idx]
            frame["passed"] = f == 0
            examples_col = np.full(len(frame), None, dtype=object)
            failing = np.flatnonzero(f)
            for i in sorted(set(idx[failing].tolist())):
                rep, r = todo[i]
                rows = failing[idx[failing] == i]
                found = self._group_examples(r)
                for k in rows.tolist():
                    org, period, nk, fk = frame.at[k, "org_code"], frame.at[k, "period_code"], n[k], f[k]
                    examples_col[k] = found[(org, period)]
                    frame.at[k, "message_zh"] = f"{r.description_zh}：{fk}/{nk} 未通过（{r.bound}）"
                    frame.at[k, "message_en"] = f"{r.description_en}: {fk}/{nk} failed ({r.bound})"
            frame["examples"] = examples_col
            frame["_i"], frame["_o"] = idx, 0
            parts.append(frame)
        errors = [
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
                "_i": i,
                "_o": 1,
            }
            for i, (rep, r) in enumerate(todo)
            if r.error
        ]
        if errors:
            parts.append(pd.DataFrame(errors))
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in names})
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        out = out.sort_values(["_i", "_o"], kind="stable", ignore_index=True)
        out["evaluated_at"] = self.evaluated_at
        return out[names]

    def _group_examples(self, r: ExpectationResult) -> dict[tuple[str, str], str]:
        """The examples JSON of each failing (unit, period) group of one expectation."""
        items = r.items[r.items["failed"].astype(bool).to_numpy(dtype=bool)].copy()
        items["org_code"] = _codes(items["org_code"])
        items["period_code"] = _codes(items["period_code"])
        out = {}
        for (org, period), g in items.groupby(["org_code", "period_code"], sort=True):
            sub = ExpectationResult(
                r.check_name, r.key, r.severity, r.dimension, r.bound, r.reason_code,
                r.description_zh, r.description_en, g,
            )  # fmt: skip
            out[(org, period)] = json.dumps(examples([sub]), ensure_ascii=False)
        return out

    def _group_rows(
        self, rep: CheckReport, r: ExpectationResult, counts: list[tuple[str, str, int, int]]
    ) -> list[dict]:
        if not counts:
            return []
        example_json: dict[tuple[str, str], str] = {}
        failing = [(org, period) for org, period, _, f in counts if f]
        if failing:
            # The examples are built from a group's failing items only (`examples` reads
            # `ExpectationResult.failed`), and a failing item's group is a failing group: group
            # the failing items alone (same rows, same order) instead of matching every item's
            # (unit, period) against the failing groups.
            items = r.items[r.items["failed"].astype(bool).to_numpy(dtype=bool)].copy()
            items["org_code"] = _codes(items["org_code"])
            items["period_code"] = _codes(items["period_code"])
            keys = ["org_code", "period_code"]
            for (org, period), g in items.groupby(keys, sort=True):
                sub = ExpectationResult(
                    r.check_name, r.key, r.severity, r.dimension, r.bound, r.reason_code,
                    r.description_zh, r.description_en, g,
                )  # fmt: skip
                example_json[(org, period)] = json.dumps(examples([sub]), ensure_ascii=False)
        msg_zh, msg_en = r.description_zh, r.description_en
        out = []
        for org, period, n, f in counts:
            out.append(
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
                    "examples": example_json[(org, period)] if f else None,
                    "message_zh": f"{msg_zh}：{f}/{n} 未通过（{r.bound}）" if f else msg_zh,
                    "message_en": f"{msg_en}: {f}/{n} failed ({r.bound})" if f else msg_en,
                    "evaluated_at": self.evaluated_at,
                }
            )
        return out

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


def _codes(col: pd.Series) -> pd.Series:
    """Unit / period codes for grouping: missing ones as '?'."""
    return col.where(col.notna(), "?").astype(str)


def _group_counts(all_items: list[pd.DataFrame]) -> dict[int, list[tuple[str, str, int, int]]]:
    """For each items frame (by position): (org, period, checked, failed) per unit and period,
    sorted, from one group-by over all of them."""
    parts = [(i, items) for i, items in enumerate(all_items) if len(items)]
    if not parts:
        return {}
    keys = pd.DataFrame(
        {
            "i": np.concatenate([np.full(len(items), i, dtype=np.int64) for i, items in parts]),
            # element-wise, so once over the concatenated columns rather than once per frame
            "org_code": _codes(pd.concat([items["org_code"] for _, items in parts], ignore_index=True)),
            "period_code": _codes(pd.concat([items["period_code"] for _, items in parts], ignore_index=True)),
            "f": np.concatenate([items["failed"].astype(bool).to_numpy(dtype=bool) for _, items in parts]),
        }
    )
    counts = keys.groupby(["i", "org_code", "period_code"], sort=True)["f"].agg(["size", "sum"])
    out: dict[int, list[tuple[str, str, int, int]]] = {}
    for (i, org, period), n, f in zip(
        counts.index, counts["size"].tolist(), counts["sum"].tolist(), strict=True
    ):
        out.setdefault(int(i), []).append((org, period, int(n), int(f)))
    return out


def _group_count_frame(all_items: list[pd.DataFrame]) -> pd.DataFrame:
    """`_group_counts` as a frame: columns i, org_code, period_code, n (checked), f (failed), one
    row per items frame, unit and period, sorted by them."""
    parts = [(i, items) for i, items in enumerate(all_items) if len(items)]
    if not parts:
        return pd.DataFrame({"i": [], "org_code": [], "period_code": [], "n": [], "f": []})
    keys = pd.DataFrame(
        {
            "i": np.concatenate([np.full(len(items), i, dtype=np.int64) for i, items in parts]),
            "org_code": _codes(pd.concat([items["org_code"] for _, items in parts], ignore_index=True)),
            "period_code": _codes(pd.concat([items["period_code"] for _, items in parts], ignore_index=True)),
            "f": np.concatenate([items["failed"].astype(bool).to_numpy(dtype=bool) for _, items in parts]),
        }
    )
    counts = keys.groupby(["i", "org_code", "period_code"], sort=True)["f"].agg(["size", "sum"])
    return pd.DataFrame(
        {
            "i": counts.index.get_level_values(0).to_numpy(dtype=np.int64),
            "org_code": counts.index.get_level_values(1).to_numpy(dtype=object),
            "period_code": counts.index.get_level_values(2).to_numpy(dtype=object),
            "n": counts["size"].to_numpy(dtype=np.int64),
            "f": counts["sum"].to_numpy(dtype=np.int64),
        }
    )


def _s(v):
    if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
        return None
    return str(v)


# The checks as units of work: each unit is evaluated once and gives the reports of its checks
# (the cross-indicator rules and the triangulation come from one pass over the rules file).
RULES_UNIT = "rules"
UNITS: dict[str, tuple[str, ...]] = {
    suites.STRUCTURE: (suites.STRUCTURE,),
    suites.VALUES: (suites.VALUES,),
    RULES_UNIT: (rules.RULES_CHECK, rules.TRIANGULATION_CHECK),
    outliers.OUTLIER_CHECK: (outliers.OUTLIER_CHECK,),
}


def unit_of(check_name: str) -> str:
    return next(unit for unit, names in UNITS.items() if check_name in names)


def units_for(checks: tuple[str, ...]) -> tuple[str, ...]:
    """The units the checks need, in evaluation order."""
    return tuple(unit for unit, names in UNITS.items() if set(names) & set(checks))


@dataclass
class UnitResult:
    """What one unit of work gives: the reports of its checks and its rows for the quality schema."""

    reports: dict[str, CheckReport]
    violations: list[dict] = field(default_factory=list)  # every rule's violations (rules unit)
    rule_checks: dict[str, str] = field(default_factory=dict)  # rule id -> its check (rules unit)
    outlier_rows: list[dict] = field(default_factory=list)  # (outliers unit)


# The rules file as loaded and checked, per process (issue 18: the rules and outliers units each
# loaded it, ~0.08 s a time): reused while the file has the same bytes and the catalog and profiles
# are the same objects (their loaders return new objects when their files change).
_RULESETS: dict[str, tuple[bytes, Catalog, tuple, rules.RuleSet]] = {}


def ruleset_for(path: Path, catalog: Catalog, profiles: list[CountyProfile]) -> rules.RuleSet:
    """`rules.load_rules(path, catalog, profiles)`, remembered per file content and objects."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        return rules.load_rules(path, catalog, profiles)  # raises its own bilingual error
    key, profs = str(path.absolute()), tuple(profiles or ())
    hit = _RULESETS.get(key)
    if (
        hit is not None
        and hit[0] == data
        and hit[1] is catalog
        and len(hit[2]) == len(profs)
        and all(a is b for a, b in zip(hit[2], profs, strict=True))
    ):
        return hit[3]
    ruleset = rules.load_rules(path, catalog, profiles)
    with contextlib.suppress(OSError):
        if path.read_bytes() == data:  # not changed while it was loaded
            _RULESETS.clear()
            _RULESETS[key] = (data, catalog, profs, ruleset)
    return ruleset


def evaluate_unit(
    unit: str,
    frame: pd.DataFrame,
    catalog: Catalog,
    profiles: list[CountyProfile],
    expectations_dir: Path,
    gx_dir: Path,
) -> UnitResult:
    """Evaluate one unit of work on an enriched observation frame."""
    if unit in suites.SUITE_NAMES:
        results = gx_runner.run_suites(frame, expectations_dir, gx_dir, (unit,))[unit]
        return UnitResult({unit: report(unit, results)})
    ruleset = ruleset_for(rules_path(expectations_dir), catalog, profiles)
    if unit == RULES_UNIT:
        results, violations = rules.evaluate_rules(frame, ruleset, catalog, profiles)
        return UnitResult(
            {name: report(name, [r for r in results if r.check_name == name]) for name in UNITS[unit]},
            violations=violations,
            rule_checks={r.id: r.check_name for r in ruleset.rules},
        )
    if unit == outliers.OUTLIER_CHECK:
        results, rows = outliers.find_outliers(frame, ruleset.bounds)
        return UnitResult({unit: report(unit, results)}, outlier_rows=rows)
    raise ValueError(f"unknown unit {unit}")


def assemble(checks: tuple[str, ...], units: dict[str, UnitResult]) -> QualityRun:
    """The run of the selected checks from their units' results (reports in the order of CHECKS)."""
    run = QualityRun({name: units[unit_of(name)].reports[name] for name in CHECKS if name in checks})
    rules_unit = units.get(RULES_UNIT)
    if rules_unit is not None and (rules.RULES_CHECK in checks or rules.TRIANGULATION_CHECK in checks):
        run.violations = [
            v for v in rules_unit.violations if rules_unit.rule_checks.get(v["rule_id"]) in checks
        ]
    if outliers.OUTLIER_CHECK in checks:
        run.outlier_rows = units[outliers.OUTLIER_CHECK].outlier_rows
    return run


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
    units = {
        unit: evaluate_unit(unit, frame, catalog, profiles, expectations_dir, gx_dir)
        for unit in units_for(checks)
    }
    if build_docs:
        gx_runner.build_data_docs(expectations_dir, gx_dir)
    return assemble(checks, units)


def write(conn: duckdb.DuckDBPyConnection, run: QualityRun) -> dict[str, int]:
    """Replace the quality tables with this run's rows, in one transaction.

    Only the rows that differ are written (`store.sync_rows`, issue 18: after one new file most
    rows are the same as the last run's); every check result gets this run's `evaluated_at`, as a
    full rewrite gives."""
    data = {
        qt.CHECK_RESULT: run.check_result_frame(),
        qt.FLAG: run.flag_rows(),
        qt.RULE_VIOLATION: run.violations,
        qt.OUTLIER: run.outlier_rows,
    }
    counts = {}
    with transaction(conn):
        for t, rows in data.items():
            refresh = {"evaluated_at": run.evaluated_at} if t is qt.CHECK_RESULT else None
            counts[t.qualified] = sync_rows(conn, t, rows, refresh=refresh)
    return counts


# ---------------------------------------------------------------------------------------------
# Quarantine of the few values a structural check rejects (issue 13, item 6)

STRUCTURAL = (suites.STRUCTURE, suites.VALUES)
SYSTEMIC_SHARE_ENV = "WUCHUANG_SYSTEMIC_SHARE"
DEFAULT_SYSTEMIC_SHARE = 0.05


def systemic_share() -> float:
    """Largest share of checked values a structural check may reject before the run stops."""
    raw = os.environ.get(SYSTEMIC_SHARE_ENV)
    try:
        value = float(raw) if raw not in (None, "") else DEFAULT_SYSTEMIC_SHARE
    except ValueError:
        value = DEFAULT_SYSTEMIC_SHARE
    return min(max(value, 0.0), 1.0)


@dataclass
class QuarantinePlan:
    """What a failing structural check does: quarantine `rows` (one per value), or stop the run."""

    check_name: str
    n_values: int  # values (rows of the observation frame) the check looked at
    n_failed: int  # distinct values that failed
    allowed_share: float
    systemic: bool
    reason_zh: str
    reason_en: str
    rows: list[dict] = field(default_factory=list)  # core.quarantine rows

    @property
    def share(self) -> float:
        return self.n_failed / self.n_values if self.n_values else 0.0

    @property
    def observation_ids(self) -> list[str]:
        return [r["_observation_id"] for r in self.rows]

    @property
    def file_ids(self) -> list[str]:
        return sorted({r["file_id"] for r in self.rows})


def _fmt_value(it) -> str:
    raw = _s(it.get("raw_text"))
    if raw:
        return raw
    v = it.get("value")
    return f"{v:g}" if isinstance(v, (int, float)) and not pd.isna(v) else "（空）"


def _cell_message(it, results: list, catalog: Catalog) -> tuple[str, str]:
    """One value's message: where (file, sheet, cell), what (indicator, period, value), why, what now."""
    file_name = _s(it.get("file_name")) or _s(it.get("file_id")) or "?"
    sheet, cell = _s(it.get("sheet")) or "?", _s(it.get("cell")) or "?"
    ind_code = _s(it.get("indicator_code")) or "?"
    ind = catalog.indicators.get(ind_code)
    ind_zh = ind.name_zh if ind else ind_code
    period = _s(it.get("period_code")) or "?"
    value = _fmt_value(it)
    why_zh, why_en = [], []
    for r in results:
        zh, en = f"{r.description_zh}（{r.bound}）", f"{r.description_en} ({r.bound})"
        if r.key.startswith("days_within_period"):
            try:
                per = rc.parse_period(period)
                days = (per.end - per.start).days + 1
                zh = f"天数不能超过报告期的天数：{period} 共 {days} 天，填报 {value} 天"
                en = f"days cannot exceed the days in the period: {period} has {days} days, {value} reported"
            except (rc.CalendarError, ValueError):
                pass
        why_zh.append(zh)
        why_en.append(en)
    unit = ind.unit if ind else ""
    msg_zh = (
        f"文件“{file_name}”工作表“{sheet}”单元格 {cell}：{ind_zh}（{period}）填报“{value}”{unit}，"
        f"未通过结构校验——{'；'.join(why_zh)}。该值已隔离、未发布，其余数据照常发布；请核对该单元格后重新报送。"
    )
    msg_en = (
        f"file '{file_name}', sheet '{sheet}', cell {cell}: {ind_code} ({period}) reported '{value}' {unit}, "
        f"failed the structural check - {'; '.join(why_en)}. The value is quarantined and not published; "
        "the rest of the data is published. Please check the cell and send the return again."
    )
    return msg_zh, msg_en


def plan_quarantine(
    rep: CheckReport,
    frame: pd.DataFrame | None,
    catalog: Catalog,
    share: float | None = None,
    detected_at: dt.datetime | None = None,
    n_values: int | None = None,
) -> QuarantinePlan:
    """Decide, for a failed structural check, between quarantining its failing values and stopping.

    `n_values` (the rows of the frame the report was evaluated on) may stand in for the frame."""
    allowed = systemic_share() if share is None else share
    detected_at = detected_at or dt.datetime.now().replace(microsecond=0)
    n_values = len(frame) if n_values is None else n_values
    by_obs: dict[str, tuple[pd.Series, list]] = {}
    untraceable = 0
    for r in rep.results:
        for _, it in r.failed.iterrows():
            oid = it.get("observation_id")
            if not isinstance(oid, str) or not oid:
                untraceable += 1
                continue
            if oid not in by_obs:
                by_obs[oid] = (it, [])
            if r not in by_obs[oid][1]:
                by_obs[oid][1].append(r)
    n_failed = len(by_obs) + untraceable
    reasons_zh, reasons_en = [], []
    if rep.errors:
        reasons_zh.append("校验无法执行：" + "；".join(rep.errors))
        reasons_en.append("the check could not be evaluated: " + "; ".join(rep.errors))
    if untraceable:
        reasons_zh.append(f"{untraceable} 行无法追溯到观测编号")
        reasons_en.append(f"{untraceable} failing row(s) cannot be traced to an observation id")
    if n_values and n_failed / n_values > allowed + 1e-12:
        reasons_zh.append(
            f"{n_failed}/{n_values} 个数值未通过（{n_failed / n_values:.1%}），超过系统性阈值 {allowed:.1%}"
        )
        reasons_en.append(
            f"{n_failed}/{n_values} values failed ({n_failed / n_values:.1%}), above the systemic share {allowed:.1%}"
        )
    systemic = bool(reasons_zh)
    rows = []
    for oid, (it, results) in sorted(by_obs.items()):
        zh, en = _cell_message(it, results, catalog)
        rows.append(
            {
                "quarantine_id": f"check:{rep.check_name}:{oid}",
                "file_id": _s(it.get("file_id")),
                "file_name": _s(it.get("file_name")),
                "sheet": _s(it.get("sheet")),
                "cell": _s(it.get("cell")),
                "org_code": _s(it.get("org_code")),
                "period_code": _s(it.get("period_code")),
                "indicator_code": _s(it.get("indicator_code")),
                "raw_text": _s(it.get("raw_text")),
                "scope": "value",
                "reason_code": results[0].reason_code or "structural_check",
                "message_zh": zh,
                "message_en": en,
                "detected_at": detected_at,
                "_observation_id": oid,
            }
        )
    if systemic:
        zh = "系统性数据问题，本次运行停止发布（读者继续使用上次发布的数据）：" + "；".join(reasons_zh)
        en = (
            "systemic data problem, this run does not publish (readers keep the last snapshot): "
            + "; ".join(reasons_en)
        )
    else:
        zh = (
            f"{len(rows)} 个数值未通过结构校验，已隔离并反馈给填报单位（占 {n_failed / max(n_values, 1):.2%}，"
            f"系统性阈值 {allowed:.0%}），其余数据照常发布"
        )
        en = (
            f"{len(rows)} value(s) failed the structural check and were quarantined with feedback to the unit "
            f"({n_failed / max(n_values, 1):.2%} of values, systemic above {allowed:.0%}); the rest publishes"
        )
    return QuarantinePlan(rep.check_name, n_values, n_failed, allowed, systemic, zh, en, rows)


def apply_quarantine(conn: duckdb.DuckDBPyConnection, plan: QuarantinePlan) -> int:
    """Move the plan's values from core.observation to core.quarantine, in one transaction.

    Counts of the returns and files follow (values_loaded − n, values_quarantined + n, an accepted
    file becomes `partial`), and each unit × period's revisions are re-chained so a previous
    revision's value of the same indicator is current again. Returns the values moved."""
    from pipelines.returns.load import _rechain  # the loader's own revision renumbering
    from pipelines.warehouse.tables import core

    if plan.systemic or not plan.rows:
        return 0
    ids = plan.observation_ids
    with transaction(conn):
        found = conn.execute(
            "SELECT observation_id, submission_id, file_id, org_code, period_code "
            "FROM core.observation WHERE observation_id IN (SELECT unnest(?))",
            [ids],
        ).fetchall()
        present = {r[0] for r in found}
        rows = [r for r in plan.rows if r["_observation_id"] in present]
        if not rows:
            return 0
        names = core.QUARANTINE.column_names
        conn.execute(
            "DELETE FROM core.quarantine WHERE quarantine_id IN (SELECT unnest(?))",
            [[r["quarantine_id"] for r in rows]],
        )
        conn.executemany(
            f"INSERT INTO core.quarantine ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [[r.get(n) for n in names] for r in rows],
        )
        conn.execute(
            "DELETE FROM core.observation WHERE observation_id IN (SELECT unnest(?))", [list(present)]
        )
        per_sub: dict[str, int] = {}
        per_file: dict[str, int] = {}
        pairs: set[tuple[str, str]] = set()
        for _, sub, fid, org, period in found:
            per_sub[sub] = per_sub.get(sub, 0) + 1
            per_file[fid] = per_file.get(fid, 0) + 1
            pairs.add((org, period))
        for sub, n in per_sub.items():
            conn.execute(
                "UPDATE core.submission SET values_loaded = greatest(coalesce(values_loaded, 0) - ?, 0), "
                "values_quarantined = coalesce(values_quarantined, 0) + ? WHERE submission_id = ?",
                [n, n, sub],
            )
        for fid, n in per_file.items():
            conn.execute(
                "UPDATE core.source_file SET values_loaded = greatest(coalesce(values_loaded, 0) - ?, 0), "
                "values_quarantined = coalesce(values_quarantined, 0) + ?, "
                "status = CASE WHEN status = 'accepted' THEN 'partial' ELSE status END, "
                "message_zh = concat_ws('；', nullif(rtrim(message_zh, '。；'), ''), ?), "
                "message_en = concat_ws('; ', nullif(rtrim(message_en, '.; '), ''), ?) WHERE file_id = ?",
                [
                    n,
                    n,
                    f"另有 {n} 个数值未通过结构校验，已隔离未发布（见下表）",
                    f"{n} more value(s) failed the structural check and were quarantined (see below)",
                    fid,
                ],
            )
        for org, period in sorted(pairs):
            _rechain(conn, org, period)
    return len(rows)
