"""Issue 18's cheaper validation gives exactly what the code before it gave, on the sample and on a
dirty sample, and the shared evaluation is computed once per run and observation state.

The reference is the validation code as it was (tests/validation/reference/, frozen copies). Both
evaluate the same enriched frames; reports (pass/fail, counts, metadata, every item with its
lineage), rule violations, outlier rows, quality.check_result / quality.flag rows and the quarantine
decisions (plan and messages) must be equal.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pandas as pd
import pytest

from pipelines.profile import load_profiles
from pipelines.settings import PROJECT_ROOT
from pipelines.validation import frame, quality, shared
from pipelines.validation.results import ItemSource, items_from_frame
from pipelines.warehouse.schema import create_all, replace_rows
from pipelines.warehouse.tables import core
from pipelines.warehouse.tables import quality as qt
from tests.marts.test_done_when import sample_warehouse  # noqa: F401  (module fixture: built like make run)
from tests.validation.reference import frame as ref_frame
from tests.validation.reference import quality as ref_quality

EXPECTATIONS = PROJECT_ROOT / "expectations"
DETECTED = dt.datetime(2026, 12, 1, 4, 0)
EVALUATED = dt.datetime(2026, 12, 1, 4, 0)


@pytest.fixture(scope="module")
def profiles(catalog):
    return load_profiles(PROJECT_ROOT / "expectations" / "profiles", catalog)


@pytest.fixture(scope="module")
def sample_raw(sample_warehouse):  # noqa: F811
    conn = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        raw = frame.read_observations(conn)
        files = conn.execute("SELECT * FROM core.source_file").df()
    finally:
        conn.close()
    assert len(raw) > 1000
    return raw, files


def _plant(raw: pd.DataFrame, catalog, untraceable: bool = False) -> pd.DataFrame:
    """The sample with one of each defect the checks look for (structural, rules, outliers)."""
    df = raw.copy()
    unit_of = {c: i.unit for c, i in catalog.indicators.items()}
    units = df["indicator_code"].map(unit_of)
    cur = df["is_current"].astype(bool) & df["value"].notna()

    def first(mask) -> int:
        idx = df.index[mask & cur]
        assert len(idx), "the sample has no row to plant this defect on"
        return idx[0]

    pct = first(units == "%")
    df.loc[pct, ["value", "raw_text"]] = [135.0, "135"]
    days = first(units.isin([u for u, x in catalog.units.items() if x.kind == "days"]))
    df.loc[days, "value"] = 400.0
    df.loc[first(units == "‰"), "value"] = -3.0
    extra = []
    base = df.loc[df.index[cur][5]].to_dict()
    extra.append(
        {**base, "observation_id": "planted:unknown-indicator", "indicator_code": "no_such_indicator"}
    )
    extra.append({**base, "observation_id": "planted:unknown-org", "org_code": "511923-nobody"})
    extra.append({**base, "observation_id": "planted:bad-period", "period_code": "2009"})
    extra.append({**base, "observation_id": "planted:dup-current", "value": 1.0})
    extra.append({**base, "observation_id": "planted:no-value", "value": None, "raw_text": ""})
    extra.append({**base, "observation_id": "planted:wrong-unit", "unit": "dB(A)"})
    extra.append(
        {
            **base,
            "observation_id": "planted:future",
            "period_code": "2016",
            "valid_from": pd.Timestamp("2015-06-01"),
        }
    )
    extra.append({**base, "observation_id": "planted:no-org", "org_code": None})
    if untraceable:
        extra.append({**base, "observation_id": None, "value": 150.0})
    # outliers and rule violations: a long current series gets one value 20 times its level
    series = df[cur].groupby(["indicator_code", "org_code"]).size().loc[lambda s: s >= 12].index.tolist()
    for ind, org in series[:3]:
        idx = df.index[cur & (df["indicator_code"] == ind) & (df["org_code"] == org)][6]
        df.loc[idx, "value"] = float(df.loc[idx, "value"]) * 20 + 7
    return pd.concat([df, pd.DataFrame(extra)], ignore_index=True)


def _frames(sample_raw, catalog):
    raw, _ = sample_raw
    return {
        "sample": raw,
        "dirty": _plant(raw, catalog),
        "dirty_untraceable": _plant(raw, catalog, untraceable=True),
    }


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b or (a is None and b is None)


def _same_rows(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.keys() == w.keys()
        bad = {k: (g[k], w[k]) for k in w if not _same_value(g[k], w[k])}
        assert not bad, bad


def _same_runs(new: quality.QualityRun, old, write: bool = True) -> None:
    assert list(new.reports) == list(old.reports)
    for name, rep in old.reports.items():
        got = new.reports[name]
        assert (got.passed, got.n_checked, got.n_failed, got.severity, got.threshold_rate) == (
            rep.passed,
            rep.n_checked,
            rep.n_failed,
            rep.severity,
            rep.threshold_rate,
        )
        assert got.metadata() == rep.metadata()
        assert len(got.results) == len(rep.results)
        for g, w in zip(got.results, rep.results, strict=True):
            assert (g.check_name, g.key, g.severity, g.dimension, g.bound, g.reason_code, g.error) == (
                w.check_name,
                w.key,
                w.severity,
                w.dimension,
                w.bound,
                w.reason_code,
                w.error,
            )
            assert (g.description_zh, g.description_en) == (w.description_zh, w.description_en)
            pd.testing.assert_frame_equal(g.items, w.items, check_exact=True)
    _same_rows(new.violations, old.violations)
    _same_rows(new.outlier_rows, old.outlier_rows)
    new.evaluated_at = old.evaluated_at = EVALUATED
    _same_rows(new.check_result_rows(), old.check_result_rows())
    _same_rows(new.flag_rows(), old.flag_rows())
    if not write:
        return
    # and the quality tables written from them are equal, row for row
    tables = []
    for write in (quality.write, ref_quality.write):
        conn = duckdb.connect()
        create_all(conn, [qt.CHECK_RESULT, qt.FLAG, qt.RULE_VIOLATION, qt.OUTLIER])
        write(conn, new if write is quality.write else old)
        tables.append(
            {
                t.qualified: conn.execute(f"SELECT * FROM {t.qualified} ORDER BY ALL").fetchall()
                for t in (qt.CHECK_RESULT, qt.FLAG, qt.RULE_VIOLATION, qt.OUTLIER)
            }
        )
        conn.close()
    assert tables[0] == tables[1]
    assert tables[0][qt.CHECK_RESULT.qualified]


def _same_quarantine(new: quality.QualityRun, old, catalog, n_values: int) -> None:
    for name in quality.STRUCTURAL:
        if old.reports[name].passed:
            assert new.reports[name].passed
            continue
        for share in (None, 0.0001):
            want = ref_quality.plan_quarantine(old.reports[name], range(n_values), catalog, share, DETECTED)
            got = quality.plan_quarantine(
                new.reports[name], None, catalog, share, DETECTED, n_values=n_values
            )
            assert (got.systemic, got.n_values, got.n_failed, got.reason_zh, got.reason_en) == (
                want.systemic,
                want.n_values,
                want.n_failed,
                want.reason_zh,
                want.reason_en,
            )
            assert got.rows == want.rows


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["sample", "dirty", "dirty_untraceable"])
def test_new_evaluation_equals_the_old_one(sample_raw, catalog, profiles, tmp_path, variant):
    raw = _frames(sample_raw, catalog)[variant]
    new_frame, old_frame = frame.enrich(raw, catalog), ref_frame.enrich(raw, catalog)
    pd.testing.assert_frame_equal(new_frame, old_frame, check_exact=True)
    old = ref_quality.evaluate(old_frame, catalog, profiles, EXPECTATIONS, tmp_path / "old", build_docs=True)
    new = quality.evaluate(new_frame, catalog, profiles, EXPECTATIONS, tmp_path / "new", build_docs=True)
    # (a row without observation id cannot be written to quality.outlier, nor come from core)
    _same_runs(new, old, write=variant != "dirty_untraceable")
    if variant != "sample":  # the planted defects are caught
        assert not old.reports["observation_structure"].passed
        assert not old.reports["observation_values"].passed
        assert old.reports["value_outliers"].n_failed
    if variant == "dirty_untraceable":
        plan = quality.plan_quarantine(new.reports["observation_structure"], new_frame, catalog)
        assert plan.systemic and "observation id" in plan.reason_en
    _same_quarantine(new, old, catalog, len(new_frame))
    # the Data Docs list the same pages
    docs = ("gx", "uncommitted", "data_docs", "local_site")
    assert _doc_pages((tmp_path / "new").joinpath(*docs)) == _doc_pages((tmp_path / "old").joinpath(*docs))


def _doc_pages(root) -> list[tuple[str, ...]]:
    return sorted(p.relative_to(root).parts[:2] for p in root.rglob("*.html") if "validations" not in p.parts)


def _warehouse(path, raw: pd.DataFrame, files: pd.DataFrame) -> None:
    conn = duckdb.connect(str(path))
    try:
        create_all(conn, [core.SOURCE_FILE, core.OBSERVATION])
        rows = raw.drop(columns=["file_name", "file_path"]).astype(object)
        rows = rows.where(rows.notna(), None).to_dict("records")
        replace_rows(conn, core.OBSERVATION, rows)
        src = files.astype(object)
        replace_rows(conn, core.SOURCE_FILE, src.where(src.notna(), None).to_dict("records"))
    finally:
        conn.close()


@pytest.mark.slow
def test_each_unit_is_evaluated_once_per_run_and_state(sample_raw, catalog, profiles, tmp_path, monkeypatch):
    raw, files = sample_raw
    dirty = _plant(raw, catalog).dropna(subset=["observation_id", "org_code"])  # NOT NULL in core
    dirty = dirty.drop_duplicates("observation_id")
    db = tmp_path / "w.duckdb"
    _warehouse(db, dirty, files)
    calls = []
    real = quality.evaluate_unit
    monkeypatch.setattr(
        quality, "evaluate_unit", lambda unit, *a, **k: calls.append(unit) or real(unit, *a, **k)
    )

    def connect():
        return duckdb.connect(str(db))

    def evaluate(run_id, checks):
        return shared.evaluate(
            run_id,
            connect,
            str(db),
            catalog,
            profiles,
            EXPECTATIONS,
            tmp_path / "gx",
            EXPECTATIONS / "standards",
            EXPECTATIONS / "profiles",
            checks,
        )

    by_check = {name: evaluate("run-1", (name,))[0] for name in quality.CHECKS}
    assert sorted(calls) == sorted(quality.UNITS)  # the rules unit serves both rule checks
    whole, n, _ = evaluate("run-1", tuple(quality.CHECKS))
    assert sorted(calls) == sorted(quality.UNITS)  # quality_results reuses every unit
    conn = connect()
    try:
        want_frame = ref_frame.enrich(ref_frame.read_observations(conn), catalog)
    finally:
        conn.close()
    assert n == len(want_frame)
    old = ref_quality.evaluate(want_frame, catalog, profiles, EXPECTATIONS, tmp_path / "old")
    _same_runs(whole, old)
    for name, run in by_check.items():
        assert run.reports[name] is whole.reports[name]

    # a step in another process (multiprocess / dask executor) finds the results in the run folder
    shared._RESULTS.clear()
    shared._FRAMES.clear()
    again, _, read = evaluate("run-1", tuple(quality.CHECKS))
    assert read is None and sorted(calls) == sorted(quality.UNITS)
    _same_runs(again, old)

    # another run, or the same run after a structural check quarantined a value: evaluated again
    evaluate("run-2", (quality.suites.STRUCTURE,))
    assert calls.count(quality.suites.STRUCTURE) == 2
    conn = connect()
    try:
        conn.execute("DELETE FROM core.observation WHERE observation_id = 'planted:unknown-org'")
    finally:
        conn.close()
    after, n_after, _ = evaluate("run-1", tuple(quality.CHECKS))
    assert n_after == n - 1 and calls.count(quality.suites.STRUCTURE) == 3
    assert "in_set:org_code" not in {r.key for r in after.reports["observation_structure"].failing()}

    shared.discard_run(tmp_path / "gx", "run-1")
    assert not shared.run_folder(tmp_path / "gx", "run-1").exists()


def test_item_source_equals_items_from_frame(catalog):
    from tests.validation.helpers import frame as make_frame
    from tests.validation.helpers import obs

    rows = [
        obs("builtup_green_coverage", "zjj", "2012", 38.5, catalog=catalog),
        obs("hyg_aqi_good_days", "sthjj", "2012-02", None, catalog=catalog),
        obs("regional_noise", "sthjj", "2012", 54.2, catalog=catalog, cell="H9"),
    ]
    f = make_frame(rows, catalog).drop(columns=["raw_text"])  # a missing item column too
    source = ItemSource(f)
    for rows_mask, failed in [
        (pd.Series([True, False, True]), pd.Series([False, False, True])),
        (pd.Series([False, False, False]), pd.Series([False, False, False])),
        (pd.Series([True, True, True]), pd.Series([True, False, False])),
    ]:
        pd.testing.assert_frame_equal(
            source.items(rows_mask, failed, "中", "en"),
            items_from_frame(f[rows_mask], failed, "中", "en"),
            check_exact=True,
        )
