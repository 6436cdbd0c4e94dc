"""One indicator per sheet, named in the title (statistics-portal exports: 指标：X, then 地区 × 年份,
or years as rows and places as columns). The indicator comes from the title; subjects and periods
from the axes. Other areas' rows (provinces, cities) are never this county's figures.
"""

from __future__ import annotations

from pipelines.returns.layouts._common import data_columns, filled_count
from pipelines.returns.layouts.base import Fit
from pipelines.returns.layouts.table import TableView

FAMILY = "single_indicator"


def fit(view: TableView) -> Fit | None:
    cols = data_columns(view)
    if any(c.indicator is not None for c in cols) or "name" in view.stub:
        return None
    if "subject" in view.stub and "period" not in view.stub:
        pcols = [c.index for c in cols if c.has_period and c.place is None]
        if not pcols:
            return None
        n = filled_count(view, pcols, lambda i: i.place is not None or i.kind == "subtotal")
        return Fit(FAMILY, "sheet", "row", "column", score=float(n), columns=pcols)
    if "period" in view.stub and "subject" not in view.stub:
        scols = [c.index for c in cols if c.place is not None]
        if not scols:
            return None
        n = filled_count(
            view, scols, lambda i: i.period is not None or i.month is not None or i.quarter is not None
        )
        return Fit(FAMILY, "sheet", "column", "row", score=float(n), columns=scols)
    return None
