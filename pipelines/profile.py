"""County profiles: everything specific to one county, loaded from `expectations/profiles/*.yaml`.

A profile names the county and its parents, the declared classes that select threshold variants,
the plan (phases, campaigns with dates, milestones), the organisation (leading group, office,
working groups), the responsible units (departments and towns) and the reporting calendar rules.
Another county is another file.

Profiles are parsed with libyaml and kept per file for the life of the process, read again when the
file's bytes change or when a different catalog object is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.catalog.loader import SAFE_LOADER, CatalogError, CatalogProblem
from pipelines.catalog.model import VARIANT_DIMENSIONS, Catalog


@dataclass(frozen=True)
class OrgUnit:
    code: str  # globally unique, e.g. "511923" or "511923-sthjj"
    parent: str | None
    county: str | None
    level: str  # province | city | county | department | town | group | office
    short_code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()  # other names seen in returns, e.g. former names (县环保局)
    reports: bool = True  # False: a known unit (a town) that sends no returns in this profile


@dataclass(frozen=True)
class CampaignProgramme:
    campaign: str
    level: str
    working_group: str
    start: dt.date
    acceptance: dt.date
    interim_level: str | None = None
    interim_acceptance: dt.date | None = None


@dataclass(frozen=True)
class Phase:
    code: str
    name_zh: str
    name_en: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Milestone:
    code: str
    name_zh: str
    campaign: str | None
    due: dt.date


#: Milestones of a campaign an event can be recorded for (besides the profile's own milestone codes).
CAMPAIGN_MILESTONES = (
    "start",
    "plan_approved",
    "application",
    "inspection",
    "interim_acceptance",
    "acceptance",
)
EVENT_KINDS = ("launch", "approval", "signing", "meeting", "application", "inspection", "acceptance")
EVENT_OUTCOMES = ("passed", "failed")


@dataclass(frozen=True)
class PlanEvent:
    """A plan event the creation office has on file (approval, signing, application, acceptance …): the
    evidence that a milestone was reached. `outcome` is for inspections and acceptances."""

    milestone: str
    campaign: str | None
    kind: str
    date: dt.date
    document: str
    outcome: str | None = None
    note: str | None = None
    assumed: bool = False


@dataclass(frozen=True)
class WorkingGroup:
    code: str
    name_zh: str
    name_en: str
    lead_unit: str  # org code
    lead_assumed: bool


@dataclass(frozen=True)
class Assignment:
    """Which unit reports which indicator."""

    indicator: str
    org_code: str
    role: str  # primary | secondary | town


# Chinese names of the declared classes (for messages such as "按丘陵：达标").
VARIANT_VALUE_ZH = {
    "mountain": "山区",
    "hill": "丘陵",
    "plain": "平原",
    "alpine": "高原",
    "east": "东部",
    "central": "中部",
    "west": "西部",
    "less_developed": "欠发达地区",
    "developed": "发达地区",
    "lt400": "年降水量<400毫米",
    "400_800": "年降水量400–800毫米",
    "gt800": "年降水量>800毫米",
    "county_town": "县城",
    "township": "乡镇",
}
VARIANT_DIMENSION_ZH = {
    "terrain": "地形",
    "region": "区域",
    "development": "发展水平",
    "rainfall": "降水",
    "seat": "驻地",
}


@dataclass(frozen=True)
class VariantDeclaration:
    """A declared county class that selects threshold variants, with where it comes from.

    Written in the profile either as `terrain: mountain` (unconfirmed, no source) or as
    `terrain: {value: mountain, confirmed: false, source: "..."}`. Only a class read in an official
    document (the standard's classification list, the county's approved plan) is `confirmed`."""

    dimension: str
    value: str
    confirmed: bool = False
    source: str = ""


@dataclass(frozen=True)
class CountyProfile:
    code: str
    name_zh: str
    name_en: str
    source_file: str
    variants: dict[str, str]
    population: int | None
    builtup_area_km2: float | None
    area_km2: float | None
    org_units: tuple[OrgUnit, ...]
    programmes: tuple[CampaignProgramme, ...]
    phases: tuple[Phase, ...]
    milestones: tuple[Milestone, ...]
    working_groups: tuple[WorkingGroup, ...]
    town_indicators: tuple[str, ...]
    due_working_days: dict[str, int]
    first_period: dt.date
    last_period: dt.date
    variant_declarations: tuple[VariantDeclaration, ...] = ()
    events: tuple[PlanEvent, ...] = ()

    def variant_declaration(self, dimension: str) -> VariantDeclaration | None:
        return next((d for d in self.variant_declarations if d.dimension == dimension), None)

    def variant_confirmed(self, dimension: str) -> bool | None:
        """True/False for a declared class; None when the county declares none for the dimension."""
        if dimension not in self.variants:
            return None
        d = self.variant_declaration(dimension)
        return bool(d and d.confirmed and d.value == self.variants[dimension])

    def unit_code(self, short: str) -> str:
        return f"{self.code}-{short}"

    @property
    def departments(self) -> list[OrgUnit]:
        return [u for u in self.org_units if u.level == "department"]

    @property
    def towns(self) -> list[OrgUnit]:
        """Towns that report (have assignments); see `all_towns` for every town of the county."""
        return [u for u in self.org_units if u.level == "town" and u.reports]

    @property
    def all_towns(self) -> list[OrgUnit]:
        """Every town of the county, including those marked `reports: false` (names to recognise)."""
        return [u for u in self.org_units if u.level == "town"]

    def programme(self, campaign: str) -> CampaignProgramme:
        return next(p for p in self.programmes if p.campaign == campaign)

    def assignments(self, catalog: Catalog) -> list[Assignment]:
        """Reporting assignments derived from the catalog's responsible units and the towns list."""
        seen: dict[tuple[str, str], str] = {}
        order: list[tuple[str, str]] = []
        for req in catalog.requirements.values():
            for i, short in enumerate((req.responsible, *req.also_reported_by)):
                key = (req.indicator, self.unit_code(short))
                role = "primary" if i == 0 else "secondary"
                if key not in seen:
                    order.append(key)
                    seen[key] = role
                elif role == "primary":
                    seen[key] = "primary"
        # One primary per indicator: the first unit named as primary keeps it.
        primary_taken: set[str] = set()
        result = []
        for ind, org in order:
            role = seen[(ind, org)]
            if role == "primary":
                if ind in primary_taken:
                    role = "secondary"
                primary_taken.add(ind)
            result.append(Assignment(ind, org, role))
        for ind in self.town_indicators:
            for town in self.towns:
                result.append(Assignment(ind, town.code, "town"))
        return result


