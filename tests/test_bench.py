"""The benchmark harness runs on the tiny size and writes its JSON with the expected keys.

Benchmarks are not tests: nothing here checks a target. This only proves that `python -m bench`
works end to end (corpus, contenders, synthetic warehouses, dashboard queries, memory probe) and
that the figures it reports are consistent with the timings it measured.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.common import median, percentile
from pipelines.settings import PROJECT_ROOT


def test_percentile_and_median_are_nearest_rank():
    xs = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert median(xs) == 3.0
    assert percentile(xs, 95) == 5.0
    assert percentile(xs, 50) == 3.0
    assert percentile([7.0], 95) == 7.0


def test_province_linear_fit_and_summary_rows():
    from bench.__main__ import province_rows
    from bench.province import _linear_fit

    fit = _linear_fit([1, 2, 4], [30.0, 50.0, 90.0])  # exactly 10 s + 20 s per county
    assert fit["fixed_s"] == pytest.approx(10.0) and fit["per_county_s"] == pytest.approx(20.0)
    assert fit["estimate_180_s"] == pytest.approx(3610.0)
    assert fit["estimate_2800_s"] == pytest.approx(56010.0)
    assert _linear_fit([1], [30.0]) == {}
    result = {
        "full_refresh": {"1": {"wall_s": 30.0, "peak_rss_mb_largest_process": 500.0}},
        "fit": fit,
        "one_file_added": {"counties_in_warehouse": 4, "wall_s": 12.0, "run_s": 6.0},
        "union": {
            "counties": 180,
            "publish_one_county_s": 2.0,
            "one_file_added_estimate_s": 8.0,
            "worst_p95_ms": 250.0,
        },
    }
    verdicts = {r[0]: r[3] for r in province_rows(result, lambda ok: "met" if ok else "MISSED")}
    assert verdicts["province: linear fit (1 run at a time)"] == "MISSED (estimate)"  # 60 min
    assert verdicts["province: one file → readable (4 counties)"] == "MISSED"
    assert verdicts["province: publish one county, union of 180"] == "met (composite)"
    assert verdicts["province: dashboard queries on the union of 180, worst p95"] == "MISSED"


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench-results")
    work = tmp_path_factory.mktemp("bench-work")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "tiny", "--out", str(out), "--work-dir", str(work)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert "figure" in proc.stdout and "ingest: full / floor" in proc.stdout
    files = sorted(out.glob("bench-tiny-*.json"))
    assert len(files) == 1 and (out / "latest-tiny.json").exists()
    return json.loads(files[0].read_text(encoding="utf-8"))


@pytest.mark.slow
def test_tiny_run_writes_every_benchmark_without_errors(tiny_results):
    assert tiny_results["size"] == "tiny"
    assert tiny_results["errors"] == {}
    assert set(tiny_results["benchmarks"]) == {"ingest", "incremental", "scale"}


@pytest.mark.slow
def test_ingest_figures_and_ratios_match_the_measured_medians(tiny_results):
    r = tiny_results["benchmarks"]["ingest"]
    assert r["files"] > 0 and r["values_loaded"] > 0
    assert set(r["median_s"]) == {"floor", "parse", "full", "naive"}
    for k, times in r["seconds"].items():
        assert r["median_s"][k] == pytest.approx(median(times))
    med = r["median_s"]
    assert r["ratio_full_over_floor"] == pytest.approx(med["full"] / med["floor"])
    assert r["ratio_naive_over_full"] == pytest.approx(med["naive"] / med["full"])
    assert r["files_per_s"]["full"] == pytest.approx(r["files"] / med["full"])
    assert r["values_per_s"]["full"] == pytest.approx(r["values_loaded"] / med["full"])
    assert r["targets"]["full_over_floor_met"] == (r["ratio_full_over_floor"] <= 2.0)
    assert r["targets"]["naive_over_full_met"] == (r["ratio_naive_over_full"] >= 5.0)


@pytest.mark.slow
def test_incremental_reports_each_history_size_and_the_ratio(tiny_results):
    r = tiny_results["benchmarks"]["incremental"]
    sizes = [str(n) for n in r["history_sizes"]]
    assert set(r["median_s"]) == set(sizes) and set(r["phase_median_s"]) == set(sizes)
    assert all(v > 0 for v in r["values_loaded_per_size"].values()), "the added files loaded no values"
    assert r["ratio_largest_over_smallest"] == pytest.approx(
        r["median_s"][sizes[-1]] / r["median_s"][sizes[0]]
    )


@pytest.mark.slow
def test_scale_times_every_page_query_against_pandas_with_the_same_rows(tiny_results):
    scales = tiny_results["benchmarks"]["scale"]
    assert set(scales) == {"county", "two_counties"}
    for s in scales.values():
        assert s["build"]["file_bytes"] > 0 and s["build"]["rows"]["compliance.verdict"] > 0
        assert s["queries"], "no dashboard query was timed"
        for name, q in s["queries"].items():
            assert q["duckdb_p95_ms"] >= q["duckdb_p50_ms"] > 0, name
            assert q["kept_conn_p95_ms"] >= q["kept_conn_p50_ms"] > 0, name
            if "pandas_p50_ms" in q:
                assert q["speedup_p50"] == pytest.approx(q["pandas_p50_ms"] / q["duckdb_p50_ms"])
                assert q["same_rows"], (name, q.get("mismatches"))
        assert s["worst_p95_ms"] == max(q["duckdb_p95_ms"] for q in s["queries"].values())
        assert s["dashboard_memory"]["peak_rss_mb"] >= s["dashboard_memory"]["rss_after_import_mb"] > 0
    # the replicated warehouse holds the seed county's rows once per county
    one, two = scales["county"]["build"]["rows"], scales["two_counties"]["build"]["rows"]
    assert two["core.observation"] == 2 * one["core.observation"]
    assert two["dim.indicator"] == one["dim.indicator"]
