"""Parse one departmental return into values with cell lineage and problems with reasons.

`parse_file(path, ctx)` never raises and never hangs (readers are bounded; see `readers.py`).

Steps:
1. Read the file once (`readers.read_book`); a reading problem is a file-level problem.
2. Layout: a sheet `_meta` with `template_version` → the platform template (codes in column B,
   values in column G, as the metadata says). Otherwise each visible sheet is searched for a header
   row (known column names, exact then fuzzy, one- or two-row headers), and the sheet is
   `months_as_columns` (1月 … 12月), `long` (a 报告期 column) or `wide`; several wide sheets make a
   `multi_sheet` return; CSV files are `csv`.
3. Unit and period are detected from template metadata, title rows, sheet names, the file name,
   then header columns (and the folder, for the unit), in that order; the source that decided is
   recorded. A unit found in the content that differs from the folder's unit rejects the file
   (`wrong_folder`).
4. Each value cell is normalised (`normalize.normalize_cell`), matched to its indicator
   (`matching.IndicatorMatcher`) and checked: `not_a_number`, `wrong_unit`, `out_of_range` (the
   unit's possible range from the catalog), `conflicting_values` (same indicator × period twice
   with different values: both rejected). Qualitative indicators keep `value_text`.
5. Periods: later than the received date (file mtime) or than `ctx.today` → `period_in_future`
   (a period is "later" when it starts after that date); outside the county's reporting calendar →
   `period_not_expected`. With one period per file these reject the file; in files holding several
   periods they reject only that period's values.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.catalog.model import Catalog
from pipelines.reporting_calendar import CalendarError, Period, parse_period, periods_between
from pipelines.returns.cells import a1
from pipelines.returns.layouts import FAMILY_NAMES_ZH, mapped
from pipelines.returns.layouts.base import Reading
from pipelines.returns.layouts.cache import read_sheet_cached
from pipelines.returns.layouts.table import FOOTER_PREFIXES, Classifier
from pipelines.returns.matching import (
    VALUE_RANK,
    HeaderMatch,
    HeaderMatcher,
    IndicatorMatch,
    IndicatorMatcher,
    OrgMatcher,
    name_key,
)
from pipelines.returns.model import REASONS, CellValue, ParseContext, ParsedReturn, Problem
from pipelines.returns.normalize import (
    Norm,
    clean_text,
    find_period,
    find_year,
    format_number,
    month_of_header,
    normalize_cell,
    period_from_cell,
)
from pipelines.returns.readers import Book, ReadError, Sheet, read_book

META_SHEET = "_meta"
HEADER_SCAN_ROWS = 40
MAX_NAME_LENGTH = 200
MAX_CELL_PROBLEMS = 200  # unknown-name cells kept per file when nothing else loads

_FOOTER_PREFIXES = (*FOOTER_PREFIXES, "注:", "注：", "说明：", "备注：")
_SUBTOTAL = re.compile(r"^(合\s*计|小\s*计|总\s*计)")
_NUMBERING_ROW = frozenset({"甲", "乙", "丙", "丁", "a", "b", "c", "A", "B", "C", "栏次"})
_UNIT_SYNONYMS = {"百分比": "%", "百分率": "%", "千分比": "‰", "千分率": "‰", "db": "dB(A)", "分贝": "dB(A)"}
_period = functools.lru_cache(maxsize=4096)(parse_period)
_EXT_FORMAT = {".xlsx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".ods": "ods", ".csv": "csv"}


# --- cached per-context resources --------------------------------------------------------------


@dataclass
class _Resources:
    catalog: Catalog
    indicators: IndicatorMatcher
    headers: HeaderMatcher
    orgs: OrgMatcher
    county_codes: frozenset[str]
    unit_ranges: dict[str, tuple[float | None, float | None]]
    unit_keys: dict[str, str]  # normalised unit text → catalog unit
    expected: dict[str, frozenset[str]]  # county code → expected period codes
    profiles: dict[str, object]
    org_codes: frozenset[str]
    assigned: frozenset[tuple[str, str]]  # (indicator, org code) pairs from the profiles' assignments
    primary: dict[tuple[str, str], str]  # (county, indicator) → primary reporting org
    places: object | None
    fraction_suspect: frozenset[str]  # % indicators whose thresholds are >= 10 %: 0.852 is a fraction
    classifier: Classifier


# keyed by the catalog and profile objects (loaded once per process, see pipelines.catalog.loader), so
# every run's new ParseContext in a long-lived process (sensor, upload worker) reuses the matchers
_CACHE: dict[tuple[int, ...], tuple[tuple, _Resources]] = {}


def _unit_key(text: str) -> str:
    return clean_text(text).replace(" ", "").casefold()


def resources(ctx: ParseContext) -> _Resources:
    """Matchers and lookups for a context's catalog and profiles, built once and cached (keyed by
    those objects: nothing here depends on the raw folder, the date or the mappings)."""
    owners = (ctx.catalog, *ctx.profiles)
    key = tuple(map(id, owners))
    hit = _CACHE.get(key)
    if (
        hit is not None
        and len(hit[0]) == len(owners)
        and all(a is b for a, b in zip(hit[0], owners, strict=True))
    ):
        return hit[1]
    cat = ctx.catalog
    unit_keys = {_unit_key(u): u for u in cat.units}
    for syn, unit in _UNIT_SYNONYMS.items():
        if unit in cat.units:
            unit_keys.setdefault(_unit_key(syn), unit)
    expected = {}
    for prof in ctx.profiles:
        codes: set[str] = set()
        for freq in ("monthly", "quarterly", "annual"):
            codes.update(p.code for p in periods_between(prof.first_period, prof.last_period, freq))
        expected[prof.code] = frozenset(codes)
    places = _place_resolver(ctx.profiles)
    indicators = IndicatorMatcher(cat)
    res = _Resources(
        catalog=cat,
        indicators=indicators,
        headers=HeaderMatcher(),
        orgs=OrgMatcher(ctx.profiles),
        county_codes=frozenset(p.code for p in ctx.profiles),
        unit_ranges={u: (m.min_value, m.max_value) for u, m in cat.units.items()},
        unit_keys=unit_keys,
        expected=expected,
        profiles={p.code: p for p in ctx.profiles},
        org_codes=frozenset(
            u.code for p in ctx.profiles for u in p.org_units if u.level in ("department", "town")
        ),
        assigned=frozenset((a.indicator, a.org_code) for p in ctx.profiles for a in p.assignments(cat)),
        primary={
            (p.code, a.indicator): a.org_code
            for p in ctx.profiles
            for a in p.assignments(cat)
            if a.role == "primary"
        },
        places=places,
        fraction_suspect=frozenset(
            r.indicator
            for r in cat.requirements.values()
            if cat.indicators[r.indicator].unit == "%" and (r.threshold.value or 0) >= 10
        ),
        classifier=Classifier(indicators, places, {k.casefold(): v for k, v in unit_keys.items()}, cat),
    )
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = (owners, res)
    return res


# Titles of tables that hold targets or plans, not what was achieved ("目标任务分解表", "年度计划表"),
# unless they also speak of completion ("目标完成情况").
_TARGET_TABLE = re.compile(r"目标值|目标任务|任务分解|指标分解|计划表|计划值|计划指标|目标表|标准值表")
_ACTUAL_WORDS = re.compile(r"完成|实际|现状|监测|统计|实绩|进展|情况")


def _place_resolver(profiles):
    """The place-name resolver, when the places module is available (None otherwise)."""
    try:
        from pipelines.returns.places import PlaceResolver
    except ImportError:  # pragma: no cover - the module ships with the package
        return None
    return PlaceResolver(profiles)


# --- small helpers -----------------------------------------------------------------------------


def col_index(letters: str) -> int | None:
    s = clean_text(letters).upper()
    if not s or not s.isalpha() or not s.isascii():
        return None
    n = 0
    for ch in s:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def raw_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float):
        return format_number(raw)
    if isinstance(raw, dt.datetime | dt.date):
        return raw.isoformat()
    return str(raw)


def problem(
    code: str,
    file: str,
    scope: str = "file",
    *,
    sheet: str | None = None,
    cell: str | None = None,
    detail_zh: str = "",
    detail_en: str = "",
    raw: str | None = None,
    indicator_code: str | None = None,
    period_code: str | None = None,
    org_code: str | None = None,
) -> Problem:
    """A Problem whose messages name file, sheet, cell and reason, Chinese first."""
    zh, en = REASONS.get(code, (code, code))
    where_zh = f"文件“{file}”"
    where_en = f"file '{file}'"
    if sheet:
        where_zh += f"，工作表“{sheet}”"
        where_en += f", sheet '{sheet}'"
    if cell:
        where_zh += f"，单元格 {cell}"
        where_en += f", cell {cell}"
    msg_zh = f"{where_zh}：{zh}" + (f"（{detail_zh}）" if detail_zh else "")
    msg_en = f"{where_en}: {en}" + (f" ({detail_en})" if detail_en else "")
    return Problem(
        scope,
        code,
        msg_zh,
        msg_en,
        sheet=sheet,
        cell=cell,
        raw_text=raw,
        indicator_code=indicator_code,
        period_code=period_code,
        org_code=org_code,
    )


# --- intermediate structures -------------------------------------------------------------------


@dataclass
class _Column:
    index: int
    role: str  # name | value | unit | code | period | month | ...
    period: str | None = None  # value column carrying its own period ("2012年3月", "3月")
    month: int | None = None
    rank: int = 99
    unit_hint: str | None = None
    header: str = ""


@dataclass
class _Header:
    row: int  # 0-based, last header row
    first_row: int
    name_col: int | None
    code_col: int | None = None
    unit_col: int | None = None
    period_col: int | None = None
    value_cols: list[_Column] = field(default_factory=list)
    months: list[_Column] = field(default_factory=list)  # bare months / periods as columns

    @property
    def kind(self) -> str:
        if len(self.months) >= 2:
            return "months"
        if self.period_col is not None and self.value_cols:
            return "long"
        return "wide"


@dataclass
class _Entry:
    """A value cell before org/period resolution and validation."""

    indicator: str
    period: str | None  # None: the file's (or sheet's) period
    sheet: str
    cell: str
    raw: object
    norm: Norm
    unit_text: str | None
    sheet_key: str  # sheet name, to look up a per-sheet period
    org: str | None = None  # a town's org code when the row or column names the town
    role: str = "value"  # value | cumulative (累计: the year's figure only for an annual period)


@dataclass
class _SheetInfo:
    sheet: Sheet
    header: _Header | None
    title: str = ""
    reading: Reading | None = None

    @property
    def has_data(self) -> bool:
        return self.header is not None or (self.reading is not None and self.reading.family is not None)


# --- entry point -------------------------------------------------------------------------------


def parse_file(path: Path, ctx: ParseContext) -> ParsedReturn:
    """Parse a return. Never raises: every failure is a Problem in the result."""
    path = path if isinstance(path, Path) else Path(path)
    out = ParsedReturn(path=path, file_format=_EXT_FORMAT.get(path.suffix.lower(), "unknown"))
    try:
        _Parser(path, ctx, out).run()
    except BaseException as exc:  # the contract: an unexpected error is a file-level problem, not a crash
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        out.values.clear()
        detail = f"{type(exc).__name__}: {exc}"[:500]
        out.problems.append(problem("parse_error", path.name, detail_zh=detail, detail_en=detail))
    return out


class _Parser:
    def __init__(self, path: Path, ctx: ParseContext, out: ParsedReturn):
        self.path = path
        self.ctx = ctx
        self.out = out
        self.res = resources(ctx)
        self.file = path.name
        self.entries: list[_Entry] = []
        self.sheet_periods: dict[str, tuple[str, str]] = {}  # sheet → (period, detected_by)
        self.sheet_years: dict[str, int | None] = {}
        self.is_csv = False
        self.other_area: dict[str, list] = {}  # area name → records of another area (never loaded)
        self.seat_values = 0
        self.unknown_names: list[str] = []
        self.percent_cells: dict[
            str, set[str]
        ] = {}  # 县城 values: another subject than the county, not loaded

    # -- orchestration --

    def run(self) -> None:
        folder_county, folder_org = self._folder()
        try:
            book = read_book(self.path)
        except ReadError as err:
            self._file_problem(err.reason, err.detail)
            return
        received = dt.datetime.fromtimestamp(book.mtime).date() if book.mtime is not None else self.ctx.today
        self.out.file_format = book.file_format
        self.is_csv = book.file_format == "csv"  # its one sheet is named after the file: no sheet source
        meta_sheet = next((s for s in book.sheets if s.name == META_SHEET), None)
        meta = _read_meta(meta_sheet) if meta_sheet is not None else {}
        if meta.get("template_version"):
            self.out.template_version = meta["template_version"]
            self.out.layout = "template"
            infos = self._template_sheets(book, meta)
        else:
            self.percent_cells, self.error_cells = book.percent_cells, book.error_cells
            infos = self._layout_sheets(book, folder_county)
        data_infos = [i for i in infos if i.has_data]
        if not data_infos:
            ambiguous = [i for i in infos if i.reading is not None and i.reading.candidates]
            if ambiguous:
                fams = "、".join(FAMILY_NAMES_ZH.get(f, f) for f in ambiguous[0].reading.candidates)
                self._file_problem(
                    "ambiguous_layout",
                    f"工作表“{ambiguous[0].sheet.name}”可按多种版式读取：{fams}",
                    f"sheet '{ambiguous[0].sheet.name}' reads as several layouts: "
                    + ", ".join(ambiguous[0].reading.candidates),
                )
                return
            targets = [p for p in self.out.problems if p.reason_code == "target_table"]
            if targets:  # every sheet holds targets: the file is refused for that, not for its header
                self.out.problems = [p for p in self.out.problems if p.reason_code != "target_table"]
                self._file_problem(
                    "target_table",
                    targets[0].message_zh.split("（", 1)[-1].rstrip("）"),
                    targets[0].message_en.split(" (", 1)[-1].rstrip(")"),
                )
                return
            self._file_problem("no_header")
            return
        if self.out.layout is None:
            self.out.layout = _layout(book, data_infos)

        org = self._resolve_org(meta, data_infos, folder_county, folder_org)
        if org is None:
            return
        file_period = self._resolve_periods(meta, data_infos)
        if self.out.rejected:  # wrong folder: say which period it was, load nothing
            self.out.period_codes = sorted({p for p, _ in self.sheet_periods.values()})
            return
        for info in data_infos:
            if info.reading is not None:
                self._collect_reading(info, org)
            else:
                self._collect(info)
        if self._other_area_only(org) or self._no_catalog_indicator():
            return
        self._finish(org, file_period, received)

    def _file_problem(self, code: str, detail: str = "", detail_en: str | None = None, **kw) -> None:
        self.out.problems.append(
            problem(
                code, self.file, detail_zh=detail, detail_en=detail if detail_en is None else detail_en, **kw
            )
        )

    # -- folder --

    def _folder(self) -> tuple[str | None, str | None]:
        """(county code, org code) from data/raw/<county>/<short>/file, else (None, None)."""
        parts = self.path.parts[-3:-1]  # data/raw/<county>/<short>/<file>, wherever raw_dir is
        if len(parts) >= 2 and parts[-2] in self.res.county_codes:
            return parts[-2], self.res.orgs.by_folder(parts[-2], parts[-1])
        if parts and parts[-1] in self.res.county_codes:
            return parts[-1], None
        return None, None

    # -- sheets and headers --

    def _template_sheets(self, book: Book, meta: dict[str, str]) -> list[_SheetInfo]:
        infos = []
        for sheet in book.sheets:
            if sheet.name == META_SHEET or not sheet.is_visible:
                continue
            header = None
            try:
                hr = int(float(meta.get("header_row", "3"))) - 1
            except ValueError:
                hr = 2
            code_col = col_index(meta.get("code_column", "B"))
            value_col = col_index(meta.get("value_column", "G"))
            if 0 <= hr < len(sheet.rows) and code_col is not None and value_col is not None:
                roles = self._row_roles(sheet, hr)
                name_col = next((c for c, m in roles.items() if m.role == "name"), None)
                unit_col = next((c for c, m in roles.items() if m.role == "unit"), None)
                header = _Header(hr, hr, name_col, code_col=code_col, unit_col=unit_col)
                header.value_cols = [
                    _Column(value_col, "value", header=clean_text(sheet.cell(hr, value_col)))
                ]
            if header is None:
                header = self._find_header(sheet)
            infos.append(_SheetInfo(sheet, header, self._title_text(sheet, header)))
            break  # the template has one data sheet
        return infos

    def _generic_sheets(self, book: Book) -> list[_SheetInfo]:
        infos = []
        for sheet in book.sheets:
            if not sheet.is_visible or sheet.name == META_SHEET:
                continue
            header = self._find_header(sheet)
            title = self._title_text(sheet, header)
            infos.append(_SheetInfo(sheet, header, title))
        return infos

    def _layout_sheets(self, book: Book, county: str | None) -> list[_SheetInfo]:
        """Every visible sheet read by the layout recognisers (`pipelines.returns.layouts`)."""
        infos = []
        maps = mapped.mappings_for(self.ctx.mappings_dir)
        for sheet in book.sheets:
            if not sheet.is_visible or sheet.name == META_SHEET:
                continue
            learned = mapped.lookup(sheet, maps, book.file_format != "csv")
            if learned is not None:  # a layout the office mapped once (导入映射)
                reading = mapped.read_mapped(sheet, learned, self.res.classifier, county)
                self.out.layout = "mapped"
            else:
                reading = read_sheet_cached(sheet, self.res.classifier, county)
            title = reading.title
            if (
                reading.family
                and reading.records
                and _TARGET_TABLE.search(title or "")
                and not _ACTUAL_WORDS.search(title)
            ):
                # "2015年创建目标任务分解表": the numbers are targets, whatever the column is called
                self.out.problems.append(
                    problem(
                        "target_table",
                        self.file,
                        "sheet",
                        sheet=sheet.name,
                        detail_zh=f"标题“{title[:60]}”表明表中是目标或计划值，不作为实际完成值入库",
                        detail_en=f"the title '{title[:60]}' says the table holds targets or plans, not actual values",
                    )
                )
                reading = Reading(sheet.name, None, title=title)
            infos.append(_SheetInfo(sheet, None, title, reading))
        return infos

    def _title_text(self, sheet: Sheet, header: _Header | None) -> str:
        end = header.first_row if header is not None else min(len(sheet.rows), 5)
        parts = []
        for r in range(min(end, HEADER_SCAN_ROWS)):
            for v in sheet.rows[r]:
                if isinstance(v, str) and v.strip():
                    parts.append(clean_text(v))
        return " ".join(parts)

    def _row_roles(self, sheet: Sheet, r: int) -> dict[int, HeaderMatch]:
        roles: dict[int, HeaderMatch] = {}
        if r >= len(sheet.rows):
            return roles
        for c, v in enumerate(sheet.rows[r]):
            if isinstance(v, str) and v:
                m = self.res.headers.match(clean_text(v))
                if m is not None:
                    roles[c] = m
        return roles

    def _find_header(self, sheet: Sheet) -> _Header | None:
        rows = sheet.rows
        for r in range(min(len(rows), HEADER_SCAN_ROWS)):
            roles = self._row_roles(sheet, r)
            name_cols = [c for c, m in roles.items() if m.role == "name"]
            if not name_cols:
                continue
            name_col = min(name_cols, key=lambda c: (roles[c].score < 100, c))
            header = _Header(r, r, name_col)
            cols = dict(roles)
            periods = {c: p for c, v in enumerate(rows[r]) if c not in roles and (p := _header_period(v))}
            # Two-row header: the name cell is merged down (empty below) and the next row names columns.
            if r + 1 < len(rows) and str(sheet.cell(r + 1, name_col)).strip() == "":
                lower_roles = self._row_roles(sheet, r + 1)
                lower_has_periods = any(_header_period(v) for v in rows[r + 1])
                if lower_roles or lower_has_periods:
                    cols, periods = self._merge_header_rows(sheet, r, lower_roles)
                    header.row = r + 1
            self._assign(header, cols, periods, name_col)
            if header.value_cols or len(header.months) >= 2:
                return header
        return None

    def _merge_header_rows(self, sheet: Sheet, r: int, lower_roles: dict[int, HeaderMatch]):
        """Column roles and periods of a two-row header (upper row r, lower row r+1).

        An upper 上期/目标值/备注 label wins over the lower one (上期 › 数值 is not the value); otherwise
        the lower label decides, and an upper period ("2012年3月" merged over 目标值 | 完成值) gives the
        lower value column its period.
        """
        upper = _filled_row(sheet, r)
        lower = sheet.rows[r + 1] if r + 1 < len(sheet.rows) else []
        cols: dict[int, HeaderMatch] = {}
        periods: dict[int, tuple[str | None, int | None]] = {}
        for c in range(max(len(upper), len(lower))):
            up_raw = upper[c] if c < len(upper) else ""
            up_text = clean_text(up_raw) if isinstance(up_raw, str) else ""
            up = self.res.headers.match(up_text) if up_text else None
            up_period = _header_period(up_raw) if up is None else None
            lo = lower_roles.get(c)
            lo_raw = lower[c] if c < len(lower) else ""
            lo_period = _header_period(lo_raw) if lo is None else None
            if up is not None and up.role in ("target", "previous", "remark", "seq"):
                cols[c] = up
            elif lo is not None:
                cols[c] = lo
                if lo.role == "value" and up_period is not None:
                    periods[c] = up_period
            elif lo_period is not None:
                periods[c] = lo_period
            elif up is not None:
                cols[c] = up
            elif up_period is not None and (lo_raw == "" or lo_raw is None):
                periods[c] = up_period
        return cols, periods

    def _assign(self, header: _Header, cols: dict[int, HeaderMatch], periods, name_col: int) -> None:
        for c, m in sorted(cols.items()):
            if c == name_col:
                continue
            if m.role == "code" and header.code_col is None:
                header.code_col = c
            elif m.role == "unit" and header.unit_col is None:
                header.unit_col = c
            elif m.role == "period" and header.period_col is None:
                header.period_col = c
            elif m.role == "value" and c not in periods:
                header.value_cols.append(
                    _Column(c, "value", rank=VALUE_RANK.get(name_key(m.canonical), 50), unit_hint=m.unit_hint)
                )
        for c, (period, mo) in sorted(periods.items()):
            if c == name_col or c in cols and cols[c].role != "value":
                continue
            header.months.append(_Column(c, "month", period=period, month=mo))
        if len(header.months) == 1 and not header.value_cols:
            # One period column ("2012年3月") is the value column of a wide sheet.
            col = header.months.pop()
            if col.period:
                header.value_cols.append(_Column(col.index, "value", period=col.period, rank=0))
        elif len(header.months) == 1:
            header.months.clear()
        if len(header.value_cols) > 1:
            header.value_cols.sort(key=lambda v: (v.rank, v.index))
            header.value_cols = header.value_cols[:1]

    # -- unit (org) and period detection --

    def _resolve_org(self, meta, infos: list[_SheetInfo], folder_county, folder_org) -> str | None:
        orgs = self.res.orgs
        found: tuple[str, str] | None = None
        meta_org = meta.get("org_code")
        if meta_org and meta_org in self.res.org_codes:
            found = (meta_org, "template")
        if found is None:
            for info in infos:
                m = orgs.find(info.title, folder_county)
                if m.org_code:
                    found = (m.org_code, "title")
                    break
        if found is None and not self.is_csv:
            m = orgs.find(" ".join(i.sheet.name for i in infos), folder_county)
            if m.org_code:
                found = (m.org_code, "sheet")
        if found is None:
            m = orgs.find(self.path.stem, folder_county)
            if m.org_code:
                found = (m.org_code, "filename")
        if found is None and folder_org:
            found = (folder_org, "folder")
        if found is None:
            self._file_problem(
                "unknown_unit",
                "标题、工作表名、文件名和文件夹都未能确定填报单位",
                "neither the title, the sheet names, the file name nor the folder identify the unit",
            )
            return None
        org, by = found
        self.out.org_code, self.out.org_detected_by = org, by
        if folder_org and org != folder_org:
            self._file_problem(
                "wrong_folder",
                f"内容属于{self._org_name(org)}（{org}，依据{_BY_ZH[by]}），文件夹属于{self._org_name(folder_org)}（{folder_org}）",
                f"the content belongs to {org} (by {by}), the folder to {folder_org}",
                org_code=org,
            )
        return org

    def _org_name(self, org: str) -> str:
        for prof in self.res.profiles.values():
            for u in prof.org_units:
                if u.code == org:
                    return u.name_zh
        return org

    def _resolve_periods(self, meta, infos: list[_SheetInfo]) -> str | None:
        """The period of each wide sheet (template metadata, title, sheet name, file name, header
        column, in that order) and the year of each sheet; returns the file's single period if any."""
        stem = self.path.stem
        meta_period = meta.get("period_code")
        if meta_period:
            try:
                _period(meta_period)
            except CalendarError:
                meta_period = None
        file_year = next((y for i in infos if (y := find_year(i.title))), None) or find_year(stem)
        decided: list[str] = []
        for info in infos:
            name = info.sheet.name
            sheet_name = "" if self.is_csv else name
            sheet_year = find_year(info.title) or find_year(sheet_name) or file_year
            kind = _kind(info)
            if meta_period:
                chosen: tuple[str, str] | None = (meta_period, "template")
                sheet_year = int(meta_period[:4])
            elif (
                kind == "wide"
                and (span := _deciding_span(info.title, sheet_name, stem, sheet_year)) is not None
            ):
                # "2014年1-6月", "上半年", "2012-2014年": a cumulative or multi-year span, not one period
                self.sheet_years[name] = sheet_year
                self._file_problem(
                    "cumulative_period",
                    f"“{span}”是累计或跨年的时段，不是一个报告期，请按月、季或年分别报送",
                    f"'{span}' is a cumulative or multi-year span, not one reporting period; report each "
                    "month, quarter or year",
                )
                continue
            elif kind == "wide":
                col_period = (
                    next((v.period for v in info.header.value_cols if v.period), None)
                    if info.header
                    else next((r.period for r in info.reading.records if r.period), None)
                )
                chosen = _choose_period(
                    [
                        ("title", find_period(_quarter_spans(info.title))),
                        ("sheet", find_period(_quarter_spans(sheet_name), sheet_year)),
                        ("filename", find_period(_quarter_spans(stem), sheet_year)),
                        ("column", col_period),
                    ]
                )
            else:
                chosen = None
            self.sheet_years[name] = sheet_year
            if chosen:
                self.sheet_periods[name] = chosen
                decided.append(chosen[1])
            elif kind in ("months", "long"):
                decided.append("column")
                if kind == "months" and info.header is not None:
                    self._fill_months(info, sheet_year)
        if decided:
            wide = [p for p, by in self.sheet_periods.values()]
            if "column" in decided and not wide:
                self.out.period_detected_by = "column"
            elif len(set(wide)) > 1 and all(self.sheet_periods[n][1] == "sheet" for n in self.sheet_periods):
                self.out.period_detected_by = "sheet"
            else:
                self.out.period_detected_by = decided[0]
        periods = {p for p, _ in self.sheet_periods.values()}
        return next(iter(periods)) if len(periods) == 1 else None

    def _fill_months(self, info: _SheetInfo, year: int | None) -> None:
        for col in info.header.months:
            if col.period is None and col.month is not None and year is not None:
                col.period = f"{year}-{col.month:02d}"

    # -- data rows --

    def _collect(self, info: _SheetInfo) -> None:
        sheet, h = info.sheet, info.header
        rows = sheet.rows
        name_col, code_col, unit_col = h.name_col, h.code_col, h.unit_col
        kind = h.kind
        if kind == "months":
            targets = [(c.index, c.period, c.unit_hint) for c in h.months]
            if any(p is None for _, p, _ in targets):
                self.out.problems.append(
                    problem(
                        "unknown_period",
                        self.file,
                        "sheet",
                        sheet=sheet.name,
                        cell=a1(h.row, h.months[0].index),
                        detail_zh="月份列缺少年份（标题、工作表名和文件名中都没有年份）",
                        detail_en="month columns without a year (no year in title, sheet name or file name)",
                    )
                )
                return
        else:
            targets = [(c.index, c.period, c.unit_hint) for c in h.value_cols]
        indicators = self.res.indicators
        catalog_codes = self.res.catalog.indicators
        sname = sheet.name
        for r in range(h.row + 1, len(rows)):
            row = rows[r]
            if not row:
                continue
            name_raw = row[name_col] if name_col is not None and name_col < len(row) else ""
            if isinstance(name_raw, int | float) and not isinstance(name_raw, bool):
                continue  # a column-numbering row (栏次 1 2 3 …) under the header, never an indicator
            name = clean_text(name_raw) if name_raw != "" else ""
            code_raw = row[code_col] if code_col is not None and code_col < len(row) else ""
            code_txt = clean_text(code_raw) if code_raw != "" else ""
            if not name and not code_txt:
                continue
            if name.startswith(_FOOTER_PREFIXES):
                continue
            first = row[0]  # footers are merged across the row from column A
            if name_col and isinstance(first, str) and clean_text(first).startswith(_FOOTER_PREFIXES):
                continue
            if _SUBTOTAL.match(name) or name in _NUMBERING_ROW:
                continue
            cells = [(c, row[c] if c < len(row) else "", p, hint) for c, p, hint in targets]
            norms = [(c, raw, p, hint, normalize_cell(raw)) for c, raw, p, hint in cells]
            has_value = any(not n.is_missing for *_, n in norms)
            code = code_txt if code_txt in catalog_codes else None
            match: IndicatorMatch | None = None
            if code is None:
                if name and len(name) <= MAX_NAME_LENGTH:
                    match = indicators.match(name)
                    code = match.code
                if code is None:
                    if has_value:
                        name_cell = a1(r, name_col if name else code_col)
                        self._unknown(sname, name_cell, name or code_txt, match, norms, r)
                    continue
            unit_text = None
            if unit_col is not None and unit_col < len(row):
                unit_text = clean_text(row[unit_col]) or None
            row_period = None
            if kind == "long":
                praw = row[h.period_col] if h.period_col < len(row) else ""
                row_period = period_from_cell(praw, self._sheet_year(sname))
                if row_period is None:
                    if has_value:
                        self.out.problems.append(
                            problem(
                                "unknown_period",
                                self.file,
                                "row",
                                sheet=sname,
                                cell=a1(r, h.period_col),
                                raw=raw_text(praw),
                                indicator_code=code,
                                detail_zh=f"报告期“{raw_text(praw)}”无法识别",
                                detail_en=f"period '{raw_text(praw)}' not recognised",
                            )
                        )
                    continue
            for c, raw, p, hint, n in norms:
                self.entries.append(
                    _Entry(code, row_period or p, sname, a1(r, c), raw, n, hint or unit_text, sname)
                )

    def _collect_reading(self, info: _SheetInfo, org: str) -> None:
        """Entries from a layout reading: the subject decides the org (a town row → the town; the
        county, 合计 or no subject → the reporting unit); 县城 and other areas are not this county's
        figures; bare months and quarters take the sheet's year."""
        reading = info.reading
        sname = info.sheet.name
        county = org.split("-", 1)[0]
        other_title = self._title_place(info, county)
        no_year = False
        for rec in reading.records:
            place = rec.place
            target = None
            if place == "county_total":
                place = None
            if place is not None:
                kind = getattr(place, "kind", None)
                if kind == "county" and place.county_code == county:
                    place = None
                elif kind == "town" and place.county_code == county and place.org_code:
                    target = place.org_code
                elif kind == "seat" and place.county_code == county:
                    self.seat_values += 1
                    continue
                else:
                    self.other_area.setdefault(place.name, []).append(rec)
                    continue
            if place is None and target is None and other_title is not None:
                self.other_area.setdefault(other_title.name, []).append(rec)
                continue
            raw = rec.raw
            if raw == "" and rec.cell in self.error_cells.get(sname, {}):
                raw = self.error_cells[sname][rec.cell]  # calamine reads a #DIV/0! cell as empty
            if isinstance(raw, float) and rec.cell in self.percent_cells.get(sname, ()):
                raw = format_number(round(raw * 100, 10)) + "%"  # shown as 85.2% in Excel, stored 0.852
            n = normalize_cell(raw)
            if rec.indicator is None:
                if not n.is_missing:
                    self._unknown_record(rec, n)
                continue
            if rec.period_error is not None:
                if not n.is_missing:
                    praw = self._cell_text(info.sheet, rec.period_error)
                    self.out.problems.append(
                        problem(
                            "unknown_period",
                            self.file,
                            "row",
                            sheet=sname,
                            cell=rec.period_error,
                            raw=praw,
                            indicator_code=rec.indicator,
                            detail_zh=f"报告期“{praw}”无法识别",
                            detail_en=f"period '{praw}' not recognised",
                        )
                    )
                continue
            period = rec.period
            if period is None and (rec.month or rec.quarter):
                year = self._sheet_year(sname)
                if year is None:
                    no_year = True
                    continue
                period = f"{year}-{rec.month:02d}" if rec.month else f"{year}-Q{rec.quarter}"
            self.entries.append(
                _Entry(rec.indicator, period, sname, rec.cell, raw, n, rec.unit_text, sname, target, rec.role)
            )
        if no_year:
            self.out.problems.append(
                problem(
                    "unknown_period",
                    self.file,
                    "sheet",
                    sheet=sname,
                    detail_zh="月份或季度列缺少年份（标题、工作表名和文件名中都没有年份）",
                    detail_en="months or quarters without a year (no year in title, sheet name or file name)",
                )
            )

    @staticmethod
    def _cell_text(sheet: Sheet, ref: str) -> str:
        m = re.match(r"([A-Z]+)(\d+)$", ref)
        if not m:
            return ""
        c = col_index(m.group(1))
        return raw_text(sheet.cell(int(m.group(2)) - 1, c if c is not None else -1))

    def _title_place(self, info: _SheetInfo, county: str):
        """Another area the sheet's title (or, for CSV, the file name) is about, when it names no
        place of this county: "巴中市2013年空气质量" is 巴中市's table, not 平昌县's."""
        places = self.res.places
        if places is None:
            return None
        texts = [*info.title.split(), "" if self.is_csv else info.sheet.name, self.path.stem]
        hits = []
        try:
            for text in texts:
                if text:
                    hits.extend(places.mentions(text, county))
        except Exception:  # a resolver problem must not lose the file
            return None
        ours = [
            h
            for h in hits
            if getattr(h, "county_code", None) == county and h.kind in ("county", "town", "seat")
        ]
        if ours:
            return None
        others = [
            h for h in hits if h.kind == "other" or getattr(h, "county_code", None) not in (None, county)
        ]
        return others[0] if others else None

    def _unknown_record(self, rec, n) -> None:
        reason = rec.indicator_reason or "unknown_indicator"
        name = rec.indicator_text
        self.unknown_names.append(name)
        where = rec.indicator_cell or rec.cell
        match = self.res.indicators.match(name) if name else None
        cands = match.candidates_text(self.res.catalog) if match is not None else ""
        if reason == "ambiguous_indicator":
            dzh = f"{where}“{name}”可能是：{cands}；请使用标准指标名称"
            den = f"{where} '{name}' could be: {cands}; use the catalog name"
        elif reason == "lookalike_indicator" and match is not None and hasattr(match, "lookalike_message"):
            lzh, len_ = match.lookalike_message(self.res.catalog)
            dzh, den = f"{where}{lzh}", f"{where} {len_}"
        elif reason == "lookalike_indicator":
            dzh = f"{where}“{name}”与目录中的指标名称相近但不是同一指标" + (f"（{cands}）" if cands else "")
            den = f"{where} '{name}' looks like a catalog indicator but is a different quantity" + (
                f" ({cands})" if cands else ""
            )
            reason = "lookalike_indicator" if "lookalike_indicator" in REASONS else "unknown_indicator"
        else:
            reason = "unknown_indicator"
            dzh = f"{where}“{name}”不在指标目录中" + (f"；最接近的：{cands}" if cands else "")
            den = f"{where} '{name}' is not in the catalog" + (f"; closest: {cands}" if cands else "")
        self.out.problems.append(
            problem(
                reason,
                self.file,
                "value",
                sheet=rec.sheet,
                cell=rec.cell,
                raw=raw_text(rec.raw),
                period_code=rec.period or self.sheet_periods.get(rec.sheet, (None, None))[0],
                detail_zh=dzh,
                detail_en=den,
                org_code=self.out.org_code,
            )
        )

    def _no_catalog_indicator(self) -> bool:
        """A file in which no name is a catalog indicator is refused once, naming the names, instead
        of one problem per cell (a statistics export of GDP, a daily AQI log)."""
        if self.entries or not self.unknown_names:
            return False
        if any(
            p.reason_code not in ("unknown_indicator", "lookalike_indicator", "ambiguous_indicator")
            for p in self.out.problems
        ):
            return False
        names = list(dict.fromkeys(self.unknown_names))
        shown = "、".join(f"“{n}”" for n in names[:5]) + (f" 等 {len(names)} 个" if len(names) > 5 else "")
        shown_en = ", ".join(f"'{n}'" for n in names[:5]) + (
            f" and {len(names) - 5} more" if len(names) > 5 else ""
        )
        if len(self.out.problems) > MAX_CELL_PROBLEMS:  # a statistics export: one reason, not thousands
            self.out.problems.clear()
        self._file_problem(
            "no_indicator",
            f"表中没有指标目录中的指标：{shown}",
            f"no indicator of the catalog in the table: {shown_en}",
        )
        return True

    def _other_area_only(self, org: str) -> bool:
        """A file whose values are all another area's: refused naming the area (never loaded as ours)."""
        if not self.other_area or self.entries:
            return False
        county = org.split("-", 1)[0]
        prof = self.res.profiles.get(county)
        ours = prof.name_zh if prof is not None else county
        names = "、".join(sorted(self.other_area)[:5])
        self._file_problem(
            "other_area",
            f"表中是{names}的数据，不是{ours}的数据",
            f"the data are of {names}, not of {getattr(prof, 'name_en', county)}",
        )
        return True

    def _sheet_year(self, sheet_name: str) -> int | None:
        return self.sheet_years.get(sheet_name) or find_year(self.path.stem)

    def _unknown(self, sheet: str, name_cell: str, name: str, match: IndicatorMatch | None, norms, r: int):
        """One problem per value cell of a row whose indicator name is unknown or ambiguous: the value
        is what gets quarantined, the message names the name cell too."""
        reason = match.reason if match is not None and match.reason else "unknown_indicator"
        cands = match.candidates_text(self.res.catalog) if match is not None else ""
        if reason == "ambiguous_indicator":
            dzh = f"{name_cell}“{name}”可能是：{cands}；请使用标准指标名称"
            den = f"{name_cell} '{name}' could be: {cands}; use the catalog name"
        else:
            dzh = f"{name_cell}“{name}”不在指标目录中" + (f"；最接近的：{cands}" if cands else "")
            den = f"{name_cell} '{name}' is not in the catalog" + (f"; closest: {cands}" if cands else "")
        for c, raw, p, _hint, n in norms:
            if n.is_missing:
                continue
            self.out.problems.append(
                problem(
                    reason,
                    self.file,
                    "value",
                    sheet=sheet,
                    cell=a1(r, c),
                    raw=raw_text(raw),
                    period_code=p or self.sheet_periods.get(sheet, (None, None))[0],
                    detail_zh=dzh,
                    detail_en=den,
                    org_code=self.out.org_code,
                )
            )

    # -- validation and output --

    def _finish(self, org: str, file_period: str | None, received: dt.date) -> None:
        out = self.out
        cat = self.res.catalog
        county = org.split("-", 1)[0]
        accepted: list[CellValue] = []
        missing = 0
        no_period: dict[str, str] = {}  # sheet → first value cell without a period
        assigned = self.res.assigned
        for e in self.entries:
            period = e.period or self.sheet_periods.get(e.sheet_key, (None, None))[0]
            if period is None:
                no_period.setdefault(e.sheet, e.cell)
                continue
            ind = cat.indicators[e.indicator]
            n = e.norm
            rt = raw_text(e.raw)
            e_org = e.org or org
            if n.kind == "missing":
                missing += 1
                continue

            def bad(code: str, dzh: str, den: str, e=e, period=period, rt=rt, ind=ind, e_org=e_org) -> None:
                out.problems.append(
                    problem(
                        code if code in REASONS else "not_a_number",
                        self.file,
                        "value",
                        sheet=e.sheet,
                        cell=e.cell,
                        raw=rt,
                        indicator_code=e.indicator,
                        period_code=period,
                        org_code=e_org,
                        detail_zh=f"{ind.name_zh}：{dzh}",
                        detail_en=f"{ind.code}: {den}",
                    )
                )

            if n.kind == "error":
                reason = n.reason or "not_a_number"
                if reason == "formula_error":
                    bad(reason, f"“{rt}”是公式错误，不是数值", f"'{rt}' is a formula error, not a value")
                elif reason == "range_value":
                    bad(reason, f"“{rt}”是一个范围，不是确切数值", f"'{rt}' is a range, not an exact value")
                else:
                    bad("not_a_number", f"“{rt}”", f"'{rt}'")
                continue
            qualifier = getattr(n, "qualifier", None)
            if qualifier and ind.value_type != "text":
                if qualifier == "approx":
                    bad(
                        "approximate_value",
                        f"“{rt}”是近似值，未作为实际值入库，请填写确切数值",
                        f"'{rt}' is approximate; not loaded as an exact value — send the exact figure",
                    )
                else:
                    bad(
                        "bounded_value",
                        f"“{rt}”只给出了上限或下限，未作为实际值入库，请填写确切数值",
                        f"'{rt}' gives only a bound; not loaded as an exact value — send the exact figure",
                    )
                continue
            if e.role == "cumulative" and len(period) != 4:
                bad(
                    "cumulative_value",
                    f"“{rt}”在累计列中，不是 {period} 的本期数",
                    f"'{rt}' is in a cumulative (year-to-date) column, not the value of {period}",
                )
                continue
            value = None
            if ind.value_type != "text":
                if n.kind != "number":
                    bad("not_a_number", f"“{rt}”不是数值", f"'{rt}' is not a number")
                    continue
                value = n.value
                cell_unit = getattr(n, "unit_text", None)
                written = self._written_unit(n.unit_hint or cell_unit or e.unit_text)
                if cell_unit and written is None and not n.unit_hint:
                    bad(
                        "wrong_unit",
                        f"数值后写有单位“{cell_unit}”，无法确认与“{ind.unit}”一致",
                        f"the value carries the unit '{cell_unit}', not confirmed to be '{ind.unit}'",
                    )
                    continue
                if written and written != ind.unit:
                    if written == "%" and ind.unit == "‰":
                        value = value * 10
                    elif written == "‰" and ind.unit == "%":
                        value = value / 10
                    elif ind.unit == "-":
                        pass
                    else:
                        bad(
                            "wrong_unit",
                            f"填写单位“{written}”，应为“{ind.unit}”",
                            f"unit '{written}', expected '{ind.unit}'",
                        )
                        continue
                if ind.code in self.res.fraction_suspect and 0 < value <= 1 and not n.unit_hint:
                    bad(
                        "suspect_fraction",
                        f"{format_number(value)} 像是小数形式（{format_number(value * 100)}%？），请按百分数填写",
                        f"{format_number(value)} looks like a fraction ({format_number(value * 100)} %?); "
                        "report the percentage",
                    )
                    continue
                lo, hi = self.res.unit_ranges.get(ind.unit, (None, None))
                if (lo is not None and value < lo) or (hi is not None and value > hi):
                    low = format_number(lo) if lo is not None else "-∞"
                    high = format_number(hi) if hi is not None else "∞"
                    bad(
                        "out_of_range",
                        f"{format_number(value)}{ind.unit} 不在 {low}～{high} 之内",
                        f"{format_number(value)} {ind.unit} outside {low}..{high}",
                    )
                    continue
            if (ind.code, e_org) not in assigned and not self._may_report(ind, e_org, county):
                primary = self.res.primary.get((county, ind.code))
                pname = self._org_name(primary) if primary else "—"
                bad(
                    "not_assigned",
                    f"该指标只由{pname}填报，{self._org_name(e_org)}的数值不予采用",
                    f"only {primary or '-'} reports this indicator; {e_org}'s value is not used",
                )
                continue
            if ind.value_type == "text":
                accepted.append(
                    CellValue(ind.code, e_org, period, e.sheet, e.cell, rt, None, n.text, ind.unit)
                )
                continue
            accepted.append(CellValue(ind.code, e_org, period, e.sheet, e.cell, rt, value, None, ind.unit))
        out.missing_count = missing

        if no_period:
            detail_zh = "标题、工作表名、文件名和表头都未能确定报告期"
            detail_en = "neither the title, the sheet name, the file name nor the header give the period"
            if len(no_period) == len({e.sheet for e in self.entries}):
                self._file_problem("unknown_period", detail_zh, detail_en)
                out.values = []
                return
            for sheet in no_period:
                out.problems.append(
                    problem(
                        "unknown_period",
                        self.file,
                        "sheet",
                        sheet=sheet,
                        detail_zh=detail_zh,
                        detail_en=detail_en,
                    )
                )

        accepted = self._conflicts(accepted)
        periods = sorted({v.period_code for v in accepted} | ({file_period} if file_period else set()))
        bad_periods = self._check_periods(periods, county, received, single=len(periods) == 1)
        if bad_periods:
            accepted = [v for v in accepted if v.period_code not in bad_periods]
        out.period_codes = [p for p in periods if p not in bad_periods] or periods
        if out.rejected:
            out.values = []
            return
        out.values = accepted
        if not accepted:
            self._file_problem(
                "no_values",
                f"没有可入库的数值（{missing} 个空值）",
                f"no loadable values ({missing} empty cells)",
            )

    def _may_report(self, ind, org: str, county: str) -> bool:
        """A unit other than the assigned ones may report an indicator as a secondary source (used for
        triangulation), unless the catalog marks the indicator single-source. A town reports its own
        figures."""
        if getattr(ind, "sources", "multi") == "single":
            return False
        return org in self.res.org_codes

    def _written_unit(self, text: str | None) -> str | None:
        if not text:
            return None
        return self.res.unit_keys.get(_unit_key(text))

    def _conflicts(self, values: list[CellValue]) -> list[CellValue]:
        groups: dict[tuple[str, str], list[CellValue]] = {}
        for v in values:
            groups.setdefault((v.indicator_code, v.org_code, v.period_code), []).append(v)
        keep: list[CellValue] = []
        dropped: set[int] = set()
        for vs in groups.values():
            if len(vs) == 1:
                continue
            distinct = {(v.value, v.value_text if v.value is None else None) for v in vs}
            if len(distinct) == 1:
                for v in vs[1:]:
                    dropped.add(id(v))
                continue
            cells = "、".join(f"{v.sheet}!{v.cell}={v.raw_text}" for v in vs)
            for v in vs:
                dropped.add(id(v))
                self.out.problems.append(
                    problem(
                        "conflicting_values",
                        self.file,
                        "value",
                        sheet=v.sheet,
                        cell=v.cell,
                        raw=v.raw_text,
                        indicator_code=v.indicator_code,
                        period_code=v.period_code,
                        org_code=v.org_code,
                        detail_zh=f"{v.indicator_code} {v.period_code}：{cells}",
                        detail_en=f"{v.indicator_code} {v.period_code}: {cells}",
                    )
                )
        for v in values:
            if id(v) not in dropped:
                keep.append(v)
        return keep

    def _check_periods(self, periods: list[str], county: str, received: dt.date, single: bool) -> set[str]:
        bad: set[str] = set()
        expected = self.res.expected.get(county)
        scope = "file" if single else "row"
        for code in periods:
            try:
                p: Period = _period(code)
            except CalendarError:
                bad.add(code)
                self.out.problems.append(
                    problem(
                        "unknown_period", self.file, scope, period_code=code, detail_zh=code, detail_en=code
                    )
                )
                continue
            limit = min(received, self.ctx.today)
            if p.start > limit:
                bad.add(code)
                self.out.problems.append(
                    problem(
                        "period_in_future",
                        self.file,
                        scope,
                        period_code=code,
                        detail_zh=f"报告期 {p.label_zh} 始于 {p.start}，文件收到于 {received}",
                        detail_en=f"period {code} starts {p.start}, file received {received}",
                    )
                )
            elif expected is not None and code not in expected:
                bad.add(code)
                self.out.problems.append(
                    problem(
                        "period_not_expected",
                        self.file,
                        scope,
                        period_code=code,
                        detail_zh=f"报告期 {p.label_zh} 不在报送日历范围内",
                        detail_en=f"period {code} is outside the reporting calendar",
                    )
                )
        return bad


