"""Cross-indicator validation rules as data (`expectations/rules/validation_rules.yaml`).

In the manner of DHIS2 validation rules: left side, operator, right side, importance, messages in
Chinese and English, optional tolerance. Kinds: `compare` (expressions over indicator codes on the
county figures), `town_vs_county` (county figure within the towns' range), `each_town` (every
town meets a bound) and `triangulation` (two units reporting the same quantity agree).

`load_rules` refuses a malformed file with every problem named by file, rule and field (zh + en);
`evaluate_rules` returns one `ExpectationResult` per rule (one item per unit × period evaluated)
and the violations as rows of `quality.rule_violation`.
"""

from __future__ import annotations

import ast
import math
import operator as op
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from pipelines.catalog.compare import meets
from pipelines.catalog.loader import CatalogError, CatalogProblem
from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile
from pipelines.validation.results import WARN, ExpectationResult, empty_items

KINDS = ("compare", "town_vs_county", "each_town", "triangulation")
OPERATORS = ("<=", "<", ">=", ">", "==", "!=")
IMPORTANCE = ("high", "medium", "low")
BUILTINS = ("period_days",)
RULES_CHECK = "cross_indicator_rules"
TRIANGULATION_CHECK = "triangulation"


class RulesError(CatalogError):
    """The rules file is malformed; `problems` names file, rule and field of each problem."""

    def __init__(self, problems: list[CatalogProblem]):
        super().__init__(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        self.args = (
            f"校验规则文件有 {len(problems)} 处错误 / validation rules file has {len(problems)} problem(s):\n{lines}",
        )

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    importance: str
    message_zh: str
    message_en: str
    left: str | None = None
    operator: str | None = None
    right: str | None = None
    indicator: str | None = None
    orgs: tuple[str, ...] = ()
    tolerance: float = 0.0
    tolerance_pct: float = 0.0

    @property
    def check_name(self) -> str:
        return TRIANGULATION_CHECK if self.kind == "triangulation" else RULES_CHECK


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    bounds: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


_BINOPS = {ast.Add: op.add, ast.Sub: op.sub, ast.Mult: op.mul, ast.Div: op.truediv}


def expression_names(expr: str) -> list[str]:
    """Names used by an arithmetic expression; raises ValueError on anything but + - * / ( ) numbers names."""
    tree = ast.parse(str(expr), mode="eval")
    names: list[str] = []
    allowed = (ast.Expression, ast.Load, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, *_BINOPS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif not (
            isinstance(node, allowed)
            or (isinstance(node, ast.Constant) and isinstance(node.value, (int, float)))
        ):
            raise ValueError(type(node).__name__)
    return names


def evaluate_expression(expr: str, values: dict[str, float]) -> float:
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(values[node.id])
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(type(node).__name__)

    return ev(ast.parse(str(expr), mode="eval"))


def _num(v) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def load_rules(path: Path, catalog: Catalog, profiles: list[CountyProfile] | None = None) -> RuleSet:
    """Load and validate the rules file; raise RulesError listing every problem."""
    path = Path(path)
    file = path.name
    problems: list[CatalogProblem] = []

    def bad(entry: str, fld: str, zh: str, en: str) -> None:
        problems.append(CatalogProblem(file, entry, fld, zh, en))

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError([CatalogProblem(file, "-", "-", f"无法读取：{exc}", f"cannot read: {exc}")]) from exc
    if not isinstance(data, dict):
        raise RulesError([CatalogProblem(file, "-", "-", "顶层须为映射", "top level must be a mapping")])

    shorts = {u.short_code for p in profiles or [] for u in p.org_units if u.level in ("department", "town")}
    indicators = catalog.indicators

    def check_expr(entry: str, fld: str, expr) -> None:
        if expr is None or str(expr).strip() == "":
            bad(entry, fld, "缺少表达式", "expression is missing")
            return
        if _num(expr) is not None:
            return
        try:
            names = expression_names(str(expr))
        except (SyntaxError, ValueError) as exc:
            bad(entry, fld, f"表达式无效：{expr}", f"invalid expression '{expr}' ({exc})")
            return
        for n in names:
            if n not in indicators and n not in BUILTINS:
                bad(entry, fld, f"未知指标代码“{n}”", f"unknown indicator code '{n}'")

    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("rules") or []):
        if not isinstance(raw, dict):
            bad(f"rules[{i}]", "-", "规则须为映射", "a rule must be a mapping")
            continue
        rid = str(raw.get("id") or f"rules[{i}]")
        entry = f"rules/{rid}"
        if not raw.get("id"):
            bad(entry, "id", "缺少规则编号", "rule id is missing")
        elif rid in seen:
            bad(entry, "id", "规则编号重复", "duplicate rule id")
        seen.add(rid)
        kind = raw.get("kind", "compare")
        if kind not in KINDS:
            bad(
                entry,
                "kind",
                f"未知规则类型“{kind}”",
                f"unknown rule kind '{kind}' (expected one of {', '.join(KINDS)})",
            )
        importance = raw.get("importance", "medium")
        if importance not in IMPORTANCE:
            bad(
                entry,
                "importance",
                f"未知重要性“{importance}”",
                f"unknown importance '{importance}' (high | medium | low)",
            )
        for fld in ("message_zh", "message_en"):
            if not str(raw.get(fld) or "").strip():
                bad(entry, fld, "缺少提示信息", "message is missing")
        tol = _num(raw.get("tolerance", 0))
        tol_pct = _num(raw.get("tolerance_pct", 0))
        if tol is None or tol < 0:
            bad(entry, "tolerance", "容差须为非负数", "tolerance must be a non-negative number")
        if tol_pct is None or tol_pct < 0:
            bad(entry, "tolerance_pct", "容差百分比须为非负数", "tolerance_pct must be a non-negative number")
        operator = raw.get("operator")
        if kind in ("compare", "each_town"):
            if operator not in OPERATORS:
                bad(
                    entry,
                    "operator",
                    f"未知运算符“{operator}”",
                    f"unknown operator '{operator}' (expected one of {' '.join(OPERATORS)})",
                )
            check_expr(entry, "left", raw.get("left"))
            right = raw.get("right")
            if kind == "each_town" and isinstance(right, str) and right.startswith("requirement:"):
                req = right.split(":", 1)[1]
                if req not in catalog.requirements:
                    bad(entry, "right", f"未知标准要求“{req}”", f"unknown requirement '{req}'")
                elif catalog.requirements[req].threshold.kind != "absolute":
                    bad(
                        entry,
                        "right",
                        "引用的标准要求不是绝对阈值",
                        "the requirement referred to has no absolute threshold",
                    )
            else:
                check_expr(entry, "right", right)
            if kind == "each_town" and str(raw.get("left")) not in indicators:
                bad(
                    entry,
                    "left",
                    "each_town 的左侧须为单个指标代码",
                    "each_town needs a single indicator code on the left",
                )
        else:
            ind = raw.get("indicator")
            if ind not in indicators:
                bad(entry, "indicator", f"未知指标代码“{ind}”", f"unknown indicator code '{ind}'")
        orgs = tuple(str(o) for o in raw.get("orgs") or ())
        if kind == "triangulation":
            if orgs and len(orgs) != 2:
                bad(entry, "orgs", "三角互证须列出两个单位", "triangulation needs exactly two units")
            for o in orgs:
                if shorts and o not in shorts:
                    bad(entry, "orgs", f"未知单位“{o}”", f"unknown unit '{o}'")
        if problems and problems[-1].entry == entry:
            continue
        rules.append(
            Rule(
                id=rid,
                kind=kind,
                importance=importance,
                message_zh=str(raw["message_zh"]),
                message_en=str(raw["message_en"]),
                left=None if raw.get("left") is None else str(raw.get("left")),
                operator=operator,
                right=None if raw.get("right") is None else str(raw.get("right")),
                indicator=raw.get("indicator"),
                orgs=orgs,
                tolerance=tol or 0.0,
                tolerance_pct=tol_pct or 0.0,
            )
        )
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for ind, b in (data.get("bounds") or {}).items():
        entry = f"bounds/{ind}"
        if ind not in indicators:
            bad(entry, "indicator", f"未知指标代码“{ind}”", f"unknown indicator code '{ind}'")
            continue
        lo, hi = _num((b or {}).get("min")), _num((b or {}).get("max"))
        if lo is None and hi is None:
            bad(entry, "min/max", "须给出 min 或 max", "min or max is required")
        elif lo is not None and hi is not None and lo > hi:
            bad(entry, "min/max", "min 大于 max", "min is greater than max")
        bounds[ind] = (lo, hi)
    if problems:
        raise RulesError(problems)
    return RuleSet(tuple(rules), bounds)


def holds(left: float, operator: str, right: float, tolerance: float) -> bool:
    """`left operator right`, with `tolerance` of slack in the direction that lets the rule pass."""
    if operator == "==":
        return abs(left - right) <= tolerance + 1e-9
    if operator == "!=":
        return abs(left - right) > tolerance + 1e-9
    if operator in ("<=", "<"):
        return meets(left, operator, right + tolerance)
    return meets(left, operator, right - tolerance)


_LINEAGE = ("observation_id", "file_id", "file_name", "sheet", "cell", "raw_text", "period_days")


class _Rows:
    """A frame's lineage columns by row label, as `frame.loc[label, column]` gives them, without a
    row Series per lookup (issue 18: the rules build an item per evaluation)."""

    def __init__(self, frame: pd.DataFrame):
        self._pos = {label: k for k, label in enumerate(frame.index)}
        self._cols = {c: frame[c].tolist() for c in _LINEAGE if c in frame.columns}

    def get(self, label, column: str):
        col = self._cols.get(column)
        return None if col is None else col[self._pos[label]]


@dataclass
class _Index:
    """Current values by (org, indicator, period) with their observation rows."""

    frame: pd.DataFrame
    by_key: dict = field(default_factory=dict)
    periods: dict = field(default_factory=lambda: defaultdict(set))
    rows: _Rows | None = None

    @classmethod
    def build(cls, frame: pd.DataFrame) -> _Index:
        idx = cls(frame, rows=_Rows(frame))
        cur = frame[frame["is_current"].astype(bool) & frame["value"].notna()]
        for i, row in zip(cur.index, cur.itertuples(index=False), strict=True):
            idx.by_key[(row.org_code, row.indicator_code, row.period_code)] = (float(row.value), i)
            idx.periods[(row.org_code, row.indicator_code)].add(row.period_code)
        return idx

    def get(self, org: str, indicator: str, period: str):
        return self.by_key.get((org, indicator, period))


def _tol(rule: Rule, right: float) -> float:
    return max(rule.tolerance, abs(right) * rule.tolerance_pct / 100.0)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def evaluate_rules(
    frame: pd.DataFrame, ruleset: RuleSet, catalog: Catalog, profiles: list[CountyProfile]
) -> tuple[list[ExpectationResult], list[dict]]:
    """Evaluate every rule on the current values of the (enriched) observation frame."""
    idx = _Index.build(frame)
    results: list[ExpectationResult] = []
    violations: list[dict] = []
    for rule in ruleset.rules:
        items: list[dict] = []
        for profile in profiles:
            for ev in _evaluations(rule, idx, catalog, profile):
                items.append(ev)
        res = ExpectationResult(
            check_name=rule.check_name,
            key=rule.id,
            severity=WARN,
            dimension="consistency",
            bound=_bound_text(rule, catalog),
            reason_code="rule_violation",
            description_zh=rule.message_zh,
            description_en=rule.message_en,
        )
        res.items = (
            pd.DataFrame([{k: v for k, v in it.items() if not k.startswith("_")} for it in items]).reindex(
                columns=empty_items().columns
            )
            if items
            else empty_items()
        )
        results.append(res)
        for it in items:
            if it["failed"]:
                violations.append(
                    {
                        "violation_id": f"{rule.id}:{it['org_code']}:{it['period_code']}",
                        "rule_id": rule.id,
                        "rule_kind": rule.kind,
                        "importance": rule.importance,
                        "county_code": it["_county"],
                        "org_code": it["org_code"],
                        "period_code": it["period_code"],
                        "left_value": it["_left"],
                        "operator": it["_operator"],
                        "right_value": it["_right"],
                        "tolerance": it["_tolerance"],
                        "difference": None if it["_right"] is None else it["_left"] - it["_right"],
                        "observation_ids": it["_obs"],
                        "message_zh": f"{rule.message_zh}：{it['detail_zh']}",
                        "message_en": f"{rule.message_en}: {it['detail_en']}",
                    }
                )
    return results, violations


def _bound_text(rule: Rule, catalog: Catalog) -> str:
    tol = f" (±{rule.tolerance:g}" + (f", ±{rule.tolerance_pct:g}%" if rule.tolerance_pct else "") + ")"
    if rule.kind in ("compare", "each_town"):
        return f"{rule.left} {rule.operator} {rule.right}{tol}"
    if rule.kind == "town_vs_county":
        return f"min(towns) ≤ county {rule.indicator} ≤ max(towns){tol}"
    return f"|{rule.indicator}@{rule.orgs[0] if rule.orgs else 'primary'} − @{rule.orgs[1] if rule.orgs else 'secondary'}| ≤ tolerance{tol}"


def _item(
    frame, row_i, org, period, indicator, failed, left, operator, right, tol, obs_rows, county, zh, en
) -> dict:
    rows = frame if isinstance(frame, _Rows) else _Rows(frame)

    def get(column: str):
        return None if row_i is None else rows.get(row_i, column)

    return {
        "org_code": org,
        "period_code": period,
        "indicator_code": indicator,
        "failed": bool(failed),
        "observation_id": get("observation_id"),
        "file_id": get("file_id"),
        "file_name": get("file_name"),
        "sheet": get("sheet"),
        "cell": get("cell"),
        "value": left,
        "raw_text": get("raw_text"),
        "detail_zh": zh,
        "detail_en": en,
        "_left": left,
        "_right": right,
        "_operator": operator,
        "_tolerance": tol,
        "_obs": [str(rows.get(i, "observation_id")) for i in obs_rows],
        "_county": county,
    }


def _evaluations(rule: Rule, idx: _Index, catalog: Catalog, profile: CountyProfile):
    assignments = profile.assignments(catalog)
    primary = {a.indicator: a.org_code for a in assignments if a.role == "primary"}
    secondary = {a.indicator: a.org_code for a in assignments if a.role == "secondary"}
    towns = [t.code for t in profile.towns]
    frame = idx.rows
    county = profile.code

    if rule.kind == "compare":
        names = [
            n
            for n in dict.fromkeys(expression_names(rule.left) + expression_names(rule.right))
            if n not in BUILTINS
        ]
        orgs = {n: primary.get(n) for n in names}
        if not names or any(o is None for o in orgs.values()):
            return
        periods = set.intersection(*(idx.periods.get((orgs[n], n), set()) for n in names))
        for period in sorted(periods):
            vals, rows = {}, []
            for n in names:
                v, i = idx.get(orgs[n], n, period)
                vals[n] = v
                rows.append(i)
            vals["period_days"] = float(idx.rows.get(rows[0], "period_days")) if rows else math.nan
            try:
                left = evaluate_expression(rule.left, vals)
                right = evaluate_expression(rule.right, vals)
            except (ZeroDivisionError, KeyError, ValueError):
                continue
            if math.isnan(left) or math.isnan(right):
                continue
            tol = _tol(rule, right)
            ok = holds(left, rule.operator, right, tol)
            left_rows = [idx.get(orgs[n], n, period)[1] for n in expression_names(rule.left) if n in orgs]
            first = left_rows[0] if left_rows else rows[0]
            zh = f"{period}：{rule.left} = {_fmt(left)}，{rule.right} = {_fmt(right)}，要求 {rule.operator}（容差 {tol:g}）"
            en = f"{period}: {rule.left} = {_fmt(left)}, {rule.right} = {_fmt(right)}, expected {rule.operator} (tolerance {tol:g})"
            yield _item(
                frame,
                first,
                county,
                period,
                names[0],
                not ok,
                left,
                rule.operator,
                right,
                tol,
                rows,
                county,
                zh,
                en,
            )

    elif rule.kind == "town_vs_county":
        ind = rule.indicator
        org = primary.get(ind)
        if org is None:
            return
        for period in sorted(idx.periods.get((org, ind), set())):
            cv, ci = idx.get(org, ind, period)
            town_vals = [(t, *idx.get(t, ind, period)) for t in towns if idx.get(t, ind, period)]
            if len(town_vals) < 2:
                continue
            lo = min(v for _, v, _ in town_vals)
            hi = max(v for _, v, _ in town_vals)
            tol = max(rule.tolerance, max(abs(lo), abs(hi)) * rule.tolerance_pct / 100.0)
            ok = lo - tol - 1e-9 <= cv <= hi + tol + 1e-9
            right = lo if cv < lo else hi
            zh = f"{period}：县数值 {_fmt(cv)}，乡镇范围 {_fmt(lo)}–{_fmt(hi)}（容差 {tol:g}）"
            en = f"{period}: county {_fmt(cv)}, towns range {_fmt(lo)}–{_fmt(hi)} (tolerance {tol:g})"
            rows = [ci, *(i for _, _, i in town_vals)]
            yield _item(
                frame, ci, county, period, ind, not ok, cv, "between", right, tol, rows, county, zh, en
            )

    elif rule.kind == "each_town":
        ind = rule.left
        if rule.right.startswith("requirement:"):
            req = catalog.requirements[rule.right.split(":", 1)[1]]
            right = req.threshold.resolve(profile.variants)
        else:
            right = evaluate_expression(rule.right, {})
        if right is None:
            return
        tol = _tol(rule, right)
        for t in towns:
            for period in sorted(idx.periods.get((t, ind), set())):
                v, i = idx.get(t, ind, period)
                ok = holds(v, rule.operator, right, tol)
                zh = f"{period}：{t} 数值 {_fmt(v)}，要求 {rule.operator} {_fmt(right)}"
                en = f"{period}: {t} value {_fmt(v)}, expected {rule.operator} {_fmt(right)}"
                yield _item(
                    frame, i, t, period, ind, not ok, v, rule.operator, right, tol, [i], county, zh, en
                )

    elif rule.kind == "triangulation":
        ind = rule.indicator
        if rule.orgs:
            a, b = (profile.unit_code(o) for o in rule.orgs)
        else:
            a, b = primary.get(ind), secondary.get(ind)
        if a is None or b is None:
            return
        for period in sorted(idx.periods.get((a, ind), set()) & idx.periods.get((b, ind), set())):
            va, ia = idx.get(a, ind, period)
            vb, ib = idx.get(b, ind, period)
            tol = _tol(rule, vb)
            ok = holds(va, "==", vb, tol)
            zh = f"{period}：{a} 报 {_fmt(va)}，{b} 报 {_fmt(vb)}，相差 {_fmt(va - vb)}（容差 {tol:g}）"
            en = f"{period}: {a} reports {_fmt(va)}, {b} reports {_fmt(vb)}, difference {_fmt(va - vb)} (tolerance {tol:g})"
            yield _item(frame, ia, a, period, ind, not ok, va, "==", vb, tol, [ia, ib], county, zh, en)
