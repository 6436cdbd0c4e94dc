"""Formula neutralising for every file a person opens (CSV, xlsx, briefings): one rule, one place.

A spreadsheet reads a cell as a formula (or as DDE) when its text starts with ``=``, ``+``, ``-``,
``@``, a tab, CR or LF; full-width and small-form variants (``＝＋－＠﹦﹢﹣﹫``) are treated the same,
and so are these characters behind leading blanks (spaces, NBSP, ideographic space, zero-width
characters), which some spreadsheets skip. Text from uploads, the catalog or the SQL console must come
back as text (OWASP "CSV injection"):

- CSV: such text is prefixed with a single quote (``'=1+1``); line breaks become LF so that the csv
  module quotes the cell (write with a line terminator holding LF: pandas' default, csv's ``\r\n``). A plain number written as text (``-5``, ``+1.5e3``, ``-12%``) is left alone: a spreadsheet
  reads it as a number, not a formula. Numbers (int, float, Decimal) are never touched.
- xlsx: strings are written as string cells, never as formulas: openpyxl cells get ``data_type "s"``
  (and ``quotePrefix`` when the text looks like a formula, so editing the cell keeps it text);
  xlsxwriter workbooks are opened with ``XLSXWRITER_OPTIONS`` (``strings_to_formulas`` off, no
  automatic URLs) or write with ``write_string``.
- Word/PDF (briefings): text cannot become a formula there; ``xml_text`` only drops the control
  characters XML cannot hold (python-docx refuses them).
"""

from __future__ import annotations

import csv
import decimal
import io
import math
import numbers
import re
from collections.abc import Iterable, Sequence

# Characters that start a formula (or DDE) in Excel, LibreOffice or WPS.
TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
# Leading characters a spreadsheet may skip before looking for a trigger.
_BLANKS = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff\x0b\x0c"
# Text that is just a number: a spreadsheet reads it as that number, not as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")
# Control characters XML 1.0 cannot hold (same set as openpyxl's ILLEGAL_CHARACTERS_RE).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

QUOTE = "'"

# xlsxwriter Workbook options: strings stay strings (no formulas, no URLs, no numbers from text).
XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def is_formula_like(text: str) -> bool:
    """True if a spreadsheet could take `text` for a formula (a plain number in text is not)."""
    if not text:
        return False
    if text in ("-", "+"):  # a lone sign (often "no data") is text in every spreadsheet
        return False
    if text[0] in TRIGGERS:
        return _PLAIN_NUMBER.fullmatch(text) is None
    stripped = text.lstrip(_BLANKS)
    if not stripped or stripped is text or stripped[0] not in TRIGGERS:
        return False
    return _PLAIN_NUMBER.fullmatch(stripped.rstrip(_BLANKS)) is None


def csv_text(value):
    """A CSV cell value: formula-like text gets a leading quote, and a bare CR becomes LF (the csv
    module quotes a cell holding LF, but not one holding only CR, which spreadsheets read as a new
    row: ``"x\r=1+1"`` would start a row with a formula). Everything else is unchanged."""
    if not isinstance(value, str):
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    return QUOTE + text if is_formula_like(value) else text


def csv_row(values: Iterable) -> list:
    return [csv_text(v) for v in values]


def xml_text(text: str) -> str:
    """Text without the control characters XML (xlsx, docx) cannot hold."""
    return _XML_ILLEGAL.sub("", text)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number | decimal.Decimal) and not isinstance(value, bool)


def csv_frame(df):
    """A copy of a pandas DataFrame ready for ``to_csv``: text cells and column names neutralised,
    numbers untouched (numeric columns are not even looked at)."""
    import pandas as pd

    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        out[c] = col.map(_csv_cell, na_action="ignore")
    out.columns = [csv_text(str(c)) for c in out.columns]
    return out


def _csv_cell(value):
    if isinstance(value, str):
        return csv_text(value)
    if _is_number(value) or value is None:
        return value
    if isinstance(value, list | tuple):
        return csv_text(", ".join(map(str, value)))
    text = str(value)
    return csv_text(text) if is_formula_like(text) else value


