"""Shared pieces of the layout recognisers: labels, the classified table, records, readings.

A sheet is a grid. Every table a department sends has two axes: a *stub* (the label columns on the
left: indicator names, towns, periods, units, codes) and a *box head* (the header rows on top:
value/target/previous columns, periods, subjects such as 全县/县城, indicator names). `table.py`
classifies both axes once (`TableView`); each family module (`long`, `periods_as_columns`, …) then
says whether the table is of its family and how its axes are read (`Fit`), and `table.emit` turns
the chosen fit into `Record`s — one per value cell, with the indicator, subject, period and column
role that the cell's row, column and sheet give it.

Only value cells whose column role is the period's *actual* value become records; target, previous
period, change, completion-rate and standard columns are recognised and never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column roles. Only VALUE_ROLES are loaded; the others are recognised so they are never loaded.
VALUE_ROLES = frozenset({"value", "cumulative"})
NOT_LOADED_ROLES = frozenset({"target", "previous", "change", "rate", "remark", "standard"})
STUB_ROLES = frozenset({"name", "code", "unit", "seq", "remark", "period", "subject_col"})


@dataclass(frozen=True, slots=True)
class Label:
    """What one header or stub text means. Several fields may be set ("2014年本月" has a period and a
    role; "建成区绿化覆盖率(%)" an indicator and a unit)."""

    text: str
    role: str | None = None  # a column role (see HEADER_WORDS in table.py)
    indicator: str | None = None  # catalog code, when the text names an indicator unambiguously
    indicator_reason: str | None = None  # unknown_indicator | ambiguous_indicator | lookalike_indicator
    period: str | None = None  # a full period code: 2014, 2014-Q1, 2014-03
    month: int | None = None  # a bare month ("3月"): needs a year from elsewhere
    quarter: int | None = None  # a bare quarter ("一季度")
    place: object | None = None  # places.Place
    unit: str | None = None  # a unit written in brackets or as the whole cell
    bad_period: bool = False  # looks like a period but is ambiguous ("2016.1": January or October?)

    @property
    def has_period(self) -> bool:
        return self.period is not None or self.month is not None or self.quarter is not None


EMPTY = Label("")


@dataclass
class Column:
    """One column of the table with everything its header rows say."""

    index: int
    labels: tuple[Label, ...] = ()
    role: str | None = None  # the deciding role (an upper target/previous role wins over a lower value)
    indicator: str | None = None
    indicator_text: str = ""
    indicator_reason: str | None = None
    period: str | None = None
    month: int | None = None
    quarter: int | None = None
    year: int | None = None
    place: object | None = None
    unit: str | None = None
    header_text: str = ""

    @property
    def has_period(self) -> bool:
        return self.period is not None or self.month is not None or self.quarter is not None


@dataclass
class RowInfo:
    """One data row: its stub labels."""

    index: int
    name: str = ""  # indicator name text from the name column
    name_cell: str = ""
    code: str = ""
    unit: str = ""
    period: str | None = None
    month: int | None = None
    quarter: int | None = None
    period_text: str = ""
    period_cell: str = ""
    place: object | None = None
    place_text: str = ""
    kind: str = "data"  # data | group | subtotal | footer | note | numbering


@dataclass
class Fit:
    """How a family reads a table: where indicators, subjects and periods come from."""

    family: str
    indicator_axis: str  # row | column | sheet
    subject_axis: str | None = None  # row | column | sheet | None (the file's unit)
    period_axis: str | None = None  # row | column | sheet | None (the file's period)
    score: float = 0.0
    columns: list[int] = field(default_factory=list)  # data columns to read


@dataclass(frozen=True, slots=True)
class Record:
    """One value cell as a layout reads it, before validation."""

    sheet: str
    cell: str  # A1
    raw: object
    indicator: str | None  # catalog code, None when the name did not resolve
    indicator_text: str
    indicator_cell: str
    indicator_reason: str | None
    period: str | None  # full code, or None: the sheet's/file's period
    month: int | None  # a bare month still needing its year
    quarter: int | None
    place: object | None  # places.Place or None (the file's reporting unit)
    unit_text: str | None
    role: str  # value | cumulative
    family: str
    period_error: str | None = None  # the period cell, when the row's period could not be read


@dataclass
class Reading:
    """What one sheet holds, as the chosen family reads it."""

    sheet: str
    family: str | None
    records: list[Record] = field(default_factory=list)
    title: str = ""  # text above the header (titles, 填报单位 lines)
    header_rows: tuple[int, int] | None = None  # first, last (0-based)
    notes: list[str] = field(default_factory=list)  # 注 rows
    problems: list[tuple[str, str | None, str, str]] = field(default_factory=list)  # code, cell, zh, en
    skipped_roles: int = 0  # cells in target/previous/change/rate columns: recognised, not loaded
    candidates: tuple[str, ...] = ()  # families that tied, when ambiguous
    sheet_indicator: str | None = None
    sheet_place: object | None = None
