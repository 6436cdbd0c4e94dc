"""Panels: subject × period rows (乡镇 | 年份 | 指标1 | 指标2 …), indicators as columns.

A town merged down over its years is carried to every year row.
"""

from __future__ import annotations

from pipelines.returns.layouts._common import data_columns, filled_count
from pipelines.returns.layouts.base import Fit
from pipelines.returns.layouts.table import TableView

FAMILY = "panel"


def fit(view: TableView) -> Fit | None:
    if "subject" not in view.stub or "period" not in view.stub:
        return None
    cols = [c.index for c in data_columns(view) if c.indicator is not None or c.indicator_reason]
    if not cols:
        return None
    n = filled_count(
        view,
        cols,
        lambda i: (i.place is not None or i.kind == "subtotal") and (i.period or i.month or i.quarter),
    )
    return Fit(FAMILY, "column", "row", "row", score=float(n), columns=cols)
