"""Load and validate the standards catalog from `expectations/standards/`.

Layout of the folder:
  units.yaml                  units of measure and their possible ranges
  campaigns.yaml              campaigns and the editions of their standards
  indicators.yaml             measured quantities (one entry per quantity)
  requirements/<campaign>.yaml each campaign's requirements, one per indicator and edition
  reference_series.yaml       national/provincial/plan figures for relative thresholds

Every problem found is reported with the file, the entry and the field, in Chinese and English;
all problems are collected before raising, so a reviewer sees the whole list at once.

`load_catalog` parses with libyaml (`yaml.CSafeLoader`, ≈ 7× faster than the pure-Python loader) and
keeps the loaded catalog per folder for the life of the process; the cache key holds every YAML
file's path and a digest of its bytes (`files_stamp`), so a changed, added or removed file is read
again. The catalog is immutable (frozen dataclasses), so callers share one object.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.catalog.model import (
    COMPARISONS,
    CONDITIONS,
    FREQUENCIES,
    REFERENCES,
    ROLLUPS,
    SERIES_REFERENCES,
    SOURCES,
    TRENDS,
    VARIANT_DIMENSIONS,
    Campaign,
    Catalog,
    Edition,
    Indicator,
    ReferenceSeries,
    Requirement,
    Threshold,
    UnitOfMeasure,
    plain_name_key,
    stripped_name_key,
)

# libyaml when the wheel has it (the same documents as SafeLoader, tested in tests/test_catalog.py)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CatalogProblem:
    file: str
    entry: str
    field: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.file} › {self.entry} › {self.field}: {self.message_zh} / {self.message_en}"


class CatalogError(ValueError):
    """The catalog is malformed. `problems` lists every problem found."""

    def __init__(self, problems: list[CatalogProblem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"标准目录有 {len(problems)} 处错误 / standards catalog has {len(problems)} problem(s):\n{lines}"
        )


class _Collector:
    def __init__(self) -> None:
        self.problems: list[CatalogProblem] = []

    def add(self, file: str, entry: str, field: str, zh: str, en: str) -> None:
        self.problems.append(CatalogProblem(file, entry, field, zh, en))


def _read_yaml(path: Path, root: Path, out: _Collector) -> Any:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        out.add(rel, "-", "-", "文件不存在", "file is missing")
    except yaml.YAMLError as exc:
        out.add(rel, "-", "-", f"YAML 语法错误：{exc}", f"YAML syntax error: {exc}")
    return None


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def files_stamp(directory: Path, pattern: str = "*.yaml") -> tuple:
    """What identifies the content of a folder's YAML files: (relative path, BLAKE2 digest of the
    bytes) of each, sorted. Reading and hashing the catalog's ≈ 0.3 MB takes about a millisecond,
    and unlike modification times it cannot miss an edit made within the file system's clock tick."""
    out = []
    for p in sorted(Path(directory).rglob(pattern)):
        try:
            digest = hashlib.blake2b(p.read_bytes(), digest_size=16).digest()
        except OSError:
            continue
        out.append((p.relative_to(directory).as_posix(), digest))
    return tuple(out)


_CATALOGS: dict[str, tuple[tuple, Catalog]] = {}


def clear_cache() -> None:
    """Forget every loaded catalog (the next `load_catalog` reads the files again)."""
    _CATALOGS.clear()


def load_catalog(directory: Path) -> Catalog:
    """Read and validate the catalog; raise `CatalogError` listing every problem.

    Loaded once per process and folder; read again when any YAML file in the folder changes."""
    directory = Path(directory).absolute()
    key = str(directory)
    stamp = files_stamp(directory)
    hit = _CATALOGS.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    catalog = _load_catalog(directory)
    _CATALOGS[key] = (stamp, catalog)
    return catalog


