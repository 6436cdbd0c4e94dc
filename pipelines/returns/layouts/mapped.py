"""Learned layouts: a reviewed mapping saved by the office for one layout fingerprint.

A file no recogniser reads is not a dead end. The office opens it in the dashboard page 导入映射
(Import mappings), marks the header rows, where indicators, subjects and periods come from and
which columns hold values, and saves a *mapping*: a small YAML file
`expectations/mappings/<fingerprint>.yaml`. Every later sheet with the same *fingerprint* (the
layout, not the data: sheet-name pattern, texts and positions of the rows above the data, column
count) is read by that mapping instead of the recognisers.

`read_mapped` builds the same `table.TableView` the recognisers read (header rows, stub columns,
data rows classified by `table.Analyser`), overrides what the mapping says, and emits records with
`table.emit` and a `Fit(family="mapped")`, so lineage, column roles and validation are the same as
for every other family: a target/previous column is never loaded even if the mapping lists it.

Mapping file (comments allowed)::

    fingerprint: 3f2a9c0d1e6b7a58
    name: 县生态环境局考评表
    created_by: office
    created_at: '2026-11-30T21:40:00'
    sample_file: 2012-03_考评.xlsx
    header_rows: [2, 2]              # first, last (1-based)
    data_start_row: 3
    indicator: {axis: row, column: A}   # or {axis: column, row: 2} or {axis: fixed, code: forest_coverage}
    subject: {axis: none}               # or {axis: row, column: A} / {axis: column, row: 1}
    period: {axis: sheet}               # sheet (title/sheet/file name) | row (column: B) | column (row: 2)
    value_columns: [C]                  # letters; omit for every data column
    unit_column: B
    columns:                            # per-column overrides
      D: {role: previous}               # never loaded
      E: {period: '2012-03'}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines.returns.cells import col_letter
from pipelines.returns.layouts.base import EMPTY, NOT_LOADED_ROLES, Fit, Reading
from pipelines.returns.layouts.table import (
    HEADER_SCAN_ROWS,
    Analyser,
    Classifier,
    TableView,
    _filled,
    _is_number_cell,
    emit,
)
from pipelines.returns.normalize import clean_text

FAMILY = "mapped"
ENV_DIR = "WUCHUANG_MAPPINGS_DIR"
FINGERPRINT_ROWS = 8  # non-empty rows above the data read into the fingerprint, at most
INDICATOR_AXES = ("row", "column", "fixed")
SUBJECT_AXES = ("none", "row", "column")
PERIOD_AXES = ("sheet", "row", "column")
OVERRIDE_ROLES = ("value", "cumulative", *sorted(NOT_LOADED_ROLES))
_LETTERS = re.compile(r"^[A-Z]{1,3}$")
_PERIOD = re.compile(r"^(19|20)\d{2}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
_DIGITS = re.compile(r"[0-9０-９一二三四五六七八九十〇]+")


# --- fingerprint --------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """A text with every run of digits (ASCII, full-width or Chinese numerals) as one '#'."""
    return _DIGITS.sub("#", clean_text(text))


def _width(rows: list[list]) -> int:
    best = 0
    for row in rows[: HEADER_SCAN_ROWS * 50]:
        n = len(row)
        while n and (row[n - 1] == "" or row[n - 1] is None):
            n -= 1
        best = max(best, n)
    return min(best, 400)


def _is_data_row(row: list) -> bool:
    return any(_is_number_cell(v) for v in row if v != "" and v is not None)


def fingerprint(sheet, use_name: bool = True) -> str:
    """A stable hash of the sheet's layout, not its data.

    Read: the sheet name with digits as '#' ("2014年3月" → "#年#月"; left out for CSV, whose one
    sheet is named after the file), the texts and positions of the first non-empty rows up to the
    first row holding a number (the data), digits normalised the same way, and the column count.
    Two monthly files of one form get the same fingerprint; another form does not."""
    rows = sheet.rows
    cells: list[tuple[int, int, str]] = []
    seen = 0
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if not any(v != "" and v is not None for v in row):
            continue
        if _is_data_row(row) and seen:
            break
        seen += 1
        cells.extend(
            (r, c, _norm(v) if isinstance(v, str) else "#")
            for c, v in enumerate(row)
            if v != "" and v is not None
        )
        if seen >= FINGERPRINT_ROWS:
            break
    payload = {
        "sheet": _norm(sheet.name) if use_name else "",
        "cells": cells,
        "width": _width(rows),
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()[:16]


# --- the mapping --------------------------------------------------------------------------------


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


@dataclass
class Mapping:
    """A learned layout. Rows are 1-based, columns letters, as the office sees them in the grid."""

    fingerprint: str
    name: str = ""
    header_rows: tuple[int, int] = (1, 1)
    data_start_row: int = 2
    indicator: dict = field(default_factory=lambda: {"axis": "row", "column": "A"})
    subject: dict = field(default_factory=lambda: {"axis": "none"})
    period: dict = field(default_factory=lambda: {"axis": "sheet"})
    value_columns: list[str] | None = None  # None: every data column
    columns: dict[str, dict] = field(default_factory=dict)  # letter → {role | period | indicator}
    unit_column: str | None = None
    created_by: str = ""
    created_at: str = ""
    sample_file: str = ""
    sheet_name: str = ""
    path: Path | None = None  # the file it was loaded from

    def to_dict(self) -> dict:
        d = {
            "fingerprint": self.fingerprint,
            "name": self.name,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "sample_file": self.sample_file,
            "sheet_name": self.sheet_name,
            "header_rows": list(self.header_rows),
            "data_start_row": self.data_start_row,
            "indicator": dict(self.indicator),
            "subject": dict(self.subject),
            "period": dict(self.period),
        }
        if self.value_columns is not None:
            d["value_columns"] = list(self.value_columns)
        if self.unit_column:
            d["unit_column"] = self.unit_column
        if self.columns:
            d["columns"] = {k: dict(v) for k, v in sorted(self.columns.items())}
        return d


@dataclass(frozen=True)
class MappingError:
    """A mapping file that cannot be used: which file, which field, why (Chinese, English)."""

    file: str
    field: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message_zh} / {self.message_en}"


class _Invalid(Exception):
    def __init__(self, fld: str, zh: str, en: str):
        super().__init__(fld)
        self.field, self.zh, self.en = fld, zh, en


def _letter(v: object, fld: str) -> str:
    s = str(v).strip().upper() if isinstance(v, str) else ""
    if not _LETTERS.match(s):
        raise _Invalid(
            fld, f"应为列字母（如 B），而不是 {v!r}", f"expected a column letter (e.g. B), not {v!r}"
        )
    return s


def _row(v: object, fld: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise _Invalid(
            fld, f"应为行号（从 1 开始），而不是 {v!r}", f"expected a row number (from 1), not {v!r}"
        )
    return v


def _axis(d: object, fld: str, axes: tuple[str, ...]) -> dict:
    if isinstance(d, str):
        d = {"axis": d}
    if not isinstance(d, dict) or d.get("axis") not in axes:
        raise _Invalid(
            f"{fld}.axis",
            f"应为 {' | '.join(axes)} 之一",
            f"expected one of {' | '.join(axes)}",
        )
    axis = d["axis"]
    out = {"axis": axis}
    if axis == "row":
        out["column"] = _letter(d.get("column"), f"{fld}.column")
    elif axis == "column":
        out["row"] = _row(d.get("row"), f"{fld}.row")
    elif axis == "fixed":
        code = d.get("code")
        if not isinstance(code, str) or not code.strip():
            raise _Invalid(f"{fld}.code", "缺少指标代码", "the indicator code is missing")
        out["code"] = code.strip()
    return out


def mapping_from_dict(d: object, file_name: str = "") -> Mapping:
    """A validated Mapping; raises _Invalid naming the field."""
    if not isinstance(d, dict):
        raise _Invalid("(file)", "文件内容应为键值映射", "the file should hold a key: value mapping")
    fp = d.get("fingerprint")
    if not isinstance(fp, str) or not _FINGERPRINT.match(fp):
        raise _Invalid(
            "fingerprint", "缺少或格式错误（16 位十六进制）", "missing or malformed (16 hex digits)"
        )
    if file_name and Path(file_name).stem != fp:
        raise _Invalid(
            "fingerprint",
            f"与文件名 {file_name} 不一致",
            f"does not match the file name {file_name}",
        )
    hr = d.get("header_rows")
    if not isinstance(hr, list | tuple) or len(hr) != 2:
        raise _Invalid("header_rows", "应为 [首行, 末行]", "expected [first, last]")
    first, last = _row(hr[0], "header_rows"), _row(hr[1], "header_rows")
    if first > last:
        raise _Invalid("header_rows", "首行大于末行", "first row is after the last row")
    start = _row(d.get("data_start_row"), "data_start_row")
    if start <= last:
        raise _Invalid("data_start_row", "数据起始行应在表头之后", "the data must start below the header")
    vc = d.get("value_columns")
    if vc is not None:
        if not isinstance(vc, list) or not vc:
            raise _Invalid("value_columns", "应为列字母列表", "expected a list of column letters")
        vc = [_letter(v, "value_columns") for v in vc]
    cols: dict[str, dict] = {}
    raw_cols = d.get("columns") or {}
    if not isinstance(raw_cols, dict):
        raise _Invalid("columns", "应为 列字母: 设置", "expected letter: settings")
    for k, v in raw_cols.items():
        letter = _letter(k, "columns")
        if not isinstance(v, dict):
            raise _Invalid(f"columns.{letter}", "应为设置映射", "expected settings")
        o: dict = {}
        if "role" in v:
            if v["role"] not in OVERRIDE_ROLES:
                raise _Invalid(
                    f"columns.{letter}.role",
                    f"应为 {' | '.join(OVERRIDE_ROLES)} 之一",
                    f"expected one of {' | '.join(OVERRIDE_ROLES)}",
                )
            o["role"] = v["role"]
        if "period" in v:
            p = str(v["period"])
            if not _PERIOD.match(p):
                raise _Invalid(
                    f"columns.{letter}.period",
                    f"报告期格式应为 2014、2014-03 或 2014-Q1，而不是 {p!r}",
                    f"period should be 2014, 2014-03 or 2014-Q1, not {p!r}",
                )
            o["period"] = p
        if "indicator" in v:
            if not isinstance(v["indicator"], str) or not v["indicator"].strip():
                raise _Invalid(f"columns.{letter}.indicator", "缺少指标代码", "the indicator code is missing")
            o["indicator"] = v["indicator"].strip()
        cols[letter] = o
    unit = d.get("unit_column")
    return Mapping(
        fingerprint=fp,
        name=str(d.get("name") or ""),
        header_rows=(first, last),
        data_start_row=start,
        indicator=_axis(d.get("indicator"), "indicator", INDICATOR_AXES),
        subject=_axis(d.get("subject", {"axis": "none"}), "subject", SUBJECT_AXES),
        period=_axis(d.get("period", {"axis": "sheet"}), "period", PERIOD_AXES),
        value_columns=vc,
        columns=cols,
        unit_column=_letter(unit, "unit_column") if unit else None,
        created_by=str(d.get("created_by") or ""),
        created_at=str(d.get("created_at") or ""),
        sample_file=str(d.get("sample_file") or ""),
        sheet_name=str(d.get("sheet_name") or ""),
    )


def load_mappings(directory: Path | None, errors: list[MappingError] | None = None) -> dict[str, Mapping]:
    """Every valid mapping under `directory`, by fingerprint. A broken file is skipped and reported
    in `errors` (file, field, Chinese, English); nothing here raises."""
    out: dict[str, Mapping] = {}
    if directory is None:
        return out
    try:
        files = sorted(Path(directory).glob("*.yaml"))
    except OSError:
        return out
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
            m = mapping_from_dict(yaml.safe_load(text), f.name)
        except _Invalid as exc:
            if errors is not None:
                errors.append(MappingError(f.name, exc.field, exc.zh, exc.en))
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            if errors is not None:
                detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                errors.append(
                    MappingError(f.name, "(file)", f"无法读取：{detail}", f"cannot be read: {detail}")
                )
            continue
        m.path = f
        out[m.fingerprint] = m
    return out


_HEADER = """\
# 导入映射 / Import mapping — a reviewed data file (see docs/layouts.md).
# Every sheet with this layout fingerprint is read by this mapping instead of the recognisers.
# Rows are 1-based, columns are letters as in Excel. Edit with care; comments are allowed.
"""


def save_mapping(directory: Path, mapping: Mapping) -> Path:
    """Write `<directory>/<fingerprint>.yaml` (validated first; raises _Invalid on a bad mapping)."""
    d = mapping.to_dict()
    mapping_from_dict(d)  # never write a file the loader would refuse
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{mapping.fingerprint}.yaml"
    body = yaml.safe_dump(d, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(_HEADER + body, encoding="utf-8")
    os.replace(tmp, path)
    return path


def mapping_yaml(mapping: Mapping) -> str:
    return _HEADER + yaml.safe_dump(
        mapping.to_dict(), allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
    )


# --- where mappings live, cached per directory and file times ------------------------------------


_DEFAULT_DIRS: dict[str | None, Path] = {}  # the environment value → its folder (asked per file)


def default_dir() -> Path:
    env = os.environ.get(ENV_DIR) or None
    hit = _DEFAULT_DIRS.get(env)
    if hit is not None:
        return hit
    if env:
        d = Path(env)
    else:
        from pipelines.settings import PROJECT_ROOT

        d = PROJECT_ROOT / "expectations" / "mappings"
    if len(_DEFAULT_DIRS) < 64:
        _DEFAULT_DIRS[env] = d
    return d


_CACHE: dict[str, tuple[tuple, dict[str, Mapping]]] = {}


def mappings_for(directory: Path | None = None) -> dict[str, Mapping]:
    """The mappings of a directory (default: $WUCHUANG_MAPPINGS_DIR or expectations/mappings),
    reloaded when a file there is added, removed or changed."""
    d = Path(directory) if directory is not None else default_dir()
    # one directory listing per call (this runs for every file parsed): no separate is_dir, one
    # stat per mapping file, the folder's spelling as the key (another spelling of the same folder
    # is only another entry; the stamp decides whether an entry is current)
    try:
        with os.scandir(d) as entries:
            stamp = tuple(
                sorted(
                    (e.name, st.st_mtime_ns, st.st_size)
                    for e in entries
                    if e.name.endswith(".yaml")
                    for st in (e.stat(),)
                )
            )
    except OSError:  # missing, not a folder, unreadable
        return {}
    key = str(d)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    maps = load_mappings(d)
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[key] = (stamp, maps)
    return maps


def lookup(sheet, mappings: dict[str, Mapping], use_name: bool = True) -> Mapping | None:
    if not mappings:
        return None
    return mappings.get(fingerprint(sheet, use_name))


# --- reading a sheet by its mapping -------------------------------------------------------------


def _cell_label(classifier: Classifier, grid_row: list, c: int, county):
    v = grid_row[c] if c < len(grid_row) else ""
    return v, (classifier.label(v, county) if v != "" and v is not None else EMPTY)


def build_view(sheet, m: Mapping, classifier: Classifier, county: str | None = None) -> TableView:
    """The TableView the mapping describes: header rows, stub columns and column labels as marked."""
    rows = sheet.rows
    width = max(_width(rows), 1)
    first, last = m.header_rows[0] - 1, m.header_rows[1] - 1
    merged = list(sheet.merged)
    an = Analyser(classifier)
    hgrid = _filled(rows, merged, first, last, width)
    columns = {}
    for c in range(width):
        raws = [hgrid[i][c] for i in range(len(hgrid))]
        labs = [classifier.label(v, county) if v != "" and v is not None else EMPTY for v in raws]
        columns[c] = an._column(c, labs, raws)
    stub: dict[str, int] = {}
    ind, subj, per = m.indicator, m.subject, m.period
    if ind["axis"] == "row":
        stub["name"] = col_index(ind["column"])
    if subj["axis"] == "row":
        stub["subject"] = col_index(subj["column"])
    if per["axis"] == "row":
        stub["period"] = col_index(per["column"])
    if m.unit_column:
        stub["unit"] = col_index(m.unit_column)

    def axis_row(r1: int) -> list:
        return _filled(rows, merged, r1 - 1, r1 - 1, width)[0]

    # Indicators, subjects or periods from one header row, as marked (not as the analyser guessed).
    if ind["axis"] == "column":
        grid = axis_row(ind["row"])
        for c, col in columns.items():
            v, lab = _cell_label(classifier, grid, c, county)
            col.indicator, col.indicator_reason = lab.indicator, lab.indicator_reason
            col.indicator_text = clean_text(v) if isinstance(v, str) else ""
            if col.indicator is None and col.indicator_text and col.indicator_reason is None:
                col.indicator_reason = "unknown_indicator"
    else:
        for col in columns.values():
            col.indicator, col.indicator_reason, col.indicator_text = None, None, ""
    if subj["axis"] == "column":
        grid = axis_row(subj["row"])
        for c, col in columns.items():
            col.place = _cell_label(classifier, grid, c, county)[1].place
    else:
        for col in columns.values():
            col.place = None
    if per["axis"] == "column":
        grid = axis_row(per["row"])
        for c, col in columns.items():
            lab = _cell_label(classifier, grid, c, county)[1]
            if lab.has_period and not lab.bad_period:
                col.period, col.month, col.quarter = lab.period, lab.month, lab.quarter
    else:
        for col in columns.values():
            col.period = col.month = col.quarter = None
    for letter, o in m.columns.items():
        col = columns.get(col_index(letter))
        if col is None:
            continue
        if "role" in o:
            col.role = o["role"]
        if "period" in o:
            col.period, col.month, col.quarter = o["period"], None, None
        if "indicator" in o:
            code = o["indicator"]
            known = classifier.catalog is None or code in classifier.catalog.indicators
            col.indicator = code if known else None
            col.indicator_reason = None if known else "unknown_indicator"
            col.indicator_text = _indicator_name(classifier, code) if known else code
    ind_row = ind["row"] - 1 if ind["axis"] == "column" else first
    data_last = m.data_start_row - 2  # the rows between the header and the data are skipped
    view = TableView(
        sheet.name, rows, ind_row, data_last, columns, stub, [], an._title(rows, first), width=width
    )
    an._rows(view, county)
    view.header_first, view.header_last = ind_row, last
    return view


def _indicator_name(classifier: Classifier, code: str) -> str:
    cat = classifier.catalog
    ind = cat.indicators.get(code) if cat is not None else None
    return ind.name_zh if ind is not None else code


def value_columns(view: TableView, m: Mapping) -> tuple[list[int], list[tuple[str, str, str]]]:
    """The columns read for values, and the ones left out with why (letter, zh, en).

    A column the header (or an override) marks as target, previous, change, rate, remark or
    standard is never read, even when the mapping lists it."""
    stub_cols = set(view.stub.values())
    if m.value_columns is not None:
        wanted = [col_index(x) for x in m.value_columns]
    else:
        wanted = [c for c in sorted(view.columns) if c not in stub_cols]
    out, skipped = [], []
    for c in wanted:
        col = view.columns.get(c)
        letter = col_letter(c)
        if col is None:
            skipped.append((letter, "该列超出表格范围", "the column is outside the table"))
            continue
        if c in stub_cols:
            skipped.append((letter, "该列是名称/单位/报告期列", "the column is a name/unit/period column"))
            continue
        override = m.columns.get(letter, {}).get("role")
        if col.role in NOT_LOADED_ROLES and override not in ("value", "cumulative"):
            skipped.append(
                (
                    letter,
                    f"表头“{col.header_text}”是目标、上期、增减或备注等列，不作为本期数值入库",
                    f"header '{col.header_text}' is a target/previous/change/remark column, never loaded",
                )
            )
            continue
        if col.role not in ("value", "cumulative"):
            col.role = "value"
        out.append(c)
    return out, skipped


def read_mapped(sheet, mapping: Mapping, classifier: Classifier, county: str | None = None) -> Reading:
    """The reading of a sheet by its mapping: records exactly like a family's (see `table.emit`)."""
    view = build_view(sheet, mapping, classifier, county)
    cols, skipped = value_columns(view, mapping)
    axis = mapping.indicator["axis"]
    per_axis = mapping.period["axis"]
    if per_axis == "sheet" and any("period" in o for o in mapping.columns.values()):
        per_axis = "column"  # periods given per column; the others take the sheet's
    fit = Fit(
        FAMILY,
        "sheet" if axis == "fixed" else axis,
        None if mapping.subject["axis"] == "none" else mapping.subject["axis"],
        None if per_axis == "sheet" else per_axis,
        score=float(len(cols)),
        columns=cols,
    )
    sheet_ind = None
    if axis == "fixed":
        code = mapping.indicator["code"]
        known = classifier.catalog is None or code in classifier.catalog.indicators
        sheet_ind = (code if known else None, _indicator_name(classifier, code))
    records, _ = emit(view, fit, classifier, county, sheet_ind)
    reading = Reading(sheet.name, FAMILY, records, view.title)
    reading.header_rows = (mapping.header_rows[0] - 1, mapping.header_rows[1] - 1)
    reading.notes = list(view.notes)
    for letter, zh, en in skipped:
        reading.problems.append(("column_not_loaded", f"{letter}{mapping.header_rows[1]}", zh, en))
        reading.skipped_roles += 1
    if axis == "fixed":
        reading.sheet_indicator = sheet_ind[0]
    return reading


