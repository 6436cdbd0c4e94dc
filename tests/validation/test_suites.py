"""Great Expectations suites: generated from the catalog, committed, and run on clean and dirty frames."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.validation import gx_runner, suites
from tests.validation.helpers import frame, obs

EXPECTATIONS = PROJECT_ROOT / "expectations"


def test_committed_suites_equal_what_the_catalog_generates(catalog, profile):
    generated = suites.generate_suites(catalog, [profile])
    committed = suites.read_committed(EXPECTATIONS)
    assert set(committed) == set(generated), "regenerate: python -m pipelines.validation.suites"
    for name, suite in generated.items():
        assert committed[name] == suite, f"{name}.json is stale: run python -m pipelines.validation.suites"


def test_value_sets_and_ranges_come_from_the_catalog(catalog, profile):
    generated = suites.generate_suites(catalog, [profile])
    by_key = {e["meta"]["key"]: e for e in generated[suites.STRUCTURE]["expectations"]}
    assert by_key["in_set:indicator_code"]["kwargs"]["value_set"] == sorted(catalog.indicators)
    assert "511923-zjj" in by_key["in_set:org_code"]["kwargs"]["value_set"]
    assert "2012-Q1" in by_key["in_set:period_code"]["kwargs"]["value_set"]
    ranges = {e["meta"]["key"]: e["kwargs"] for e in generated[suites.VALUES]["expectations"]}
    units_of = {k: kw["row_condition"]["parameter"] for k, kw in ranges.items() if k.startswith("range:")}
    assert "%" in units_of["range:0..100"] and "‰" in units_of["range:0..1000"]
    assert units_of["range:20..130"] == ["dB(A)"]
    assert ranges["range:20..130"]["min_value"] == catalog.units["dB(A)"].min_value
    covered = {u for us in units_of.values() for u in us}
    expected = {i.unit for i in catalog.indicators.values() if catalog.units[i.unit].min_value is not None}
    assert covered == expected  # every bounded unit an indicator uses, and nothing typed by hand


@pytest.fixture
def clean_rows(catalog):
    return [
        obs("builtup_green_coverage", "zjj", "2012", 38.5, catalog=catalog),
        obs("builtup_green_coverage", "lyj", "2012", 39.0, catalog=catalog),
        obs("hyg_aqi_good_days", "sthjj", "2012-02", 29.0, catalog=catalog),
        obs("regional_noise", "sthjj", "2012", 54.2, catalog=catalog),
        obs("env_no_major_incident", "sthjj", "2012", 0.0, catalog=catalog),
        obs("hyg_vector_density_grade", "awb", "2012-Q1", None, text="C级", catalog=catalog),
        obs("hyg_infant_mortality", "wjw", "2012", 6.1, catalog=catalog, revision=1, current=False),
        obs("hyg_infant_mortality", "wjw", "2012", 6.0, catalog=catalog, revision=2),
    ]


def _run(rows, catalog, tmp_path):
    return gx_runner.run_suites(frame(rows, catalog), EXPECTATIONS, tmp_path / "gx")


def _failed(results) -> dict[str, list[str]]:
    return {r.key: list(r.failed["observation_id"]) for r in results if r.n_failed or r.error}


def test_clean_frame_passes_results_go_to_gx_dir_and_committed_context_is_untouched(
    catalog, clean_rows, tmp_path
):
    committed = {p: p.read_bytes() for p in (EXPECTATIONS / "gx").rglob("*") if p.is_file()}
    out = _run(clean_rows, catalog, tmp_path)
    assert _failed(out[suites.STRUCTURE]) == {}
    assert _failed(out[suites.VALUES]) == {}
    assert sum(r.n_checked for r in out[suites.VALUES]) >= 5
    validations = tmp_path / "gx" / "gx" / "uncommitted" / "validations"
    assert {p.name for p in validations.iterdir() if p.is_dir()} == set(suites.SUITE_NAMES)
    assert {p: p.read_bytes() for p in (EXPECTATIONS / "gx").rglob("*") if p.is_file()} == committed


def test_structure_suite_catches_each_structural_defect(catalog, clean_rows, tmp_path):
    dirty = [
        *clean_rows,
        obs("no_such_indicator", "zjj", "2012", 1.0, catalog=catalog, oid="bad-ind"),
        obs("builtup_green_coverage", "nobody", "2012", 30.0, catalog=catalog, oid="bad-org"),
        obs("builtup_green_coverage", "zjj", "2009", 30.0, catalog=catalog, oid="bad-period"),
        obs("builtup_green_coverage", "zjj", "2012", 38.6, catalog=catalog, oid="dup-current"),
        obs(
            "regional_noise",
            "sthjj",
            "2013",
            54.0,
            catalog=catalog,
            oid="future",
            received=dt.datetime(2012, 6, 1),
        ),
        obs("regional_noise", "sthjj", "2014", None, catalog=catalog, oid="no-value"),
        obs("regional_noise", "sthjj", "2015", 50.0, catalog=catalog, oid="wrong-unit", unit="%"),
    ]
    failed = _failed(_run(dirty, catalog, tmp_path)[suites.STRUCTURE])
    assert failed["in_set:indicator_code"] == ["bad-ind"]
    assert failed["in_set:org_code"] == ["bad-org"]
    assert failed["in_set:period_code"] == ["bad-period"]
    assert set(failed["unique:current_indicator_org_period"]) == {
        "511923-zjj:builtup_green_coverage:2012:r1",
        "dup-current",
    }
    assert "dup-current" in failed["unique:indicator_org_period_revision"]
    assert failed["not_future:period_start_before_received"] == ["future"]
    assert failed["not_null:value_for_numbers"] == ["no-value"]
    assert failed["equal:unit_is_indicator_unit"] == ["wrong-unit"]


def test_values_suite_catches_impossible_values_with_their_cells(catalog, clean_rows, tmp_path):
    dirty = [
        *clean_rows,
        obs("builtup_green_coverage", "zjj", "2013", 135.0, catalog=catalog, oid="pct135", cell="G9"),
        obs("env_no_major_incident", "sthjj", "2013", -2.0, catalog=catalog, oid="neg-count"),
        obs("hyg_infant_mortality", "wjw", "2013", 1200.0, catalog=catalog, oid="permille"),
        obs("regional_noise", "sthjj", "2013", 5.0, catalog=catalog, oid="quiet"),
        obs("hyg_aqi_good_days", "sthjj", "2012-02", 30.0, catalog=catalog, oid="feb30", revision=2),
    ]
    results = _run(dirty, catalog, tmp_path)[suites.VALUES]
    failed = _failed(results)
    assert failed["range:0..100"] == ["pct135"]
    assert failed["range:0..100000"] == ["neg-count"]
    assert failed["range:0..1000"] == ["permille"]
    assert failed["range:20..130"] == ["quiet"]
    assert failed["days_within_period:天/年"] == ["feb30"]  # 2012-02 has 29 days
    pct = next(r for r in results if r.key == "range:0..100")
    row = pct.failed.iloc[0]
    assert (row["file_name"], row["sheet"], row["cell"], row["value"]) == (
        "2013_zjj.xlsx",
        "填报表",
        "G9",
        135.0,
    )


def test_prune_keeps_only_the_newest_results_per_suite(tmp_path):
    base = tmp_path / "gx" / "gx" / "uncommitted" / "validations"
    for suite in suites.SUITE_NAMES:
        for stamp in ("20261101T000000Z", "20261102T000000Z", "20261103T000000Z"):
            (base / suite / "__none__" / stamp).mkdir(parents=True)
    assert gx_runner.prune_results(tmp_path / "gx", keep=1) == 2 * len(suites.SUITE_NAMES)
    for suite in suites.SUITE_NAMES:
        assert [p.name for p in (base / suite / "__none__").iterdir()] == ["20261103T000000Z"]
