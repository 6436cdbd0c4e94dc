"""Evidence requirements (档案资料要求): what the inspection expects in the binders, clause by clause.

Read from `expectations/standards/evidence/<campaign>.yaml` (layout in that folder's README.md) and
validated like the standards catalog (`pipelines.catalog.loader`): every problem is collected with
the file, the entry and the field, in Chinese and English, and raised together as `EvidenceError`.

`slots(...)` expands the requirements of one county campaign into the concrete documents owed: one
slot per clause × item × period over the campaign's run (its start to its acceptance date), with the
responsible unit (resolved from the profile) and the due date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile

KINDS = {
    "plan": ("方案/规划", "plan"),
    "minutes": ("会议纪要", "minutes"),
    "notice": ("文件/通知", "notice"),
    "ledger": ("台账", "ledger"),
    "photo": ("照片", "photo"),
    "report": ("报告", "report"),
    "letter": ("责任书/证明", "letter"),
}
PERIODS = {
    "once": ("一次性", "once"),
    "yearly": ("每年", "yearly"),
    "quarterly": ("每季度", "quarterly"),
    "monthly": ("每月", "monthly"),
}
CATEGORIES = {
    "organisation": ("组织领导", "organisation"),
    "planning": ("规划方案", "planning"),
    "publicity": ("宣传发动", "publicity"),
    "basic": ("基本条件", "basic conditions"),
    "mechanism": ("长效机制", "long-term mechanism"),
    "indicator": ("指标数据", "indicator data"),
}
PROVIDER_WORDS = ("lead", "office", "responsible")
CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,40}")
ONCE = "once"


@dataclass(frozen=True)
class EvidenceProblem:
    file: str
    entry: str
    field: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.file} › {self.entry} › {self.field}: {self.message_zh} / {self.message_en}"


class EvidenceError(ValueError):
    """The evidence requirements are malformed. `problems` lists every problem found."""

    def __init__(self, problems: list[EvidenceProblem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"档案资料要求有 {len(problems)} 处错误 / evidence requirements have {len(problems)} problem(s):\n{lines}"
        )


@dataclass(frozen=True)
class ItemSpec:
    code: str
    kind: str
    title_zh: str
    title_en: str
    count: int
    period: str
    provider: str  # lead | office | responsible | a unit short code
    source: str = ""
    assumed: bool = False
    due: str | None = None  # an ISO date or a plan milestone code (once items)


@dataclass(frozen=True)
class Clause:
    campaign: str
    code: str
    order: int
    category: str
    name_zh: str
    name_en: str
    prerequisite: bool
    source: str
    assumed: bool
    items: tuple[ItemSpec, ...]
    requirement_code: str | None = None  # indicator clauses: the catalog requirement


@dataclass(frozen=True)
class CampaignEvidence:
    campaign: str
    file: str
    clauses: tuple[Clause, ...]
    requirement_items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class Slot:
    """One document owed: a clause's item for one period, `count` files of it."""

    county_code: str
    campaign_code: str
    clause_code: str
    clause_order: int
    category: str
    clause_name_zh: str
    clause_name_en: str
    item_code: str
    kind: str
    title_zh: str
    title_en: str
    count: int
    period: str
    period_code: str  # "once", "2013", "2013Q2", "2013-05"
    due_date: dt.date
    provider_short: str
    provider_org_code: str
    prerequisite: bool
    assumed: bool
    source: str
    requirement_code: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.campaign_code, self.clause_code, self.item_code, self.period_code)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[EvidenceProblem] = []

    def add(self, file: str, entry: str, field: str, zh: str, en: str) -> None:
        self.problems.append(EvidenceProblem(file, entry, field, zh, en))


def _text(d: dict, key: str, out: _Collector, file: str, entry: str, required: bool = True) -> str:
    v = d.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            out.add(file, entry, key, "缺少必填字段", "required field missing")
        return ""
    if not isinstance(v, str):
        out.add(file, entry, key, "应为文本", "must be text")
        return ""
    return v.strip()