def _d(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


_PROFILES: dict[str, tuple[bytes, Catalog, CountyProfile]] = {}


def clear_cache() -> None:
    """Forget every loaded profile."""
    _PROFILES.clear()


def load_profile(path: Path, catalog: Catalog) -> CountyProfile:
    """Load one county profile and check it against the catalog; raise CatalogError on problems.

    Cached per file content (a digest of its bytes) and catalog object."""
    path = Path(path)
    try:
        stamp: bytes | None = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        stamp = None
    key = str(path.absolute())
    hit = _PROFILES.get(key)
    if stamp is not None and hit is not None and hit[0] == stamp and hit[1] is catalog:
        return hit[2]
    profile = _load_profile(path, catalog)
    if stamp is not None:
        _PROFILES[key] = (stamp, catalog, profile)
    return profile


def _load_profile(path: Path, catalog: Catalog) -> CountyProfile:
    file = path.name
    problems: list[CatalogProblem] = []

    def bad(entry: str, fld: str, zh: str, en: str) -> None:
        problems.append(CatalogProblem(file, entry, fld, zh, en))

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(
            [CatalogProblem(file, "-", "-", f"无法读取：{exc}", f"cannot read: {exc}")]
        ) from exc

    county = data.get("county") or {}
    code = str(county.get("code", ""))
    if not code:
        bad("county", "code", "缺少县代码", "county code is missing")
    variants: dict[str, str] = {}
    declarations: list[VariantDeclaration] = []
    for k, v in (county.get("variants") or {}).items():
        dim = str(k)
        if dim not in VARIANT_DIMENSIONS:
            bad("county.variants", dim, f"未知类型维度“{dim}”", f"unknown variant dimension '{dim}'")
        if isinstance(v, dict):
            if v.get("value") in (None, ""):
                bad("county.variants", dim, "缺少类型取值 value", "the class `value` is missing")
                continue
            confirmed = v.get("confirmed", False)
            if not isinstance(confirmed, bool):
                bad(
                    "county.variants",
                    dim,
                    "confirmed 须为 true 或 false",
                    "`confirmed` must be true or false",
                )
                confirmed = False
            source = str(v.get("source") or "").strip()
            if confirmed and not source:
                bad(
                    "county.variants",
                    dim,
                    "已确认的类型须注明来源（source）",
                    "a confirmed class needs its `source`",
                )
            decl = VariantDeclaration(dim, str(v["value"]), confirmed, source)
        else:
            decl = VariantDeclaration(dim, str(v))
        variants[dim] = decl.value
        declarations.append(decl)

    units: list[OrgUnit] = []
    parent = None
    for p in county.get("parents") or []:
        units.append(
            OrgUnit(
                str(p["code"]), parent, None, p["level"], str(p["code"]), p["name_zh"], p.get("name_en", "")
            )
        )
        parent = str(p["code"])
    units.append(
        OrgUnit(code, parent, code, "county", code, county.get("name_zh", ""), county.get("name_en", ""))
    )
    org = data.get("organisation") or {}
    for key, level in (("leading_group", "group"), ("office", "office")):
        if org.get(key):
            g = org[key]
            units.append(
                OrgUnit(
                    f"{code}-{g['code']}", code, code, level, g["code"], g["name_zh"], g.get("name_en", "")
                )
            )
    for u in data.get("units") or []:
        units.append(
            OrgUnit(
                f"{code}-{u['code']}",
                code,
                code,
                "department",
                u["code"],
                u["name_zh"],
                u.get("name_en", ""),
                tuple(str(a) for a in u.get("aliases") or ()),
            )
        )
    for t in data.get("towns") or []:
        units.append(
            OrgUnit(
                f"{code}-{t['code']}",
                code,
                code,
                "town",
                t["code"],
                t["name_zh"],
                t.get("name_en", ""),
                tuple(str(a) for a in t.get("aliases") or ()),
                bool(t.get("reports", True)),
            )
        )
    seen: set[str] = set()
    for u in units:
        if u.code in seen:
            bad("units", u.short_code, "责任单位代码重复", "duplicate unit code")
        seen.add(u.code)
    shorts = {u.short_code for u in units if u.level in ("department", "town")}

    for req in catalog.requirements.values():
        for s in (req.responsible, *req.also_reported_by):
            if s not in shorts:
                bad(
                    "units",
                    s,
                    f"目录要求 {req.code} 的责任单位未在县档案中定义",
                    f"unit responsible for requirement {req.code} is not defined in the profile",
                )

    wgs = []
    for g in org.get("working_groups") or []:
        if g.get("lead_unit") not in shorts:
            bad(f"working_groups/{g.get('code')}", "lead_unit", "牵头单位未定义", "lead unit is not defined")
        wgs.append(
            WorkingGroup(
                g["code"],
                g["name_zh"],
                g.get("name_en", ""),
                f"{code}-{g.get('lead_unit')}",
                bool(g.get("lead_assumed", False)),
            )
        )
    wg_codes = {g.code for g in wgs}

    plan = data.get("plan") or {}
    programmes = []
    for p in plan.get("campaigns") or []:
        entry = f"plan.campaigns/{p.get('campaign')}"
        if p.get("campaign") not in catalog.campaigns:
            bad(entry, "campaign", "未知创建项目", "unknown campaign")
        if p.get("working_group") not in wg_codes:
            bad(entry, "working_group", "未知创建组", "unknown working group")
        interim = p.get("interim") or {}
        programmes.append(
            CampaignProgramme(
                p["campaign"],
                p.get("level", ""),
                p.get("working_group", ""),
                _d(p["start"]),
                _d(p["acceptance"]),
                interim.get("level"),
                _d(interim["acceptance"]) if interim.get("acceptance") else None,
            )
        )
    phases = tuple(
        Phase(p["code"], p["name_zh"], p.get("name_en", ""), _d(p["start"]), _d(p["end"]))
        for p in plan.get("phases") or []
    )
    milestones = tuple(
        Milestone(m["code"], m["name_zh"], m.get("campaign"), _d(m["due"]))
        for m in plan.get("milestones") or []
    )
    events = []
    own_milestones = {m.code for m in milestones}
    campaigns = {p.campaign for p in programmes}
    for i, e in enumerate(data.get("events") or []):
        entry = f"events[{i}]"
        camp, ms = e.get("campaign"), str(e.get("milestone") or "")
        if camp is not None and camp not in campaigns:
            bad(entry, "campaign", "该创建项目不在县计划中", "campaign is not in the county plan")
        if (camp is None and ms not in own_milestones) or (
            camp is not None and ms not in CAMPAIGN_MILESTONES
        ):
            bad(entry, "milestone", f"未知节点“{ms}”", f"unknown milestone '{ms}'")
        if e.get("kind") not in EVENT_KINDS:
            bad(entry, "kind", "未知事件类型", f"unknown event kind (one of {', '.join(EVENT_KINDS)})")
        if e.get("outcome") is not None and e.get("outcome") not in EVENT_OUTCOMES:
            bad(entry, "outcome", "结果只能是 passed 或 failed", "outcome must be passed or failed")
        if not e.get("document"):
            bad(entry, "document", "缺少文件名称（文号）", "the document (name / number) is missing")
        try:
            day = _d(e.get("date"))
        except (TypeError, ValueError):
            bad(entry, "date", "日期无效", "invalid date")
            continue
        events.append(
            PlanEvent(
                ms,
                camp,
                str(e.get("kind")),
                day,
                str(e.get("document") or ""),
                e.get("outcome"),
                e.get("note"),
                bool(e.get("assumed", False)),
            )
        )
    town_indicators = tuple(data.get("town_indicators") or ())
    for ind in town_indicators:
        if ind not in catalog.indicators:
            bad("town_indicators", ind, "未知指标", "unknown indicator")
    cal = data.get("calendar") or {}
    due = {str(k): int(v) for k, v in (cal.get("due_working_days") or {}).items()}
    for freq in ("monthly", "quarterly", "annual"):
        if freq not in due:
            bad("calendar.due_working_days", freq, "缺少截止工作日数", "working-day offset is missing")
    if problems:
        raise CatalogError(problems)
    pop = county.get("population") or {}
    area = county.get("builtup_area_km2") or {}
    return CountyProfile(
        code=code,
        name_zh=county.get("name_zh", ""),
        name_en=county.get("name_en", ""),
        source_file=file,
        variants=variants,
        population=pop.get("value"),
        builtup_area_km2=area.get("value"),
        area_km2=county.get("area_km2"),
        org_units=tuple(units),
        programmes=tuple(programmes),
        phases=phases,
        milestones=milestones,
        working_groups=tuple(wgs),
        town_indicators=town_indicators,
        due_working_days=due,
        first_period=_d(cal.get("first_period", "2011-12-01")),
        last_period=_d(cal.get("last_period", "2016-12-31")),
        variant_declarations=tuple(declarations),
        events=tuple(events),
    )


def load_profiles(directory: Path, catalog: Catalog) -> list[CountyProfile]:
    """All county profiles in the folder, sorted by county code."""
    profiles = [load_profile(p, catalog) for p in sorted(Path(directory).glob("*.yaml"))]
    return sorted(profiles, key=lambda p: p.code)
