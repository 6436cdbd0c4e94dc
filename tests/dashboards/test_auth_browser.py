"""Sign-in and roles in a real browser (Playwright + Debian chromium), issue 15 items 1–2:

- unauthenticated: every address shows only the sign-in form, no figures, tables or navigation;
- each role signs in and sees what it may see (pages offered, campaigns and units in the filters);
- a 住建局 clerk cannot reach 林业局's rows by page, filter, URL, download or SQL;
- single sign-on with `st.login` against a local OpenID Connect provider (oidc-provider-mock,
  started on 127.0.0.1 by the test): a known identity signs in with its account's role, an unknown
  one is refused.
Screenshots (1440×900 and 390×844, Chinese and English) go to tmp/artifacts/dashboards/auth/.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines import accounts
from tests.dashboards.browser_auth import free_port, sign_in, streamlit_app, wait_http
from tests.dashboards.conftest import LYJ, ZJJ
from tests.dashboards.test_browser import ARTIFACTS, CHROMIUM, _assert_no_error
from tests.dashboards.test_browser import browser as _browser_fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),  # one Streamlit + Chromium at a time on two cores
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
    ),
]

SHOTS = ARTIFACTS / "auth"
LYJ_NAME, ZJJ_NAME = "县林业局", "县住房和城乡建设局"


def _streamlit(env: dict[str, str], *extra: str, port: int | None = None):
    port = port or free_port()
    return streamlit_app(env, ARTIFACTS.parent / f"streamlit-auth-{port}.log", *extra, port=port)


@pytest.fixture(scope="module")
def server(warehouse_env) -> Iterator[str]:
    with _streamlit(warehouse_env) as url:
        yield url


browser = _browser_fixture  # the module-scoped chromium of test_browser.py


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    ctx.close()


def _idle(pg) -> None:
    pg.wait_for_timeout(400)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') "
        "&& !document.querySelector('[data-testid=\"stSkeleton\"]')"
    )


def _heading(pg, text: str) -> None:
    pg.get_by_role("heading", name=text, exact=True).first.wait_for()
    _idle(pg)


def _nav(pg) -> list[str]:
    """The page titles offered in the sidebar (after "View n more" when the list is folded)."""
    more = pg.get_by_text(re.compile(r"^View \d+ more$"))
    if more.count():
        more.first.click()
        _idle(pg)
    texts = pg.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
    return [t.strip().splitlines()[-1].strip() for t in texts if t.strip()]  # icon name, then title


def _shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _options(pg, label: str) -> list[str]:
    """The options of a sidebar selectbox (opened and closed again)."""
    box = pg.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text=label).first
    box.scroll_into_view_if_needed()
    opts = pg.locator("[role='option']")
    for _ in range(3):  # a rerun may re-render the box under the click
        box.get_by_role("combobox").click()
        try:
            opts.first.wait_for(timeout=10_000)
            break
        except Exception:
            pg.keyboard.press("Escape")
    opts.first.wait_for()
    texts = [t.strip() for t in opts.all_inner_texts()]
    pg.keyboard.press("Escape")
    return texts


# ---------------------------------------------------------------- unauthenticated


@pytest.mark.parametrize("path", ["", "units", "submissions", "sql", "admin", "mappings"])
def test_unauthenticated_sees_only_the_sign_in_form(server, page, path):
    page.goto(f"{server}/{path}")
    page.get_by_label("用户名 / User name").wait_for()
    _idle(page)
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.locator("[data-testid='stMetric']").count() == 0
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    assert page.locator("[data-testid='stDownloadButton']").count() == 0
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    body = page.inner_text("body")
    assert "登录 / Sign in" in body and ZJJ_NAME not in body and "平昌县" not in body
    _assert_no_error(page)
    if path == "":
        _shot(page, "signin_1440")
        page.set_viewport_size({"width": 390, "height": 844})
        _shot(page, "signin_390")


def test_a_wrong_password_is_refused(server, page):
    page.goto(server)
    page.get_by_label("用户名 / User name").fill("t-zjj")
    page.get_by_label("密码 / Password").fill("not the password")
    page.get_by_role("button", name="登录 / Sign in").click()
    page.get_by_text("用户名或密码不正确 / wrong user name or password").wait_for()
    assert page.locator(".js-plotly-plot").count() == 0


# ---------------------------------------------------------------- each role

ROLE_VIEW = {
    # user: (pages offered must include, must not include, campaigns in the filter, units in the filter)
    "t-leader": ({"总览", "责任单位", "简报"}, {"SQL 查询", "导入映射", "用户与审计"}, 6, None),
    "t-office": ({"总览", "SQL 查询", "导入映射", "用户与审计"}, set(), 6, None),
    "t-forest": ({"总览", "创建项目"}, {"SQL 查询", "用户与审计"}, 2, None),
    "t-zjj": ({"总览", "数据报送与质量"}, {"SQL 查询", "导入映射", "用户与审计"}, 6, ["全部", ZJJ_NAME]),
    "t-town": ({"总览"}, {"SQL 查询", "用户与审计"}, 6, ["全部", "江口镇"]),
}


@pytest.mark.parametrize("user", list(ROLE_VIEW))
def test_each_role_signs_in_and_sees_what_it_may(server, page, user):
    must, must_not, n_campaigns, units = ROLE_VIEW[user]
    sign_in(page, server, user)
    _heading(page, "总览")
    nav = set(_nav(page))
    assert must <= nav, nav
    assert not (must_not & nav), nav
    assert len(_options(page, "创建项目")) == n_campaigns  # "全部" + the campaigns it sees
    if units is not None:
        assert _options(page, "责任单位") == units
    _assert_no_error(page)
    _shot(page, f"role_{user}_1440")


# ---------------------------------------------------------------- 住建局 clerk vs 林业局's rows


def test_zjj_clerk_cannot_reach_lyj_rows_by_page_filter_url_download_or_sql(server, page, full):
    sign_in(page, f"{server}/submissions", "t-zjj")
    _heading(page, "数据报送与质量")
    page.locator("[data-testid='stMetric']").first.wait_for()
    body = page.inner_text("body")
    assert LYJ_NAME not in body and LYJ not in body and "lyj" not in body
    assert page.get_by_role("button", name="下载反馈工作簿").count() == 0  # 林业局's workbook not offered
    # filter: the unit filter offers only its own unit
    assert _options(page, "责任单位") == ["全部", ZJJ_NAME]
    # page: the ranking and the 通报 list show its own row only
    page.get_by_role("link", name="责任单位").first.click()
    _heading(page, "责任单位")
    page.locator("[data-testid='stDataFrame']").first.wait_for(state="attached")
    assert LYJ_NAME not in page.inner_text("body")
    # download link: the ranking's CSV holds its own unit only
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载 CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows and {r["org_code"] for r in rows} == {ZJJ}
    _shot(page, "zjj_units_1440")
    # URL: the office's pages are not there for it (the app falls back to its default page) …
    for path in ("sql", "admin", "mappings"):
        sign_in(page, f"{server}/{path}", "t-zjj")
        _heading(page, "总览")
        body = page.inner_text("body")
        assert "SQL 查询语句" not in body and "审计日志" not in body and "执行查询" not in body
        assert LYJ_NAME not in body
    # … and the indicator page's lineage lists no 林业局 observation
    sign_in(page, f"{server}/indicator", "t-zjj")
    _heading(page, "指标")
    assert LYJ_NAME not in page.inner_text("body")
    # the sign-ins and the download are in the audit log
    events = {(e["username"], e["event"]) for e in accounts.read_audit(200)}
    assert ("t-zjj", "signin") in events and ("t-zjj", "download") in events


def test_english_and_phone_views_of_a_clerk(server, page):
    sign_in(page, server, "t-zjj")
    _heading(page, "总览")
    page.get_by_text("English").first.click()
    _heading(page, "Overview")
    assert "Signed in as" in page.inner_text("[data-testid='stSidebar']")
    _shot(page, "zjj_overview_en_1440")
    page.set_viewport_size({"width": 390, "height": 844})
    _idle(page)
    _shot(page, "zjj_overview_en_390")


def test_office_sees_users_and_the_audit_log(server, page):
    sign_in(page, f"{server}/admin", "t-office")
    _heading(page, "用户与审计")
    page.get_by_role("heading", name="审计日志").wait_for()
    page.locator("[data-testid='stDataFrame']").nth(1).wait_for(state="attached")
    _assert_no_error(page)
    _shot(page, "office_admin_1440")
    page.set_viewport_size({"width": 390, "height": 844})
    _idle(page)
    _shot(page, "office_admin_390")


# ---------------------------------------------------------------- single sign-on (OpenID Connect)


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 (a subject typed on its form signs in with e-mail = subject)."""
    port = free_port()
    log = ARTIFACTS.parent / "oidc-provider.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/.well-known/openid-configuration", proc, log, "the OIDC provider")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def sso_server(warehouse_env, oidc_provider, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    secrets_file = tmp_path_factory.mktemp("sso") / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(16)}"\n'
        'client_id = "wuchuang-test"\n'
        f'client_secret = "{secrets.token_hex(8)}"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    store = Path(warehouse_env["WUCHUANG_ACCOUNTS_DB"])
    if accounts.get_user("sso-zjj", path=store) is None:
        accounts.add_user(
            "sso-zjj", "dept_clerk", "511923", org_code=ZJJ, email="zjj.clerk@county.example", path=store
        )
    with _streamlit(warehouse_env, f"--secrets.files={secrets_file}", port=port) as url:
        yield url


def _sso(pg, server: str, subject: str) -> None:
    pg.goto(server)
    pg.get_by_role("button", name="统一身份认证登录 / Sign in with SSO").click()
    pg.locator("input[name='sub']").fill(subject)  # the test provider's authorisation form
    pg.get_by_role("button", name="Authorize").click()


def test_oidc_sign_in_against_the_local_test_provider(sso_server, page, full):
    _sso(page, sso_server, "zjj.clerk@county.example")
    _heading(page, "总览")
    side = page.inner_text("[data-testid='stSidebar']")
    assert "sso-zjj" in side and "部门填报员" in side
    assert _options(page, "责任单位") == ["全部", ZJJ_NAME]  # the account's scope, not the provider's
    _shot(page, "sso_signed_in_1440")
    events = [e for e in accounts.read_audit(50) if e["username"] == "sso-zjj" and e["event"] == "signin"]
    assert events and events[0]["detail"]["mode"] == "sso"


def test_oidc_identity_without_an_account_is_refused(sso_server, page):
    _sso(page, sso_server, "stranger@elsewhere.example")
    page.get_by_text("未开通本平台权限").wait_for()
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    _shot(page, "sso_refused_1440")
