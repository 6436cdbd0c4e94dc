"""Periods as rows: one row per period (a monthly log with indicators as columns), or one row per
indicator × period (指标 | 报告期 | 数值: the tidy long form).

月份 | 空气质量优良天数比例(%) | PM10(μg/m³) … The period column may hold "2014年3月", "3月" (year from
the title, sheet or file name), Excel dates or years. Units in parentheses in the headers are kept.
"""

from __future__ import annotations

from pipelines.returns.layouts._common import data_columns, filled_count, value_rank
from pipelines.returns.layouts.base import Fit
from pipelines.returns.layouts.table import TableView

FAMILY = "periods_as_rows"


def _dated(info) -> bool:
    return info.period is not None or info.month is not None or info.quarter is not None


def fit(view: TableView) -> Fit | None:
    if "period" not in view.stub or "subject" in view.stub:
        return None
    cols = data_columns(view)
    if "name" in view.stub:  # 指标 | 报告期 | 数值
        values = [
            c
            for c in cols
            if c.indicator is None and c.place is None and not c.has_period and not c.indicator_reason
        ]
        if not values:
            return None
        best = min(values, key=value_rank)
        n = filled_count(view, [best.index], lambda i: _dated(i) and bool(i.name))
        return Fit(FAMILY, "row", None, "row", score=float(n), columns=[best.index])
    ind_cols = [c.index for c in cols if c.indicator is not None or c.indicator_reason]
    if not ind_cols:
        return None
    n = filled_count(view, ind_cols, _dated)
    return Fit(FAMILY, "column", None, "row", score=float(n), columns=ind_cols)
