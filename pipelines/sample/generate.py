"""A deterministic sample corpus of departmental returns for 平昌县, Dec 2011 → Dec 2016.

`build_corpus(catalog, profile, seed)` plans every return in memory (file bytes, received time and
the expected outcome); `write_corpus(corpus, out_dir)` writes it under
`<out>/<county>/<unit>/<file>`, sets each file's mtime to its received time and writes
`<out>/manifest.json`. Writing is idempotent: files whose bytes already match are left alone.

Everything random comes from `random.Random` instances seeded from the corpus seed (no global
state); workbook timestamps are fixed, so the same seed gives the same bytes.

Mix: most returns are filled platform templates (`pipelines.returns.templates`); about a third are
in departments' own layouts (wide, two-row header, long, multi_sheet, months_as_columns, CSV in
GBK and UTF-8 with BOM, .xls, .ods) with messy cells. Some returns are late or missing, one is
resubmitted with corrections, one is an exact duplicate, and the bad files of notes/formats.md are
planted with their expected status, reason codes and bad cells in the manifest.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlsxwriter.utility import xl_rowcol_to_cell

from pipelines.catalog.model import Catalog, Indicator
from pipelines.profile import CountyProfile, OrgUnit
from pipelines.reporting_calendar import (
    Period,
    add_working_days,
    due_date,
    is_working_day,
    month,
    parse_period,
    periods_between,
    working_days_late,
)
from pipelines.returns import templates
from pipelines.sample import writers
from pipelines.sample.values import OUTLIERS, Trajectories

CORPUS_VERSION = "wuchuang-sample/1"
DEFAULT_SEED = 20111201
MANIFEST = "manifest.json"
TZ = dt.timezone(dt.timedelta(hours=8))  # received times are Beijing time, 09:00-17:59
FREQUENCIES = ("monthly", "quarterly", "annual")

# Department names as they were in 2011-2016 (formats.md); titles use them.
OLD_NAMES = {
    "sthjj": ("县环境保护局", "县环保局"),
    "wjw": ("县卫生局",),
    "lyj": ("县林业局",),
    "zjj": ("县建设局", "县住建局"),
    "cgj": ("县城市管理局", "县城管局", "县综合行政执法局"),
    "wglj": ("县文化广播影视局", "县文广新局"),
    "wmb": ("县委宣传部", "县文明办"),
}
EMPTY_MARKERS = ("—", "－", "/", "无", "-", "")
CN_QUARTER = {1: "一", 2: "二", 3: "三", 4: "四"}
PEOPLE = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周婷", "吴强")
UNKNOWN_NAMES = ("城区亮化工程完成率", "临时占道经营整治户数", "背街小巷硬化改造长度")

# Own-layout styles and which units can use them.
MONTHLY_ONLY_STYLES = ("multi_sheet", "months_as_columns", "periods_rows")
# Layout families of issue 11, each given to one more department still on the template (decided
# after the plan, so the units and files planned before are unchanged): a monthly log with indicators
# as columns, a yearbook table with 全县/县城 over 本年/上年, and a long table with
# target/previous/change/rate columns.
EXTRA_STYLES = (("periods_rows", "monthly"), ("yearbook", "annual"), ("long_roles", "annual"))
OWN_STYLES = ("wide", "wide2", "wide_xls", "wide_ods", "long", "long_ods", "csv_gbk", "csv_utf8")


@dataclass
class CellRecord:
    sheet: str
    cell: str
    indicator: str
    period: str
    raw: str
    value: float | str | None
    expect: str  # ok | missing | <reason code>
    name: str | None = None
    name_kind: str | None = None  # name | alias | fullwidth | fuzzy | unknown


@dataclass
class SampleFile:
    path: str  # relative to the corpus root, posix
    data: bytes
    received: dt.datetime
    meta: dict
    cells: list[CellRecord] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Corpus:
    seed: int
    files: list[SampleFile]
    missing: list[dict]
    outliers: list[dict]
    styles: dict[str, dict]

    def manifest(self) -> dict:
        files = []
        for f in sorted(self.files, key=lambda f: f.path):
            entry = {"path": f.path, "sha256": f.sha256, "size": len(f.data)}
            entry["received_at"] = f.received.isoformat()
            entry.update(f.meta)
            entry["cells"] = [
                {k: v for k, v in c.__dict__.items() if v is not None or k == "value"} for c in f.cells
            ]
            files.append(entry)
        kinds: dict[str, int] = {}
        for f in files:
            for key in (f"kind:{f['kind']}", f"layout:{f['layout']}", f"format:{f['format']}"):
                kinds[key] = kinds.get(key, 0) + 1
            kinds[f"status:{f['expected']['status']}"] = kinds.get(f"status:{f['expected']['status']}", 0) + 1
        return {
            "corpus_version": CORPUS_VERSION,
            "seed": self.seed,
            "timezone": "+08:00",
            "notes": (
                "样例数据，非真实统计 / synthetic sample, not official statistics. received_at = file mtime. "
                "cells[].expect: ok | missing (empty marker: no value, no problem) | a reason code."
            ),
            "counts": dict(sorted(kinds.items())),
            "files": files,
            "missing_returns": self.missing,
            "outliers": self.outliers,
            "unit_styles": self.styles,
        }


# -- small helpers -----------------------------------------------------------------------------------
def _q(period: Period) -> int:
    return (period.start.month - 1) // 3 + 1


def period_title(period: Period, style: int = 0) -> str:
    if period.frequency == "monthly":
        return f"{period.start.year}年{period.start.month}月"
    if period.frequency == "quarterly":
        return f"{period.start.year}年第{CN_QUARTER[_q(period)]}季度"
    return f"{period.start.year}年度" if style else f"{period.start.year}年"


def long_period_text(period: Period, r: random.Random) -> str:
    if period.frequency == "monthly":
        return r.choice((f"{period.start.year}年{period.start.month}月", period.code))
    if period.frequency == "quarterly":
        return f"{period.start.year}年第{CN_QUARTER[_q(period)]}季度"
    return f"{period.start.year}年"


# The county's short name in titles (平昌 for 平昌县); build_corpus sets it from the profile, so a
# synthetic county (`python -m pipelines.sample --counties N`) titles its returns with its own name.
COUNTY_SHORT: contextvars.ContextVar[str] = contextvars.ContextVar("county_short", default="平昌")


def dept_name(unit: OrgUnit, r: random.Random) -> str:
    """The unit's name as a 2011-2016 title would write it, e.g. 平昌县环保局."""
    name, short = dept_short(unit, r), COUNTY_SHORT.get()
    if name.startswith("县"):
        return short + name
    return name if name.startswith(short) else short + "县" + name