def _bool(d: dict, key: str, out: _Collector, file: str, entry: str) -> bool:
    v = d.get(key, False)
    if not isinstance(v, bool):
        out.add(file, entry, key, "应为 true 或 false", "must be true or false")
        return False
    return v


def _item(raw: Any, out: _Collector, file: str, entry: str, units: set[str] | None) -> ItemSpec | None:
    if not isinstance(raw, dict):
        out.add(file, entry, "items", "每个资料项应为映射", "each item must be a mapping")
        return None
    code = raw.get("code")
    where = f"{entry}.{code}" if isinstance(code, str) else entry
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        out.add(
            file,
            where,
            "code",
            "代码应为小写字母、数字和下划线",
            "code must be lower-case letters, digits, _",
        )
    kind = raw.get("kind")
    if kind not in KINDS:
        out.add(
            file, where, "kind", f"资料类型“{kind}”未知，应为 {'、'.join(KINDS)}", f"unknown kind {kind!r}"
        )
    period = raw.get("period")
    if period not in PERIODS:
        out.add(
            file,
            where,
            "period",
            f"期别“{period}”未知，应为 {'、'.join(PERIODS)}",
            f"unknown period {period!r}",
        )
    count = raw.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 50:
        out.add(file, where, "count", "份数应为 1 到 50 的整数", "count must be an integer from 1 to 50")
        count = 1
    provider = raw.get("provider")
    if not isinstance(provider, str) or not provider:
        out.add(file, where, "provider", "缺少提供单位", "provider missing")
        provider = ""
    elif provider not in PROVIDER_WORDS and units is not None and provider not in units:
        out.add(
            file,
            where,
            "provider",
            f"提供单位“{provider}”不在县情配置的单位中",
            f"unknown provider unit {provider!r}",
        )
    due = raw.get("due")
    if isinstance(due, dt.date):
        due = due.isoformat()
    if due is not None and not isinstance(due, str):
        out.add(file, where, "due", "截止应为日期或计划节点代码", "due must be a date or a milestone code")
        due = None
    title_zh = _text(raw, "title_zh", out, file, where)
    title_en = _text(raw, "title_en", out, file, where)
    assumed = _bool(raw, "assumed", out, file, where)
    source = _text(raw, "source", out, file, where, required=not assumed)
    return ItemSpec(
        code=code if isinstance(code, str) else "",
        kind=kind if kind in KINDS else "report",
        title_zh=title_zh,
        title_en=title_en,
        count=count,
        period=period if period in PERIODS else ONCE,
        provider=provider,
        source=source,
        assumed=assumed,
        due=due,
    )


