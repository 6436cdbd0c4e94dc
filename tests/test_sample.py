"""The sample corpus: deterministic, idempotent, small, and every planted defect where the manifest says."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import time
import zipfile

import pytest
from python_calamine import CalamineWorkbook

from pipelines.reporting_calendar import parse_period
from pipelines.returns.model import REASONS
from pipelines.sample import build_corpus, write_corpus
from pipelines.sample.generate import MANIFEST
from pipelines.sample.values import Trajectories

# A reduced corpus holding every planted defect: all units, 2013-2014 only.
UNITS = None
YEARS = (2013, 2014)
BAD_KINDS = {
    "bad:empty": ("rejected", ["empty_file"]),
    "bad:truncated": ("rejected", ["corrupt_archive"]),
    "bad:period_in_future": ("rejected", ["period_in_future"]),
    "bad:period_not_expected": ("rejected", ["period_not_expected"]),
    "bad:unknown_indicator": ("partial", ["unknown_indicator"]),
    "bad:out_of_range": ("partial", ["out_of_range"]),
    "bad:wrong_folder": ("rejected", ["wrong_folder"]),
    "duplicate": ("duplicate", ["duplicate_file"]),
}


@pytest.fixture(scope="module")
def corpus(catalog, profile):
    return build_corpus(catalog, profile, seed=7, years=YEARS, units=UNITS)


@pytest.fixture(scope="module")
def written(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("raw")
    report = write_corpus(corpus, out)
    return out, report


@pytest.fixture(scope="module")
def manifest(written):
    out, _ = written
    return json.loads((out / MANIFEST).read_text(encoding="utf-8"))


def _by_kind(manifest, kind):
    return [f for f in manifest["files"] if f["kind"] == kind]


def test_same_seed_same_manifest_and_bytes(corpus, catalog, profile):
    again = build_corpus(catalog, profile, seed=7, years=YEARS, units=UNITS)
    assert again.manifest() == corpus.manifest()
    assert [(f.path, f.data) for f in again.files] == [(f.path, f.data) for f in corpus.files]
    formats = {f.path.rsplit(".", 1)[-1] for f in corpus.files}
    assert {"xlsx", "xls", "ods", "csv"} <= formats


def test_other_seed_other_values(corpus, catalog, profile):
    mine = build_corpus(catalog, profile, seed=7, years=(2013,), units=("sthjj",))
    other = build_corpus(catalog, profile, seed=8, years=(2013,), units=("sthjj",))
    assert {f.sha256 for f in other.files} != {f.sha256 for f in mine.files}


def test_reduced_corpus_keeps_values_of_full_plan(catalog, profile, corpus):
    """A value depends on seed, unit, indicator and period only, never on what else is generated."""
    small = build_corpus(catalog, profile, seed=7, years=(2014,), units=("sthjj",))
    vals = {
        (c.indicator, c.period): c.value
        for f in small.files
        if f.meta["kind"] == "return" and f.meta["expected"]["status"] == "accepted"
        for c in f.cells
        if c.expect == "ok"
    }
    big = {
        (c.indicator, c.period): c.value
        for f in corpus.files
        if f.meta["org_code"] == "511923-sthjj"
        and f.meta["kind"] == "return"
        and f.meta["expected"]["status"] == "accepted"
        for c in f.cells
        if c.expect == "ok"
    }
    common = set(vals) & set(big)
    assert len(common) > 50
    assert all(vals[k] == big[k] for k in common)


def test_second_write_rewrites_nothing(corpus, written):
    out, first = written
    assert first.written == len(corpus.files) and first.manifest_written
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    second = write_corpus(corpus, out)
    assert (second.written, second.removed, second.manifest_written) == (0, 0, False)
    assert second.unchanged == len(corpus.files)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps


def test_changed_file_is_rewritten_and_stale_file_removed(corpus, catalog, profile, tmp_path):
    write_corpus(corpus, tmp_path)
    victim = tmp_path / corpus.files[0].path
    victim.write_bytes(b"tampered")
    foreign = tmp_path / "511923" / "sthjj" / "dept_own_note.txt"
    foreign.write_text("not ours")
    smaller = build_corpus(catalog, profile, seed=7, years=(2014,), units=("sthjj",))
    report = write_corpus(smaller, tmp_path)
    assert report.removed > 0
    assert foreign.exists()  # only files listed in our old manifest are removed
    assert {
        str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.*") if p.name not in (MANIFEST, foreign.name)
    } == {f.path for f in smaller.files}


def test_manifest_at_root_describes_every_file(written, manifest):
    out, _ = written
    assert (out / MANIFEST).is_file()
    assert not list(out.glob("*/*/" + MANIFEST))
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}
    assert on_disk == {f["path"] for f in manifest["files"]}
    for f in manifest["files"]:
        assert f["path"].startswith("511923/")
        assert (out / f["path"]).stat().st_size == f["size"]
        for key in ("org_code", "periods", "layout", "format", "received_at", "expected", "due"):
            assert key in f, (f["path"], key)


def test_mtimes_are_received_times(written, manifest):
    out, _ = written
    for f in manifest["files"]:
        received = dt.datetime.fromisoformat(f["received_at"])
        assert received.utcoffset() == dt.timedelta(hours=8)
        assert 9 <= received.hour <= 17
        assert abs((out / f["path"]).stat().st_mtime - received.timestamp()) < 1


def test_every_bad_file_kind_with_expected_outcome(written, manifest):
    out, _ = written
    for kind, (status, reasons) in BAD_KINDS.items():
        files = _by_kind(manifest, kind)
        assert len(files) == 1, kind
        assert files[0]["expected"]["status"] == status
        assert files[0]["expected"]["reasons"] == reasons
        assert set(reasons) <= set(REASONS)
    empty = _by_kind(manifest, "bad:empty")[0]
    assert (out / empty["path"]).stat().st_size == 0
    truncated = _by_kind(manifest, "bad:truncated")[0]
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(out / truncated["path"]).testzip()


def test_wrong_period_files_are_wrong(manifest):
    future = _by_kind(manifest, "bad:period_in_future")[0]
    assert parse_period(future["periods"][0]).start > dt.datetime.fromisoformat(future["received_at"]).date()
    old = _by_kind(manifest, "bad:period_not_expected")[0]
    assert parse_period(old["periods"][0]).end < dt.date(2011, 12, 1)


def test_wrong_folder_file_names_another_unit(written, manifest):
    out, _ = written
    f = _by_kind(manifest, "bad:wrong_folder")[0]
    assert f["path"].split("/")[1] == f["folder_unit"] == "sthjj"
    assert f["org_code"] == "511923-lyj"
    title = CalamineWorkbook.from_path(str(out / f["path"])).get_sheet_by_index(0).to_python()[0][0]
    assert "林业局" in title


def test_bad_cells_hold_the_bad_values(written, manifest):
    out, _ = written
    unknown = _by_kind(manifest, "bad:unknown_indicator")[0]
    assert len(unknown["expected"]["bad_cells"]) == 3
    assert all(c["indicator"] is None and c["name"] for c in unknown["expected"]["bad_cells"])
    impossible = _by_kind(manifest, "bad:out_of_range")[0]
    raws = sorted(c["raw"] for c in impossible["expected"]["bad_cells"])
    assert raws == ["-1", "135"]
    for f in (unknown, impossible):
        for c in f["expected"]["bad_cells"]:
            assert str(_cell(out / f["path"], c["sheet"], c["cell"])) in (c["raw"], c["raw"] + ".0")


def test_duplicate_is_byte_identical_and_later(written, manifest):
    out, _ = written
    dup = _by_kind(manifest, "duplicate")[0]
    assert dup["path"] != dup["duplicate_of"]
    assert (out / dup["path"]).read_bytes() == (out / dup["duplicate_of"]).read_bytes()
    orig = next(f for f in manifest["files"] if f["path"] == dup["duplicate_of"])
    assert dup["received_at"] > orig["received_at"]


def test_resubmission_changes_values_later(written, manifest):
    out, _ = written
    new = _by_kind(manifest, "resubmission")[0]
    old = next(f for f in manifest["files"] if f["path"] == new["supersedes"])
    assert old["superseded_by"] == new["path"]
    assert (new["org_code"], new["periods"]) == (old["org_code"], old["periods"])
    assert (out / new["path"]).stat().st_mtime > (out / old["path"]).stat().st_mtime
    assert len(new["changed_values"]) == 3
    old_vals = {c["indicator"]: c["value"] for c in old["cells"]}
    new_vals = {c["indicator"]: c["value"] for c in new["cells"]}
    changed = {k for k in old_vals if old_vals[k] != new_vals[k]}
    assert changed == {c["indicator"] for c in new["changed_values"]}


def test_late_and_missing_returns_present(manifest):
    late = [
        f for f in manifest["files"] if f["kind"] == "return" and max(f["late_working_days"].values()) > 0
    ]
    on_time = [
        f for f in manifest["files"] if f["kind"] == "return" and max(f["late_working_days"].values()) == 0
    ]
    assert late and len(on_time) > 3 * len(late)
    for f in manifest["files"]:
        for p, n in f["late_working_days"].items():
            assert (n > 0) == (f["received_at"][:10] > f["due"][p]), (f["path"], p)
    assert manifest["missing_returns"]
    present = {(f["org_code"], p) for f in manifest["files"] for p in f["periods"]}
    for m in manifest["missing_returns"]:
        assert (m["org_code"], m["period"]) not in present


def test_cells_in_manifest_match_file_contents(written, manifest):
    """Lineage promises: the manifest's sheet/cell holds exactly the raw text it records."""
    out, _ = written
    checked = 0
    for f in manifest["files"]:
        if f["expected"]["status"] in ("rejected", "duplicate"):
            continue
        for c in f["cells"][:6]:
            got = _cell(out / f["path"], c["sheet"], c["cell"], f.get("encoding"))
            if c["expect"] == "missing":
                assert got in ("", None, "—", "－", "/", "无", "-"), (f["path"], c)
            else:
                assert _same(got, c["raw"]), (f["path"], c, got)
            checked += 1
    assert checked > 200


