"""Cell normalisation for departmental returns: plain functions, no I/O, never raising.

`normalize_cell(raw)` turns whatever a spreadsheet reader produced (str, int, float, bool, date)
into a `Norm`: a number, a text, a missing marker, or an error with a reason code. Rules:

- Unicode NFKC first, so full-width digits and punctuation ("８５．３", "－", "％") become ASCII.
- Empty markers (blank, "—", "－", "/", "无", "-", "--", "…", "N/A") are *missing*: no value, no problem.
- Numbers stored as text, thousands separators ("12,345"), "85.3%" (value stays in percent units,
  `unit_hint="%"`), "3.5‰" (`unit_hint="‰"`), "1.2万" (x 10 000), a leading "+".
- Approximate and bounded numbers are never plain numbers: they are kind "number" with a
  `qualifier` — `approx` ("约90", "近90", "90左右", "90上下"), `at_least` ("≥95", "不低于95",
  "95以上"), `more_than` (">90", "超过90"), `at_most` ("≤5", "不超过5", "5以下") or `less_than`
  ("<5", "低于5", "不足5"). `Norm.is_exact` is False for them: load only exact numbers as actuals.
- Ranges ("85-90", "85～90", "85至90") are errors with reason `range_value` (dates such as
  "2012-03" are left alone as text).
- Footnote markers after a number ("85.2*", "85.2①", "85.2注1", "85.2(1)", "85.2a)") are split off
  into `footnote`; circled and superscript markers are taken *before* NFKC, which would otherwise
  turn "85.2①" into "85.21".
- Spreadsheet formula errors as text ("#DIV/0!", "#REF!", "#N/A", LibreOffice "Err:502") are errors
  with reason `formula_error`. Note: python-calamine 0.9 returns error *cells* of xlsx/xls as ""
  (and raises on #SPILL!-style ones), so the reader has to detect those itself.
- A number followed by a plain unit ("12吨", "3.5万人", "55dB(A)") is a number with that
  `unit_text`; the caller compares it with the indicator's unit.
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
    reason: str | None = None  # error: a REASONS code (not_a_number, formula_error, range_value)
    qualifier: str | None = None  # number: approx | at_least | more_than | at_most | less_than
    footnote: str | None = None  # the marker after the number: "*", "①", "注1", "(1)", "a)"
    unit_text: str | None = None  # number: unit written after it ("吨" in "12吨"), other than %/‰

    @property
    def is_number(self) -> bool:
        return self.kind == "number"

    @property
    def is_exact(self) -> bool:
        """A number with no qualifier: the only kind that may be loaded as an actual value."""
        return self.kind == "number" and self.qualifier is None

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
    """(value, unit_hint) from an already-cleaned text holding a plain number, or None.

    Plain means: digits with an optional sign, thousands separators, exponent and a trailing %, ‰,
    万 or 亿. Approximate or bounded spellings ("约90", "≥95") are *not* plain: see `parse_value_text`.
    """
    t = s.replace(" ", "").replace("\u2212", "-")
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


QUALIFIERS = ("approx", "at_least", "more_than", "at_most", "less_than")
# Words before a number, matched longest first (so 不低于 wins over 低于 and >= over >).
_QUALIFIER_PREFIXES = tuple(
    sorted(
        {
            "大约": "approx",
            "约为": "approx",
            "约": "approx",
            "接近": "approx",
            "近": "approx",
            "大概": "approx",
            "≈": "approx",
            "~": "approx",
            "〜": "approx",
            "不低于": "at_least",
            "不少于": "at_least",
            "不小于": "at_least",
            "至少": "at_least",
            "≥": "at_least",
            "≧": "at_least",
            ">=": "at_least",
            "=>": "at_least",
            "大于": "more_than",
            "超过": "more_than",
            "高于": "more_than",
            "多于": "more_than",
            ">": "more_than",
            "不超过": "at_most",
            "不高于": "at_most",
            "不大于": "at_most",
            "不多于": "at_most",
            "至多": "at_most",
            "最多": "at_most",
            "≤": "at_most",
            "≦": "at_most",
            "<=": "at_most",
            "=<": "at_most",
            "小于": "less_than",
            "低于": "less_than",
            "不足": "less_than",
            "少于": "less_than",
            "不到": "less_than",
            "<": "less_than",
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)
# Words after a number (and after its unit: "90%以上", "12吨左右").
_QUALIFIER_SUFFIXES = tuple(
    sorted(
        {
            "及以上": "at_least",
            "或以上": "at_least",
            "以上": "at_least",
            "及以下": "at_most",
            "或以下": "at_most",
            "以下": "at_most",
            "以内": "at_most",
            "左右": "approx",
            "上下": "approx",
            "余": "approx",
            "多": "approx",
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)

# Excel / WPS error values (also Excel 365's dynamic-array and data-type errors) and LibreOffice's
# "Err:502" codes, as text: CSV exports, HTML-as-xls, ODS, and formula cells cached as strings.
_FORMULA_ERROR = re.compile(
    r"^(?:#(?:DIV/0!|REF!|VALUE!|N/A|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA|BLOCKED!|FIELD!"
    r"|UNKNOWN!|CONNECT!|BUSY!|PYTHON!|EXTERNAL!)|ERR:\d{3})$",
    re.IGNORECASE,
)
FORMULA_ERRORS = (
    "#DIV/0!",
    "#REF!",
    "#VALUE!",
    "#N/A",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#GETTING_DATA",
)

_NUM = r"[+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)"
# Two numbers joined by a dash, tilde or 至/到, each with an optional %/‰: "85-90", "85%～90%".
_RANGE = re.compile(rf"^({_NUM})([%‰]?)(?:-|~|〜|—|–|‐|至|到)({_NUM})([%‰]?)(.*)$")
_LEADING_NUMBER = re.compile(rf"^({_NUM})(.+)$")
# A plain unit after a number: letters, CJK, "/", "·", "°", m2/m3 exponents, a short bracket "dB(A)".
_UNIT_TAIL = re.compile(
    r"^(?:[A-Za-zµμΩ°·/\u4e00-\u9fff]|(?<=[A-Za-z])[23]|\([A-Za-z\u4e00-\u9fff]{1,4}\))+$"
)
# Characters that make the text after a number a phrase, not a unit ("90多万", "3个已完成或以上").
_NOT_UNIT_CHARS = frozenset("约近余多以上下左右至到或及不低高超过足少和共计为是已未完成第")
_PERIOD_WORDS = frozenset({"年", "年度", "月", "月份", "日", "号", "季", "季度", "周", "旬"})
_MAX_UNIT_LEN = 10

# Footnote markers written after a number, on the NFKC text without spaces.
_FOOTNOTE = re.compile(
    r"(?:\*{1,3}|※|†|‡|#{1,2}|注\d{0,2}|\(注?\d{1,2}\)|\[注?\d{1,2}\]|\(注\)|\(?[a-z]\)|\[[a-z]\])$"
)
# Circled, parenthesised and superscript markers must be seen *before* NFKC ("①" → "1", "¹" → "1").
_RAW_FOOTNOTE = re.compile(
    "\\s*(?:注)?[\u2460-\u24ff\u2776-\u2793\u3220-\u3229\u3251-\u325f\u3280-\u3289\u32b1-\u32bf"
    "\u00b9\u00b2\u00b3\u2070-\u2079]+\\s*$"
)


def _strip_qualifier(t: str) -> tuple[str, str | None] | None:
    """(rest, qualifier) with at most one prefix and one suffix qualifier stripped; None when the two
    disagree ("≥90左右")."""
    pre = suf = None
    for word, q in _QUALIFIER_PREFIXES:
        if t.startswith(word) and len(t) > len(word):
            pre, t = q, t[len(word) :]
            break
    for word, q in _QUALIFIER_SUFFIXES:
        if t.endswith(word) and len(t) > len(word):
            suf, t = q, t[: -len(word)]
            break
    if pre and suf and pre != suf:
        return None
    return t, pre or suf


def _looks_like_date(a: str, b: str) -> bool:
    """ "2012-03" (a month) or "2011-2015" (a span of years): periods, not a range of values."""
    if not (a.isdigit() and b.isdigit() and len(a) == 4 and _year_ok(int(a))):
        return False
    return (len(b) <= 2 and 1 <= int(b) <= 12) or (len(b) == 4 and _year_ok(int(b)))


def _number_with_unit(t: str) -> tuple[float, str | None, str | None] | None:
    """(value, unit_hint, unit_text) from "85.3", "85.3%", "12吨", "3.5万人"; None otherwise."""
    plain = parse_number_text(t)
    if plain is not None:
        return plain[0], plain[1], None
    m = _LEADING_NUMBER.match(t)
    if not m:
        return None
    tail = m.group(2)
    if (
        len(tail) > _MAX_UNIT_LEN
        or tail in _PERIOD_WORDS
        or any(ch in _NOT_UNIT_CHARS for ch in tail)
        or not _UNIT_TAIL.match(tail)
    ):
        return None
    head = parse_number_text(m.group(1))
    if head is None:
        return None
    return head[0], None, tail


def parse_value_text(s: str) -> Norm | None:
    """A number, possibly qualified, with unit and footnote, or a range error, from a cleaned text
    (`clean_text`); None when the text holds no number (it is then plain text)."""
    t = s.replace(" ", "").replace("\u2212", "-")
    if not t:
        return None
    footnote = None
    m = _FOOTNOTE.search(t)
    if m and m.start() > 0 and t[m.start() - 1] not in "+-":
        footnote, t = m.group(0), t[: m.start()]
    stripped = _strip_qualifier(t)
    if stripped is None:
        return None
    t, qualifier = stripped
    r = _RANGE.match(t)
    if r and not (
        r.group(2) == r.group(4) == "" and r.group(5) == "" and _looks_like_date(r.group(1), r.group(3))
    ):
        tail = r.group(5)
        if not tail or (_UNIT_TAIL.match(tail) and len(tail) <= _MAX_UNIT_LEN):
            return Norm("error", text=s, reason="range_value", footnote=footnote)
    parsed = _number_with_unit(t)
    if parsed is None:
        return None
    value, hint, unit_text = parsed
    return Norm(
        "number",
        value=value,
        text=s,
        unit_hint=hint,
        qualifier=qualifier,
        footnote=footnote,
        unit_text=unit_text,
    )


def _normalize_text(raw: str) -> Norm:
    s = clean_text(raw)
    if s in EMPTY_MARKERS:
        return MISSING
    if _FORMULA_ERROR.match(s.replace(" ", "")):
        return Norm("error", text=s, reason="formula_error")
    if (m := _RAW_FOOTNOTE.search(raw)) and m.start() > 0:
        body = parse_value_text(clean_text(raw[: m.start()]))
        if body is not None and body.kind == "number" and body.unit_text is None and body.footnote is None:
            marker = m.group(0).strip()
            return Norm(
                "number",
                value=body.value,
                text=s,
                unit_hint=body.unit_hint,
                qualifier=body.qualifier,
                footnote=marker,
            )
    parsed = parse_value_text(s)
    if parsed is not None:
        return parsed
    return Norm("text", text=s)


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
    if isinstance(raw, str) and len(raw) <= 64:
        return _normalize_text_short(raw)
    return _normalize_text(raw if isinstance(raw, str) else str(raw))


# Cells repeat across files ("—", "100", "达标"): memoised like `clean_text`.
_normalize_text_short = functools.lru_cache(maxsize=65_536)(_normalize_text)


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
