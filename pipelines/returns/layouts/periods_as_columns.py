"""Periods as columns: indicators as rows, one column per month, quarter or year.

A year merged over its months, bare months with the year from the title/sheet/file name, quarters,
years; 本月/累计 sub-columns under each month (only 本月 is the month's value; 累计 is read only when a
period has no other value column). Target/previous columns between the periods are never read.
"""

from __future__ import annotations

from pipelines.returns.layouts._common import data_columns, filled_count, value_rank
from pipelines.returns.layouts.base import Fit
from pipelines.returns.layouts.table import TableView

FAMILY = "periods_as_columns"


def fit(view: TableView) -> Fit | None:
    if "name" not in view.stub or "period" in view.stub or "subject" in view.stub:
        return None
    cols = [c for c in data_columns(view) if c.has_period and c.indicator is None and not c.indicator_reason]
    if any(c.place is not None and c.place.kind != "county" for c in cols):
        return None
    by_period: dict[tuple, list] = {}
    for c in cols:
        by_period.setdefault((c.period, c.month, c.quarter), []).append(c)
    if len(by_period) < 2:
        return None
    chosen = sorted(min(cs, key=value_rank).index for cs in by_period.values())
    n = filled_count(view, chosen, lambda i: bool(i.name))
    return Fit(FAMILY, "row", None, "column", score=float(n), columns=chosen)