def test_own_layouts_and_messy_cells_present(manifest):
    layouts = {f["layout"] for f in manifest["files"]}
    # the layout families of pipelines/returns/layouts, each present in the sample
    assert {
        "template",
        "long",
        "periods_as_columns",
        "periods_as_rows",
        "sheet_per_period",
        "yearbook",
    } <= layouts
    raws = [c["raw"] for f in manifest["files"] for c in f["cells"] if c["expect"] == "ok"]
    assert any(r.endswith("%") for r in raws)
    assert any(any("０" <= ch <= "９" for ch in r) for r in raws)
    assert any(c["expect"] == "missing" for f in manifest["files"] for c in f["cells"])


def test_trajectories_are_plausible(catalog, profile):
    traj = Trajectories(catalog, profile, 7)
    sthjj = "511923-sthjj"
    forest = [traj.value("forest_coverage", "511923-lyj", parse_period(str(y))) for y in range(2011, 2017)]
    assert all(45 < v < 56 for v in forest) and forest == sorted(forest)  # never near the 75% 山区 target
    winter = [
        traj.value("env_api_good_days_ratio", sthjj, parse_period(f"{y}-01")) for y in range(2012, 2017)
    ]
    summer = [
        traj.value("env_api_good_days_ratio", sthjj, parse_period(f"{y}-07")) for y in range(2012, 2017)
    ]
    assert sum(winter) / 5 < sum(summer) / 5 - 8
    energy = [
        traj.value("env_industrial_energy_intensity", "511923-jxj", parse_period(str(y)))
        for y in (2014, 2015, 2016)
    ]
    assert energy[0] > energy[1] > energy[2]
    assert energy[-1] < catalog.reference_value("national_avg", "env_industrial_energy_intensity", 2016)
    assert traj.value("hyg_vector_density_grade", "511923-awb", parse_period("2012-Q1")) == "D级"
    pct = [
        traj.value("garbage_harmless", "511923-cgj", parse_period(f"{y}-{m:02d}"))
        for y in (2012, 2015)
        for m in (3, 9)
    ]
    assert all(0 <= v <= 100 for v in pct)


