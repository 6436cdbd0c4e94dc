"""Layout analyses remembered per layout signature: a form read again is not analysed again.

`read_sheet` (the header scan, stub votes, row kinds, every family's fit, the emitted records) is a
deterministic function of the sheet's cells, its name and merged ranges, the classifier (built per
catalog and profile objects, which the loaders rebuild when a file's digest changes) and the county.
It reads a *number* cell in only these ways:

1. everywhere: whether the cell is empty, its type, whether it is a number (`_is_number_cell`), its
   label's period fields (numbers 1990–2035 read as years or year.month), whether it is a whole
   number 0 < v < 100 (a numbering row: 1 2 3 …), whether it is finite;
2. in the first `HEADER_SCAN_ROWS` rows: whether two cells are equal (merged cells and repeated
   values count once when header rows are scored: `repr` of a number, the text of a string);
3. its exact value only in the rows down to the header's last row (title, header levels, 单位 and
   栏次 rows) and in the stub columns (name, code, unit, period, subject): names, periods, units and
   places are read from these;
4. a value cell's object itself becomes `Record.raw`, which nothing in `read_sheet` looks at
   further (the ambiguity check compares cells, indicators, periods and places, not raw values).

So the *signature* keeps every non-number cell exactly (texts, dates, booleans, empty cells), the
row lengths, the sheet name and merged ranges, and for each number what (1) reads — a number in
1990–2035 or not finite exactly — plus, in the first `HEADER_SCAN_ROWS` rows, the number's
equality class (the ordinal of its `repr` among the texts and reprs met so far, a canonical labelling
of which cells are equal). An entry additionally holds the exact numbers of (3) as the analysis that
stored it found them. A sheet with the same signature and the same numbers at those positions is read
by the analysis along exactly the same path (every read gives the same answer, by induction over the
reads), so it gets the same decision, the same records at the same cells; only the records' raw
values are taken from the new sheet (4). Stacked tables (a second header below the first) are not
remembered.

A sheet's signature is computed only from the second time a sheet of the same cheap *admission
key* (sheet name, county, row lengths, first row) is met: a run whose forms all differ in their titles
(a period, a town) pays almost nothing, and correctness never rests on the admission key.

Measured on the sample (one county, one run): no two layout sheets share a signature (titles and
header periods differ per file), so within one run the cache saves nothing; it pays when the same
form of the same period is read again in one process (a corrected resubmission while a sensor or
worker process lives, a file parsed again). A signature costs ≈ 0.02 ms per sheet, a
hit ≈ 0.04 ms, a fresh analysis ≈ 0.23 ms (docs/benchmarks.md).

The cache lives on the `Classifier` (one per catalog/profile objects) and is keyed by county too.
`enabled(False)` switches it off (tests compare both ways on every zoo, corpus and sample file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from dataclasses import dataclass

from pipelines.returns.layouts.base import Reading, Record
from pipelines.returns.layouts.table import HEADER_SCAN_ROWS

MAX_CELLS = 20_000  # larger sheets are analysed every time (the signature would cost as much)
MAX_KEPT_CELLS = 400_000  # cells of all kept signatures together (≈ 30 MB); then the cache starts again
MAX_SIGNATURES = 4_096  # per classifier; when full the cache starts again
MAX_ENTRIES_PER_SIGNATURE = 8

_enabled = True


@contextlib.contextmanager
def enabled(flag: bool):
    """Switch the cache on or off inside a block (tests, benchmarks)."""
    global _enabled
    before = _enabled
    _enabled = flag
    try:
        yield
    finally:
        _enabled = before


def is_enabled() -> bool:
    return _enabled


_DATE_TYPES = (dt.datetime, dt.date, dt.time, dt.timedelta)


def _exact_number(v) -> bool:
    """Numbers whose exact value the signature keeps: possible years/periods and non-finite."""
    return (1990 <= v < 2036) or not math.isfinite(v)


def signature(sheet, county: str | None):
    """The layout signature of a sheet (see the module docstring), or None when it is not kept."""
    rows = sheet.rows
    if sum(map(len, rows)) > MAX_CELLS:
        return None
    seen: dict[str, int] = {}
    out = []
    scan = min(len(rows), HEADER_SCAN_ROWS)
    for r, row in enumerate(rows):
        window = r < scan
        key = []
        append = key.append
        for v in row:
            cls = v.__class__
            if cls is str:
                append(v)
                if window:
                    seen.setdefault(v, len(seen))
            elif cls is float or cls is int:
                if _exact_number(v):
                    k = (cls is float, "e", repr(v))
                else:
                    k = (cls is float, 0 < v < 100 and v == int(v))
                if window:
                    k = (*k, seen.setdefault(repr(v), len(seen)))
                append(k)
            elif v is None or cls is bool or cls in _DATE_TYPES:
                append((cls.__name__, v))
            else:
                return None  # an unexpected cell type: never remembered
        out.append(tuple(key))
    merged = tuple((tuple(a), tuple(b)) for a, b in sheet.merged)
    return (sheet.name, county, merged, tuple(out))


@dataclass(frozen=True)
class _Entry:
    exact: tuple[tuple[int, int, object], ...]  # (row, column, number) the analysis read exactly
    reading: Reading  # records' raw values are replaced by the new sheet's
    positions: tuple[tuple[int, int], ...]  # each record's cell


class _State:
    """One classifier's remembered analyses."""

    def __init__(self) -> None:
        self.entries: dict[tuple, list[_Entry]] = {}
        self.seen: set[tuple] = set()  # admission keys of sheets analysed once
        self.hits = 0
        self.stored = 0
        self.cells = 0  # cells of the kept signatures