def _load_catalog(directory: Path) -> Catalog:
    out = _Collector()
    units = _load_units(directory, out)
    campaigns = _load_campaigns(directory, out)
    indicators = _load_indicators(directory, units, out)
    requirements = _load_requirements(directory, campaigns, indicators, units, out)
    series = _load_series(directory, indicators, out)
    _check_relative_references(requirements, series, out)
    _check_lookalikes(indicators, requirements, out)
    if out.problems:
        raise CatalogError(out.problems)
    return Catalog(units, campaigns, indicators, requirements, tuple(series))


def _load_units(directory: Path, out: _Collector) -> dict[str, UnitOfMeasure]:
    data = _read_yaml(directory / "units.yaml", directory, out) or {}
    units: dict[str, UnitOfMeasure] = {}
    for unit, spec in (data.get("units") or {}).items():
        spec = spec or {}
        lo, hi = spec.get("min"), spec.get("max")
        if lo is not None and hi is not None and lo > hi:
            out.add("units.yaml", str(unit), "min", "下限大于上限", "min is greater than max")
        units[str(unit)] = UnitOfMeasure(str(unit), spec.get("kind", ""), spec.get("name_en", ""), lo, hi)
    return units


def _load_campaigns(directory: Path, out: _Collector) -> dict[str, Campaign]:
    file = "campaigns.yaml"
    data = _read_yaml(directory / file, directory, out) or {}
    campaigns: dict[str, Campaign] = {}
    seen_editions: set[str] = set()
    for i, c in enumerate(data.get("campaigns") or []):
        code = c.get("code")
        entry = code or f"#{i + 1}"
        if not code:
            out.add(file, entry, "code", "缺少创建项目代码", "campaign code is missing")
            continue
        if code in campaigns:
            out.add(file, entry, "code", "创建项目代码重复", "duplicate campaign code")
        editions: list[Edition] = []
        for e in c.get("editions") or []:
            ecode = e.get("code") or "?"
            eentry = f"{code}/{ecode}"
            if ecode in seen_editions:
                out.add(file, eentry, "code", "版本代码重复", "duplicate edition code")
            seen_editions.add(ecode)
            try:
                start, end = _date(e.get("effective_from")), _date(e.get("effective_to"))
            except ValueError as exc:
                out.add(file, eentry, "effective_from", f"日期格式错误：{exc}", f"bad date: {exc}")
                continue
            if start is None:
                out.add(file, eentry, "effective_from", "缺少生效日期", "effective_from is missing")
                continue
            if end is not None and end < start:
                out.add(
                    file,
                    eentry,
                    "effective_to",
                    "失效日期早于生效日期",
                    "effective_to is before effective_from",
                )
            editions.append(
                Edition(
                    ecode,
                    code,
                    e.get("name_zh", ""),
                    e.get("name_en", ""),
                    e.get("document", ""),
                    start,
                    end,
                    bool(e.get("approx_dates", False)),
                    proxy=bool(e.get("proxy", False)),
                    proxy_note=e.get("proxy_note", "") or "",
                )
            )
        editions.sort(key=lambda e: e.effective_from)
        for a, b in zip(editions, editions[1:], strict=False):
            if a.effective_to is None or a.effective_to >= b.effective_from:
                out.add(
                    file,
                    f"{code}/{b.code}",
                    "effective_from",
                    f"与版本 {a.code} 的有效期重叠",
                    f"overlaps edition {a.code}",
                )
        campaigns[code] = Campaign(code, c.get("name_zh", ""), c.get("name_en", ""), tuple(editions))
    return campaigns