_BY_ZH = {
    "template": "模板元数据",
    "title": "标题",
    "sheet": "工作表名",
    "filename": "文件名",
    "column": "表头",
    "folder": "文件夹",
}


_SPAN = re.compile(
    r"(?<!\d)(1|一)\s*[-—～~至到]\s*(\d{1,2}|[二三四五六七八九十]{1,2})\s*月"
    r"|上半年|下半年|前三季度|1\s*[-—～~至到]\s*3\s*季度|[一1]\s*[-—～~至到]\s*[三3]\s*季度"
    r"|(?<!\d)(?:19|20)\d{2}\s*(?:年)?\s*[-—～~至到]\s*(?:19|20)\d{2}\s*年?"
)
_FULL_SPANS = re.compile(
    r"(?<!\d)(1|一)\s*[-—～~至到]\s*(12|十二)\s*月|(?<!\d)(1|一)\s*[-—～~至到]\s*(3|三)\s*月"
)


_Q1_SPAN = re.compile(r"(?<!\d)(?:1|一)\s*[-—～~至到]\s*(?:3|三)\s*月")
_YEAR_SPAN = re.compile(r"(?<!\d)(?:1|一)\s*[-—～~至到]\s*(?:12|十二)\s*月")


def _quarter_spans(text: str) -> str:
    """1-3月 is the first quarter and 1-12月 the year: said so before the period is read."""
    if not text:
        return text
    return _YEAR_SPAN.sub("", _Q1_SPAN.sub("第一季度", text))


