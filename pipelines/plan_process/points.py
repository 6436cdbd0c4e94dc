"""Inspection points (expectations/points/<county>.yaml) and checklists
(expectations/standards/checklists/*.yaml), loaded and validated.

A malformed file is refused with every problem listed (file, entry, field) in Chinese and English,
like the catalog loader. Unknown types, towns and units are problems, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines.profile import CountyProfile


class PointsError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    name_zh: str
    name_en: str
    max_score: float
    assumed: bool
    source: str = ""


@dataclass(frozen=True)
class Checklist:
    type: str
    name_zh: str
    name_en: str
    campaigns: tuple[str, ...]
    items: tuple[ChecklistItem, ...]

    @property
    def max_total(self) -> float:
        return sum(i.max_score for i in self.items)

    def item(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.code == code), None)


@dataclass(frozen=True)
class Point:
    code: str
    type: str
    name_zh: str
    county: str
    town: str  # org code of the town
    address: str
    unit: str  # org code of the responsible unit (包保单位)
    campaigns: tuple[str, ...]
    lon: float | None = None
    lat: float | None = None
    approx: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)


def checklists_dir(standards_dir: Path) -> Path:
    return Path(standards_dir) / "checklists"


def points_dir(expectations_dir: Path) -> Path:
    return Path(expectations_dir) / "points"


def load_checklists(standards_dir: Path, campaigns: set[str] | None = None) -> dict[str, Checklist]:
    out: dict[str, Checklist] = {}
    problems: list[str] = []
    for path in sorted(checklists_dir(standards_dir).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        where = f"checklists/{path.name}"
        ctype = data.get("type")
        if not ctype:
            problems.append(f"{where}: 缺少 type / `type` is missing")
            continue
        items, seen = [], set()
        for i, it in enumerate(data.get("items") or []):
            code = it.get("code")
            try:
                score = float(it.get("max_score"))
            except (TypeError, ValueError):
                score = -1
            if not code or code in seen:
                problems.append(f"{where} items[{i}]: 代码缺失或重复 / code missing or repeated")
                continue
            if score <= 0:
                problems.append(f"{where} {code}: 满分须为正数 / max_score must be positive")
                continue
            seen.add(code)
            items.append(
                ChecklistItem(
                    code,
                    str(it.get("name_zh") or code),
                    str(it.get("name_en") or code),
                    score,
                    bool(it.get("assumed", False)),
                    str(it.get("source") or ""),
                )
            )
        camps = tuple(data.get("campaigns") or ())
        for c in camps:
            if campaigns is not None and c not in campaigns:
                problems.append(f"{where}: 未知创建项目 {c} / unknown campaign {c}")
        if not items:
            problems.append(f"{where}: 没有检查项 / no items")
        out[ctype] = Checklist(
            ctype, str(data.get("name_zh") or ctype), str(data.get("name_en") or ctype), camps, tuple(items)
        )
    if problems:
        raise PointsError(problems)
    return out


def load_points(
    expectations_dir: Path, profile: CountyProfile, checklists: dict[str, Checklist]
) -> list[Point]:
    """The county's points; refuses unknown types, towns, units and repeated codes."""
    cands = [p for p in sorted(points_dir(expectations_dir).glob("*.yaml")) if _county_of(p) == profile.code]
    if not cands:
        return []
    path = cands[0]
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    org_codes = {u.code for u in profile.org_units}
    towns = {u.code for u in profile.org_units if u.level == "town"}
    out, problems, seen = [], [], set()
    for i, p in enumerate(data.get("points") or []):
        where = f"points/{path.name} [{i}] {p.get('code', '?')}"
        code = p.get("code")
        if not code or code in seen:
            problems.append(f"{where}: 代码缺失或重复 / code missing or repeated")
            continue
        seen.add(code)
        ptype = p.get("type")
        if ptype not in checklists:
            problems.append(f"{where}: 未知点位类型 {ptype} / unknown point type {ptype}")
            continue
        town = profile.unit_code(str(p.get("town", "")))
        if town not in towns:
            problems.append(f"{where}: 未知乡镇 {p.get('town')} / unknown town")
            continue
        unit = profile.unit_code(str(p.get("unit", "")))
        if unit not in org_codes:
            problems.append(f"{where}: 未知包保单位 {p.get('unit')} / unknown responsible unit")
            continue
        lon, lat = p.get("lon"), p.get("lat")
        if (lon is None) != (lat is None):
            problems.append(f"{where}: 经纬度须同时给出 / lon and lat go together")
            continue
        out.append(
            Point(
                code,
                ptype,
                str(p.get("name_zh") or code),
                profile.code,
                town,
                str(p.get("address") or ""),
                unit,
                tuple(p.get("campaigns") or checklists[ptype].campaigns),
                float(lon) if lon is not None else None,
                float(lat) if lat is not None else None,
                bool(p.get("approx", False)),
                tuple(p.get("aliases") or ()),
            )
        )
    if problems:
        raise PointsError(problems)
    return out


def _county_of(path: Path) -> str | None:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return str(data.get("county")) if data.get("county") is not None else None