def dept_short(unit: OrgUnit, r: random.Random) -> str:
    """The unit's own name of the time, e.g. 县环保局 (or its current name when it never changed)."""
    names = OLD_NAMES.get(unit.short_code)
    return r.choice(names) if names else unit.name_zh


def _fmt(v: float) -> str:
    return format(Decimal(repr(v)).normalize(), "f")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def messy(
    value: float | str | None, unit: str, r: random.Random, csv_mode: bool = False
) -> tuple[object, str]:
    """How a department would type `value`: (cell content, expect). Exactly recoverable."""
    if value is None:
        return r.choice(EMPTY_MARKERS) or None, "missing"
    if isinstance(value, str):
        return value, "ok"
    text = _fmt(value)
    roll = r.random()
    if roll < 0.35 and not csv_mode:
        return value, "ok"
    if roll < 0.55:
        return text, "ok"
    if roll < 0.65:
        return _fullwidth(text), "ok"
    if roll < 0.78 and unit == "%":
        return text + "%", "ok"
    if roll < 0.78 and unit == "‰":
        return text + "‰", "ok"
    if roll < 0.9 and abs(value) >= 1000:
        if abs(value) >= 10000 and r.random() < 0.5:
            return _fmt(float(Decimal(repr(value)) / 10000)) + "万", "ok"
        return f"{value:,.{max(len(text.split('.')[1]) if '.' in text else 0, 0)}f}", "ok"
    return (text if csv_mode else value), "ok"