def _deciding_span(title: str, sheet: str, stem: str, year: int | None) -> str | None:
    """The span in the first of title, sheet name and file name that speaks of a period at all: a
    monthly sheet ("3月") in a workbook named "上半年…" has its own period."""
    for text, default_year in ((title, None), (sheet, year), (stem, year)):
        if not text:
            continue
        span = _span_in(text)
        if span is not None:
            return span
        if find_period(_quarter_spans(text), default_year):
            return None
    return None


def _span_in(*texts: str) -> str | None:
    """A cumulative or multi-year span named in a title, sheet or file name ("1-6月", "上半年",
    "2012-2014年"), which is not one reporting period. 1-3月 (a quarter) and 1-12月 (a year) are
    periods and are not spans."""
    for text in texts:
        if not text:
            continue
        t = clean_text(text)
        for m in _SPAN.finditer(t):
            if not _FULL_SPANS.fullmatch(m.group(0).replace(" ", "")):
                return m.group(0)
    return None


def _choose_period(cands: list[tuple[str, str | None]]) -> tuple[str, str] | None:
    """The first source that gives a period; a bare year is refined by a later, more specific
    period of the same year (title "2012年…", sheet "3月" → 2012-03 by sheet)."""
    first = next(((by, p) for by, p in cands if p), None)
    if first is None:
        return None
    by, p = first
    if len(p) == 4:
        for by2, p2 in cands:
            if p2 and len(p2) > 4 and p2[:4] == p:
                return p2, by2
    return p, by


