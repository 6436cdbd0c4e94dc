"""Subjects × indicators: towns (or units) as rows, indicators as columns.

A 合计/全县/平昌县 row is the county figure (the reporting department's own value); town rows are
the towns' values; 县城 and other areas' rows are not this county's figures.
"""

from __future__ import annotations

from pipelines.returns.layouts._common import data_columns, filled_count
from pipelines.returns.layouts.base import Fit
from pipelines.returns.layouts.table import TableView

FAMILY = "crosstab"


def fit(view: TableView) -> Fit | None:
    if "subject" not in view.stub or "period" in view.stub:
        return None
    cols = [c.index for c in data_columns(view) if c.indicator is not None or c.indicator_reason]
    if not cols:
        return None
    n = filled_count(view, cols, lambda i: i.place is not None or i.kind == "subtotal")
    return Fit(FAMILY, "column", "row", None, score=float(n), columns=cols)
