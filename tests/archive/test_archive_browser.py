"""Browser test of the archive (Playwright + Debian chromium): a 生态环境局 clerk uploads an evidence
item on 档案资料, the office accepts it on the same page's review tab; screenshots of the page at
1440×900 and 390×844 in both languages go to tmp/artifacts/dashboards/archive/."""

from __future__ import annotations

import io
import os
import re
import unicodedata

import pytest

from pipelines.settings import Settings
from tests.archive.conftest import pdf_bytes
from tests.dashboards.browser_auth import streamlit_app
from tests.dashboards.conftest import _build
from tests.dashboards.test_browser import ARTIFACTS, CHROMIUM
from tests.dashboards.test_browser import browser as _browser_fixture
from tests.dashboards.test_workspace_browser import _english, _sidebar, _sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
    ),
]
SHOTS = ARTIFACTS / "archive"
CLERK, OFFICE = ("ar-sthjj", "sthjj-pass-2016!"), ("ar-office", "office-pass-2016!")
FILE = "生态创建专题会议纪要（浏览器测试）.pdf"

browser = _browser_fixture


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("archive_browser")
    values = _build(base) | {
        "WUCHUANG_WORKFLOW_DIR": str(base / "workflow"),
        "WUCHUANG_EVIDENCE_DIR": str(base / "evidence" / "inbox"),
        "WUCHUANG_EVIDENCE_STORE": str(base / "evidence" / "store"),
        "WUCHUANG_ACCOUNTS_DB": str(base / "accounts.sqlite"),
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        from pipelines import accounts
        from pipelines.archive.service import Archive
        from pipelines.sample.evidence import seed

        accounts.add_user(CLERK[0], "dept_clerk", "511923", display_name="生态环境局填报员", password=CLERK[1],
                          org_code="511923-sthjj")  # fmt: skip
        accounts.add_user(OFFICE[0], "office", "511923", display_name="创建办", password=OFFICE[1])
        seed(Archive.load(Settings.from_env()), 20111201, {"eco_county"})  # a partly filled archive
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return values, base


@pytest.fixture(scope="module")
def server(env):
    values, _ = env
    with streamlit_app(values, SHOTS / "streamlit.log") as url:
        yield url


def _open(page, path: str, heading: str) -> None:
    """Open a page inside the signed-in session; a Streamlit exception fails with its text."""
    side = _sidebar(page)
    more = side.locator("[data-testid='stSidebarNavViewButton']")
    if more.count() and side.locator(f"a[href$='/{path}']").count() == 0:
        more.first.click()
    side.locator(f"a[href$='/{path}']").first.click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    _no_exception(page)
    if page.viewport_size["width"] < 600:  # on a phone the open sidebar covers the page: close it
        page.locator(
            "[data-testid='stSidebarCollapseButton'] button, [data-testid='stSidebarHeader'] button"
        ).first.click()
        page.wait_for_timeout(800)


def _no_exception(page) -> None:
    exc = page.locator("[data-testid='stException']")
    if exc.count():
        page.screenshot(path=str(SHOTS / "failed.png"), full_page=True)
        pytest.fail(exc.first.inner_text()[:3000])


def _campaign(page, name: str) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="创建项目").first
    if not box.count():
        box = page.locator("[data-testid='stSelectbox']").filter(has_text="Campaign").first
    main = page.locator("[data-testid='stMain']")
    main.get_by_label("创建项目").or_(main.get_by_label("Campaign")).first.click()
    page.get_by_role("option", name=name).click()
    page.wait_for_timeout(1500)
    _no_exception(page)