def load_evidence(
    folder: Path, campaigns: set[str] | None = None, units: set[str] | None = None
) -> dict[str, CampaignEvidence]:
    """Every `<campaign>.yaml` under `folder`, validated. `campaigns`: the catalog's campaign codes
    (a file for another campaign is a problem); `units`: the profile's unit short codes (providers)."""
    out = _Collector()
    result: dict[str, CampaignEvidence] = {}
    folder = Path(folder)
    if not folder.is_dir():
        raise EvidenceError(
            [EvidenceProblem(str(folder), "", "", "找不到档案资料要求目录", "evidence folder not found")]
        )
    for path in sorted(folder.glob("*.yaml")):
        file = path.name
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            out.add(file, "", "", "无法读取或解析 YAML", f"cannot read or parse YAML: {str(exc)[:120]}")
            continue
        if not isinstance(doc, dict):
            out.add(file, "", "", "文件应为映射", "the file must be a mapping")
            continue
        campaign = doc.get("campaign")
        if not isinstance(campaign, str) or (campaigns is not None and campaign not in campaigns):
            out.add(
                file, "", "campaign", f"创建项目“{campaign}”不在标准目录中", f"unknown campaign {campaign!r}"
            )
            continue
        if campaign in result:
            out.add(file, "", "campaign", "同一创建项目有两个文件", "two files for one campaign")
            continue
        clauses: list[Clause] = []
        seen_clauses: set[str] = set()
        orders: set[int] = set()
        raw_clauses = doc.get("clauses")
        if not isinstance(raw_clauses, list) or not raw_clauses:
            out.add(file, "", "clauses", "缺少条款列表", "clauses missing")
            raw_clauses = []
        for raw in raw_clauses:
            if not isinstance(raw, dict):
                out.add(file, "", "clauses", "每个条款应为映射", "each clause must be a mapping")
                continue
            code = raw.get("code")
            entry = code if isinstance(code, str) else "?"
            if not isinstance(code, str) or not CODE_RE.fullmatch(code):
                out.add(file, entry, "code", "条款代码不合法", "bad clause code")
            elif code in seen_clauses:
                out.add(file, entry, "code", "条款代码重复", "duplicate clause code")
            seen_clauses.add(entry)
            order = raw.get("order")
            if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= 99:
                out.add(
                    file, entry, "order", "顺序应为 1 到 99 的整数", "order must be an integer from 1 to 99"
                )
                order = 99
            elif order in orders:
                out.add(file, entry, "order", "顺序号重复", "duplicate order")
            orders.add(order)
            category = raw.get("category")
            if category not in CATEGORIES or category == "indicator":
                out.add(
                    file, entry, "category", f"条款类别“{category}”未知", f"unknown category {category!r}"
                )
                category = "basic"
            items = []
            raw_items = raw.get("items")
            if not isinstance(raw_items, list) or not raw_items:
                out.add(file, entry, "items", "条款没有资料项", "the clause has no items")
                raw_items = []
            item_codes: set[str] = set()
            for ri in raw_items:
                spec = _item(ri, out, file, entry, units)
                if spec is None:
                    continue
                if spec.code in item_codes:
                    out.add(file, f"{entry}.{spec.code}", "code", "资料项代码重复", "duplicate item code")
                item_codes.add(spec.code)
                if spec.provider == "responsible":
                    out.add(
                        file,
                        f"{entry}.{spec.code}",
                        "provider",
                        "只有指标条款可用 responsible",
                        "only indicator items may use responsible",
                    )
                items.append(spec)
            assumed = _bool(raw, "assumed", out, file, entry)
            clauses.append(
                Clause(
                    campaign=campaign,
                    code=entry,
                    order=order,
                    category=category,
                    name_zh=_text(raw, "name_zh", out, file, entry),
                    name_en=_text(raw, "name_en", out, file, entry),
                    prerequisite=_bool(raw, "prerequisite", out, file, entry),
                    source=_text(raw, "source", out, file, entry),
                    assumed=assumed,
                    items=tuple(items),
                )
            )
        req_items = []
        for ri in doc.get("requirement_items") or []:
            spec = _item(ri, out, file, "requirement_items", units)
            if spec is not None:
                for key in ("title_zh", "title_en"):
                    text = getattr(spec, key)
                    try:
                        text.format(name_zh="", name_en="")
                    except (KeyError, IndexError, ValueError):
                        out.add(
                            file,
                            f"requirement_items.{spec.code}",
                            key,
                            "标题只能使用 {name_zh} 和 {name_en}",
                            "titles may use only {name_zh} and {name_en}",
                        )
                req_items.append(spec)
        result[campaign] = CampaignEvidence(
            campaign, file, tuple(sorted(clauses, key=lambda c: c.order)), tuple(req_items)
        )
    if out.problems:
        raise EvidenceError(out.problems)
    return result


def load_default(settings=None, catalog: Catalog | None = None, profile: CountyProfile | None = None):
    """The evidence requirements next to the standards catalog (`<standards>/evidence/`)."""
    from pipelines.settings import Settings

    settings = settings or Settings.from_env()
    units = {u.short_code for u in profile.org_units} if profile is not None else None
    campaigns = set(catalog.campaigns) if catalog is not None else None
    return load_evidence(settings.standards_dir / "evidence", campaigns, units)


# ---------------------------------------------------------------- expansion into slots