def _load_indicators(
    directory: Path, units: dict[str, UnitOfMeasure], out: _Collector
) -> dict[str, Indicator]:
    file = "indicators.yaml"
    data = _read_yaml(directory / file, directory, out) or {}
    indicators: dict[str, Indicator] = {}
    for i, d in enumerate(data.get("indicators") or []):
        code = d.get("code")
        entry = code or f"#{i + 1}"
        if not code:
            out.add(file, entry, "code", "缺少指标代码", "indicator code is missing")
            continue
        if code in indicators:
            out.add(file, entry, "code", "指标代码重复", "duplicate indicator code")
        unit = d.get("unit")
        if unit not in units:
            out.add(file, entry, "unit", f"未知计量单位“{unit}”", f"unknown unit '{unit}'")
        if d.get("frequency") not in FREQUENCIES:
            out.add(
                file,
                entry,
                "frequency",
                f"未知报送频率“{d.get('frequency')}”",
                f"unknown frequency '{d.get('frequency')}'",
            )
        if d.get("rollup") not in ROLLUPS:
            out.add(
                file,
                entry,
                "rollup",
                f"未知汇总方式“{d.get('rollup')}”",
                f"unknown rollup '{d.get('rollup')}'",
            )
        if not d.get("name_zh"):
            out.add(file, entry, "name_zh", "缺少中文名称", "Chinese name is missing")
        sources = d.get("sources", "multi")
        if sources not in SOURCES:
            out.add(
                file,
                entry,
                "sources",
                f"未知填报来源策略“{sources}”（应为 multi 或 single）",
                f"unknown sources policy '{sources}' (expected multi or single)",
            )
        indicators[code] = Indicator(
            code,
            d.get("name_zh", ""),
            d.get("name_en", ""),
            str(unit),
            d.get("frequency", ""),
            d.get("rollup", ""),
            d.get("value_type", "number"),
            tuple(d.get("aliases") or ()),
            _names_list(file, entry, "not_confused_with", d.get("not_confused_with"), out),
            str(sources),
        )
    return indicators


def _parse_threshold(file: str, entry: str, comparison: str, t: Any, out: _Collector) -> Threshold | None:
    if not isinstance(t, dict) or "kind" not in t:
        out.add(file, entry, "threshold", "缺少阈值", "threshold is missing")
        return None
    kind = t["kind"]
    if kind == "absolute":
        if comparison == "between":
            rng = t.get("value")
            if not (isinstance(rng, list) and len(rng) == 2 and all(_number(x) is not None for x in rng)):
                out.add(
                    file,
                    entry,
                    "threshold.value",
                    "区间阈值须为 [下限, 上限]",
                    "a range threshold needs [low, high]",
                )
                return None
            return Threshold("absolute", float(rng[0]), float(rng[1]))
        value = _number(t.get("value"))
        if value is None:
            out.add(file, entry, "threshold.value", "缺少数值阈值", "numeric threshold value is missing")
            return None
        dim, variants = None, {}
        if "variants" in t:
            v = t["variants"] or {}
            dim = v.get("dimension")
            if dim not in VARIANT_DIMENSIONS:
                out.add(
                    file,
                    entry,
                    "threshold.variants.dimension",
                    f"未知类型维度“{dim}”",
                    f"unknown variant dimension '{dim}'",
                )
            variants = {
                str(k): float(x) for k, x in (v.get("values") or {}).items() if _number(x) is not None
            }
            if not variants:
                out.add(file, entry, "threshold.variants.values", "类型阈值为空", "variant values are empty")
        trend = t.get("or_trend")
        if trend is not None and trend not in TRENDS:
            out.add(file, entry, "threshold.or_trend", f"未知趋势条件“{trend}”", f"unknown trend '{trend}'")
        return Threshold("absolute", value, None, dim, variants, or_trend=trend)
    if kind == "relative":
        ref = t.get("reference")
        if ref not in REFERENCES:
            out.add(file, entry, "threshold.reference", f"未知参照“{ref}”", f"unknown reference '{ref}'")
            return None
        conds = tuple(t.get("conditions") or ())
        for c in conds:
            if c not in CONDITIONS:
                out.add(file, entry, "threshold.conditions", f"未知附加条件“{c}”", f"unknown condition '{c}'")
        return Threshold("relative", reference=ref, conditions=conds)
    if kind == "qualitative":
        if comparison != "qualitative":
            out.add(
                file,
                entry,
                "comparison",
                "定性阈值须配 qualitative 比较",
                "a qualitative threshold needs comparison 'qualitative'",
            )
        pv = tuple(str(x) for x in t.get("pass_values") or ())
        if not pv:
            out.add(
                file,
                entry,
                "threshold.pass_values",
                "定性指标须列出合格取值",
                "a qualitative item needs pass_values",
            )
        return Threshold("qualitative", text=t.get("text"), pass_values=pv)
    if kind == "unknown":
        return Threshold("unknown")
    out.add(file, entry, "threshold.kind", f"未知阈值类型“{kind}”", f"unknown threshold kind '{kind}'")
    return None


