"""Cell normalisation for departmental returns: plain functions, no I/O, never raising.

`normalize_cell(raw)` turns whatever a spreadsheet reader produced (str, int, float, bool, date)
into a `Norm`: a number, a text, a missing marker, or an error with a reason code. Rules:

- Unicode NFKC first, so full-width digits and punctuation ("８５．３", "－", "％") become ASCII.
- Empty markers (blank, "—", "－", "/", "无", "-", "--", "…", "N/A") are *missing*: no value, no problem.
- Numbers stored as text, thousands separators ("12,345"), "85.3%" (value stays in percent units,
  `unit_hint="%"`), "3.5‰" (`unit_hint="‰"`), "1.2万" (x 10 000), a leading "+" or "约".
- Anything else is *text* (qualitative items such as "达标", "C级"), which the parser may reject as
  `not_a_number` when the indicator needs a number.

`period_from_text` / `find_period` read Chinese period strings ("2012年3月", "2012年第一季度",
"2012年一季度", "2012年1季度", "2012年", "2012-03", "2012.3") and Excel date cells into period codes
(`2012-03`, `2012-Q1`, `2012`).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from dataclasses import dataclass

# Markers departments use for "no figure this period". Compared after NFKC and strip.
EMPTY_MARKERS = frozenset(
    {
        "",
        "—",
        "——",
        "-",
        "--",
        "---",
        "/",
        "//",
        "\\",
        "无",
        "暂无",
        "空",
        "…",
        "……",
        "n/a",
        "N/A",
        "NA",
        "null",
    }
)

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACES = re.compile(r"\s+")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_QUARTER_WORD = r"第?\s*([一二三四1-4])\s*季度?"


@dataclass(frozen=True, slots=True)
class Norm:
    """A normalised cell. `kind` is number | text | missing | error."""

    kind: str
    value: float | None = None
    text: str | None = None
    unit_hint: str | None = None  # "%" or "‰" when the cell carried the sign
    reason: str | None = None  # error: a REASONS code (not_a_number)

    @property
    def is_number(self) -> bool:
        return self.kind == "number"

    @property
    def is_missing(self) -> bool:
        return self.kind == "missing"


MISSING = Norm("missing")


def clean_text(value: object) -> str:
    """NFKC-normalised text with whitespace collapsed and stripped ('' for None)."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    if len(s) <= 64:
        return _clean_short(s)  # headers, names and cells repeat across files: memoised
    return _clean(s)


def _clean(s: str) -> str:
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    return " ".join(s.split())


_clean_short = functools.lru_cache(maxsize=65_536)(_clean)