def _kind(info: _SheetInfo) -> str:
    """How a sheet's periods are given: wide (one period for the sheet), long (each value has its
    own), months (bare months or quarters needing the sheet's year)."""
    if info.reading is None:
        return info.header.kind
    recs = [r for r in info.reading.records if r.raw != "" and r.raw is not None]
    if recs and all(r.period for r in recs):
        return "wide" if len({r.period for r in recs}) == 1 and info.reading.family == "long" else "long"
    if not recs or any(
        r.period is None and r.month is None and r.quarter is None and r.period_error is None for r in recs
    ):
        return "wide"
    return "months"


def _layout(book: Book, infos: list[_SheetInfo]) -> str:
    readings = [i.reading for i in infos if i.reading is not None and i.reading.family]
    if readings:
        fams = [r.family for r in readings]
        periodic = all(_kind(i) == "wide" and find_period(i.sheet.name, 2000) for i in infos)
        if periodic and book.file_format != "csv":
            return "sheet_per_period"
        return max(set(fams), key=fams.count)
    if book.file_format == "csv":
        return "csv"
    kinds = [i.header.kind for i in infos]
    if "months" in kinds:
        return "months_as_columns"
    if "long" in kinds:
        return "long"
    if len(infos) > 1 or find_period(infos[0].sheet.name, 2000) is not None:
        return "multi_sheet"  # one sheet per month ("2012年1月", "3月"), even if only one was sent
    return "wide"