# --- the best guess, to pre-fill the page -------------------------------------------------------


def guess(sheet, classifier: Classifier, county: str | None = None, sample_file: str = "") -> Mapping:
    """The best guess of a mapping for a sheet: from the recognisers' view when a header was found
    (even if no family fitted), else from the grid (the first row holding numbers starts the data;
    the text rows just above are the header)."""
    from pipelines.returns.layouts import FAMILIES, title_indicator

    fp = fingerprint(sheet)
    base = Mapping(fp, sample_file=sample_file, sheet_name=sheet.name, created_at=_now())
    rows = sheet.rows
    view = Analyser(classifier).analyse(sheet, county)
    if view is not None:
        fits = [f for fam in FAMILIES if (f := fam.fit(view)) is not None and f.score > 0]
        if fits:
            best = max(fits, key=lambda f: f.score)
            m = dataclasses.replace(base)
            m.header_rows = (view.header_first + 1, view.header_last + 1)
            data = [i.index for i in view.data_rows if i.kind in ("data", "subtotal")]
            m.data_start_row = (data[0] if data else view.header_last + 1) + 1
            hrows = _filled(rows, list(sheet.merged), view.header_first, view.header_last, view.width)

            def row_with(pred) -> int:
                for i, r in enumerate(hrows):
                    if any(pred(classifier.label(v, county)) for c, v in enumerate(r) if c in best.columns):
                        return view.header_first + i + 1
                return view.header_last + 1

            if best.indicator_axis == "row" and "name" in view.stub:
                m.indicator = {"axis": "row", "column": col_letter(view.stub["name"])}
            elif best.indicator_axis == "column":
                m.indicator = {"axis": "column", "row": row_with(lambda lab: lab.indicator is not None)}
            else:
                code, _ = title_indicator(classifier, view.title)
                m.indicator = {"axis": "fixed", "code": code or ""}
            if best.subject_axis == "row" and "subject" in view.stub:
                m.subject = {"axis": "row", "column": col_letter(view.stub["subject"])}
            elif best.subject_axis == "column":
                m.subject = {"axis": "column", "row": row_with(lambda lab: lab.place is not None)}
            if best.period_axis == "row" and "period" in view.stub:
                m.period = {"axis": "row", "column": col_letter(view.stub["period"])}
            elif best.period_axis == "column":
                m.period = {"axis": "column", "row": row_with(lambda lab: lab.has_period)}
            m.value_columns = [col_letter(c) for c in best.columns]
            if "unit" in view.stub:
                m.unit_column = col_letter(view.stub["unit"])
            return m
    return _guess_from_grid(sheet, classifier, county, base)