def _name_variants(ind: Indicator, known: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """How offices write an indicator's name: the catalog name, an alias, full-width brackets, or a
    slightly different wording (kind "fuzzy": a filler word or a bracketed qualifier dropped) that
    is no other indicator's name."""
    out = [(ind.name_zh, "name")]
    out += [(a, "alias") for a in ind.aliases]
    if "(" in ind.name_zh:
        out.append((ind.name_zh.replace("(", "（").replace(")", "）"), "fullwidth"))
    fuzzy = []
    for filler in ("集中", "全年", "主要"):
        if filler in ind.name_zh and f"{filler}式" not in ind.name_zh and len(ind.name_zh) >= 8:
            fuzzy.append(ind.name_zh.replace(filler, "", 1))
            break
    bare = re.sub(r"\([^)]*\)", "", ind.name_zh).strip()
    if bare != ind.name_zh and len(bare) >= 6:
        fuzzy.append(bare)
    out += [(f, "fuzzy") for f in dict.fromkeys(fuzzy) if f not in known]
    return out


class Planner:
    def __init__(self, catalog: Catalog, profile: CountyProfile, seed: int, years, units):
        self.catalog = catalog
        self.profile = profile
        self.seed = seed
        self.years = set(years) if years else None
        self.unit_filter = set(units) if units else None
        self.traj = Trajectories(catalog, profile, seed)
        self.known_names = frozenset(n for i in catalog.indicators.values() for n in (i.name_zh, *i.aliases))
        self.all_units = templates.reporting_units(catalog, profile)
        self.assign = profile.assignments(catalog)
        self.styles = self._choose_styles()
        self.files: list[SampleFile] = []
        self.missing: list[dict] = []
        self.used_paths: set[str] = set()

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    # -- who sends what, how ------------------------------------------------------------------------
    def _choose_styles(self) -> dict[str, dict]:
        r = self.rng("styles")
        freq = {
            u.code: {
                f for f in FREQUENCIES if templates.unit_indicators(self.catalog, self.profile, u.code, f)
            }
            for u in self.all_units
        }
        monthly = sorted(u.short_code for u in self.all_units if "monthly" in freq[u.code])
        towns = sorted(u.short_code for u in self.all_units if u.level == "town")
        others = sorted(
            u.short_code for u in self.all_units if u.level != "town" and u.short_code not in monthly
        )
        r.shuffle(monthly)
        r.shuffle(towns)
        r.shuffle(others)
        styles = {u.short_code: {"style": "template", "template_from": None} for u in self.all_units}
        plan = [
            (monthly[0], "multi_sheet"),
            (monthly[1], "months_as_columns"),
            (monthly[2], "wide_xls"),
            (monthly[3], "long"),
        ]
        own = list(OWN_STYLES)
        for i, short in enumerate(others[: len(own) + 2]):
            plan.append((short, own[i % len(own)]))
        plan += [(towns[0], "csv_utf8"), (towns[1], "wide"), (towns[2], "long_ods")]
        for short, style in plan:
            styles[short] = {"style": style, "template_from": r.choice((2014, 2015, 2016, None, None))}
        by_short = {u.short_code: u for u in self.all_units}
        for style, needs in EXTRA_STYLES:
            # the first department still on the template that reports at the frequency it needs
            short = next(
                (
                    sh
                    for sh in sorted(styles)
                    if styles[sh]["style"] == "template"
                    and by_short[sh].level == "department"
                    and needs in freq[by_short[sh].code]
                ),
                None,
            )
            if short is not None:
                styles[short] = {"style": style, "template_from": None}
        return styles

    def style_for(self, unit: OrgUnit, period: Period) -> str:
        s = self.styles[unit.short_code]
        if s["template_from"] is not None and period.start.year >= s["template_from"]:
            return "template"
        return s["style"]

    def wanted(self, unit: OrgUnit) -> bool:
        return (
            self.unit_filter is None or unit.short_code in self.unit_filter or unit.code in self.unit_filter
        )

    def periods(self, frequency: str) -> list[Period]:
        ps = periods_between(self.profile.first_period, self.profile.last_period, frequency)
        return [p for p in ps if self.years is None or p.start.year in self.years]

    def due(self, period: Period) -> dt.date:
        return due_date(period, self.profile.due_working_days[period.frequency])

    def received_for(self, unit: OrgUnit, period: Period, late_rate: float = 0.12) -> dt.datetime:
        """On time mostly (between the period end and the due date), sometimes late."""
        r = self.rng("recv", unit.code, period.code)
        due = self.due(period)
        if r.random() < late_rate:
            day = add_working_days(due, r.randint(1, 12))
        else:
            first = period.end + dt.timedelta(days=1)
            days = [first + dt.timedelta(days=i) for i in range((due - first).days + 1)]
            days = [d for d in days if is_working_day(d)] or [due]
            day = r.choice(days[len(days) // 3 :])
        return dt.datetime(
            day.year, day.month, day.day, r.randint(9, 17), r.randint(0, 59), r.randint(0, 59), tzinfo=TZ
        )

    def indicators(self, unit: OrgUnit, frequency: str) -> list[Indicator]:
        return templates.unit_indicators(self.catalog, self.profile, unit.code, frequency)

    def value(self, unit: OrgUnit, ind: Indicator, period: Period):
        return self.traj.value(ind.code, unit.code, period)

    def may_blank(self, unit: OrgUnit, indicator: str, period: Period) -> bool:
        """Planted outliers are always reported, never left empty, and a return with fewer than three
        indicators is never left without values (that would be a `no_values` rejection)."""
        if len(self.indicators(unit, period.frequency)) < 3:
            return False
        return (indicator, self.traj.key(indicator, unit.code), period.code) not in OUTLIERS

    def previous(self, unit: OrgUnit, period: Period, inds: list[Indicator]) -> dict:
        prev_end = period.start - dt.timedelta(days=1)
        if prev_end < self.profile.first_period:
            return {}
        if period.frequency == "monthly":
            pp = month(prev_end.year, prev_end.month)
        elif period.frequency == "quarterly":
            pp = parse_period(f"{prev_end.year}-Q{(prev_end.month - 1) // 3 + 1}")
        else:
            pp = parse_period(str(prev_end.year))
        return {i.code: self.value(unit, i, pp) for i in inds}

    # -- file bookkeeping ---------------------------------------------------------------------------
    def folder(self, unit: OrgUnit) -> str:
        return f"{self.profile.code}/{unit.short_code}"

    def add(self, path: str, data: bytes, received: dt.datetime, meta: dict, cells=()) -> SampleFile:
        base, dot, ext = path.rpartition(".")
        n = 2
        while path in self.used_paths:
            path = f"{base}({n}).{ext}"
            n += 1
        self.used_paths.add(path)
        f = SampleFile(path, data, received, meta, list(cells))
        self.files.append(f)
        return f

    def meta(self, unit: OrgUnit, periods: list[Period], layout: str, fmt: str, received, **extra) -> dict:
        late = {}
        due = {}
        for p in periods:
            d = self.due(p)
            due[p.code] = d.isoformat()
            late[p.code] = working_days_late(d, received.date())
        m = {
            "org_code": unit.code,
            "unit": unit.short_code,
            "folder_unit": unit.short_code,
            "periods": [p.code for p in periods],
            "frequency": periods[0].frequency if periods else None,
            "layout": layout,
            "format": fmt,
            "kind": "return",
            "due": due,
            "late_working_days": late,
            "expected": {"status": "accepted", "reasons": [], "bad_cells": []},
        }
        m.update(extra)
        return m

    # -- templates --------------------------------------------------------------------------------------
    def template_return(
        self,
        unit: OrgUnit,
        period: Period,
        received: dt.datetime,
        *,
        values: dict | None = None,
        remarks: dict | None = None,
        meta_period: Period | None = None,
        name: str | None = None,
        blank_rate: float = 0.02,
    ) -> tuple[bytes, list[CellRecord], str]:
        shown = meta_period or period
        inds = self.indicators(unit, period.frequency)
        rows = templates.build_rows(
            self.catalog,
            self.profile,
            unit,
            shown,
            {(unit.code, k): v for k, v in self.previous(unit, shown, inds).items()},
        )
        r = self.rng("tpl", unit.code, period.code)
        vals: dict[str, object] = {}
        cells = []
        for i, row in enumerate(rows):
            code = row.indicator.code
            v = values[code] if values and code in values else self.value(unit, row.indicator, shown)
            ref = f"{templates.VALUE_COLUMN}{templates.FIRST_DATA_ROW + i}"
            if values is None and r.random() < blank_rate and self.may_blank(unit, code, shown):
                cells.append(CellRecord(templates.SHEET, ref, code, shown.code, "", None, "missing"))
                continue
            vals[code] = v
            cells.append(CellRecord(templates.SHEET, ref, code, shown.code, _raw(v), v, "ok"))
        generated = dt.datetime.combine(shown.end + dt.timedelta(days=1), dt.time(8, 0))
        data = templates.render_workbook(
            self.catalog,
            self.profile,
            unit,
            shown,
            rows,
            generated_at=generated,
            values=vals,
            remarks=remarks,
        )
        fname = name or templates.template_file_name(shown, unit)
        return data, cells, fname

    # -- departments' own layouts ---------------------------------------------------------------------
    def row_name(self, unit: OrgUnit, ind: Indicator) -> tuple[str, str]:
        r = self.rng("name", unit.code, ind.code)
        variants = _name_variants(ind, self.known_names)
        roll = r.random()
        fuzzy = [v for v in variants if v[1] == "fuzzy"]
        rest = [v for v in variants[1:] if v[1] != "fuzzy"]
        if roll < 0.55:
            return variants[0]
        if roll < 0.75 and fuzzy:
            return r.choice(fuzzy)
        return r.choice(rest) if rest else variants[0]

    def wide_grid(
        self,
        unit: OrgUnit,
        period: Period,
        r: random.Random,
        *,
        two_row: bool,
        sheet: str = "Sheet1",
        title: str | None = None,
        extra_rows: Iterable[tuple[str, object, str, str, str]] = (),
        values: dict | None = None,
    ) -> tuple[writers.Grid, list[CellRecord]]:
        inds = self.indicators(unit, period.frequency)
        dn = dept_name(unit, r)
        title = title or f"{dn}{period_title(period, 1)}创建工作指标完成情况表"
        value_head = {
            "monthly": ("本月数", "本期数值", "本月"),
            "quarterly": ("本季度", "本期数值", "完成值"),
            "annual": ("本年", "年度值", "完成值", "实际值"),
        }[period.frequency]
        vh = r.choice(value_head)
        name_head = r.choice(("指标名称", "指标", "项目", "考核指标"))
        g = writers.Grid(sheet, widths={0: 6, 1: 44, 2: 12, 3: 12, 4: 14, 5: 18}, title_rows=1)
        g.add([title])
        g.merges.append((0, 0, 0, 5))
        units_all = {i.unit for i in inds}
        if len(units_all) == 1 and r.random() < 0.7:
            g.add([f"单位：{next(iter(units_all))}"])
        else:
            g.add([f"填报单位：{dn}（盖章）"])
        if two_row:
            h = g.add(["序号", name_head, "计量单位", "标准值", period_title(period), None])
            g.add([None, None, None, None, r.choice(("实际值", "完成值")), "备注"])
            g.merges += [(h, 0, h + 1, 0), (h, 1, h + 1, 1), (h, 2, h + 1, 2), (h, 3, h + 1, 3)]
        else:
            g.add(["序号", name_head, "计量单位", r.choice(("目标值", "标准值")), vh, "备注"])
        cells: list[CellRecord] = []
        blank_at = r.randrange(len(inds) + 1) if len(inds) > 3 else -1
        for n, ind in enumerate(inds, start=1):
            if n - 1 == blank_at:
                g.add([])
            name, kind = self.row_name(unit, ind)
            v = values[ind.code] if values and ind.code in values else self.value(unit, ind, period)
            if values is None and r.random() < 0.03 and self.may_blank(unit, ind.code, period):
                v = None
            content, expect = messy(v, ind.unit, r)
            target = templates.threshold_text(self.catalog, ind.code, period.end, self.profile.variants)
            row = g.add([n, name, ind.unit, target if target != "—" else None, content, None])
            cells.append(
                CellRecord(
                    sheet,
                    xl_rowcol_to_cell(row, 4),
                    ind.code,
                    period.code,
                    _raw(content),
                    v if expect != "missing" else None,
                    expect,
                    name,
                    kind,
                )
            )
        for name, content, expect, kind, unit_ in extra_rows:
            row = g.add(
                [
                    len(inds) + 1 + len([c for c in cells if c.expect == expect]),
                    name,
                    unit_,
                    None,
                    content,
                    None,
                ]
            )
            cells.append(
                CellRecord(
                    sheet, xl_rowcol_to_cell(row, 4), "", period.code, _raw(content), None, expect, name, kind
                )
            )
        if r.random() < 0.5:
            g.add([None, "合计", None, None, len(inds), None])
        g.add([])
        day = self.due(period) - dt.timedelta(days=r.randint(0, 3))
        g.add(
            [
                f"填报单位：{dn}　　审核人：{r.choice(PEOPLE)}　　填报日期：{day.year}年{day.month}月{day.day}日"
            ]
        )
        g.merges.append((len(g.rows) - 1, 0, len(g.rows) - 1, 5))
        return g, cells

    def long_grid(
        self, unit: OrgUnit, periods: list[Period], r: random.Random
    ) -> tuple[writers.Grid, list[CellRecord]]:
        g = writers.Grid("Sheet1", widths={0: 44, 1: 14, 2: 12, 3: 12}, title_rows=1)
        g.add([f"{dept_name(unit, r)}{period_title(periods[0], 1)}指标数据"])
        g.add(["指标名称", "报告期", "数值", "单位"])
        cells = []
        for p in periods:
            for ind in self.indicators(unit, p.frequency):
                name, kind = self.row_name(unit, ind)
                v = self.value(unit, ind, p)
                if r.random() < 0.03 and self.may_blank(unit, ind.code, p):
                    v = None
                content, expect = messy(v, ind.unit, r)
                row = g.add([name, long_period_text(p, r), content, ind.unit])
                cells.append(
                    CellRecord(
                        "Sheet1",
                        xl_rowcol_to_cell(row, 2),
                        ind.code,
                        p.code,
                        _raw(content),
                        v if expect != "missing" else None,
                        expect,
                        name,
                        kind,
                    )
                )
        return g, cells

    def csv_rows(
        self, unit: OrgUnit, period: Period, r: random.Random
    ) -> tuple[list[list], list[CellRecord]]:
        rows: list[list] = [["指标名称", "数值", "计量单位"]]
        cells = []
        for ind in self.indicators(unit, period.frequency):
            name, kind = self.row_name(unit, ind)
            v = self.value(unit, ind, period)
            if r.random() < 0.03 and self.may_blank(unit, ind.code, period):
                v = None
            content, expect = messy(v, ind.unit, r, csv_mode=True)
            rows.append([name, content, ind.unit])
            cells.append(
                CellRecord(
                    "csv",
                    f"B{len(rows)}",
                    ind.code,
                    period.code,
                    _raw(content),
                    v if expect != "missing" else None,
                    expect,
                    name,
                    kind,
                )
            )
        return rows, cells

    def own_return(self, unit: OrgUnit, period: Period, style: str, received: dt.datetime) -> None:
        r = self.rng("own", unit.code, period.code)
        short = dept_short(unit, r).removeprefix("县")
        stem = r.choice(
            (f"{period_title(period, 1)}{short}创建指标", f"{short}{period_title(period, 1)}报表")
        )
        folder = self.folder(unit)
        if style == "yearbook" and period.frequency == "annual":
            g, cells = self.yearbook_grid(unit, period, r)
            meta = self.meta(unit, [period], "yearbook", "xlsx", received)
            self.add(
                f"{folder}/统计年鉴{period.start.year}-主要指标.xlsx",
                writers.xlsx_bytes([g]),
                received,
                meta,
                cells,
            )
            return
        if style == "long_roles":
            g, cells = self.long_roles_grid(unit, period, r)
            meta = self.meta(unit, [period], "long", "xlsx", received)
            self.add(f"{folder}/{stem}（含目标与同比）.xlsx", writers.xlsx_bytes([g]), received, meta, cells)
            return
        if style in (
            "wide",
            "wide2",
            "wide_xls",
            "wide_ods",
            "multi_sheet",
            "months_as_columns",
            "periods_rows",
            "yearbook",
        ):
            g, cells = self.wide_grid(unit, period, r, two_row=(style == "wide2" or r.random() < 0.25))
            if style == "wide_xls":
                data, fmt = writers.xls_bytes([g]), "xls"
            elif style == "wide_ods":
                data, fmt = writers.ods_bytes([g]), "ods"
            else:
                data, fmt = writers.xlsx_bytes([g]), "xlsx"
            layout = "long"  # one row per indicator (the parser's family names, layouts/)
        elif style in ("long", "long_ods"):
            g, cells = self.long_grid(unit, [period], r)
            fmt = "ods" if style == "long_ods" else "xlsx"
            data = writers.ods_bytes([g]) if fmt == "ods" else writers.xlsx_bytes([g])
            layout = "periods_as_rows"  # 指标 | 报告期 | 数值: one row per indicator and period
        else:  # csv
            rows, cells = self.csv_rows(unit, period, r)
            enc = "gbk" if style == "csv_gbk" else "utf-8-sig"
            try:
                data = writers.csv_bytes(rows, enc)
            except UnicodeEncodeError:
                enc = "utf-8-sig"
                data = writers.csv_bytes(rows, enc)
            fmt, layout = "csv", "long"
            meta = self.meta(unit, [period], layout, fmt, received, encoding=enc)
            added = self.add(f"{folder}/{period_title(period)}_{short}指标.csv", data, received, meta, cells)
            sheet = added.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]  # readers name a CSV's sheet by its stem
            for c in added.cells:
                c.sheet = sheet
            return
        meta = self.meta(unit, [period], layout, fmt, received)
        self.add(f"{folder}/{stem}.{fmt}", data, received, meta, cells)

    def multi_sheet_return(self, unit: OrgUnit, months: list[Period], received: dt.datetime) -> None:
        r = self.rng("multi", unit.code, months[0].code)
        with_year = r.random() < 0.5
        sheets, cells = [], []
        for p in months:
            name = f"{p.start.year}年{p.start.month}月" if with_year else f"{p.start.month}月"
            title = f"{dept_name(unit, r)}{p.start.year}年{p.start.month}月创建指标月报"
            g, c = self.wide_grid(unit, p, r, two_row=False, sheet=name, title=title)
            sheets.append(g)
            cells += c
        meta = self.meta(unit, months, "sheet_per_period", "xlsx", received)
        last = months[-1]
        q = f"{last.start.year}年第{CN_QUARTER[_q(last)]}季度" if len(months) > 1 else period_title(last)
        self.add(
            f"{self.folder(unit)}/{q}各月指标月报.xlsx", writers.xlsx_bytes(sheets), received, meta, cells
        )

    def yearbook_grid(
        self, unit: OrgUnit, period: Period, r: random.Random
    ) -> tuple[writers.Grid, list[CellRecord]]:
        """A statistical yearbook table: 全县 | 县城 over 本年 | 上年, a group row, names indented with
        full-width spaces, a 注 row. Only 全县 本年 is the county's figure of the year."""
        inds = self.indicators(unit, "annual")
        y = period.start.year
        prev = self.previous(unit, period, inds)
        g = writers.Grid("表2-1", widths={0: 44, 1: 10, 2: 12, 3: 12, 4: 12, 5: 12}, title_rows=1)
        g.add([f"表2-1　{COUNTY_SHORT.get()}县主要指标（{y}年）"])
        g.merges.append((0, 0, 0, 5))
        h = g.add(["指标", "单位", "全县", None, "县城", None])
        g.add([None, None, "本年", "上年", "本年", "上年"])
        g.merges += [(h, 0, h + 1, 0), (h, 1, h + 1, 1), (h, 2, h, 3), (h, 4, h, 5)]
        g.add(["一、主要指标"])
        cells = []
        for ind in inds:
            name, kind = self.row_name(unit, ind)
            v = self.value(unit, ind, period)
            content, expect = messy(v, ind.unit, r)
            pv = prev.get(ind.code)
            seat = None
            if isinstance(v, float):  # the seat's own figure: a different subject, never loaded
                seat = round(v * r.uniform(0.9, 1.1), 2)
                if ind.unit in ("%", "‰"):
                    seat = min(seat, 100.0 if ind.unit == "%" else 1000.0)
            row = g.add(["\u3000\u3000" + name, ind.unit, content, pv, seat, None])
            cells.append(
                CellRecord(
                    "表2-1",
                    xl_rowcol_to_cell(row, 2),
                    ind.code,
                    period.code,
                    _raw(content),
                    v if expect != "missing" else None,
                    expect,
                    name,
                    kind,
                )
            )
        g.add(["注：本表数据为年报快报数，县城指县城建成区。"])
        return g, cells

    def long_roles_grid(
        self, unit: OrgUnit, period: Period, r: random.Random
    ) -> tuple[writers.Grid, list[CellRecord]]:
        """A long table with target, previous-year, change and completion-rate columns around the
        actual value (目标值 | 上年同期 | 本期数 | 同比增减(%) | 完成率(%)): only 本期数 is loaded."""
        inds = self.indicators(unit, period.frequency)
        prev = self.previous(unit, period, inds)
        g = writers.Grid(
            "Sheet1", widths={0: 6, 1: 44, 2: 10, 3: 12, 4: 12, 5: 12, 6: 12, 7: 12}, title_rows=1
        )
        g.add([f"{dept_name(unit, r)}{period_title(period, 1)}创建指标完成情况（含目标与同比）"])
        g.merges.append((0, 0, 0, 7))
        g.add(["序号", "指标名称", "计量单位", "目标值", "上年同期", "本期数", "同比增减(%)", "完成率(%)"])
        cells = []
        for n, ind in enumerate(inds, start=1):
            name, kind = self.row_name(unit, ind)
            v = self.value(unit, ind, period)
            content, expect = messy(v, ind.unit, r)
            target = templates.threshold_text(self.catalog, ind.code, period.end, self.profile.variants)
            pv = prev.get(ind.code)
            change = rate = None
            if isinstance(v, float) and isinstance(pv, float) and pv:
                change = round((v - pv) / abs(pv) * 100, 1)
            m = re.search(r"[\d.]+", target or "")
            if isinstance(v, float) and m and float(m.group()) > 0:
                rate = round(v / float(m.group()) * 100, 1)
            row = g.add([n, name, ind.unit, target if target != "—" else None, pv, content, change, rate])
            cells.append(
                CellRecord(
                    "Sheet1",
                    xl_rowcol_to_cell(row, 5),
                    ind.code,
                    period.code,
                    _raw(content),
                    v if expect != "missing" else None,
                    expect,
                    name,
                    kind,
                )
            )
        return g, cells

    def periods_rows_return(self, unit: OrgUnit, months: list[Period], received: dt.datetime) -> None:
        """A monthly log: one row per month, indicators as columns with their units in brackets."""
        r = self.rng("por", unit.code, months[0].code)
        y = months[0].start.year
        inds = self.indicators(unit, "monthly")
        g = writers.Grid("Sheet1", widths={0: 12, **{i + 1: 30 for i in range(len(inds))}}, title_rows=1)
        g.add([f"{dept_name(unit, r)}{y}年逐月监测台账"])
        g.merges.append((0, 0, 0, len(inds)))
        heads = []
        for ind in inds:
            name, _kind = self.row_name(unit, ind)
            heads.append((name, f"{name}({ind.unit})" if ind.unit not in ("-", "") else name))
        g.add(["月份"] + [h for _n, h in heads])
        cells = []
        with_year = r.random() < 0.5
        for p in months:
            row_i = len(g.rows)
            row: list[object] = [f"{y}年{p.start.month}月" if with_year else f"{p.start.month}月"]
            for c, ind in enumerate(inds, start=1):
                v = self.value(unit, ind, p)
                content, expect = messy(v, ind.unit, r)
                row.append(content)
                cells.append(
                    CellRecord(
                        "Sheet1",
                        xl_rowcol_to_cell(row_i, c),
                        ind.code,
                        p.code,
                        _raw(content),
                        v,
                        expect,
                        heads[c - 1][0],
                        "name",
                    )
                )
            g.add(row)
        meta = self.meta(unit, months, "periods_as_rows", "xlsx", received)
        self.add(
            f"{self.folder(unit)}/{y}年逐月监测台账.xlsx", writers.xlsx_bytes([g]), received, meta, cells
        )

    def months_columns_return(self, unit: OrgUnit, months: list[Period], received: dt.datetime) -> None:
        r = self.rng("moc", unit.code, months[0].code)
        y = months[0].start.year
        inds = self.indicators(unit, "monthly")
        g = writers.Grid("Sheet1", widths={0: 44, 1: 10}, title_rows=1)
        g.add([f"{dept_name(unit, r)}{y}年创建指标分月统计表"])
        g.merges.append((0, 0, 0, 13))
        g.add(["指标名称", "单位"] + [f"{m}月" for m in range(1, 13)])
        cells = []
        for ind in inds:
            name, kind = self.row_name(unit, ind)
            row_i = len(g.rows)
            row: list[object] = [name, ind.unit] + [None] * 12
            for p in months:
                v = self.value(unit, ind, p)
                content, expect = messy(v, ind.unit, r)
                col = 1 + p.start.month
                row[col] = content
                cells.append(
                    CellRecord(
                        "Sheet1",
                        xl_rowcol_to_cell(row_i, col),
                        ind.code,
                        p.code,
                        _raw(content),
                        v,
                        expect,
                        name,
                        kind,
                    )
                )
            g.add(row)
        meta = self.meta(unit, months, "periods_as_columns", "xlsx", received)
        self.add(
            f"{self.folder(unit)}/{y}年分月指标汇总.xlsx", writers.xlsx_bytes([g]), received, meta, cells
        )

    # -- the plan ---------------------------------------------------------------------------------------
    def plan_regular(self, special_slots: set[tuple[str, str]]) -> None:
        for unit in self.all_units:
            if not self.wanted(unit):
                continue
            for freq in FREQUENCIES:
                if not self.indicators(unit, freq):
                    continue
                bundles: dict[str, list[Period]] = {}
                for period in self.periods(freq):
                    if (unit.short_code, period.code) in special_slots:
                        continue
                    style = self.style_for(unit, period)
                    r = self.rng("slot", unit.code, period.code)
                    if r.random() < 0.03:
                        self.missing.append(
                            {
                                "org_code": unit.code,
                                "period": period.code,
                                "frequency": freq,
                                "due": self.due(period).isoformat(),
                            }
                        )
                        continue
                    if freq == "monthly" and style in MONTHLY_ONLY_STYLES:
                        key = (
                            f"{period.start.year}-Q{_q(period)}"
                            if style == "multi_sheet"
                            else str(period.start.year)
                        )
                        bundles.setdefault(key, []).append(period)
                        continue
                    received = self.received_for(unit, period)
                    if style == "template":
                        data, cells, fname = self.template_return(unit, period, received)
                        meta = self.meta(
                            unit,
                            [period],
                            "template",
                            "xlsx",
                            received,
                            template_version=templates.TEMPLATE_VERSION,
                        )
                        self.add(f"{self.folder(unit)}/{fname}", data, received, meta, cells)
                    else:
                        own = style if style not in MONTHLY_ONLY_STYLES else "wide"
                        if own == "yearbook" and freq != "annual":
                            own = "wide"
                        self.own_return(unit, period, own, received)
                for months in bundles.values():
                    received = self.received_for(unit, months[-1], late_rate=0.05)
                    if self.style_for(unit, months[0]) == "multi_sheet":
                        self.multi_sheet_return(unit, months, received)
                    elif self.style_for(unit, months[0]) == "periods_rows":
                        self.periods_rows_return(unit, months, received)
                    else:
                        self.months_columns_return(unit, months, received)

    def unit(self, short: str) -> OrgUnit:
        return next(u for u in self.all_units if u.short_code == short)

    def plan_defects(self) -> set[tuple[str, str]]:
        """Plant the deliberate defects; return the (unit, period) slots they replace."""
        taken: set[tuple[str, str]] = set()

        def active(short: str, year: int) -> bool:
            return self.wanted(self.unit(short)) and (self.years is None or year in self.years)

        def at(day: dt.date, hh: int = 10, mm: int = 15) -> dt.datetime:
            return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)

        # 1. empty file (an extra file, nothing replaced)
        if active("cgj", 2013):
            u = self.unit("cgj")
            m = self.meta(u, [], "unknown", "xlsx", at(dt.date(2013, 4, 8)), kind="bad:empty")
            m["expected"] = {"status": "rejected", "reasons": ["empty_file"], "bad_cells": []}
            self.add(f"{self.folder(u)}/新建 Microsoft Excel 工作表.xlsx", b"", at(dt.date(2013, 4, 8)), m)
        # 2. truncated archive: wjw's 2014-Q2 return arrives cut in half (the slot is not loaded)
        if active("wjw", 2014):
            u, p = self.unit("wjw"), parse_period("2014-Q2")
            rec = at(self.due(p) - dt.timedelta(days=2), 16, 5)
            data, cells, fname = self.template_return(u, p, rec)
            m = self.meta(u, [p], "template", "xlsx", rec, kind="bad:truncated")
            m["expected"] = {"status": "rejected", "reasons": ["corrupt_archive"], "bad_cells": []}
            self.add(f"{self.folder(u)}/{fname}", data[: len(data) // 2], rec, m)
            taken.add(("wjw", p.code))
        # 3. period in the future: sthjj fills September's form in August (an extra file)
        if active("sthjj", 2014):
            u, p = self.unit("sthjj"), parse_period("2014-09")
            rec = at(dt.date(2014, 8, 15), 11, 20)
            data, cells, fname = self.template_return(u, p, rec)
            m = self.meta(
                u,
                [p],
                "template",
                "xlsx",
                rec,
                kind="bad:period_in_future",
                template_version=templates.TEMPLATE_VERSION,
            )
            m["expected"] = {"status": "rejected", "reasons": ["period_in_future"], "bad_cells": []}
            self.add(f"{self.folder(u)}/{fname}", data, rec, m, [])
        # 4. period outside the reporting calendar: an old 2010 report sent again
        if active("slj", 2013):
            u = self.unit("slj")
            p = parse_period("2010-06")
            r = self.rng("bad", "old")
            g, cells = self.wide_grid(
                u, p, r, two_row=False, title=f"{dept_name(u, r)}2010年6月水质监测指标完成情况表"
            )
            rec = at(dt.date(2013, 7, 3), 9, 40)
            m = self.meta(u, [p], "long", "xlsx", rec, kind="bad:period_not_expected")
            m["expected"] = {"status": "rejected", "reasons": ["period_not_expected"], "bad_cells": []}
            self.add(f"{self.folder(u)}/2010年6月水质月报.xlsx", writers.xlsx_bytes([g]), rec, m, [])
        # 5. unknown indicator names: wmb's 2013 annual return has rows nobody defined
        if active("wmb", 2013):
            u, p = self.unit("wmb"), parse_period("2013")
            r = self.rng("bad", "unknown")
            rec = self.received_for(u, p)
            extra = [
                (n, v, "unknown_indicator", "unknown", unit_)
                for n, v, unit_ in zip(UNKNOWN_NAMES, (92.5, "136", 8.5), ("%", "户", "km"), strict=True)
            ]
            g, cells = self.wide_grid(u, p, r, two_row=False, extra_rows=extra)
            m = self.meta(u, [p], "long", "xlsx", rec, kind="bad:unknown_indicator")
            bad = [_bad(c) for c in cells if c.expect == "unknown_indicator"]
            m["expected"] = {"status": "partial", "reasons": ["unknown_indicator"], "bad_cells": bad}
            self.add(
                f"{self.folder(u)}/{period_title(p, 1)}文明城市创建指标.xlsx",
                writers.xlsx_bytes([g]),
                rec,
                m,
                cells,
            )
            taken.add(("wmb", p.code))
        # 6. values impossible for their unit: percent 135 and a negative count in sthjj's 2013 annual form
        if active("sthjj", 2013):
            u, p = self.unit("sthjj"), parse_period("2013")
            rec = self.received_for(u, p)
            inds = self.indicators(u, "annual")
            pct = next(i for i in inds if i.unit == "%")
            count = next(i for i in inds if i.unit in ("起", "次/年"))
            vals = {i.code: self.value(u, i, p) for i in inds}
            vals[pct.code], vals[count.code] = 135.0, -1.0
            data, cells, fname = self.template_return(u, p, rec, values=vals)
            for c in cells:
                if c.indicator in (pct.code, count.code):
                    c.expect, c.value = "out_of_range", None
            m = self.meta(
                u,
                [p],
                "template",
                "xlsx",
                rec,
                kind="bad:out_of_range",
                template_version=templates.TEMPLATE_VERSION,
            )
            m["expected"] = {
                "status": "partial",
                "reasons": ["out_of_range"],
                "bad_cells": [_bad(c) for c in cells if c.expect == "out_of_range"],
            }
            self.add(f"{self.folder(u)}/{fname}", data, rec, m, cells)
            taken.add(("sthjj", p.code))
        # 7. a forestry bureau return dropped in the environment bureau's folder
        if active("lyj", 2014) and active("sthjj", 2014):
            u, p = self.unit("lyj"), parse_period("2014")
            r = self.rng("bad", "folder")
            rec = self.received_for(u, p)
            g, cells = self.wide_grid(
                u,
                p,
                r,
                two_row=True,
                title=f"{COUNTY_SHORT.get()}县林业局{period_title(p, 1)}森林城市创建指标完成情况表",
            )
            m = self.meta(u, [p], "long", "xlsx", rec, kind="bad:wrong_folder", folder_unit="sthjj")
            m["expected"] = {"status": "rejected", "reasons": ["wrong_folder"], "bad_cells": []}
            self.add(
                f"{self.folder(self.unit('sthjj'))}/林业局{period_title(p, 1)}指标.xlsx",
                writers.xlsx_bytes([g]),
                rec,
                m,
                [],
            )
            taken.add(("lyj", p.code))
        # 8. exact duplicate: slj's 2013-Q3 form saved again under another name, sent two days later
        if active("slj", 2013):
            u, p = self.unit("slj"), parse_period("2013-Q3")
            rec = self.received_for(u, p, late_rate=0)
            data, cells, fname = self.template_return(u, p, rec)
            m = self.meta(u, [p], "template", "xlsx", rec, template_version=templates.TEMPLATE_VERSION)
            orig = self.add(f"{self.folder(u)}/{fname}", data, rec, m, cells)
            rec2 = rec + dt.timedelta(days=2)
            m2 = self.meta(
                u,
                [p],
                "template",
                "xlsx",
                rec2,
                kind="duplicate",
                duplicate_of=orig.path,
                template_version=templates.TEMPLATE_VERSION,
            )
            m2["expected"] = {"status": "duplicate", "reasons": ["duplicate_file"], "bad_cells": []}
            self.add(f"{self.folder(u)}/水务局2013年第三季度报表(副本).xlsx", data, rec2, m2, [])
            taken.add(("slj", p.code))
        # 9. corrected resubmission: sthjj's May 2014 form, three values changed, six days later
        if active("sthjj", 2014):
            u, p = self.unit("sthjj"), parse_period("2014-05")
            rec = self.received_for(u, p, late_rate=0)
            inds = self.indicators(u, "monthly")
            vals = {i.code: self.value(u, i, p) for i in inds}
            data, cells, fname = self.template_return(u, p, rec, values=vals)
            m = self.meta(u, [p], "template", "xlsx", rec, template_version=templates.TEMPLATE_VERSION)
            orig = self.add(f"{self.folder(u)}/{fname}", data, rec, m, cells)
            orig.meta["superseded_by"] = f"{self.folder(u)}/{p.code}_{u.short_code}_{u.name_zh}（更正）.xlsx"
            fixed = dict(vals)
            changed = []
            for i in [i for i in inds if i.value_type == "number"][:3]:
                fixed[i.code] = round(
                    min(float(vals[i.code]) + 1.3, 100.0) if i.unit == "%" else vals[i.code] * 1.05, 1
                )
                if fixed[i.code] == vals[i.code]:
                    fixed[i.code] = round(vals[i.code] - 0.7, 1)
                changed.append({"indicator": i.code, "old": vals[i.code], "new": fixed[i.code]})
            remarks = {c["indicator"]: "更正" for c in changed}
            rec2 = rec + dt.timedelta(days=6)
            data2, cells2, _ = self.template_return(u, p, rec2, values=fixed, remarks=remarks)
            m2 = self.meta(
                u,
                [p],
                "template",
                "xlsx",
                rec2,
                kind="resubmission",
                supersedes=orig.path,
                changed_values=changed,
                template_version=templates.TEMPLATE_VERSION,
            )
            self.add(
                f"{self.folder(u)}/{p.code}_{u.short_code}_{u.name_zh}（更正）.xlsx", data2, rec2, m2, cells2
            )
            taken.add(("sthjj", p.code))
        return taken

    def outlier_list(self) -> list[dict]:
        out = []
        for (ind, key, period), (value, note) in sorted(OUTLIERS.items()):
            for f in self.files:
                for c in f.cells:
                    if (
                        c.indicator == ind
                        and c.period == period
                        and c.expect == "ok"
                        and (
                            key != "county" or f.meta["org_code"] not in {t.code for t in self.profile.towns}
                        )
                    ):
                        out.append(
                            {
                                "path": f.path,
                                "sheet": c.sheet,
                                "cell": c.cell,
                                "indicator": ind,
                                "period": period,
                                "org_code": f.meta["org_code"],
                                "value": value,
                                "note": note,
                            }
                        )
        return out


def _raw(content: object) -> str:
    if content is None:
        return ""
    if isinstance(content, float):
        return _fmt(content)
    return str(content)


def _bad(c: CellRecord) -> dict:
    return {
        "sheet": c.sheet,
        "cell": c.cell,
        "indicator": c.indicator or None,
        "name": c.name,
        "period": c.period,
        "raw": c.raw,
        "reason": c.expect,
    }


def build_corpus(
    catalog: Catalog,
    profile: CountyProfile,
    seed: int = DEFAULT_SEED,
    years: Iterable[int] | None = None,
    units: Iterable[str] | None = None,
) -> Corpus:
    """Plan the whole corpus in memory. `years` / `units` (short codes) make a reduced corpus for tests."""
    token = COUNTY_SHORT.set(profile.name_zh.removesuffix("县"))
    try:
        planner = Planner(catalog, profile, seed, years, units)
        taken = planner.plan_defects()
        planner.plan_regular(taken)
    finally:
        COUNTY_SHORT.reset(token)
    return Corpus(seed, planner.files, planner.missing, planner.outlier_list(), planner.styles)


@dataclass(frozen=True)
class WriteReport:
    written: int
    unchanged: int
    removed: int
    total_bytes: int
    manifest_written: bool


def _manifest_bytes(corpus: Corpus) -> bytes:
    return (json.dumps(corpus.manifest(), ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode(
        "utf-8"
    )


def write_corpus(corpus: Corpus, out_dir: Path) -> WriteReport:
    """Write the corpus under `out_dir`; leave files that already hold the same bytes untouched."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    old_paths: set[str] = set()
    if manifest_path.exists():
        try:
            old_paths = {f["path"] for f in json.loads(manifest_path.read_text(encoding="utf-8"))["files"]}
        except (ValueError, KeyError, TypeError):
            old_paths = set()
    written = unchanged = 0
    for f in corpus.files:
        path = out_dir / f.path
        ts = f.received.timestamp()
        if path.is_file() and path.stat().st_size == len(f.data) and path.read_bytes() == f.data:
            unchanged += 1
            if int(path.stat().st_mtime) != int(ts):
                os.utime(path, (ts, ts))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(f.data)
        os.replace(tmp, path)
        os.utime(path, (ts, ts))
        written += 1
    new_paths = {f.path for f in corpus.files}
    removed = 0
    for stale in sorted(old_paths - new_paths):
        p = out_dir / stale
        if p.is_file():
            p.unlink()
            removed += 1
    data = _manifest_bytes(corpus)
    manifest_written = not (manifest_path.is_file() and manifest_path.read_bytes() == data)
    if manifest_written:
        manifest_path.write_bytes(data)
    total = sum(len(f.data) for f in corpus.files) + len(data)
    from pipelines.sample.plan_process import write_sample  # issue 17: 督查 sheets, signings, acceptance

    write_sample(out_dir, corpus.seed)
    from pipelines.sample.evidence import write_sample_evidence  # issue 16: the archive's sample evidence

    write_sample_evidence(out_dir, corpus.seed)
    return WriteReport(written, unchanged, removed, total, manifest_written)
