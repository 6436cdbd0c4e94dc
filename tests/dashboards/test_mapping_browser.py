"""Real-browser test of 导入映射 (Import mappings): a file refused for its layout is mapped once in
the browser, and then it and a second file of the same layout load without help.

A synthetic published warehouse is built for this module, with one refused file added to
`core.source_file` (its layout, 考评事项 | 计量 | 本阶段数据 | 上阶段数据, is read by no recogniser).
Streamlit runs on a free port with WUCHUANG_MAPPINGS_DIR pointing to a temporary folder; Playwright
drives Debian's Chromium. Screenshots (1440×900 and 390×844, Chinese and English) are saved under
tmp/artifacts/dashboards/.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.returns.layouts import mapped
from pipelines.returns.model import ParseContext
from pipelines.returns.parse import parse_file
from pipelines.warehouse.publish import latest_snapshot
from tests.dashboards.browser_auth import sign_in
from tests.dashboards.conftest import _build
from tests.dashboards.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _assert_no_error
from tests.dashboards.test_browser import server as _server_fixture  # the server fixture, reused below
from tests.returns.test_mapped import COUNTY, make_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),  # one Streamlit + Chromium at a time on two cores
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
    ),
]

REL = f"{COUNTY}/sthjj/2012-03_考评.xlsx"


@pytest.fixture(scope="module")
def warehouse_env(tmp_path_factory) -> dict[str, str]:
    """This module's own warehouse (overrides the session fixture the server fixture uses)."""
    base = tmp_path_factory.mktemp("dash_mapping")
    env = _build(base, with_marts=False)
    raw = Path(env["WUCHUANG_RAW_DIR"])
    make_form(raw / COUNTY / "sthjj", 3, [(100, 99), (52.3, 53), (65, 64)])
    snap = latest_snapshot(Path(env["WUCHUANG_WAREHOUSE_DIR"]) / "published")
    os.chmod(snap, 0o644)
    conn = duckdb.connect(str(snap))
    try:
        conn.execute(
            """
            INSERT INTO core.source_file (file_id, path, file_name, file_format, county_code, received_at,
                processed_at, status, values_loaded, values_quarantined, reason_codes, message_zh, message_en)
            VALUES ('mapping-test-1', ?, '2012-03_考评.xlsx', 'xlsx', ?, TIMESTAMP '2030-04-05 10:00:00',
                TIMESTAMP '2030-04-05 10:00:00', 'rejected', 0, 0, ['no_header'],
                '找不到表头（指标名称、数值列）', 'no header row found (indicator name and value columns)')
            """,
            [REL, COUNTY],
        )
    finally:
        conn.close()
    mdir = base / "mappings"
    mdir.mkdir()
    env["WUCHUANG_MAPPINGS_DIR"] = str(mdir)
    return env


server = _server_fixture


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _open(browser, url: str, width: int, height: int):
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    sign_in(pg, f"{url}/mappings")
    pg.get_by_role("heading", name="导入映射", exact=True).first.wait_for()
    return ctx, pg


def _idle(pg) -> None:
    pg.wait_for_timeout(400)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') "
        "&& !document.querySelector('[data-testid=\"stSkeleton\"]')"
    )


def test_map_a_refused_file_in_the_browser_then_a_second_file_loads(
    server, browser, warehouse_env, catalog, profile
):
    mdir = Path(warehouse_env["WUCHUANG_MAPPINGS_DIR"])
    raw = Path(warehouse_env["WUCHUANG_RAW_DIR"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx, pg = _open(browser, server, 1440, 900)
    try:
        _idle(pg)
        # the refused file is offered with its reason in Chinese, and chosen
        # the refused file is chosen (first in the list): its sheet is shown as a grid
        pg.get_by_text("工作表：2012年3月").first.wait_for()
        # the guess and the preview of the tidy rows
        pg.get_by_text("预览：将入库的数据").first.wait_for()
        _idle(pg)
        body = pg.inner_text("body")
        assert "已按自动识别的最佳猜测预填" in body
        assert "C · 本阶段数据" in body  # the guessed value column, by its header
        assert "按当前标注没有可入库的数值" not in body and "发现的问题" not in body
        frames = pg.locator("[data-testid='stDataFrame']")
        assert frames.count() >= 2  # the grid and the preview
        # adjust the guess: give the mapping a name
        name = pg.get_by_label("映射名称")
        name.fill("县生态环境局考评表")
        name.press("Enter")
        _idle(pg)
        pg.screenshot(path=str(ARTIFACTS / "mappings_zh_1440.png"))
        pg.get_by_text("预览：将入库的数据").first.scroll_into_view_if_needed()
        pg.screenshot(path=str(ARTIFACTS / "mappings_zh_1440_preview.png"))
        pg.get_by_role("button", name="保存映射").click()
        pg.get_by_text("映射“县生态环境局考评表”已保存").first.wait_for()
        _assert_no_error(pg)
        pg.set_viewport_size({"width": 390, "height": 844})
        _idle(pg)
        pg.screenshot(path=str(ARTIFACTS / "mappings_zh_390.png"))
        pg.set_viewport_size({"width": 1440, "height": 900})
        _idle(pg)
        pg.get_by_text("English").first.click()  # the language switch in the sidebar
        _idle(pg)
        pg.get_by_role("heading", name="Import mappings", exact=True).first.wait_for()
        _idle(pg)
        pg.screenshot(path=str(ARTIFACTS / "mappings_en_1440.png"))
        pg.set_viewport_size({"width": 390, "height": 844})
        _idle(pg)
        pg.screenshot(path=str(ARTIFACTS / "mappings_en_390.png"))
        _assert_no_error(pg)
    except Exception:
        pg.screenshot(path=str(ARTIFACTS / "mappings_failure.png"), full_page=True)
        (ARTIFACTS / "mappings_failure.txt").write_text(pg.inner_text("body"), encoding="utf-8")
        raise
    finally:
        ctx.close()

    saved = mapped.load_mappings(mdir)
    assert len(saved) == 1
    m = next(iter(saved.values()))
    assert m.name == "县生态环境局考评表" and m.value_columns == ["C"] and m.created_by == "office"

    pctx = ParseContext(catalog, (profile,), raw, dt.date(2017, 1, 1), mappings_dir=mdir)
    first = parse_file(raw / REL, pctx)
    assert not first.rejected and first.layout == "mapped"
    assert {(v.indicator_code, v.value, v.cell) for v in first.values} == {
        ("drinking_source_compliance", 100.0, "C3"),
        ("regional_noise", 52.3, "C4"),
        ("forest_coverage", 65.0, "C5"),
    }
    second_path = make_form(raw / COUNTY / "sthjj", 4, [(98, 100), (51, 52.3), (66, 65)])
    second = parse_file(second_path, pctx)
    assert not second.rejected and second.layout == "mapped"
    assert second.period_codes == ["2012-04"]
    assert {(v.indicator_code, v.value, v.cell) for v in second.values} == {
        ("drinking_source_compliance", 98.0, "C3"),
        ("regional_noise", 51.0, "C4"),
        ("forest_coverage", 66.0, "C5"),
    }
