"""Percent-formatted and formula-error cells of an .xlsx workbook.

A cell showing "85.2%" in Excel is stored as 0.852 with a percent number format; calamine returns the
bare 0.852. Loading that as 0.852 % would be a wrong number, so the parser asks this module which
cells carry a percent format and reads them as the percentage a person sees.

Cheap when no percent format is used (only `xl/styles.xml` is read); otherwise each sheet's XML is
streamed once (iterparse), bounded by the reader's size limits. Never raises: a workbook it cannot
read gives no cells, and the parser falls back to the stored value.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree.ElementTree import iterparse

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_BUILTIN_PERCENT = {9, 10}
_QUOTED = re.compile(r'"[^"]*"|\\.')
MAX_CELLS = 2_000_000


def _is_percent_code(code: str) -> bool:
    return "%" in _QUOTED.sub("", code)


_PERCENT_HINT = re.compile(rb'numFmtId="(?:9|10)"|%')


def _percent_styles(zf: zipfile.ZipFile, names: dict[str, str] | None = None) -> set[int]:
    try:
        raw = zf.read(_member(zf, "xl/styles.xml", names))
    except KeyError:
        return set()
    return set(percent_styles_of(raw))


# The answer for a styles part is a pure function of its bytes, and a template's styles part is the
# same in every file (the reader even hands out the same bytes object for it): kept per process,
# keyed by the bytes themselves (a changed byte is another key).
_STYLES_MEMO: dict[bytes, frozenset[int]] = {}
STYLES_MEMO_MAX = 256
STYLES_MEMO_PART_MAX = 1 << 20


def clear_memo() -> None:
    """Forget the kept styles answers (tests and benchmarks measuring a cold process)."""
    _STYLES_MEMO.clear()


def percent_styles_of(raw: bytes) -> frozenset[int]:
    """Indexes of the cell formats (cellXfs) that show a number as a percentage, of a styles part."""
    hit = _STYLES_MEMO.get(raw)
    if hit is not None:
        return hit
    out = frozenset(_parse_percent_styles(raw))
    if len(raw) <= STYLES_MEMO_PART_MAX:
        if len(_STYLES_MEMO) >= STYLES_MEMO_MAX:
            _STYLES_MEMO.clear()
        _STYLES_MEMO[bytes(raw)] = out
    return out


def _parse_percent_styles(raw: bytes) -> set[int]:
    if not _PERCENT_HINT.search(raw):
        return set()  # no built-in percent format and no custom code with a % sign
    data = io.BytesIO(raw)
    custom: dict[int, str] = {}
    xfs: list[int] = []
    in_cellxfs = False
    for event, el in iterparse(data, events=("start", "end")):
        tag = el.tag.removeprefix(_NS_MAIN)
        if event == "start":
            if tag == "cellXfs":
                in_cellxfs = True
            continue
        if tag == "numFmt":
            with contextlib.suppress(ValueError):
                custom[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
        elif tag == "xf" and in_cellxfs:
            try:
                xfs.append(int(el.get("numFmtId", "0")))
            except ValueError:
                xfs.append(0)
        elif tag == "cellXfs":
            in_cellxfs = False
        el.clear()
    return {
        i
        for i, fid in enumerate(xfs)
        if fid in _BUILTIN_PERCENT or (fid in custom and _is_percent_code(custom[fid]))
    }


def _member(zf: zipfile.ZipFile, name: str, names: dict[str, str] | None = None) -> str:
    """The archive member for a part name, case-insensitively (some writers vary the case);
    `names`: the archive's lower-case name → name map, when the caller built it already."""
    if names is None:
        names = _names(zf)
    hit = names.get(name.lower())
    if hit is None:
        raise KeyError(name)
    return hit


def _names(zf: zipfile.ZipFile) -> dict[str, str]:
    return {n.lower(): n for n in zf.namelist()}


def _sheet_parts(zf: zipfile.ZipFile, names: dict[str, str] | None = None) -> dict[str, str]:
    """Sheet name → part path, from workbook.xml and its relationships."""
    rels: dict[str, str] = {}
    with zf.open(_member(zf, "xl/_rels/workbook.xml.rels", names)) as fh:
        for _ev, el in iterparse(fh):
            if el.tag == f"{_NS_PKG_REL}Relationship":
                target = el.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                rels[el.get("Id", "")] = path
    out: dict[str, str] = {}
    with zf.open(_member(zf, "xl/workbook.xml", names)) as fh:
        for _ev, el in iterparse(fh):
            if el.tag == f"{_NS_MAIN}sheet":
                rid = el.get(f"{_NS_REL}id", "")
                if rid in rels:
                    out[el.get("name", "")] = rels[rid]
    return out


def cells_from_zip(
    zf: zipfile.ZipFile, error_parts: set[str] | None = None
) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """(percent cells, error cells) by sheet name, from an open xlsx archive. `error_parts`: the
    worksheet parts known to hold `t="e"` cells (None: look in every part)."""
    percent: dict[str, set[str]] = {}
    errors: dict[str, dict[str, str]] = {}
    names = _names(zf)
    styles = _percent_styles(zf, names)
    if not styles and error_parts is not None and not error_parts:
        return percent, errors
    for name, part in _sheet_parts(zf, names).items():
        try:
            info = zf.getinfo(_member(zf, part, names))
        except KeyError:
            continue
        check_errors = error_parts is None or info.filename in error_parts
        if not styles and not check_errors:
            continue
        data = zf.read(info)
        if check_errors and b't="e"' not in data:
            check_errors = False
        if not styles and not check_errors:
            continue
        cells, errs = _scan_sheet(data, styles)
        if cells:
            percent[name] = cells
        if errs:
            errors[name] = errs
    return percent, errors


def _scan_sheet(data: bytes, styles: set[int]) -> tuple[set[str], dict[str, str]]:
    cells: set[str] = set()
    errs: dict[str, str] = {}
    seen = 0
    current: tuple[str, str | None] | None = None
    for ev, el in iterparse(io.BytesIO(data), events=("start", "end")):
        if el.tag != f"{_NS_MAIN}c":
            if ev == "end" and el.tag == f"{_NS_MAIN}v" and current is not None and current[1] == "e":
                errs[current[0]] = el.text or "#ERROR"
            continue
        if ev == "start":
            current = (el.get("r", ""), el.get("t"))
            continue
        seen += 1
        s = el.get("s")
        if styles and s is not None and s.isdigit() and int(s) in styles and el.get("t") in (None, "n"):
            cells.add(el.get("r", ""))
        current = None
        el.clear()
        if seen > MAX_CELLS:
            break
    return cells, errs


def cell_formats(path: Path, file_format: str) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """(percent cells, error cells) of an xlsx/xlsm workbook file (see `cells_from_zip`). Never
    raises: a workbook it cannot read gives none, and the stored values are used."""
    if file_format not in ("xlsx", "xlsm"):
        return {}, {}
    try:
        with zipfile.ZipFile(path) as zf:
            return cells_from_zip(zf)
    except Exception:
        return {}, {}