def test_clerk_uploads_and_office_accepts(env, server, browser, tmp_path):
    values, base = env
    SHOTS.mkdir(parents=True, exist_ok=True)
    evidence = tmp_path / FILE
    evidence.write_bytes(pdf_bytes("minutes 2012Q1"))

    ctx, page = _sign_in(browser, server, CLERK)
    try:
        _open(page, "archive", "档案资料")
        _campaign(page, "省级生态县")
        page.get_by_role("tab", name="上传资料").click()
        form = page.locator("[data-testid='stForm']").filter(has_text="上传资料")
        form.locator("input[type='file']").set_input_files(str(evidence))
        page.wait_for_timeout(500)
        form.get_by_role("button", name="上传资料").click()
        page.get_by_text("已上传，等待创建办审核").first.wait_for(timeout=30_000)
        page.screenshot(path=str(SHOTS / "clerk-uploaded-zh-1440.png"), full_page=True)
        # The clerk cannot review or build the package.
        assert page.get_by_role("tab", name="资料审核").count() == 0
        assert page.get_by_role("tab", name="迎检资料包").count() == 0
    finally:
        ctx.close()

    os.environ.update({k: v for k, v in values.items()})
    from pipelines.archive import store as es
    from pipelines.archive.service import Archive

    arch = Archive.load(Settings.from_env())
    stored = unicodedata.normalize("NFKC", FILE)  # the gate keeps the NFKC form of a name
    mine = [v for v in es.versions(arch.store, "511923", "eco_county") if v["original_name"] == stored]
    assert len(mine) == 1 and mine[0]["review_state"] == "submitted" and mine[0]["uploaded_by"] == CLERK[0]
    assert mine[0]["channel"] == "browser" and mine[0]["unit_code"] == "sthjj"

    ctx, page = _sign_in(browser, server, OFFICE)
    try:
        _open(page, "archive", "档案资料")
        _campaign(page, "省级生态县")
        page.get_by_role("tab", name="资料审核").click()
        form = page.locator("[data-testid='stForm']").filter(has_text="审核通过")
        form.locator("[data-testid='stSelectbox']").click()
        page.keyboard.type("浏览器测试")
        page.get_by_role("option", name=unicodedata.normalize("NFKC", FILE), exact=False).first.click()
        form.get_by_role("button", name="审核通过").click()
        page.get_by_text("已审核通过").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="迎检资料包").click()
        page.get_by_role("button", name="生成迎检资料包").click()
        page.get_by_text("资料包已生成").first.wait_for(timeout=90_000)
        with page.expect_download() as dl:
            page.get_by_role("button", name="下载迎检资料包（zip）").click()
        import zipfile

        zf = zipfile.ZipFile(io.BytesIO(dl.value.path().read_bytes()))
        assert any(n.startswith("00_封面与目录/迎检资料目录.pdf") for n in zf.namelist())
    finally:
        ctx.close()
    v = arch.store.one("SELECT * FROM evidence_version WHERE version_id = ?", (mine[0]["version_id"],))
    assert v["review_state"] == "accepted" and v["reviewed_by"] == OFFICE[0]
    events = [e["action"] for e in es.events(arch.store, "511923") if e["version_id"] == v["version_id"]]
    assert sorted(events) == ["accepted", "submitted"]
    digest = es.read_blob(arch.paths.store, v["store_path"], v["sha256"])
    assert digest == evidence.read_bytes()
    assert sum(1 for n in zf.namelist() if n.endswith(".pdf") and "专题会议纪要" in n) >= 1


def test_screenshots_of_the_archive_page(env, server, browser):
    for width, height in ((1440, 900), (390, 844)):
        ctx, page = _sign_in(browser, server, OFFICE, width, height)
        try:
            _open(page, "archive", "档案资料")
            _campaign(page, "省级生态县")
            page.wait_for_timeout(800)
            assert page.locator("[data-testid='stException']").count() == 0
            page.screenshot(path=str(SHOTS / f"office-zh-{width}.png"), full_page=True)
            _english(page)
            page.get_by_role("heading", name="Archive").first.wait_for(timeout=30_000)
            if width < 600:
                page.keyboard.press("Escape")
                page.mouse.click(350, 800)
            page.wait_for_timeout(800)
            text = page.locator("[data-testid='stMain']").inner_text()
            for leak in (
                r"\bNone\b",
                r"\bnan\b",
                r"\bNaT\b",
                r"\b[a-z]+_[a-z_]+\b",
            ):  # no raw values or codes
                assert not re.search(leak, text), (leak, re.search(leak, text))
            page.screenshot(path=str(SHOTS / f"office-en-{width}.png"), full_page=True)
        finally:
            ctx.close()