def _load_requirements(
    directory: Path,
    campaigns: dict[str, Campaign],
    indicators: dict[str, Indicator],
    units: dict[str, UnitOfMeasure],
    out: _Collector,
) -> dict[str, Requirement]:
    requirements: dict[str, Requirement] = {}
    editions = {e.code: e for c in campaigns.values() for e in c.editions}
    files = sorted((directory / "requirements").glob("*.yaml"))
    if not files:
        out.add("requirements/", "-", "-", "没有任何要求文件", "no requirement files found")
    loaded: list[tuple[str, str, list]] = []
    raw: dict[str, tuple[str, dict]] = {}  # code → (campaign, entry as written), for proxies
    for path in files:
        file = str(path.relative_to(directory))
        data = _read_yaml(path, directory, out) or {}
        campaign = data.get("campaign")
        if campaign not in campaigns:
            out.add(file, "-", "campaign", f"未知创建项目“{campaign}”", f"unknown campaign '{campaign}'")
            continue
        entries = [r for r in data.get("requirements") or [] if isinstance(r, dict)]
        loaded.append((file, campaign, entries))
        for r in entries:
            if r.get("code") and r["code"] not in raw:
                raw[r["code"]] = (campaign, r)
    for file, campaign, entries in loaded:
        for i, r in enumerate(entries):
            code = r.get("code")
            entry = code or f"#{i + 1}"
            if not code:
                out.add(file, entry, "code", "缺少要求代码", "requirement code is missing")
                continue
            if code in requirements:
                out.add(file, entry, "code", "要求代码重复", "duplicate requirement code")
            if r.get("proxy"):
                r = _proxy_entry(file, entry, campaign, r, raw, out)
                if r is None:
                    continue
            ind = r.get("indicator")
            if ind not in indicators:
                out.add(
                    file, entry, "indicator", f"指向未知指标“{ind}”", f"points to unknown indicator '{ind}'"
                )
            ed = r.get("edition")
            if ed not in editions or editions[ed].campaign != campaign:
                out.add(
                    file,
                    entry,
                    "edition",
                    f"未知或不属于本项目的版本“{ed}”",
                    f"unknown edition '{ed}' for this campaign",
                )
            comparison = r.get("comparison")
            if comparison not in COMPARISONS:
                out.add(
                    file,
                    entry,
                    "comparison",
                    f"未知比较方式“{comparison}”",
                    f"unknown comparison '{comparison}'",
                )
                continue
            if "unit" in r and r["unit"] not in units:
                out.add(file, entry, "unit", f"未知计量单位“{r['unit']}”", f"unknown unit '{r['unit']}'")
            if r.get("frequency") not in FREQUENCIES:
                out.add(
                    file,
                    entry,
                    "frequency",
                    f"未知报送频率“{r.get('frequency')}”",
                    f"unknown frequency '{r.get('frequency')}'",
                )
            if not r.get("responsible"):
                out.add(file, entry, "responsible", "缺少责任单位", "responsible unit is missing")
            threshold = _parse_threshold(file, entry, comparison, r.get("threshold"), out)
            if threshold is None:
                continue
            if comparison == "qualitative" and threshold.kind != "qualitative":
                out.add(
                    file,
                    entry,
                    "threshold.kind",
                    "qualitative 比较须用定性阈值",
                    "comparison 'qualitative' needs a qualitative threshold",
                )
            if threshold.kind == "unknown" and r.get("confirmed", False):
                out.add(
                    file,
                    entry,
                    "confirmed",
                    "阈值未知的要求不能标为已确认",
                    "a requirement with an unknown threshold cannot be confirmed",
                )
            requirements[code] = Requirement(
                code=code,
                campaign=campaign,
                edition=ed,
                indicator=ind,
                name_zh=r.get("name_zh", ""),
                name_en=r.get("name_en", ""),
                comparison=comparison,
                threshold=threshold,
                frequency=r.get("frequency", ""),
                responsible=r.get("responsible", ""),
                also_reported_by=tuple(r.get("also_reported_by") or ()),
                veto=bool(r.get("veto", False)),
                veto_reason=r.get("veto_reason"),
                weight=float(r.get("weight", 1)),
                variant_note=r.get("variant_note", ""),
                source=r.get("source", ""),
                confirmed=bool(r.get("confirmed", False)),
                proxy=bool(r.get("proxy", False)),
                proxy_of=r.get("proxy_of"),
                proxy_note=r.get("proxy_note", "") or "",
            )
    return requirements


