"""Verdict rows reused per unchanged (reporting unit, indicator) series (issue 18) are exactly the rows
a computation from scratch gives: on the bundled sample, after one value changes, after the change
is reverted, after a new observation arrives, and with another catalog or profile object."""

from __future__ import annotations

import dataclasses
import os
import shutil

import duckdb
import pytest

from pipelines.profile import load_profiles
from pipelines.settings import PROJECT_ROOT
from pipelines.validation import compliance, frame
from tests.marts.test_done_when import sample_warehouse  # noqa: F401  (module fixture: built like make run)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample(sample_warehouse, catalog):  # noqa: F811
    conn = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        obs = frame.enrich(frame.read_observations(conn, current_only=True), catalog)
    finally:
        conn.close()
    profiles = load_profiles(PROJECT_ROOT / "expectations" / "profiles", catalog)
    assert len(obs) > 1000
    return obs, profiles


@pytest.fixture
def calls(monkeypatch):
    """How many verdict rows (and variant alternatives) were computed."""
    counted = {"n": 0}
    real = compliance.verdict_for

    def verdict_for(*args, **kwargs):
        counted["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(compliance, "verdict_for", verdict_for)
    monkeypatch.setattr(compliance, "_MEMO", {})
    return counted


def _fresh(obs, catalog, profiles):
    return compliance.compute_verdicts(obs, catalog, profiles)


def _a_used_series(rows) -> tuple[str, str]:
    """(reporting unit, indicator) of a series with an assessed numeric verdict."""
    row = next(r for r in rows if r["status"] in ("pass", "near", "fail") and r["value"] is not None)
    return row["reporting_org_code"], row["indicator_code"]


def test_reused_rows_equal_rows_from_scratch(sample, catalog, calls):
    obs, profiles = sample
    want = _fresh(obs, catalog, profiles)
    full = calls["n"]
    calls["n"] = 0
    assert compliance.compute_verdicts(obs, catalog, profiles, reuse=True) == want  # cold
    assert calls["n"] == full
    calls["n"] = 0
    got = compliance.compute_verdicts(obs, catalog, profiles, reuse=True)  # warm: nothing to compute
    assert got == want and calls["n"] == 0
    got[0]["status"] = "changed by a caller"  # callers get copies: the remembered rows stay intact
    assert compliance.compute_verdicts(obs, catalog, profiles, reuse=True) == want

    # one value of one series changed: only that series is computed again, and the rows are exact
    org, ind = _a_used_series(want)
    i = obs.index[(obs["org_code"] == org) & (obs["indicator_code"] == ind) & obs["value"].notna()][-1]
    changed = obs.copy()
    changed.loc[i, "value"] = changed.loc[i, "value"] * 0.5 + 1.0
    want_changed = _fresh(changed, catalog, profiles)
    assert want_changed != want
    calls["n"] = 0
    assert compliance.compute_verdicts(changed, catalog, profiles, reuse=True) == want_changed
    assert 0 < calls["n"] < full / 4

    # reverted: the original rows again
    assert compliance.compute_verdicts(obs, catalog, profiles, reuse=True) == want

    # a new observation (another id, same values) in the series: computed again (the ids are in the rows)
    renamed = obs.copy()
    renamed.loc[i, "observation_id"] = "renamed-observation"
    want_renamed = _fresh(renamed, catalog, profiles)
    assert compliance.compute_verdicts(renamed, catalog, profiles, reuse=True) == want_renamed
    assert any("renamed-observation" in r["observation_ids"] for r in want_renamed)


def test_another_catalog_or_profile_object_is_not_served_old_rows(sample, catalog, calls):
    obs, profiles = sample
    assert compliance.compute_verdicts(obs, catalog, profiles, reuse=True) == _fresh(obs, catalog, profiles)
    # a profile declaring another class (e.g. an edited profile file): new object, rows from scratch
    profile = profiles[0]
    dims = {
        r.threshold.variant_dimension: sorted(r.threshold.variants)
        for r in catalog.requirements.values()
        if r.threshold.kind == "absolute" and r.threshold.variant_dimension
    }
    assert dims, "the catalog has no variant thresholds to switch"
    dim, values = next(iter(dims.items()))
    other = next(v for v in values if v != profile.variants.get(dim))
    edited = [dataclasses.replace(profile, variants={**profile.variants, dim: other}), *profiles[1:]]
    calls["n"] = 0
    got = compliance.compute_verdicts(obs, catalog, edited, reuse=True)
    assert got == _fresh(obs, catalog, edited) and calls["n"] > 0
    assert got != _fresh(obs, catalog, profiles)
    # another catalog object (a reloaded, changed catalog): computed again
    reloaded = dataclasses.replace(catalog)
    calls["n"] = 0
    assert compliance.compute_verdicts(obs, reloaded, profiles, reuse=True) == _fresh(obs, reloaded, profiles)
    assert calls["n"] > 0


def test_negative_zero_is_not_taken_for_zero(catalog):
    per = compliance._parse_period("2012")
    a = [compliance.Obs("o1", per, 0.0, None)]
    b = [compliance.Obs("o1", per, -0.0, None)]
    assert compliance._series_key(a) != compliance._series_key(b)
    assert compliance._series_key(a) == compliance._series_key([compliance.Obs("o1", per, 0.0, None)])


def test_a_forked_run_reuses_the_previous_runs_rows_from_the_file(sample, catalog, calls, tmp_path):
    """The warm run worker forks a process per run: the memo in memory is gone, the file is not."""
    obs, profiles = sample
    want = _fresh(obs, catalog, profiles)
    full = calls["n"]
    memo = tmp_path / "verdicts"
    key = compliance.verdict_memo_key(
        PROJECT_ROOT / "expectations" / "standards", PROJECT_ROOT / "expectations" / "profiles"
    )

    def run(frame_, key_=key):
        calls["n"] = 0
        compliance._MEMO.clear()  # a new process
        return compliance.compute_verdicts(
            frame_, catalog, profiles, reuse=True, memo_dir=memo, memo_key=key_
        )

    assert run(obs) == want and calls["n"] == full  # nothing kept yet
    files = sorted(p.name for p in memo.iterdir())
    assert files == [f"{p.code}.pkl" for p in profiles]
    assert run(obs) == want and calls["n"] == 0  # everything from the file
    org, ind = _a_used_series(want)
    i = obs.index[(obs["org_code"] == org) & (obs["indicator_code"] == ind) & obs["value"].notna()][-1]
    changed = obs.copy()
    changed.loc[i, "value"] = changed.loc[i, "value"] + 7.0
    want_changed = _fresh(changed, catalog, profiles)
    assert want_changed != want
    assert run(changed) == want_changed and 0 < calls["n"] < full / 4
    assert run(obs) == want and 0 < calls["n"] < full / 4  # reverted: that series again
    # another key (a changed catalog or profile file, or changed code): computed from scratch
    assert run(obs, "another-key") == want and calls["n"] == full
    # a damaged file, or one of another county: ignored, computed, written again
    path = memo / f"{profiles[0].code}.pkl"
    path.write_bytes(b"not a pickle")
    assert run(obs) == want and calls["n"] == full
    assert run(obs) == want and calls["n"] == 0
    good = compliance._read_memo(path, key, profiles[0].code)
    assert good  # the file holds this county's rows under this key
    compliance._write_memo(path, key, "999999", good)  # the same rows, labelled another county
    assert run(obs) == want and calls["n"] == full


def test_the_memo_key_follows_the_catalog_and_profile_files(tmp_path):
    standards, profiles_dir = tmp_path / "standards", tmp_path / "profiles"
    shutil.copytree(PROJECT_ROOT / "expectations" / "standards", standards)
    shutil.copytree(PROJECT_ROOT / "expectations" / "profiles", profiles_dir)
    key = compliance.verdict_memo_key(standards, profiles_dir)
    assert compliance.verdict_memo_key(standards, profiles_dir) == key
    for folder in (standards, profiles_dir):
        path = sorted(folder.rglob("*.yaml"))[0]
        original = path.read_bytes()
        stat = path.stat()
        path.write_bytes(original.replace(b"a", b"b", 1) if b"a" in original else original + b" ")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: only the bytes tell
        assert compliance.verdict_memo_key(standards, profiles_dir) != key
        path.write_bytes(original)
        assert compliance.verdict_memo_key(standards, profiles_dir) == key
