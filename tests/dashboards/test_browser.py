"""Real-browser test: `streamlit run` on a free localhost port over the synthetic published warehouse,
driven by Playwright through Debian's Chromium (never a downloaded browser). Every page is opened;
none shows an error element or a traceback; expected headings and numbers are on screen; a screenshot
of each page is saved under tmp/artifacts/dashboards/ (override with WUCHUANG_ARTIFACTS_DIR)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dashboards import exports
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse.publish import latest_snapshot
from tests.dashboards.browser_auth import CHROMIUM, chromium, sign_in, streamlit_app

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("WUCHUANG_ARTIFACTS_DIR", PROJECT_ROOT / "tmp" / "artifacts" / "dashboards"))

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),  # one Streamlit + Chromium at a time on two cores
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (/usr/bin/chromium); run make browser-deps",
    ),
]
pytestmark = BROWSER_MARKS

# url path -> (heading, texts that must be on the page)
PAGES = {
    "overview": ("总览", ["本月需决策事项", "达标率", "距验收天数"]),
    "campaign": ("创建项目", ["● 达标", "选择要求以查看指标"]),
    "indicator": ("指标", ["数据来源（文件、工作表、单元格、版本）", "各创建项目标准线"]),
    "units": ("责任单位", ["责任单位排名", "报送及时性（单位 × 报告期）", "通报名单 · 2016-12"]),
    "submissions": ("数据报送与质量", ["收到文件", "拒收文件及原因", "隔离数据", "反馈工作簿"]),
    "plan": ("进度", ["创建计划甘特图", "里程碑", "整改事项"]),
    "sql": ("SQL 查询", ["表结构与列说明", "示例查询"]),
    "briefing": ("简报", ["一、各创建项目进展", "二、主要风险", "三、迟报、漏报单位", "四、较上月变化"]),
}


@pytest.fixture(scope="module")
def server(warehouse_env) -> Iterator[str]:
    with streamlit_app(warehouse_env, ARTIFACTS.parent / "streamlit-browser-test.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium(CHROMIUM_ARGS) as b:
        yield b


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    ctx.close()


def _settle(pg, heading: str) -> None:
    """Wait for the heading, then for the script run to finish (the status widget disappears)."""
    pg.get_by_role("heading", name=heading, exact=True).first.wait_for()
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")


def _assert_no_error(pg) -> None:
    assert pg.locator("[data-testid='stException']").count() == 0
    body = pg.inner_text("body")
    assert "Traceback" not in body
    assert "StreamlitAPIException" not in body


def _expected_readiness(full) -> list[str]:
    conn = duckdb.connect(str(latest_snapshot(full.published_dir)), read_only=True)
    try:
        rows = conn.execute(
            "SELECT readiness FROM marts.campaign_readiness WHERE period_code = '2016-12' AND grain = 'ytd_month'"
        ).fetchall()
    finally:
        conn.close()
    return [f"{r[0] * 100:.1f}%" for r in rows]  # percent with 1 decimal (present.pct)


@pytest.mark.parametrize("url_path", list(PAGES))
def test_every_page_renders_in_chromium(server, page, url_path, full):
    heading, texts = PAGES[url_path]
    sign_in(page, f"{server}/{'' if url_path == 'overview' else url_path}")  # / opens /overview
    _settle(page, heading)
    assert "Page not found" not in page.inner_text("body")
    for text in texts:  # waits: under load a page can take a while to finish its run
        page.get_by_text(text).first.wait_for(state="attached")
    _assert_no_error(page)
    if url_path == "overview":
        shown = page.locator("[data-testid='stMetricValue']").all_inner_texts()
        for value in _expected_readiness(full):
            assert value in shown
        page.locator(".js-plotly-plot").nth(1).wait_for()
    if url_path == "submissions":
        conn = duckdb.connect(str(latest_snapshot(full.published_dir)), read_only=True)
        try:
            (n_files,) = conn.execute("SELECT count(*) FROM core.source_file").fetchone()
        finally:
            conn.close()
        assert str(n_files) in page.locator("[data-testid='stMetricValue']").all_inner_texts()
    if url_path in ("campaign", "indicator", "units", "submissions", "sql"):
        page.locator("[data-testid='stDataFrame']").first.wait_for(state="attached")  # grid loads lazily
    if url_path in ("indicator", "units", "plan"):
        page.locator(".js-plotly-plot").first.wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{url_path}.png"), full_page=True)


def test_sql_console_runs_and_refuses_in_the_browser(server, page):
    sign_in(page, f"{server}/sql")
    _settle(page, "SQL 查询")
    editor = page.get_by_label("SQL 查询语句")
    editor.fill("SELECT campaign_code FROM dim.campaign ORDER BY 1")
    editor.press("Control+Enter")
    page.get_by_role("button", name="执行查询").click()
    page.get_by_text("返回 5 行").wait_for()
    editor.fill("COPY dim.campaign TO '/tmp/leak.csv'")
    editor.press("Control+Enter")
    page.get_by_role("button", name="执行查询").click()
    page.get_by_text("已拒绝").first.wait_for()
    assert "COPY" in page.inner_text("[data-testid='stAlert']")
    _assert_no_error(page)
    page.screenshot(path=str(ARTIFACTS / "sql_refused.png"), full_page=True)


def test_language_switch_in_the_browser(server, page):
    sign_in(page, server)
    _settle(page, "总览")
    page.locator(
        "[data-testid='stSidebar'] [data-testid='stCheckbox'] label, [data-testid='stSidebar'] label"
    ).filter(has_text="English").first.click()
    _settle(page, "Overview")
    page.get_by_text("What needs a decision this month").first.wait_for()  # the Overview's decision list
    _assert_no_error(page)
    page.screenshot(path=str(ARTIFACTS / "overview_en.png"), full_page=True)


def test_briefing_pdf_downloads(server, page):
    sign_in(page, f"{server}/briefing")
    _settle(page, "简报")
    page.get_by_role("button", name="下载 Word").wait_for()  # always offered
    if exports.find_cjk_font() is None:
        assert "未找到中文字体" in page.inner_text("body")
        pytest.skip("no CJK font on this machine (fonts-noto-cjk): the page explains and offers Word only")
    button = page.get_by_role("button", name="下载 PDF")
    button.wait_for()
    with page.expect_download() as info:
        button.click()
    path = info.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000
    (ARTIFACTS / "briefing.pdf").write_bytes(data)


def test_clicking_a_requirement_row_opens_its_indicator(server, page):
    sign_in(page, f"{server}/campaign")
    _settle(page, "创建项目")
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    assert box is not None
    # First data row, in the row-selection column at the left edge of the grid (canvas-drawn).
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    _settle(page, "指标")
    page.get_by_text("数据来源（文件、工作表、单元格、版本）").first.wait_for(state="attached")
    _assert_no_error(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "indicator_from_campaign.png"), full_page=True)