@pytest.mark.slow
def test_full_corpus_small_fast_and_varied(catalog, profile, tmp_path):
    started = time.perf_counter()
    corpus = build_corpus(catalog, profile)
    report = write_corpus(corpus, tmp_path)
    elapsed = time.perf_counter() - started
    assert elapsed < 60
    size = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024
    assert report.total_bytes == size
    m = corpus.manifest()
    files = m["files"]
    own = sum(1 for f in files if f["layout"] not in ("template", "unknown"))
    assert 0.28 <= own / len(files) <= 0.42
    assert {"template", "long", "periods_as_rows", "sheet_per_period", "periods_as_columns"} <= {
        f["layout"] for f in files
    }
    assert {"xlsx", "xls", "ods", "csv"} <= {f["format"] for f in files}
    assert {"gbk", "utf-8-sig"} <= {f.get("encoding") for f in files if f["format"] == "csv"}
    assert {k for k in BAD_KINDS} | {"resubmission"} <= {f["kind"] for f in files}
    assert m["outliers"] and m["missing_returns"]
    periods = {p for f in files for p in f["periods"]}
    assert {"2011-12", "2016-12", "2016-Q4", "2016"} <= periods
    for f in files:  # every GBK file really decodes as GBK
        if f.get("encoding") == "gbk":
            (tmp_path / f["path"]).read_bytes().decode("gbk")
    assert os.path.getsize(tmp_path / MANIFEST) < 2_500_000


