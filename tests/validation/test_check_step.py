"""The five checks run as one Dagster step (issue 18) and keep their own results and blocking; a
crash of one check neither hides the others' results nor changes what blocks."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.assets import validation
from pipelines.validation import quality
from tests.validation.test_assets import _checks, _clean_rows, _materialize, _materialized

pytestmark = pytest.mark.slow


def test_one_step_holds_the_five_checks_with_their_blocking():
    (step,) = validation.checks
    specs = {spec.name: spec.blocking for spec in step.check_specs}
    assert specs == {
        "observation_structure": True,
        "observation_values": True,
        "cross_indicator_rules": False,
        "triangulation": False,
        "value_outliers": False,
    }
    # the order the separate steps ran in with the in-process executor (by name)
    assert tuple(sorted(specs)) == validation.ORDER


def _crash(unit: str, monkeypatch):
    real = quality.evaluate_unit

    def evaluate_unit(u, *args, **kwargs):
        if u == unit:
            raise RuntimeError(f"planted crash in {u}")
        return real(u, *args, **kwargs)

    monkeypatch.setattr(quality, "evaluate_unit", evaluate_unit)


def test_a_crashed_plausibility_check_warns_and_blocks_nothing(tmp_path, monkeypatch):
    _crash("value_outliers", monkeypatch)
    result, _ = _materialize(_clean_rows(), tmp_path)
    checks = _checks(result)
    assert set(checks) == set(validation.ORDER)
    out = checks["value_outliers"]
    assert not out.passed and out.severity == dg.AssetCheckSeverity.WARN
    assert "planted crash" in out.description and "无法评估" in out.metadata["summary_zh"].value
    assert all(checks[n].passed for n in validation.ORDER if n != "value_outliers")
    # downstream assets run (quality_results itself evaluates the crashing unit and fails, as before)
    assert "compliance_verdicts" in _materialized(result)
    assert "quality_results" not in _materialized(result)


def test_a_crashed_structural_check_blocks_after_the_others_report(tmp_path, monkeypatch):
    _crash("observation_values", monkeypatch)
    result, _ = _materialize(_clean_rows(), tmp_path)
    checks = _checks(result)
    assert set(checks) == set(validation.ORDER) - {"observation_values"}
    assert all(e.passed for e in checks.values())
    assert not ({"quality_results", "compliance_verdicts"} & _materialized(result))


def test_data_docs_are_built_once_by_the_checks_step_and_stay_current(tmp_path, monkeypatch):
    from pipelines.validation import gx_runner

    built = []
    real = gx_runner.build_data_docs
    monkeypatch.setattr(gx_runner, "build_data_docs", lambda *a: built.append(a) or real(*a))
    result, _ = _materialize(_clean_rows(), tmp_path)
    assert "quality_results" in _materialized(result)
    assert len(built) == 1  # by the checks step; quality_results found them current
    gx = tmp_path / "gx"
    assert gx_runner.data_docs_current(gx)
    site = gx / "gx" / "uncommitted" / "data_docs" / "local_site"
    pages = sorted(p.parent.parent.parent.name for p in (site / "validations").rglob("*.html"))
    assert pages == ["observation_structure", "observation_values"]
    # a new result without its page makes them stale again
    page = next((site / "validations").rglob("*.html"))
    page.unlink()
    assert not gx_runner.data_docs_current(gx)
