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
from dataclasses import replace

from pipelines.returns.layouts import (
    _common,
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
from pipelines.returns.normalize import find_period
from pipelines.returns.readers import Sheet

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


MAX_TABLES_PER_SHEET = 20


def read_sheet(
    sheet, classifier: Classifier, county: str | None = None, _depth: int = 0
) -> tuple[Reading, TableView | None]:
    """The best reading of one sheet, with its table view (None when no header was found).

    Several tables stacked in one sheet (表一 … 表二 …, each with its own header row) are read one by
    one: the rows above the next header are hidden and the rest read again, keeping every cell's
    position. A later table's own title gives its records their period when it names one."""
    reading, view = _read_table(sheet, classifier, county)
    if view is None or view.next_table is None or _depth >= MAX_TABLES_PER_SHEET:
        return reading, view
    start = view.next_table
    prev = sheet.rows[start - 1] if start > 0 else []
    filled = [v for v in prev if v != "" and v is not None]
    if len(filled) == 1 and isinstance(filled[0], str) and start - 1 > view.header_last:
        start -= 1  # the next table's title line
    rest = Sheet(
        sheet.name,
        [[] for _ in range(start)] + sheet.rows[start:],
        sheet.visible,
        [m for m in sheet.merged if m[0][0] >= start],
    )
    more, _ = read_sheet(rest, classifier, county, _depth + 1)
    if more.family is None:
        if more.candidates:
            reading.candidates = reading.candidates or more.candidates
        return reading, view
    recs = list(more.records)
    period = find_period(more.title) if more.title else None
    if period:
        year = int(period[:4])
        fixed = []
        for r in recs:
            if r.period is None and r.month is not None:
                r = replace(r, period=f"{year}-{r.month:02d}", month=None)
            elif r.period is None and r.quarter is not None:
                r = replace(r, period=f"{year}-Q{r.quarter}", quarter=None)
            elif r.period is None and r.month is None and r.quarter is None:
                r = replace(r, period=period)
            fixed.append(r)
        recs = fixed
    if reading.family is None:
        reading.family, reading.title = more.family, reading.title or more.title
    reading.records = reading.records + recs
    reading.notes += more.notes
    return reading, view


def _read_table(sheet, classifier: Classifier, county: str | None) -> tuple[Reading, TableView | None]:
    view = Analyser(classifier).analyse(sheet, county)
    reading = Reading(sheet.name, None)
    if view is None:
        return reading, None
    reading.title = view.title
    reading.header_rows = (view.header_first, view.header_last)
    reading.notes = list(view.notes)
    fits: list[Fit] = []
    view._loadable_columns = _common.data_columns(view)  # asked by several families, computed once
    try:
        for fam in FAMILIES:
            f = fam.fit(view)
            if f is not None and f.score > 0:
                fits.append(f)
    finally:
        view._loadable_columns = None
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