def _periods(period: str, start: dt.date, end: dt.date) -> list[tuple[str, dt.date]]:
    """(period_code, last day) of every period overlapping [start, end]."""
    out: list[tuple[str, dt.date]] = []
    if period == ONCE:
        return [(ONCE, end)]
    for year in range(start.year, end.year + 1):
        if period == "yearly":
            out.append((str(year), dt.date(year, 12, 31)))
            continue
        step = 3 if period == "quarterly" else 1
        for m in range(1, 13, step):
            first = dt.date(year, m, 1)
            last_month = m + step - 1
            last = (dt.date(year + (last_month == 12), last_month % 12 + 1, 1)) - dt.timedelta(days=1)
            if last < start or first > end:
                continue
            code = f"{year}Q{(m - 1) // 3 + 1}" if period == "quarterly" else f"{year}-{m:02d}"
            out.append((code, last))
    return out


def clauses_for(ev: CampaignEvidence, catalog: Catalog, acceptance: dt.date) -> list[Clause]:
    """The campaign's clauses: its own, then one per requirement of the edition in force at acceptance
    (catalog order, veto requirements are prerequisites)."""
    out = list(ev.clauses)
    base = max((c.order for c in ev.clauses), default=0)
    for i, req in enumerate(catalog.requirements_in_force(ev.campaign, acceptance)):
        items = tuple(
            ItemSpec(
                code=s.code,
                kind=s.kind,
                title_zh=s.title_zh.format(name_zh=req.name_zh, name_en=req.name_en),
                title_en=s.title_en.format(name_zh=req.name_zh, name_en=req.name_en),
                count=s.count,
                period=s.period,
                provider=req.responsible if s.provider == "responsible" else s.provider,
                source=s.source,
                assumed=s.assumed,
                due=s.due,
            )
            for s in ev.requirement_items
        )
        out.append(
            Clause(
                campaign=ev.campaign,
                code=req.code,
                order=base + 1 + i,
                category="indicator",
                name_zh=req.name_zh,
                name_en=req.name_en,
                prerequisite=bool(req.veto),
                source=req.source,
                assumed=False,
                items=items,
                requirement_code=req.code,
            )
        )
    return out


def _provider(spec: ItemSpec, profile: CountyProfile, working_group: str) -> str:
    if spec.provider == "lead":
        for wg in profile.working_groups:
            if wg.code == working_group:
                return wg.lead_unit
        return profile.unit_code("cjb")
    if spec.provider == "office":
        return profile.unit_code("cjb")
    return profile.unit_code(spec.provider)


def _due(spec: ItemSpec, period_end: dt.date, profile: CountyProfile, acceptance: dt.date) -> dt.date:
    if spec.due:
        for m in profile.milestones:
            if m.code == spec.due:
                return m.due
        try:
            return dt.date.fromisoformat(spec.due)
        except ValueError:
            pass
    return min(period_end, acceptance)


def slots(
    evidence: dict[str, CampaignEvidence],
    catalog: Catalog,
    profile: CountyProfile,
    campaign: str | None = None,
) -> list[Slot]:
    """Every document slot owed by the county, for one campaign or all, in clause order."""
    out: list[Slot] = []
    for prog in profile.programmes:
        if campaign is not None and prog.campaign != campaign:
            continue
        ev = evidence.get(prog.campaign)
        if ev is None:
            continue
        for clause in clauses_for(ev, catalog, prog.acceptance):
            for spec in clause.items:
                provider_org = _provider(spec, profile, prog.working_group)
                for code, end in _periods(spec.period, prog.start, prog.acceptance):
                    out.append(
                        Slot(
                            county_code=profile.code,
                            campaign_code=prog.campaign,
                            clause_code=clause.code,
                            clause_order=clause.order,
                            category=clause.category,
                            clause_name_zh=clause.name_zh,
                            clause_name_en=clause.name_en,
                            item_code=spec.code,
                            kind=spec.kind,
                            title_zh=spec.title_zh,
                            title_en=spec.title_en,
                            count=spec.count,
                            period=spec.period,
                            period_code=code,
                            due_date=_due(spec, end, profile, prog.acceptance),
                            provider_short=provider_org.split("-", 1)[-1],
                            provider_org_code=provider_org,
                            prerequisite=clause.prerequisite,
                            assumed=spec.assumed or clause.assumed,
                            source=spec.source or clause.source,
                            requirement_code=clause.requirement_code,
                        )
                    )
    return out