def _now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()


def _guess_from_grid(sheet, classifier: Classifier, county, m: Mapping) -> Mapping:
    rows = sheet.rows
    width = max(_width(rows), 1)
    label = classifier.label
    scan = rows[:HEADER_SCAN_ROWS]
    start = None
    for r, row in enumerate(scan):
        labelled = any(isinstance(v, str) and v.strip() and not _is_number_cell(v) for v in row)
        if r > 0 and labelled and _is_data_row(row):
            start = r
            break
    if start is None:
        start = next((r for r, row in enumerate(scan) if _is_data_row(row)), 1) or 1
    last = start - 1
    while last > 0 and not any(v != "" and v is not None for v in rows[last]):
        last -= 1
    first = last
    while first > 0 and first > last - 2:
        prev = rows[first - 1]
        cells = [v for v in prev if v != "" and v is not None]
        if len(cells) < 2 or _is_data_row(prev):
            break
        first -= 1
    m.header_rows = (first + 1, last + 1)
    m.data_start_row = start + 1
    body = rows[start : start + 200]
    stats = []
    for c in range(width):
        s = {"num": 0, "text": 0, "ind": 0, "unit": 0, "place": 0, "seq": 0}
        for row in body:
            v = row[c] if c < len(row) else ""
            if v == "" or v is None:
                continue
            if _is_number_cell(v):
                s["num"] += 1
                if isinstance(v, int | float) and float(v) == int(v) and 0 < v < 1000:
                    s["seq"] += 1
                continue
            s["text"] += 1
            lab = label(v, county)
            if lab.indicator is not None or lab.indicator_reason in (
                "ambiguous_indicator",
                "lookalike_indicator",
            ):
                s["ind"] += 1
            elif lab.place is not None:
                s["place"] += 1
            elif classifier.unit_of(str(v)) is not None:
                s["unit"] += 1
        stats.append(s)
    header = _filled(rows, list(sheet.merged), last, last, width)[0]
    hlabels = [label(v, county) if v != "" and v is not None else EMPTY for v in header]
    unit_col = next(
        (c for c, s in enumerate(stats) if s["unit"] and s["unit"] >= (s["text"] + s["num"]) / 2),
        None,
    )
    unit_col = (
        unit_col
        if unit_col is not None
        else next((c for c, lab in enumerate(hlabels) if lab.role == "unit"), None)
    )
    names = [c for c, s in enumerate(stats) if s["ind"] and c != unit_col]
    name_col = max(names, key=lambda c: stats[c]["ind"]) if names else None
    if name_col is None:
        texts = [c for c, s in enumerate(stats) if s["text"] > s["num"] and c != unit_col and not s["place"]]
        name_col = texts[0] if texts else None
    places = [
        c for c, s in enumerate(stats) if s["place"] >= 2 and s["place"] >= s["text"] / 2 and c != name_col
    ]
    stub = {c for c in (name_col, unit_col) if c is not None} | set(places[:1])
    numeric = [
        c
        for c, s in enumerate(stats)
        if c not in stub
        and s["num"] > 0
        and s["num"] >= s["text"]
        and hlabels[c].role not in NOT_LOADED_ROLES
        and not (s["seq"] == s["num"] and c < (name_col if name_col is not None else 0))
    ]
    header_inds = [c for c in numeric if hlabels[c].indicator is not None]
    if places:
        m.subject = {"axis": "row", "column": col_letter(places[0])}
    if header_inds and (name_col is None or not stats[name_col]["ind"]):
        m.indicator = {"axis": "column", "row": last + 1}
        m.value_columns = [col_letter(c) for c in header_inds]
    elif name_col is not None:
        m.indicator = {"axis": "row", "column": col_letter(name_col)}
        # One indicator per row and one period per sheet: one value column (the first plain one);
        # the others (targets, previous periods) stay unread until the office marks them.
        valued = [c for c in numeric if hlabels[c].role in ("value", None)]
        m.value_columns = [col_letter(c) for c in (valued or numeric)[:1]] or None
    else:
        m.indicator = {"axis": "fixed", "code": ""}
        m.value_columns = [col_letter(c) for c in numeric] or None
    if unit_col is not None:
        m.unit_column = col_letter(unit_col)
    return m