def state(classifier) -> _State:
    """The cache of a classifier (created on first use; started again when full)."""
    st = getattr(classifier, "_layout_cache", None)
    if (
        st is None
        or len(st.entries) >= MAX_SIGNATURES
        or len(st.seen) >= 8 * MAX_SIGNATURES
        or st.cells >= MAX_KEPT_CELLS
    ):
        st = _State()
        classifier._layout_cache = st
    return st


def admission_key(sheet, county: str | None) -> tuple:
    """A cheap key of a sheet's shape and first row (name, county, row lengths, the first row's
    texts and cell types). Only an admission filter: a sheet's full signature is computed (and its
    analysis kept) from the second time a sheet with this key is met, so a run whose forms differ
    in title (a period, a town) pays almost nothing. Correctness never rests on it."""
    rows = sheet.rows
    first = tuple(v if v.__class__ is str else v.__class__.__name__ for v in rows[0]) if rows else ()
    return (sheet.name, county, tuple(map(len, rows)), first)


def _exact_cells(rows, header_last: int, stub_columns) -> tuple[tuple[int, int, object], ...]:
    out = []
    for r in range(min(header_last + 1, len(rows))):
        for c, v in enumerate(rows[r]):
            if v.__class__ is float or v.__class__ is int:
                out.append((r, c, v))
    for c in sorted(set(stub_columns)):
        for r in range(header_last + 1, len(rows)):
            row = rows[r]
            if c < len(row) and (row[c].__class__ is float or row[c].__class__ is int):
                out.append((r, c, row[c]))
    return tuple(out)


def _cell_position(cell: str) -> tuple[int, int] | None:
    letters = cell.rstrip("0123456789")
    digits = cell[len(letters) :]
    if not letters or not digits or not letters.isalpha():
        return None
    c = 0
    for ch in letters.upper():
        c = c * 26 + ord(ch) - 64
    return int(digits) - 1, c - 1


def _copy(reading: Reading, records: list[Record]) -> Reading:
    return Reading(
        reading.sheet,
        reading.family,
        records,
        reading.title,
        reading.header_rows,
        list(reading.notes),
        list(reading.problems),
        reading.skipped_roles,
        reading.candidates,
        reading.sheet_indicator,
        reading.sheet_place,
    )


def read_sheet_cached(sheet, classifier, county: str | None = None) -> Reading:
    """`layouts.read_sheet(sheet, classifier, county)[0]`, from the cache when a sheet of the same
    signature was analysed before (module docstring). The result is always a fresh object."""
    from pipelines.returns.layouts import read_sheet

    if not _enabled:
        return read_sheet(sheet, classifier, county)[0]
    st = state(classifier)
    adm = admission_key(sheet, county)
    if adm not in st.seen:
        st.seen.add(adm)
        return read_sheet(sheet, classifier, county)[0]
    sig = signature(sheet, county)
    if sig is None:
        return read_sheet(sheet, classifier, county)[0]
    rows = sheet.rows
    for entry in st.entries.get(sig, ()):
        if all(rows[r][c] == v and rows[r][c].__class__ is v.__class__ for r, c, v in entry.exact):
            recs = [
                Record(
                    rec.sheet,
                    rec.cell,
                    rows[r][c],
                    rec.indicator,
                    rec.indicator_text,
                    rec.indicator_cell,
                    rec.indicator_reason,
                    rec.period,
                    rec.month,
                    rec.quarter,
                    rec.place,
                    rec.unit_text,
                    rec.role,
                    rec.family,
                    rec.period_error,
                )
                for rec, (r, c) in zip(entry.reading.records, entry.positions, strict=True)
            ]
            st.hits += 1
            return _copy(entry.reading, recs)
    reading, view = read_sheet(sheet, classifier, county)
    if view is not None and view.next_table is not None:
        return reading  # stacked tables: not remembered
    positions = []
    for rec in reading.records:
        pos = _cell_position(rec.cell)
        if (
            pos is None
            or pos[0] >= len(rows)
            or pos[1] >= len(rows[pos[0]])
            or rows[pos[0]][pos[1]] is not rec.raw
        ):
            return reading  # not a plain cell of this sheet: not remembered
        positions.append(pos)
    exact = _exact_cells(rows, view.header_last, view.stub.values()) if view is not None else ()
    entries = st.entries.setdefault(sig, [])
    if len(entries) < MAX_ENTRIES_PER_SIGNATURE:
        entries.append(_Entry(exact, _copy(reading, list(reading.records)), tuple(positions)))
        st.stored += 1
        if len(entries) == 1:
            st.cells += sum(map(len, rows))
    return reading
