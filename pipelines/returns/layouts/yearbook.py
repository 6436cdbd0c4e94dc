"""Yearbook tables: indicators as rows under group rows (一、环境质量), NBSP-indented names, a 单位
row or column, two-level headers with subjects over roles (全县 | 县城 over 本年 | 上年), 注 rows.

Only the county's (全县) actual value of the period is read: 县城 columns, other areas' columns and
上年/增减 columns are recognised and never loaded.
"""

from __future__ import annotations

from pipelines.returns.layouts._common import data_columns, filled_count, value_rank
from pipelines.returns.layouts.base import Fit
from pipelines.returns.layouts.table import TableView

FAMILY = "yearbook"


def fit(view: TableView) -> Fit | None:
    if "name" not in view.stub or "period" in view.stub or "subject" in view.stub:
        return None
    cols = [c for c in data_columns(view) if c.place is not None and c.indicator is None]
    if not cols:
        return None
    by_key: dict[tuple, list] = {}
    for c in cols:
        by_key.setdefault((c.place.kind, c.place.name, c.period, c.month, c.quarter), []).append(c)
    chosen = sorted(min(cs, key=value_rank).index for cs in by_key.values())
    axis = "column" if any(view.columns[c].has_period for c in chosen) else None
    n = filled_count(view, chosen, lambda i: bool(i.name))
    return Fit(FAMILY, "row", "column", axis, score=float(n), columns=chosen)
