"""Long tables: one row per indicator, one value column (指标 | 单位 | 目标值 | 本期数 | 备注).

Header words vary (指标/项目/监测项目/项目名称, 单位/计量单位, 数值/本期数/实际完成/本月/累计 …). When
several value columns exist the period's own value wins (本期/本月 over 本年/累计); target, previous,
change and rate columns are never read. The period comes from the value column's header if it names
one, else from the sheet (title, sheet name, file name).
"""

from __future__ import annotations

from pipelines.returns.layouts._common import data_columns, filled_count, value_rank
from pipelines.returns.layouts.base import Fit
from pipelines.returns.layouts.table import TableView

FAMILY = "long"


def fit(view: TableView) -> Fit | None:
    if "name" not in view.stub or "period" in view.stub or "subject" in view.stub:
        return None
    cols = [
        c for c in data_columns(view) if c.indicator is None and c.place is None and not c.indicator_reason
    ]
    if not cols:
        return None
    periods = {(c.period, c.month, c.quarter) for c in cols if c.has_period}
    if len(periods) > 1:
        return None  # periods as columns
    if any(c.place is not None for c in data_columns(view)):
        return None  # subjects as columns: the yearbook family
    best = min(cols, key=value_rank)
    axis = "column" if best.has_period else None
    n = filled_count(view, [best.index], lambda i: bool(i.name))
    return Fit(FAMILY, "row", None, axis, score=float(n), columns=[best.index])
