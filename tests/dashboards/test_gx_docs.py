"""GX Data Docs rendered on demand from the stored validation results, without any CDN
(dashboards.gx_docs; issue 18: the pipeline builds no Data Docs site any more)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from dashboards import gx_docs

PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" type="text/css" href="./static/styles/data_docs_default_styles.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script>$(function(){ fetch("https://greatexpectations.io/x") })</script>
</head><body><img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png">
<a href="https://greatexpectations.io/newsletter">newsletter</a>
<table><tr><th>列</th><td>值</td></tr></table></body></html>"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A GX folder holding real results of both suites (a clean and a failing validation), as the
    pipeline's checks store them."""
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.settings import Settings
    from pipelines.validation import gx_runner
    from tests.validation.helpers import frame, obs

    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    load_profiles(settings.profiles_dir, catalog)
    gx = tmp_path_factory.mktemp("gx")
    rows = [obs("builtup_green_coverage", "zjj", "2012", 38.0, catalog=catalog)]
    gx_runner.run_suites(frame(rows, catalog), settings.expectations_dir, gx)
    bad = [*rows, obs("builtup_green_coverage", "lyj", "2012", 180.0, catalog=catalog)]  # 180 % impossible
    gx_runner.run_suites(frame(bad, catalog), settings.expectations_dir, gx, (gx_runner.suite_gen.VALUES,))
    return gx


def _copy(stored, tmp_path):
    gx = tmp_path / "warehouse" / "gx"
    shutil.copytree(stored, gx)
    return gx


def test_pages_are_the_index_and_the_stored_results_newest_first(stored, tmp_path):
    gx = _copy(stored, tmp_path)
    pages = gx_docs.pages(gx)
    labels = [gx_docs.label(p, gx) for p in pages]
    assert labels[0] == "index"
    # the failing validation, run last, stored two results (BOOLEAN_ONLY, then COMPLETE: gx_runner._run)
    assert [x.split(" · ")[0] for x in labels[1:]] == [
        "observation_values",
        "observation_values",
        "observation_values",
        "observation_structure",
    ]
    assert len(pages) == 5
    times = [x.split(" · ")[1] for x in labels[1:]]
    assert times == sorted(times, reverse=True)
    assert len(set(labels)) == len(labels)  # never two pages under one name (same-second results too)


def test_results_stored_within_one_second_get_distinct_labels(stored, tmp_path):
    gx = _copy(stored, tmp_path)
    newest = gx_docs.pages(gx)[1]
    run = newest.parent.name  # e.g. 20261201T063117.564064Z
    twins = []
    for frac in ("000001", "999998"):
        twin = newest.parent.parent / f"{run[:16]}{frac}Z" / newest.name
        twin.parent.mkdir(exist_ok=True)
        twin.write_bytes(newest.read_bytes())
        twins.append(twin)
    labels = [gx_docs.label(p, gx) for p in gx_docs.pages(gx)]
    assert len(set(labels)) == len(labels)
    assert gx_docs.label(twins[0], gx).endswith(" #1")  # in the order they were stored


def test_a_result_page_is_gx_data_docs_offline(stored, tmp_path):
    gx = _copy(stored, tmp_path)
    newest = gx_docs.pages(gx)[1]
    html = gx_docs.offline_html(newest, gx)
    assert "http://" not in html and "https://" not in html  # no CDN, no beacon, no image from outside
    assert "<script" not in html.lower()
    assert "observation_values" in html and "Evaluated Expectations" in html  # GX's page of the result
    assert "border-collapse" in html and "ge-section" in html  # our table style and GX's own inlined
    assert "180" in html  # the failing value, from the COMPLETE result


def test_the_index_shows_each_results_outcome_in_both_languages(stored, tmp_path):
    gx = _copy(stored, tmp_path)
    index = gx_docs.offline_html(gx_docs.pages(gx)[0], gx)
    assert index.count("未通过 / failed") == 2 and index.count("通过 / passed") == 2
    assert "数值检查 / value checks" in index and "数据结构检查 / structure checks" in index
    assert "observation_values" not in index  # no raw suite codes for readers
    assert "<script" not in index.lower() and "https://" not in index


def test_a_new_result_is_shown_at_once_and_a_rewritten_one_is_rendered_again(stored, tmp_path):
    gx = _copy(stored, tmp_path)
    before = gx_docs.pages(gx)
    newest = before[1]
    first = gx_docs.offline_html(newest, gx)
    # a later run of the pipeline stores a new result: listed first, nothing to build
    later = newest.parent.parent / "29991231T235959.000000Z" / newest.name
    later.parent.mkdir()
    data = json.loads(newest.read_text(encoding="utf-8"))
    data["statistics"]["evaluated_expectations"] = 4242
    later.write_text(json.dumps(data), encoding="utf-8")
    pages = gx_docs.pages(gx)
    assert pages[1] == later and len(pages) == len(before) + 1
    assert "4242" in gx_docs.offline_html(later, gx) and "4242" not in first
    assert "4242" in gx_docs.offline_html(pages[0], gx)  # the index reads it too
    # the same file rewritten (e.g. restored from a backup): not served from the cache
    data["statistics"]["evaluated_expectations"] = 4343
    later.write_text(json.dumps(data), encoding="utf-8")
    st = later.stat()
    os.utime(later, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert "4343" in gx_docs.offline_html(later, gx)


def test_a_pruned_result_says_so(stored, tmp_path):
    gx = _copy(stored, tmp_path)
    page = gx_docs.pages(gx)[-1]
    page.unlink()  # pruned by the pipeline (WUCHUANG_GX_KEEP_RESULTS) after the list was shown
    assert "replaced by newer results" in gx_docs.offline_html(page, gx)
    assert page not in gx_docs.pages(gx)


def test_the_index_lists_the_newest_results_and_says_how_many_more(stored, tmp_path, monkeypatch):
    gx = _copy(stored, tmp_path)
    monkeypatch.setattr(gx_docs, "MAX_INDEX", 2)
    index = gx_docs.offline_html(gx_docs.pages(gx)[0], gx)
    assert index.count("未通过 / failed") == 2 and "通过 / passed" not in index.replace("未通过 / failed", "")
    assert "另有 2 份较早的结果未列出 / 2 older results not listed" in index


def test_county_results_are_listed_with_their_county(stored, tmp_path):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(stored, warehouse / "counties" / "511923" / "gx")
    gx = warehouse / "gx"  # the province's own folder is empty in county mode
    pages = gx_docs.pages(gx)
    assert len(pages) == 5
    assert all(" · 511923 " in gx_docs.label(p, gx) for p in pages[1:])
    assert "511923" in gx_docs.offline_html(pages[0], gx)
    assert "Evaluated Expectations" in gx_docs.offline_html(pages[1], gx)


def test_paths_outside_the_results_are_refused(stored, tmp_path):
    gx = _copy(stored, tmp_path)
    suite = gx / "gx" / "expectations" / "observation_values.json"
    for path in (suite, gx / "gx" / "uncommitted" / "validations" / ".." / ".." / "great_expectations.yml"):
        with pytest.raises(ValueError):
            gx_docs.offline_html(path, gx)
        with pytest.raises(ValueError):
            gx_docs.label(path, gx)


def test_external_content_is_removed(monkeypatch, tmp_path):
    monkeypatch.setattr(gx_docs, "page_html", lambda path, gx_dir: PAGE)
    html = gx_docs.offline_html(tmp_path / "x.json", tmp_path)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert "border-collapse" in html
    assert "<th>列</th><td>值</td>" in html


def test_no_results_no_pages(tmp_path):
    assert gx_docs.pages(tmp_path) == []