# -- helpers -----------------------------------------------------------------------------------------
def _cell(path, sheet, ref, encoding=None):
    col = "".join(ch for ch in ref if ch.isalpha())
    row = int("".join(ch for ch in ref if ch.isdigit()))
    c = 0
    for ch in col:
        c = c * 26 + ord(ch) - 64
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding or "utf-8-sig"))))
        return rows[row - 1][c - 1]
    data = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if row - 1 >= len(data) or c - 1 >= len(data[row - 1]):
        return None
    return data[row - 1][c - 1]


def _same(got, raw: str) -> bool:
    if isinstance(got, float):
        return abs(got - float(raw)) < 1e-9
    return str(got) == raw


def test_parser_agrees_with_manifest(written, manifest, catalog, profile):
    """Contract check with pipelines.returns.parse: every file gets the status, reasons and values the
    manifest promises (duplicates are the loader's business and are skipped here)."""
    parse = pytest.importorskip("pipelines.returns.parse")
    from pipelines.returns.model import ParseContext

    out, _ = written
    ctx = ParseContext(catalog, (profile,), out, dt.date(2017, 6, 30))
    for f in manifest["files"]:
        exp = f["expected"]
        if exp["status"] == "duplicate":
            continue
        got = parse.parse_file(out / f["path"], ctx)
        codes = {p.reason_code for p in got.problems}
        if exp["status"] == "rejected":
            assert got.rejected and set(exp["reasons"]) <= codes, (f["path"], codes)
            continue
        assert not got.rejected, (f["path"], codes)
        assert codes == set(exp["reasons"]), (f["path"], codes)
        assert got.layout == f["layout"], (f["path"], got.layout, f["layout"])
        values = {(v.indicator_code, v.period_code): v for v in got.values}
        for c in f["cells"]:
            if c["expect"] != "ok":
                continue
            v = values[(c["indicator"], c["period"])]
            assert (v.sheet, v.cell) == (c["sheet"], c["cell"]), (f["path"], c)
            if isinstance(c["value"], str):
                assert v.value_text == c["value"], (f["path"], c)
            else:
                assert v.value == pytest.approx(c["value"]), (f["path"], c)
