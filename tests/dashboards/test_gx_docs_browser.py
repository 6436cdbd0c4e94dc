"""Real browser: the Submissions page shows the Data Docs of the stored GX results, rendered on demand
(issue 18: the pipeline builds no Data Docs site), in Chinese and English, desktop and phone.
Screenshots under tmp/artifacts/gx_docs/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT
from tests.dashboards.browser_auth import sign_in, streamlit_app
from tests.dashboards.conftest import _build
from tests.dashboards.test_browser import BROWSER_MARKS
from tests.dashboards.test_browser import browser as _browser_fixture

SHOTS = Path(os.environ.get("WUCHUANG_ARTIFACTS_DIR", PROJECT_ROOT / "tmp" / "artifacts")) / "gx_docs"

pytestmark = BROWSER_MARKS
browser = _browser_fixture  # the module-scoped chromium of test_browser.py


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A synthetic published warehouse, and GX results stored as a pipeline run stores them (one
    clean validation of each suite, one failing validation of the values suite)."""
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.settings import Settings
    from pipelines.validation import gx_runner, suites
    from tests.validation.helpers import frame, obs

    values = _build(tmp_path_factory.mktemp("gx_docs_browser"))
    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    load_profiles(settings.profiles_dir, catalog)
    gx = Path(values["WUCHUANG_GX_DIR"])
    rows = [obs("builtup_green_coverage", "zjj", "2012", 38.0, catalog=catalog)]
    gx_runner.run_suites(frame(rows, catalog), settings.expectations_dir, gx)
    bad = [*rows, obs("builtup_green_coverage", "lyj", "2012", 180.0, catalog=catalog)]
    gx_runner.run_suites(frame(bad, catalog), settings.expectations_dir, gx, (suites.VALUES,))
    assert not (gx / "gx" / "uncommitted" / "data_docs").exists()  # nothing built
    return values


@pytest.fixture(scope="module")
def server(env):
    with streamlit_app(env, SHOTS / "streamlit.log") as url:
        yield url


def _docs_frame(page):
    """The sandboxed frame holding the Data Docs page (the only st.components.v1.html frame)."""
    return page.frame_locator("iframe[title='st.iframe'], iframe[srcdoc]").first


def _to_english(page) -> None:
    side = page.locator("[data-testid='stSidebar']")
    if not side.is_visible() or side.bounding_box()["x"] < 0:
        page.locator(
            "[data-testid='stExpandSidebarButton'], [data-testid='stSidebarCollapsedControl'] button"
        ).first.click()
        page.wait_for_timeout(500)
    side.get_by_text("English", exact=True).first.click()
    page.wait_for_timeout(1500)


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_submissions_page_shows_the_data_docs_of_the_stored_results(server, browser, width, height):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        sign_in(page, f"{server}/submissions")
        page.get_by_role("heading", name="数据质量检查报告（Great Expectations）").first.wait_for()
        docs = _docs_frame(page)
        docs.get_by_text("数据质量检查报告目录 / Index of data quality reports").wait_for()
        assert docs.get_by_text("未通过 / failed").count() == 2  # the failing validation's two results
        assert docs.get_by_text("数值检查 / value checks").count() == 3
        assert page.locator("[data-testid='stException']").count() == 0
        page.get_by_role(
            "heading", name="数据质量检查报告（Great Expectations）"
        ).first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"index-zh-{width}.png"), full_page=True)

        # pick the newest result: GX's own Data Docs page, rendered now, offline
        page.locator("[data-testid='stSelectbox']").last.click()
        options = page.get_by_role("option")
        labels = options.all_inner_texts()
        assert labels[0] == "报告目录" and labels[1].startswith("数值检查 · "), labels
        assert len(set(labels)) == len(labels), labels  # each page under its own name
        options.nth(1).click()
        page.wait_for_timeout(1500)
        docs = _docs_frame(page)
        docs.get_by_text("Evaluated Expectations").first.wait_for()
        page.screenshot(path=str(SHOTS / f"result-zh-{width}.png"), full_page=True)
        html = docs.locator("html").inner_html()
        assert "https://" not in html and "<script" not in html.lower()
        assert "180" in html
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(SHOTS / f"result-zh-{width}.png"), full_page=True)

        _to_english(page)
        page.get_by_role("heading", name="Data quality reports (Great Expectations)").first.wait_for()
        if width < 600:  # the sidebar covers a phone's screen after the switch: fold it
            side = page.locator("[data-testid='stSidebar']")
            if side.is_visible() and side.bounding_box()["x"] >= 0:
                side.locator("[data-testid='stSidebarCollapseButton'] button").first.click()
                page.wait_for_timeout(800)
        _docs_frame(page).get_by_text("Evaluated Expectations").first.wait_for()  # the same result
        shown = page.locator("[data-testid='stSelectbox']").last.inner_html()
        assert "value checks · " in shown and "数值检查" not in shown, shown  # its English name
        page.locator("[data-testid='stSelectbox']").last.click()
        english = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
        assert english[0] == "Index of reports" and english[1].startswith("value checks · "), english
        page.get_by_role(
            "heading", name="Data quality reports (Great Expectations)"
        ).first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"result-en-{width}.png"), full_page=True)
    finally:
        ctx.close()