# Fields a proxy copies from the requirement it stands in for, unless it gives them itself.
_PROXY_INHERITS = (
    "indicator",
    "comparison",
    "threshold",
    "frequency",
    "responsible",
    "also_reported_by",
    "weight",
    "veto",
    "veto_reason",
    "name_zh",
    "name_en",
)


def _proxy_entry(
    file: str,
    entry: str,
    campaign: str,
    r: dict,
    raw: dict[str, tuple[str, dict]],
    out: _Collector,
) -> dict | None:
    """A proxy requirement completed from the requirement it stands in for (`proxy_of`), or None
    after reporting why it cannot be: the target must exist, belong to the same campaign, sit in
    another edition, measure the same indicator and not be a proxy itself; a proxy is never
    confirmed and must say why the edition's own value is missing (`proxy_note`)."""
    target = r.get("proxy_of")
    if not target or target not in raw:
        out.add(
            file,
            entry,
            "proxy_of",
            f"代用要求须指向已有要求（“{target}”不存在）",
            f"a proxy must name an existing requirement ('{target}' does not exist)",
        )
        return None
    t_campaign, t = raw[target]
    ok = True
    if t_campaign != campaign:
        out.add(
            file,
            entry,
            "proxy_of",
            f"代用对象“{target}”属于其他创建项目（{t_campaign}）",
            f"proxy_of '{target}' belongs to another campaign ({t_campaign})",
        )
        ok = False
    if t.get("proxy"):
        out.add(
            file,
            entry,
            "proxy_of",
            f"代用对象“{target}”本身是代用要求，不能层层代用",
            f"proxy_of '{target}' is itself a proxy (no chains)",
        )
        ok = False
    if t.get("edition") == r.get("edition"):
        out.add(
            file,
            entry,
            "proxy_of",
            f"代用对象“{target}”与本要求属同一版本",
            f"proxy_of '{target}' is in the same edition",
        )
        ok = False
    if r.get("indicator") and r["indicator"] != t.get("indicator"):
        out.add(
            file,
            entry,
            "indicator",
            f"代用要求的指标须与“{target}”相同（{t.get('indicator')}）",
            f"a proxy must measure the indicator of '{target}' ({t.get('indicator')})",
        )
        ok = False
    if r.get("confirmed"):
        out.add(
            file,
            entry,
            "confirmed",
            "代用要求不能标为已确认（本版数值未读到）",
            "a proxy cannot be confirmed (the edition's own value was not read)",
        )
        ok = False
    if not r.get("proxy_note"):
        out.add(
            file,
            entry,
            "proxy_note",
            "代用要求须说明为何本版数值缺失、为何选该版",
            "a proxy must say why the edition's value is missing and why this edition stands in",
        )
        ok = False
    if not ok:
        return None
    merged = {k: t[k] for k in _PROXY_INHERITS if k in t}
    merged.update(r)
    return merged


