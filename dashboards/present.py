"""Presentation rules in one place (plain functions, no Streamlit; `dashboards.ui` re-exports them).

- Numbers are rounded per unit of measure: percent and per-mille with 1 decimal, counts as integers,
  shares (0..1 fractions) as percent with 1 decimal, anything else with at most 2 decimals and no
  trailing zeros — never float noise such as 82.58000000000001.
- Units are shown in the viewer's language (`unit_label`).
- A missing value is "—" and every "—" comes with its reason (`DASH_REASONS`).
- Comparisons read as signs (≥, ≤), never as codes.
"""

from __future__ import annotations

import math
import re

import pandas as pd

DASH = "—"

# Units of measure of dim.indicator, in English (the Chinese text is the catalog's own).
UNIT_EN = {
    "%": "%",
    "‰": "‰",
    "人/千人": "per 1,000 people",
    "-": "",
    "元/人": "yuan per person",
    "吨标煤/万元": "t of coal equivalent per 10,000 yuan",
    "dB(A)": "dB(A)",
    "kg/万元GDP": "kg per 10,000 yuan of GDP",
    "人/万人": "per 10,000 people",
    "次/年": "times a year",
    "1/10万": "per 100,000",
    "m³/万元": "m³ per 10,000 yuan",
    "起": "cases",
    "人/万台车": "per 10,000 vehicles",
    "分": "points",
    "kg/公顷": "kg per hectare",
    "kg/万元": "kg per 10,000 yuan",
    "岁": "years",
    "m²/万人": "m² per 10,000 people",
    "张/千人": "beds per 1,000 people",
    "册/百人": "volumes per 100 people",
    "级别": "grade",
    "小时/天": "hours a day",
    "天/年": "days a year",
    "m²/人": "m² per person",
    "km/万人": "km per 10,000 people",
    "支/街道": "teams per subdistrict",
    "条/车": "per vehicle",
    "条/站": "per station",
    "处/场所": "per venue",
    "条/500m": "per 500 m",
    "系数": "coefficient",
    "名次": "rank",
    "指数": "index",
}
COUNT_UNITS = {"起", "名次", "次/年", "天/年", "岁", "级别"}
PERCENT_UNITS = {"%", "‰"}
SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "between": ""}

DASH_REASONS = {
    "no_value": ("— 表示无数据（未报送或未入库）", "— means no data (not returned or not loaded)"),
    "qualitative": ("— 定性要求，无数值标准", "— qualitative requirement: no numeric threshold"),
    "unknown": ("— 标准值尚未查明", "— the standard's value is not known yet"),
    "not_due": ("— 尚未到期", "— not due yet"),
    "not_ranked": ("— 本月无应报事项，不参与排名", "— nothing due this month: not ranked"),
}


def is_missing(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def unit_label(unit: object, lang: str) -> str:
    if is_missing(unit) or str(unit) in ("", "-"):
        return ""
    u = str(unit)
    return UNIT_EN.get(u, u) if lang == "en" else u


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(v: object, unit: object = None, lang: str = "zh", with_unit: bool = True) -> str:
    """A value rounded for its unit of measure, with the unit (in the viewer's language)."""
    if is_missing(v):
        return DASH
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isinf(x):
        return DASH
    u = "" if is_missing(unit) else str(unit)
    if u in PERCENT_UNITS:
        text = f"{x:.1f}"
    elif u in COUNT_UNITS or (x.is_integer() and abs(x) >= 1):
        text = f"{x:,.0f}" if abs(x) >= 10000 else f"{x:.0f}"
    elif abs(x) >= 100:
        text = _trim(f"{x:.1f}")
    else:
        text = _trim(f"{x:.2f}")
    if text in ("-0", "-0.0"):
        text = text[1:]
    label = unit_label(u, lang) if with_unit else ""
    if not label:
        return text
    if label in ("%", "‰"):
        return f"{text}{label}"
    return f"{text} {label}"


def pct(share: object, decimals: int = 1) -> str:
    """A 0..1 share as a percentage (0.85 -> 85.0%)."""
    if is_missing(share):
        return DASH
    return f"{float(share) * 100:.{decimals}f}%"


def pp(change: object) -> str | None:
    """A change of a 0..1 share in percentage points; None when there is no change to show."""
    if is_missing(change) or abs(float(change)) < 0.0005:
        return None
    return f"{float(change) * 100:+.1f} pp"


def score(v: object) -> str:
    return DASH if is_missing(v) else f"{float(v):.1f}"


def threshold(row: dict | pd.Series, lang: str) -> str:
    """The requirement's threshold as text (≥ 85%), or the reason there is none."""
    comp = row.get("comparison")
    comp = None if is_missing(comp) else str(comp)
    unit = row.get("unit")
    value = row.get("threshold_value")
    if comp == "qualitative":
        return DASH_REASONS["qualitative"][1 if lang == "en" else 0]
    if is_missing(value):
        token = row.get("threshold_token")
        if not is_missing(token) and str(token) and not re.fullmatch(r"[a-z_:;0-9.]+", str(token)):
            return str(token)  # a text threshold such as "C级"
        return DASH_REASONS["unknown"][1 if lang == "en" else 0]
    if comp == "between" and not is_missing(row.get("threshold_high")):
        return f"{number(value, unit, lang, False)}–{number(row.get('threshold_high'), unit, lang)}"
    return f"{SIGNS.get(comp or '', '')} {number(value, unit, lang)}".strip()


def value_vs_threshold(row: dict | pd.Series, lang: str) -> str:
    """ "现值 78.0%，标准 ≥ 85%，差 7.0%" / "value 78.0%, threshold ≥ 85%, short by 7.0%"."""
    v = row.get("value")
    if is_missing(v) and not is_missing(row.get("value_text")):
        val = str(row.get("value_text"))
    else:
        val = number(v, row.get("unit"), lang)
    thr = threshold(row, lang)
    margin = row.get("margin")
    gap = ""
    if not is_missing(margin) and float(margin) < 0:
        gap = number(abs(float(margin)), row.get("unit"), lang)
    if lang == "en":
        return f"value {val}, threshold {thr}" + (f", short by {gap}" if gap else "")
    return f"现值 {val}，标准 {thr}" + (f"，差 {gap}" if gap else "")


# ---------------------------------------------------------------- what a visible text must not contain

SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./-])")
FLOAT_NOISE = re.compile(r"(?<![\w.])\d+\.\d{4,}(?![\w.])")
NONE_WORDS = re.compile(r"(?<![\w])(None|nan|NaN|NaT|<NA>)(?![\w])")
CJK = re.compile(r"[\u4e00-\u9fff]")


def problems(text: str) -> list[str]:
    """Raw codes (snake_case), float noise and None/nan in a visible text (either language)."""
    out = []
    for rx, what in ((SNAKE, "raw code"), (FLOAT_NOISE, "float noise"), (NONE_WORDS, "None/nan")):
        for m in rx.finditer(text):
            out.append(f"{what}: {m.group(0)!r} in {text[max(0, m.start() - 30) : m.end() + 30]!r}")
    return out