def format_number(value: float) -> str:
    """A number as departments would write it: 85.3, 12 (no trailing .0)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def parse_number_text(s: str) -> tuple[float, str | None] | None:
    """(value, unit_hint) from an already-cleaned text, or None when it is not a number."""
    t = s.replace(" ", "")
    if t.startswith("约"):
        t = t[1:]
    hint = None
    factor = 1.0
    if t.endswith("%"):
        hint, t = "%", t[:-1]
    elif t.endswith("‰"):
        hint, t = "‰", t[:-1]
    elif t.endswith("万"):
        factor, t = 10000.0, t[:-1]
    elif t.endswith("亿"):
        factor, t = 1e8, t[:-1]
    if not t:
        return None
    if "," in t:
        if not _THOUSANDS.match(t):
            return None
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return None
    v = float(t) * factor
    if not math.isfinite(v):
        return None
    if factor != 1.0:
        v = round(v, 6)
    return v, hint


def normalize_cell(raw: object) -> Norm:
    """Normalise one cell value as read from a spreadsheet or CSV. Never raises."""
    if raw is None:
        return MISSING
    if isinstance(raw, bool):
        return Norm("text", text="是" if raw else "否")
    if isinstance(raw, int | float):
        v = float(raw)
        if not math.isfinite(v):
            return Norm("error", text=str(raw), reason="not_a_number")
        return Norm("number", value=v, text=format_number(v))
    if isinstance(raw, dt.datetime | dt.date):
        d = raw.date() if isinstance(raw, dt.datetime) else raw
        return Norm("text", text=d.isoformat())
    if isinstance(raw, dt.time | dt.timedelta):
        return Norm("error", text=str(raw), reason="not_a_number")
    s = clean_text(raw)
    if s in EMPTY_MARKERS:
        return MISSING
    parsed = parse_number_text(s)
    if parsed is not None:
        return Norm("number", value=parsed[0], text=s, unit_hint=parsed[1])
    return Norm("text", text=s)


# --- periods -----------------------------------------------------------------------------------

_P_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月份?(?!\s*\d{1,2}\s*[日号])")
_P_QUARTER = re.compile(r"(\d{4})\s*年\s*(?:度\s*)?" + _QUARTER_WORD)
_P_YEAR = re.compile(r"(\d{4})\s*年(?:度)?(?!\s*(?:\d|第|[一二三四]\s*季|上半年|下半年))")
_P_ISO_QUARTER = re.compile(r"(?<!\d)(\d{4})\s*[-_ ]?\s*[Qq]([1-4])(?!\d)")
_P_ISO_MONTH = re.compile(r"(?<![\d.])(\d{4})\s*[-./_]\s*(\d{1,2})(?![\d])(?!\s*[-./]\s*\d)")
_P_COMPACT_MONTH = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)")
_P_BARE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_P_MONTH_ONLY = re.compile(r"^(\d{1,2})\s*月份?$")
_P_QUARTER_ONLY = re.compile(r"^" + _QUARTER_WORD + r"$")


def _month_code(year: int, month: int) -> str | None:
    if 1900 <= year <= 2100 and 1 <= month <= 12:
        return f"{year}-{month:02d}"
    return None


def _year_ok(year: int) -> bool:
    return 1900 <= year <= 2100


@functools.lru_cache(maxsize=16_384)
def find_period(text: str, default_year: int | None = None) -> str | None:
    """The first period mentioned anywhere in a free text (title, sheet name, file name).

    Months win over quarters, quarters over years; a full date ("2012年4月10日", a due date) is not
    a period. A bare month ("3月") or quarter ("一季度") needs `default_year`.
    """
    if not text:
        return None
    s = clean_text(text)
    if m := _P_MONTH.search(s):
        code = _month_code(int(m.group(1)), int(m.group(2)))
        if code:
            return code
    if m := _P_QUARTER.search(s):
        y = int(m.group(1))
        if _year_ok(y):
            return f"{y}-Q{_CN_DIGITS[m.group(2)]}"
    if m := _P_ISO_QUARTER.search(s):
        return f"{m.group(1)}-Q{m.group(2)}"
    if m := _P_ISO_MONTH.search(s):
        code = _month_code(int(m.group(1)), int(m.group(2)))
        if code:
            return code
    if m := _P_COMPACT_MONTH.search(s):
        return f"{m.group(1)}-{m.group(2)}"
    if m := _P_YEAR.search(s):
        y = int(m.group(1))
        if _year_ok(y):
            return str(y)
    if default_year is not None:
        bare = s.replace(" ", "")
        if m := _P_MONTH_ONLY.match(bare):
            return _month_code(default_year, int(m.group(1)))
        if m := _P_QUARTER_ONLY.match(bare):
            return f"{default_year}-Q{_CN_DIGITS[m.group(1)]}"
    return None


@functools.lru_cache(maxsize=16_384)
def find_year(text: str) -> int | None:
    """A year mentioned in a text ("2012年…", "…_2012_…"), for sheets named only "3月"."""
    if not text:
        return None
    s = clean_text(text)
    if m := re.search(r"(\d{4})\s*年", s):
        y = int(m.group(1))
        if _year_ok(y):
            return y
    if m := _P_BARE_YEAR.search(s):
        return int(m.group(1))
    return None


def period_from_cell(raw: object, default_year: int | None = None) -> str | None:
    """The period code a single cell holds: a period string, a bare month with a default year, or an
    Excel date cell (its month). None when the cell holds no period."""
    if isinstance(raw, dt.datetime | dt.date):
        return f"{raw.year}-{raw.month:02d}"
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        v = float(raw)
        if not math.isfinite(v):
            return None
        if v == int(v) and 1900 <= v <= 2100:
            return str(int(v))
        if v == int(v) and 1 <= v <= 12 and default_year is not None:
            return _month_code(default_year, int(v))  # a 月份 column holding 3
        if 1900 <= v < 2101:
            # "2012.3" typed into Excel is the number 2012.3 (so "2012.10" arrives as 2012.1: January).
            return find_period(format_number(round(v, 2)))
        return None
    s = clean_text(raw)
    if not s or len(s) > 40:
        return None
    return find_period(s, default_year)


def month_of_header(raw: object) -> int | None:
    """1..12 when a header cell is a bare month ("3月", "3月份", "三月"), else None."""
    s = clean_text(raw).replace(" ", "")
    if m := _P_MONTH_ONLY.match(s):
        mm = int(m.group(1))
        return mm if 1 <= mm <= 12 else None
    return _CN_MONTHS.get(s)


_CN_MONTHS = {
    f"{w}月": i + 1
    for i, w in enumerate(["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"])
}
