"""The layout zoo (tests/returns/zoo): realistic returns in the layout families real offices send.

Two groups of tests:
- the zoo itself is honest: every expected cell really holds the number a person reads, expected
  indicators are ones this unit (or town) reports, periods lie in 2012-2016, mtimes follow them;
- the parser against the zoo: no wrong value ever, and recall per family at least THRESHOLDS.

THRESHOLDS are the issue-11 acceptance floor: >= 0.95 per family, no wrong value.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections import Counter

import openpyxl
import pytest

from tests.returns.zoo.build import COUNTY, FAMILIES, TOWNS, ZooFile, build_zoo, period_end, read_number
from tests.returns.zoo.score import parse_zoo, report, score

# --- recall floors per family (issue 11: >= 0.95 of the values a person reads, 0 wrong). ---------
# Baseline before the layout recognisers (HEAD 3ab3cd9): total 141/461 = 0.31, 13 wrong, 4 of 6
# files to refuse refused. With pipelines/returns/layouts: 461/461, 0 wrong, 6 of 6 refused.
THRESHOLDS = {
    "long": 0.95,
    "periods_as_columns": 0.95,
    "periods_as_rows": 0.95,
    "sheet_per_period": 0.95,
    "crosstab": 0.95,
    "panel": 0.95,
    "yearbook": 0.95,
    "place": 0.95,
    "format": 0.95,
}
MAX_WRONG = 0
MIN_REFUSED_OK = 6


@pytest.fixture(scope="session")
def zoo(tmp_path_factory) -> tuple:
    root = tmp_path_factory.mktemp("zoo")
    return root, build_zoo(root)


@pytest.fixture(scope="session")
def zoo_score(zoo):
    root, files = zoo
    return score(root, files, parse_zoo(root, files))


def _table(s) -> str:
    buf = io.StringIO()
    report(s, verbose=False, stream=buf)
    return buf.getvalue()


# --- the zoo is honest ---------------------------------------------------------------------------


def test_zoo_has_every_family_and_enough_files(zoo):
    _, files = zoo
    assert len(files) >= 45
    counts = Counter(f.family for f in files)
    assert set(counts) == set(FAMILIES)
    assert all(n >= 3 for n in counts.values()), counts
    kinds = Counter(f.path.suffix for f in files)
    assert kinds[".xlsx"] >= 35 and kinds[".csv"] >= 3 and kinds[".xls"] >= 3
    assert any(
        len(openpyxl.load_workbook(f.path, read_only=True).sheetnames) > 1
        for f in files
        if f.path.suffix == ".xlsx"
    )


def test_expected_and_trap_cells_are_distinct(zoo):
    _, files = zoo
    for f in files:
        exp = [(e.sheet, e.cell) for e in f.expected]
        traps = [(s, c) for s, c, _ in f.must_not_load]
        assert len(exp) == len(set(exp)), f.path
        assert not set(exp) & set(traps), f.path
        keys = [(e.indicator_code, e.subject_org_code, e.period_code) for e in f.expected]
        assert len(keys) == len(set(keys)), f"{f.path}: one value per indicator, org and period"
        if f.expect_refused:
            assert not f.expected


@functools.lru_cache(maxsize=8)
def _workbook(path):
    return openpyxl.load_workbook(path)


def _cell_text(f: ZooFile, sheet: str, cell: str):
    if f.path.suffix == ".xlsx":
        c = _workbook(f.path)[sheet][cell]
        if isinstance(c.value, (int, float)) and "%" in (c.number_format or ""):
            return round(c.value * 100, 10)
        return c.value
    if f.path.suffix == ".csv":
        data = f.path.read_bytes()
        text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("gbk")
        rows = list(csv.reader(io.StringIO(text)))
        col = openpyxl.utils.column_index_from_string("".join(ch for ch in cell if ch.isalpha()))
        return rows[int("".join(ch for ch in cell if ch.isdigit())) - 1][col - 1]
    return None  # .xls (BIFF, HTML or CSV content): checked through the builder only


def test_every_expected_cell_holds_the_number_a_person_reads(zoo):
    _, files = zoo
    checked = 0
    for f in files:
        for e in f.expected:
            shown = _cell_text(f, e.sheet, e.cell)
            if shown is None:
                continue
            got = read_number(shown)
            if str(shown).endswith("*"):
                got = float(str(shown).rstrip("*"))
            assert abs(got - e.value) < 1e-9, (f.path, e)
            checked += 1
    assert checked > 400


def test_expected_values_are_ones_this_county_should_load(zoo, catalog, profile):
    _, files = zoo
    allowed = {(a.indicator, a.org_code) for a in profile.assignments(catalog)}
    towns = {f"{COUNTY}-{code}" for code, _ in TOWNS}
    for f in files:
        for e in f.expected:
            ind = catalog.indicators[e.indicator_code]
            assert (e.indicator_code, e.subject_org_code) in allowed, (f.path.name, e)
            assert dt.date(2012, 1, 1) <= period_end(e.period_code) <= dt.date(2016, 12, 31), e
            length = {"monthly": 7, "quarterly": 7, "annual": 4}[ind.frequency]
            assert len(e.period_code) == length and ("Q" in e.period_code) == (
                ind.frequency == "quarterly"
            ), e
            if e.subject_org_code in towns:
                assert e.indicator_code in profile.town_indicators


def test_files_sit_in_unit_folders_with_received_dates_after_their_periods(zoo, profile):
    root, files = zoo
    shorts = {u.short_code for u in profile.org_units}
    for f in files:
        rel = f.path.relative_to(root)
        assert rel.parts[0] == COUNTY and rel.parts[1] in shorts, rel
        got = dt.date.fromtimestamp(f.path.stat().st_mtime)
        assert dt.date(2012, 1, 1) < got < dt.date(2017, 12, 31), rel
        if f.expected:  # received a few days (a yearbook: months) after the file's latest period
            latest = max(period_end(e.period_code) for e in f.expected)
            assert latest < got <= latest + dt.timedelta(days=200), rel


def test_the_zoo_is_deterministic(tmp_path):
    a = build_zoo(tmp_path / "a")
    b = build_zoo(tmp_path / "b")

    def strip(fs, root):
        return [(f.path.relative_to(root), f.expected, f.must_not_load, f.expect_refused) for f in fs]

    assert strip(a, tmp_path / "a") == strip(b, tmp_path / "b")
    for fa, fb in zip(a, b, strict=True):
        assert fa.path.stat().st_mtime == fb.path.stat().st_mtime
        if fa.path.suffix == ".csv":
            assert fa.path.read_bytes() == fb.path.read_bytes()


# --- the parser against the zoo ------------------------------------------------------------------


def test_zoo_loads_no_wrong_value(zoo_score):
    assert not zoo_score.wrong, "\n".join(zoo_score.wrong)


def test_zoo_wrong_values_do_not_grow(zoo_score):
    assert len(zoo_score.wrong) <= MAX_WRONG, "\n".join(zoo_score.wrong)


@pytest.mark.parametrize("family", sorted(THRESHOLDS))
def test_zoo_recall_per_family(zoo_score, family):
    f = zoo_score.families[family]
    assert f.recall >= THRESHOLDS[family], (
        f"{family}: {f.right}/{f.expected} = {f.recall:.2f}\n{_table(zoo_score)}"
    )


def test_zoo_files_to_refuse_are_refused(zoo_score):
    t = zoo_score.total
    assert t.refused_ok >= MIN_REFUSED_OK, "\n".join(zoo_score.not_refused)
