"""The layout-analysis cache (`pipelines.returns.layouts.cache`) never changes a result.

- Every zoo, corpus and sample file parses to the same `ParsedReturn` with the cache off and on
  (on: three passes, so the second pass stores and the third hits).
- Every layout sheet of the zoo and the sample, with its numbers changed, reads the same through the
  cache (primed with the original) as a fresh analysis of the changed sheet; many of these are hits.
- A changed header text, a moved column, a changed stub number, numbers made equal in the header
  window, another merged range, sheet name or county, and another catalog or profile all miss.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from pipelines.returns import readers
from pipelines.returns.layouts import cache, read_sheet
from pipelines.returns.model import ParseContext
from pipelines.returns.parse import parse_file, resources
from pipelines.returns.readers import Sheet
from tests.returns.test_corpus import CORPUS

TODAY = dt.date(2017, 6, 30)


def _ctx(catalog, profile, raw: Path) -> ParseContext:
    return ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=TODAY)


def _fresh_state(ctx) -> cache._State:
    cls = resources(ctx).classifier
    cls._layout_cache = cache._State()
    return cls._layout_cache


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() != ".json")


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory) -> Path:
    from tests.returns.zoo.build import build_zoo

    root = tmp_path_factory.mktemp("zoo-cache")
    build_zoo(root)
    return root


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory, catalog, profile) -> Path:
    from pipelines.sample.generate import build_corpus, write_corpus

    raw = tmp_path_factory.mktemp("sample-cache") / "raw"
    write_corpus(build_corpus(catalog, profile), raw)
    return raw


def _both_ways(files: list[Path], ctx) -> int:
    """Parse every file with the cache off, then three times with it on; all equal. Returns hits."""
    with cache.enabled(False):
        want = [parse_file(f, ctx) for f in files]
    st = _fresh_state(ctx)
    with cache.enabled(True):
        for _ in range(3):
            got = [parse_file(f, ctx) for f in files]
            for f, a, b in zip(files, want, got, strict=True):
                assert a == b, f
    return st.hits


def test_zoo_parses_the_same_with_and_without_the_cache(zoo_dir, catalog, profile):
    ctx = _ctx(catalog, profile, zoo_dir)
    files = _files(zoo_dir)
    assert len(files) >= 50
    assert _both_ways(files, ctx) > 0


@pytest.mark.slow
def test_sample_parses_the_same_with_and_without_the_cache(sample_dir, catalog, profile):
    ctx = _ctx(catalog, profile, sample_dir)
    files = _files(sample_dir)
    assert len(files) >= 700
    assert _both_ways(files, ctx) > 300


@pytest.mark.skipif(not (CORPUS / "files").exists(), reason="shared/corpus is not beside the checkout")
def test_corpus_parses_the_same_with_and_without_the_cache(tmp_path, catalog, profile):
    raw = tmp_path / "raw"
    folder = raw / profile.code / "tjj"
    folder.mkdir(parents=True)
    ctx = _ctx(catalog, profile, raw)
    files = []
    for src in sorted((CORPUS / "files").iterdir()):
        if src.is_file():
            dst = folder / src.name
            dst.symlink_to(src)
            files.append(dst)
    assert files
    _both_ways(files, ctx)


# --- changed numbers: hits equal fresh analyses -------------------------------------------------


def _layout_sheets(files: list[Path]) -> list[Sheet]:
    out = []
    for f in files:
        try:
            book = readers.read_book(f)
        except readers.ReadError:
            continue
        if any(s.name == "_meta" for s in book.sheets):
            continue
        out += [s for s in book.sheets if s.is_visible]
    return out


def _changed_numbers(sheet: Sheet, k: int) -> Sheet:
    """The sheet with its numbers changed (some to other classes: 7 → 7.5, 3.2 → 2020)."""

    def change(v, i):
        if v.__class__ is float or v.__class__ is int:
            return (v * 1.37 + 0.5, v + 1, float(2020), v)[(i + k) % 4] if v.__class__ is float else v + 3
        return v

    rows = [[change(v, r * 31 + c) for c, v in enumerate(row)] for r, row in enumerate(sheet.rows)]
    return Sheet(sheet.name, rows, sheet.visible, list(sheet.merged))


def _check_changed(sheets: list[Sheet], ctx, county: str) -> int:
    cls = resources(ctx).classifier
    st = _fresh_state(ctx)
    for s in sheets:  # twice: admitted, then stored
        cache.read_sheet_cached(s, cls, county)
        cache.read_sheet_cached(s, cls, county)
    for k in range(3):
        for s in sheets:
            changed = _changed_numbers(s, k)
            want = read_sheet(changed, cls, county)[0]
            got = cache.read_sheet_cached(changed, cls, county)
            assert got == want, (s.name, k)
            for rec in got.records:  # raw values are the changed sheet's own
                assert any(rec.raw is v for row in changed.rows for v in row) or rec.raw in ("", None)
    return st.hits


def test_changed_numbers_read_as_a_fresh_analysis_reads_them_zoo(zoo_dir, catalog, profile):
    ctx = _ctx(catalog, profile, zoo_dir)
    sheets = _layout_sheets(_files(zoo_dir))
    assert len(sheets) > 40
    hits = _check_changed(sheets, ctx, profile.code)
    assert hits > 20  # the test exercises hits, not only misses


@pytest.mark.slow
def test_changed_numbers_read_as_a_fresh_analysis_reads_them_sample(sample_dir, catalog, profile):
    ctx = _ctx(catalog, profile, sample_dir)
    sheets = _layout_sheets(_files(sample_dir))
    assert len(sheets) > 300
    assert _check_changed(sheets, ctx, profile.code) > 300


# --- misses ------------------------------------------------------------------------------------

FORM = [
    ["平昌县生态环境局2014年3月监测数据", "", "", ""],
    ["指标名称", "计量单位", "本期数", "目标值"],
    ["森林覆盖率", "%", 61.2, 62.0],
    ["城市污水处理率", "%", 88.5, 90.0],
]


def _sheet(rows, name="Sheet1", merged=()) -> Sheet:
    return Sheet(name, [list(r) for r in rows], "visible", list(merged))


def _prime(sheet, cls, county):
    cache.read_sheet_cached(sheet, cls, county)
    cache.read_sheet_cached(sheet, cls, county)


def _hit(sheet, cls, county) -> bool:
    st = cache.state(cls)
    before = st.hits
    got = cache.read_sheet_cached(sheet, cls, county)
    assert got == read_sheet(sheet, cls, county)[0]
    return cache.state(cls).hits > before


@pytest.fixture
def cls(catalog, profile, tmp_path):
    ctx = _ctx(catalog, profile, tmp_path)
    _fresh_state(ctx)
    return resources(ctx).classifier


def test_other_values_in_the_same_form_hit(cls, profile):
    base = _sheet(FORM)
    _prime(base, cls, profile.code)
    other = copy.deepcopy(FORM)
    other[2][2], other[3][2], other[2][3] = 59.9, 91.3, 65.0
    assert _hit(_sheet(other), cls, profile.code)
    got = cache.read_sheet_cached(_sheet(other), cls, profile.code)
    assert sorted(r.raw for r in got.records) == [59.9, 91.3]


@pytest.mark.parametrize(
    "change",
    [
        lambda rows: rows[1].__setitem__(2, "上年同期"),  # a changed header text
        lambda rows: [r.insert(1, "") for r in rows],  # every column moved right
        lambda rows: rows[2].__setitem__(1, "‰"),  # a changed unit
        lambda rows: rows[0].__setitem__(0, "平昌县生态环境局2014年4月监测数据"),  # another period
        lambda rows: rows.append(["注：数据来源于监测站", "", "", ""]),  # another row
        lambda rows: rows[3].__setitem__(2, 2015.0),  # a value that reads as a year
    ],
)
def test_changed_form_misses(cls, profile, change):
    base = _sheet(FORM)
    _prime(base, cls, profile.code)
    rows = copy.deepcopy(FORM)
    change(rows)
    assert not _hit(_sheet(rows), cls, profile.code)


def test_a_number_of_the_header_block_is_read_exactly(cls, profile):
    rows = copy.deepcopy(FORM)
    rows.insert(2, ["甲", "乙", 1, 2])  # a 栏次 numbering row: part of the header block
    _prime(_sheet(rows), cls, profile.code)
    rows[2][2:4] = [2, 1]  # the same classes and equality pattern, other numbers: exact there
    assert cache.signature(_sheet(rows), profile.code) is not None
    assert not _hit(_sheet(rows), cls, profile.code)


def test_a_numbering_row_is_told_from_a_data_row(cls, profile):
    rows = copy.deepcopy(FORM)
    rows.insert(2, ["甲", "乙", 1.5, 2.5])  # not a 栏次 row: 1.5 is no column number
    _prime(_sheet(rows), cls, profile.code)
    rows[2][2:4] = [1.0, 2.0]  # now it is one (whole numbers 0 < v < 100 beside 甲/乙)
    assert not _hit(_sheet(rows), cls, profile.code)
    rows[2][2:4] = [3.5, 4.5]
    assert _hit(_sheet(rows), cls, profile.code)


def test_numbers_made_equal_in_the_header_window_miss(cls, profile):
    rows = copy.deepcopy(FORM)
    rows[2][2:4] = [61.2, 62.0]
    _prime(_sheet(rows), cls, profile.code)
    rows[2][2:4] = [61.2, 61.2]  # equal cells count once when header rows are scored
    assert not _hit(_sheet(rows), cls, profile.code)
    rows[2][2:4] = [70.1, 70.1]  # the same equality pattern: a hit
    assert _hit(_sheet(rows), cls, profile.code)


def test_sheet_name_merges_and_county_miss(cls, profile):
    base = _sheet(FORM)
    _prime(base, cls, profile.code)
    assert not _hit(_sheet(FORM, name="Sheet2"), cls, profile.code)
    assert not _hit(_sheet(FORM, merged=[((0, 0), (0, 3))]), cls, profile.code)
    assert not _hit(base, cls, None)
    assert _hit(base, cls, profile.code)


def test_another_catalog_or_profile_misses(catalog, profile, tmp_path):
    ctx = _ctx(catalog, profile, tmp_path)
    cls = resources(ctx).classifier
    cls._layout_cache = cache._State()
    base = _sheet(FORM)
    _prime(base, cls, profile.code)
    assert _hit(base, cls, profile.code)
    # another catalog object (the loader builds one when a catalog file's digest changes)
    other_catalog = copy.deepcopy(catalog)
    cls2 = resources(_ctx(other_catalog, profile, tmp_path)).classifier
    assert cls2 is not cls
    assert not _hit(base, cls2, profile.code)
    other_profile = copy.deepcopy(profile)
    cls3 = resources(_ctx(catalog, other_profile, tmp_path)).classifier
    assert cls3 is not cls and cls3 is not cls2
    assert not _hit(base, cls3, profile.code)


def test_switched_off_it_neither_stores_nor_hits(cls, profile):
    base = _sheet(FORM)
    with cache.enabled(False):
        for _ in range(3):
            cache.read_sheet_cached(base, cls, profile.code)
    assert cache.state(cls).stored == 0 and cache.state(cls).hits == 0


def test_the_kept_signatures_are_bounded(cls, profile, monkeypatch):
    monkeypatch.setattr(cache, "MAX_KEPT_CELLS", 40)
    for k in range(6):  # each sheet another form (another unit text): 16 cells each
        rows = copy.deepcopy(FORM)
        rows[2][1] = ["%", "‰", "吨", "个", "人", "元"][k]
        for _ in range(3):
            cache.read_sheet_cached(_sheet(rows), cls, profile.code)
        assert cache.state(cls).cells <= 40 + 16
    assert len(cache.state(cls).entries) <= 3
