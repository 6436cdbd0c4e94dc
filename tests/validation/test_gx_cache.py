"""The GX context, datasource and validation definitions are made once per process and committed
suite content (issue 18), never served stale: a changed suite (also one of the same size with the
same modification time) is validated as changed, a reverted one as before; and GX validates only the
columns a suite's expectations read, with the same results as on the whole frame."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.validation import gx_runner, suites
from pipelines.validation.results import ItemSource
from tests.validation.helpers import frame, obs

pytestmark = pytest.mark.slow

EXPECTATIONS = PROJECT_ROOT / "expectations"


@pytest.fixture
def exp_dir(tmp_path):
    """A private copy of the committed GX configuration and suites."""
    shutil.copytree(EXPECTATIONS / "gx", tmp_path / "exp" / "gx")
    return tmp_path / "exp"


def _frame(catalog, value: float):
    rows = [
        obs("builtup_green_coverage", "zjj", "2012", 38.0, catalog=catalog),
        obs("builtup_green_coverage", "lyj", "2012", value, catalog=catalog),
    ]
    return frame(rows, catalog)


def _percent_range(suite: dict) -> dict:
    return next(e for e in suite["expectations"] if e["meta"]["key"] == "range:0..100")


def _values_failed(catalog, exp_dir, gx, value: float) -> int:
    res = gx_runner.run_suites(_frame(catalog, value), exp_dir, gx, (suites.VALUES,))[suites.VALUES]
    return sum(r.n_failed for r in res)


def test_one_context_per_process_and_suite_content(catalog, exp_dir, tmp_path):
    gx = tmp_path / "gx"
    assert _values_failed(catalog, exp_dir, gx, 60.0) == 0
    context = gx_runner.open_context(exp_dir, gx)
    vd = gx_runner._validation_definition(exp_dir, gx, suites.VALUES)
    assert _values_failed(catalog, exp_dir, gx, 60.0) == 0
    assert gx_runner.open_context(exp_dir, gx) is context  # reused by the next run of the process
    assert gx_runner._validation_definition(exp_dir, gx, suites.VALUES) is vd

    path = suites.suites_dir(exp_dir) / f"{suites.VALUES}.json"
    original = path.read_bytes()
    stat = path.stat()
    # a reviewed change of the suite: 0..100 becomes 0..50 for percentages - same file size, and
    # the modification time put back, so only the content tells
    suite = json.loads(original)
    assert suites.dumps(suite).encode() == original
    _percent_range(suite)["kwargs"]["max_value"] = 50.0
    changed = suites.dumps(suite).encode()
    assert changed.count(b'"max_value": 50.0,') == 1
    changed = changed.replace(b'"max_value": 50.0,', b'"max_value": 50.00,')
    assert len(changed) == len(original) and _percent_range(json.loads(changed))["kwargs"]["max_value"] == 50
    path.write_bytes(changed)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _values_failed(catalog, exp_dir, gx, 60.0) == 1  # the changed suite is the one validated
    assert gx_runner.open_context(exp_dir, gx) is not context
    working = gx / "gx" / "expectations" / f"{suites.VALUES}.json"
    assert _percent_range(json.loads(working.read_bytes()))["kwargs"]["max_value"] == 50  # follows
    # reverted: passes again (no stale context or definition of the changed suite)
    path.write_bytes(original)
    assert _values_failed(catalog, exp_dir, gx, 60.0) == 0
    assert _percent_range(json.loads(working.read_bytes()))["kwargs"]["max_value"] == 100


def test_a_removed_working_folder_is_restored(catalog, exp_dir, tmp_path):
    gx = tmp_path / "gx"
    assert _values_failed(catalog, exp_dir, gx, 180.0) == 1
    shutil.rmtree(gx / "gx" / "expectations")
    assert _values_failed(catalog, exp_dir, gx, 180.0) == 1
    assert (gx / "gx" / "expectations" / f"{suites.VALUES}.json").exists()


def test_suite_columns_of_the_committed_suites_and_unknown_kinds():
    committed = suites.read_committed(EXPECTATIONS)
    assert gx_runner.suite_columns(committed[suites.VALUES]) == ("indicator_unit", "period_days", "value")
    structure = gx_runner.suite_columns(committed[suites.STRUCTURE])
    for col in (*suites.REQUIRED, "value", "value_type", "unit", "indicator_unit", "revision_no"):
        assert col in structure
    assert "is_current" in structure and "period_start" in structure  # a row condition, column_B
    table = {"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {}}]}
    assert gx_runner.suite_columns(table) is None  # may read anything: the whole frame
    odd = {
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "value", "row_condition": "value > 0"},  # a condition string
            }
        ]
    }
    assert gx_runner.suite_columns(odd) is None


def _dirty(catalog) -> pd.DataFrame:
    c = catalog
    rows = [
        obs("builtup_green_coverage", "zjj", "2012", 180.0, catalog=c),  # impossible percentage
        obs("builtup_green_coverage", "zjj", "2012", 38.0, catalog=c, oid="dup"),  # second current
        obs("builtup_green_coverage", "lyj", "2012", 38.0, catalog=c, oid="dup"),  # duplicate id
        obs("builtup_green_coverage", "nobody", "2012", 38.0, catalog=c),  # unknown unit
        obs("no_such_indicator", "zjj", "2012", 1.0, catalog=c),
        obs("builtup_green_coverage", "zjj", "2099", 38.0, catalog=c),  # period not expected
        obs("urban_sewage_treatment", "zjj", "2012-03", None, catalog=c),  # no value
        obs("urban_sewage_treatment", "zjj", "2012-04", 85.0, catalog=c, unit="dB(A)"),  # wrong unit
    ]
    return frame(rows, catalog)


@pytest.mark.parametrize("dirty", [False, True])
def test_the_narrow_frame_gives_the_whole_frames_results(catalog, exp_dir, tmp_path, dirty):
    data = _dirty(catalog) if dirty else _frame(catalog, 60.0)
    gx = tmp_path / "gx"
    columns = gx_runner._open(exp_dir, gx)[2]
    source = ItemSource(data)
    failed = 0
    for name in suites.SUITE_NAMES:
        vd = gx_runner._validation_definition(exp_dir, gx, name)
        narrow = gx_runner._results(vd, data, name, source, columns[name])
        whole = gx_runner._results(vd, data, name, source, None)
        assert len(narrow) == len(whole)
        for a, b in zip(narrow, whole, strict=True):
            assert (a.key, a.error, a.n_checked, a.n_failed) == (b.key, b.error, b.n_checked, b.n_failed)
            pd.testing.assert_frame_equal(a.items, b.items, check_exact=True)
            failed += a.n_failed
    assert bool(failed) == dirty