def write_csv(
    rows: Iterable[Sequence], header: Sequence[str] | None = None, out=None, **csv_kwargs
) -> str | None:
    """Write rows as CSV with every cell neutralised; returns the text when `out` is None."""
    buf = io.StringIO() if out is None else out
    writer = csv.writer(buf, **csv_kwargs)
    if header is not None:
        writer.writerow(csv_row(header))
    for r in rows:
        writer.writerow(csv_row("" if v is None else v for v in r))
    return buf.getvalue() if out is None else None


def set_cell(cell, value):
    """Put `value` in an openpyxl cell: text always as a string cell (never a formula or an error
    code), numbers, dates and booleans as themselves; anything else as its text."""
    if isinstance(value, str):
        text = xml_text(value)[:32767]
        cell.value = text
        cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
        return cell
    if isinstance(value, float) and not math.isfinite(value):
        return set_cell(cell, str(value))
    try:
        cell.value = value
    except (ValueError, TypeError):
        return set_cell(cell, str(value))
    if cell.data_type not in ("n", "d", "b") and value is not None:
        return set_cell(cell, str(value))
    return cell


def append_row(ws, values: Iterable) -> int:
    """openpyxl ``ws.append`` through `set_cell`; returns the new row's number."""
    ws.append([])  # advances the worksheet's current row, writes nothing
    row = ws._current_row
    for col, value in enumerate(values, start=1):
        if value is not None:
            set_cell(ws.cell(row=row, column=col), value)
    return row


def neutralize_formulas(ws, cached=None) -> int:
    """Replace every formula cell of an openpyxl worksheet (array and data-table formulas too) by its
    value cached in `cached` (the same sheet opened with ``data_only=True``), or by the formula's
    text as a string; returns how many cells changed. For a workbook that came from outside: its
    formulas must not reach the person who opens our copy of it."""
    changed = 0
    for cell in list(ws._cells.values()):  # the cells that exist, not the whole used range
        if cell.data_type != "f":
            continue
        value = None
        if cached is not None:
            kept = cached._cells.get((cell.row, cell.column))
            value = kept.value if kept is not None else None
        if value is None:
            formula = cell.value
            value = str(getattr(formula, "text", formula) or "")
        set_cell(cell, value)
        changed += 1
    return changed


# Formula text that reaches outside the workbook: DDE (`cmd|' /C calc'!A0`), external workbooks
# (`[1]Sheet1!A1`) and functions that call out or run code.
_ACTIVE_FORMULA = re.compile(
    r"\||\[\d+\]|\b(?:HYPERLINK|WEBSERVICE|FILTERXML|IMPORTXML|IMPORTDATA|RTD|CALL|REGISTER(?:\.ID)?|EXEC|"
    r"EVALUATE|DDE|SHELL)\s*\(",
    re.IGNORECASE,
)


def _active(text) -> bool:
    return isinstance(text, str) and _ACTIVE_FORMULA.search(text) is not None


def neutralize_workbook(wb, cached=None) -> int:
    """Make an openpyxl workbook from outside safe to hand to a person: every formula cell becomes its
    cached value (from `cached`, the same file opened with ``data_only=True``) or its text; links to
    other workbooks are dropped, and so are defined names, conditional formats and validations whose
    formulas reach outside the workbook (DDE, external references, HYPERLINK/WEBSERVICE…).
    Returns how many cells changed."""
    changed = 0
    for ws in wb.worksheets:
        other = cached[ws.title] if cached is not None and ws.title in cached.sheetnames else None
        changed += neutralize_formulas(ws, other)
        for name in [n for n, d in ws.defined_names.items() if _active(d.attr_text)]:
            del ws.defined_names[name]
        for rules in ws.conditional_formatting._cf_rules.values():  # the lists openpyxl writes
            rules[:] = [r for r in rules if not any(_active(f) for f in (r.formula or ()))]
        dvs = ws.data_validations
        dvs.dataValidation = [
            dv for dv in dvs.dataValidation if not (_active(dv.formula1) or _active(dv.formula2))
        ]
    for name in [n for n, d in wb.defined_names.items() if _active(d.attr_text)]:
        del wb.defined_names[name]
    wb._external_links = []
    return changed
