"""Layout recognisers: one module per family of table layout, chosen by scoring.

Each family module has `FAMILY` (its name) and `fit(view) -> Fit | None`: given the classified
table (`table.TableView`), whether the table is of that family, which columns it reads and how many
value cells it can place (its score). `read_sheet` analyses a sheet once, asks every family, keeps
the best; two families that read the same sheet differently with the same score make the sheet
ambiguous, refused naming both. Families:

- `long`: one row per indicator, one value column (指标 | 单位 | 本期数 | 目标值 | 备注)
- `periods_as_columns`: indicators as rows, months/quarters/years as columns (本月/累计 sub-columns)
- `periods_as_rows`: a log with one row per period and indicators as columns
- `crosstab`: towns or units as rows (合计/全县 = the county), indicators as columns
- `panel`: subject × period rows, indicators as columns
- `yearbook`: indicators as rows, subjects (全县/县城) over roles (本年/上年) as columns
- `single_indicator`: the indicator named in the title, subjects and periods on the axes
- one sheet per period is a book-level family (`sheet_per_period`), decided by the parser from the
  sheet names; each sheet is then read by the families above.
- learned layouts (`mapped`): a reviewed mapping saved by the office for a layout fingerprint.
"""

from __future__ import annotations

import re

from pipelines.returns.layouts import (
    crosstab,
    long,
    panel,
    periods_as_columns,
    periods_as_rows,
    single_indicator,
    yearbook,
)
from pipelines.returns.layouts.base import Fit, Reading
from pipelines.returns.layouts.table import Analyser, Classifier, TableView, emit

FAMILIES = (long, periods_as_columns, periods_as_rows, crosstab, panel, yearbook, single_indicator)
FAMILY_NAMES_ZH = {
    "template": "平台模板",
    "long": "长表（每行一个指标）",
    "periods_as_columns": "报告期为列",
    "periods_as_rows": "报告期为行",
    "sheet_per_period": "每个工作表一个报告期",
    "crosstab": "乡镇×指标交叉表",
    "panel": "面板（主体×年份）",
    "yearbook": "年鉴表（全县/县城多级表头）",
    "single_indicator": "单指标表（标题注明指标）",
    "mapped": "已保存的导入映射",
}

_TITLE_INDICATOR = re.compile(r"指标\s*[:：]\s*([^\s;；]+)")


def title_indicator(classifier: Classifier, title: str) -> tuple[str | None, str]:
    """The indicator a title names ("指标：森林覆盖率(%)"), or (None, text) when it names one the
    catalog does not know."""
    m = _TITLE_INDICATOR.search(title)
    if not m:
        return None, ""
    text = m.group(1)
    lab = classifier.label(text)
    return lab.indicator, text


def read_sheet(sheet, classifier: Classifier, county: str | None = None) -> tuple[Reading, TableView | None]:
    """The best reading of one sheet, with its table view (None when no header was found)."""
    view = Analyser(classifier).analyse(sheet, county)
    reading = Reading(sheet.name, None)
    if view is None:
        return reading, None
    reading.title = view.title
    reading.header_rows = (view.header_first, view.header_last)
    reading.notes = list(view.notes)
    fits: list[Fit] = []
    for fam in FAMILIES:
        f = fam.fit(view)
        if f is not None and f.score > 0:
            fits.append(f)
    if not fits:
        return reading, view
    fits.sort(key=lambda f: -f.score)
    best = fits[0]
    sheet_ind = None
    if best.indicator_axis == "sheet":
        code, text = title_indicator(classifier, view.title)
        sheet_ind = (code, text or view.title[:60])
    records, _ = emit(view, best, classifier, county, sheet_ind)
    if len(fits) > 1 and fits[1].score == best.score:
        other_sheet = None
        if fits[1].indicator_axis == "sheet":
            code, text = title_indicator(classifier, view.title)
            other_sheet = (code, text or view.title[:60])
        other, _ = emit(view, fits[1], classifier, county, other_sheet)
        key = lambda r: (r.cell, r.indicator, r.period, r.month, getattr(r.place, "name", r.place))  # noqa: E731
        if sorted(map(key, records), key=str) != sorted(map(key, other), key=str):
            reading.candidates = tuple(f.family for f in fits if f.score == best.score)
            return reading, view
    reading.family = best.family
    reading.records = records
    return reading, view