def _header_period(v: object) -> tuple[str | None, int | None] | None:
    """(period code, bare month) when a header cell names a period: "2012年3月", "3月", a date cell."""
    if v == "" or v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        mo = month_of_header(v)
        if mo is not None:
            return (None, mo)
        if len(v) <= 20 and ("年" in v or "-" in v or "季" in v or "Q" in v.upper()):
            p = period_from_cell(v)
            if p:
                return (p, None)
        return None
    if isinstance(v, dt.date):
        return (period_from_cell(v), None)
    return None


def _filled_row(sheet: Sheet, r: int) -> list:
    """Row r with merged ranges' top-left values copied across the merged columns."""
    row = list(sheet.rows[r]) if r < len(sheet.rows) else []
    for (r0, c0), (r1, c1) in sheet.merged:
        if r0 <= r <= r1:
            top = sheet.cell(r0, c0)
            for c in range(c0, c1 + 1):
                while len(row) <= c:
                    row.append("")
                if row[c] == "":
                    row[c] = top
    return row


def _read_meta(sheet: Sheet) -> dict[str, str]:
    meta: dict[str, str] = {}
    for row in sheet.rows[:100]:
        if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
            v = row[1]
            meta[row[0].strip()] = raw_text(v).strip() if v != "" else ""
    return meta
