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


def test_a_run_builds_no_data_docs_and_the_page_renders_its_results(tmp_path, monkeypatch):
    """Issue 18: no Data Docs site on the run path; the Submissions page renders the Data Docs of
    the results the run stored (dashboards.gx_docs), current after the next run too."""
    from dashboards import gx_docs
    from pipelines.validation import gx_runner

    built = []
    monkeypatch.setattr(gx_runner, "build_data_docs", lambda *a: built.append(a))
    result, _ = _materialize(_clean_rows(), tmp_path)
    assert "quality_results" in _materialized(result)
    assert built == []
    gx = tmp_path / "gx"
    assert not (gx / "gx" / "uncommitted" / "data_docs").exists()
    pages = gx_docs.pages(gx)
    suites = [gx_docs.label(p, gx).split(" · ")[0] for p in pages]
    assert suites[0] == "index" and sorted(suites[1:]) == ["observation_structure", "observation_values"]
    page = gx_docs.offline_html(pages[1], gx)  # GX's own page of the stored result
    assert suites[1] in page and "Evaluated Expectations" in page and "<script" not in page
    index = gx_docs.offline_html(pages[0], gx)
    assert index.count("通过 / passed") == 2
    # the next run's results are listed (and rendered) without anything being built
    result, _ = _materialize(_clean_rows(), tmp_path)
    assert len(gx_docs.pages(gx)) == 5 and built == []
    assert gx_docs.offline_html(gx_docs.pages(gx)[0], gx).count("通过 / passed") == 4
