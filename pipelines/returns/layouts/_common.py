"""Helpers the family modules share: which data columns carry values, and how a fit is scored."""

from __future__ import annotations

from pipelines.returns.layouts.base import NOT_LOADED_ROLES, Column
from pipelines.returns.layouts.table import HEADER_WORDS, TableView
from pipelines.returns.matching import name_key

_VALUE_ORDER = {name_key(w): i for i, w in enumerate(HEADER_WORDS["value"])}


def loadable(col: Column) -> bool:
    """A column whose cells may be actual values: a value role, or no role with a period, place or
    indicator label. Target, previous, change, rate, remark, standard and ambiguous-period columns never."""
    if col.role in NOT_LOADED_ROLES or col.role in ("bad_period", "seq", "code", "unit", "name", "period"):
        return False
    if col.role in ("value", "cumulative"):
        return True
    return col.role is None and (
        col.has_period
        or col.place is not None
        or col.indicator is not None
        or col.indicator_reason is not None
    )


def value_rank(col: Column) -> tuple[int, int, int]:
    """Preference among several value columns: 本期/本月 before 本年/累计, then left to right."""
    last = next((lab for lab in reversed(col.labels) if lab.role in ("value", "cumulative")), None)
    rank = _VALUE_ORDER.get(name_key(last.text), 50) if last is not None else 60
    return (1 if col.role == "cumulative" else 0, rank, col.index)


def data_columns(view: TableView) -> list[Column]:
    # `layouts._read_table` computes them once while the families are asked (nothing changes the
    # view's columns or stub meanwhile); a copy, so no family can change what the next one gets
    kept = getattr(view, "_loadable_columns", None)
    if kept is not None:
        return list(kept)
    return [c for c in view.data_columns() if loadable(c)]


def filled_count(view: TableView, cols: list[int], rows_ok=None) -> int:
    """How many non-empty cells the given columns hold in data rows (rows_ok filters rows)."""
    n = 0
    for info in view.data_rows:
        if info.kind != "data" or (rows_ok is not None and not rows_ok(info)):
            continue
        row = view.rows[info.index]
        for c in cols:
            if c < len(row) and row[c] != "" and row[c] is not None:
                n += 1
    return n