def _load_series(directory: Path, indicators: dict[str, Indicator], out: _Collector) -> list[ReferenceSeries]:
    file = "reference_series.yaml"
    path = directory / file
    if not path.exists():
        return []
    data = _read_yaml(path, directory, out) or {}
    series = []
    for i, s in enumerate(data.get("series") or []):
        entry = f"{s.get('reference')}/{s.get('indicator')}" if s.get("indicator") else f"#{i + 1}"
        if s.get("reference") not in SERIES_REFERENCES:
            out.add(
                file,
                entry,
                "reference",
                f"未知参照序列“{s.get('reference')}”",
                f"unknown reference '{s.get('reference')}'",
            )
        if s.get("indicator") not in indicators:
            out.add(
                file,
                entry,
                "indicator",
                f"指向未知指标“{s.get('indicator')}”",
                f"points to unknown indicator '{s.get('indicator')}'",
            )
        values = {int(k): float(v) for k, v in (s.get("values") or {}).items()}
        series.append(
            ReferenceSeries(
                s.get("reference", ""),
                s.get("indicator", ""),
                s.get("unit", ""),
                values,
                bool(s.get("confirmed", False)),
                s.get("source", ""),
            )
        )
    return series


def _check_relative_references(
    requirements: dict[str, Requirement], series: list[ReferenceSeries], out: _Collector
) -> None:
    have = {(s.reference, s.indicator) for s in series}
    for r in requirements.values():
        t = r.threshold
        if (
            t.kind == "relative"
            and t.reference in SERIES_REFERENCES
            and (t.reference, r.indicator) not in have
        ):
            out.add(
                f"requirements/{r.campaign}.yaml",
                r.code,
                "threshold.reference",
                f"参照序列 {t.reference} 缺少指标 {r.indicator} 的数据",
                f"reference series {t.reference} has no data for indicator {r.indicator}",
            )


def _names_list(file: str, entry: str, fld: str, value: Any, out: _Collector) -> tuple[str, ...]:
    """A list of non-empty, distinct name strings; each problem reported, bad items dropped."""
    if value is None:
        return ()
    if not isinstance(value, list):
        out.add(file, entry, fld, "应为名称列表", "must be a list of names")
        return ()
    names: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str) or not plain_name_key(item):
            out.add(
                file, entry, fld, f"名称“{item}”无效（应为非空文字）", f"invalid name '{item}' (needs text)"
            )
            continue
        key = plain_name_key(item)
        if key in seen:
            out.add(file, entry, fld, f"名称“{item}”重复", f"duplicate name '{item}'")
            continue
        seen.add(key)
        names.append(item.strip())
    return tuple(names)


def _check_lookalikes(
    indicators: dict[str, Indicator], requirements: dict[str, Requirement], out: _Collector
) -> None:
    """A `not_confused_with` name must not be a name of the same indicator: its name_zh, an alias or
    a requirement's name, compared as the matcher compares them (also without brackets)."""
    file = "indicators.yaml"
    own: dict[str, dict[str, str]] = {}
    for ind in indicators.values():
        own[ind.code] = {}
        for n in ind.names:
            for k in (plain_name_key(n), stripped_name_key(n)):
                own[ind.code].setdefault(k, f"名称/别名“{n}”|name or alias '{n}'")
    for req in requirements.values():
        if req.indicator in own and req.name_zh:
            for k in (plain_name_key(req.name_zh), stripped_name_key(req.name_zh)):
                own[req.indicator].setdefault(
                    k, f"要求 {req.code} 的名称“{req.name_zh}”|requirement {req.code}'s name"
                )
    for ind in indicators.values():
        for n in ind.not_confused_with:
            for k in (plain_name_key(n), stripped_name_key(n)):
                if k in own[ind.code]:
                    zh, en = own[ind.code][k].split("|")
                    out.add(
                        file,
                        ind.code,
                        "not_confused_with",
                        f"“{n}”与本指标的{zh}相同：一个名称不能既是本指标又“不是”本指标",
                        f"'{n}' equals this indicator's {en}: a name cannot both be and not be this indicator",
                    )
                    break
