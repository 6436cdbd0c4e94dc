"""Browser tests (Playwright + Debian chromium) of the 督查检查 page and the plan page's records: the
views render in both languages at desktop and phone widths, the office records an inspection through
the form (a deduction without its problem is refused, with it the inspection is saved), a clerk sees no
form, and the plan page shows the failed first acceptance and the re-application. Screenshots go to
tmp/artifacts/plan_process/."""

from __future__ import annotations

import os

import dagster as dg
import pytest

from pipelines.settings import PROJECT_ROOT, Settings
from tests.dashboards.browser_auth import streamlit_app
from tests.dashboards.conftest import _build
from tests.dashboards.test_browser import CHROMIUM
from tests.dashboards.test_browser import browser as _browser_fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
    ),
]
SHOTS = PROJECT_ROOT / "tmp" / "artifacts" / "plan_process"
OFFICE, CLERK = ("pp-office", "office-pass-2016!"), ("pp-scjgj", "clerk-pass-2016!")
HEALTH = ("pp-wjw", "clerk-pass-2016!")  # 县卫健局: an overdue problem at the county hospital


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("plan_process_browser")
    values = _build(base) | {
        "WUCHUANG_WORKFLOW_DIR": str(base / "workflow"),
        "WUCHUANG_ACCOUNTS_DB": str(base / "accounts.sqlite"),
        "DAGSTER_HOME": str(base / "dagster_home"),
    }
    (base / "dagster_home").mkdir()
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        from pipelines import accounts
        from pipelines.assets import plan_process as assets
        from pipelines.resources import WarehouseResource
        from pipelines.sample.plan_process import write_sample
        from pipelines.warehouse.publish import publish

        accounts.add_user(OFFICE[0], "office", "511923", display_name="创建办", password=OFFICE[1])
        accounts.add_user(CLERK[0], "dept_clerk", "511923", password=CLERK[1], org_code="511923-scjgj")
        accounts.add_user(HEALTH[0], "dept_clerk", "511923", password=HEALTH[1], org_code="511923-wjw")
        settings = Settings.from_env()
        write_sample(settings.raw_dir)
        res = WarehouseResource.from_settings(settings)
        assert dg.materialize(
            [assets.supervision_inspections, assets.plan_process_records], resources={"warehouse": res}
        ).success
        publish(settings.warehouse_path, settings.published_dir, keep=settings.keep_snapshots)
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


browser = _browser_fixture


def _open(browser, url: str, path: str, who, width=1440, height=900, lang="zh"):
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True
    )
    page = ctx.new_page()
    page.set_default_timeout(45_000)
    page.goto(f"{url}/{path}")
    page.get_by_label("用户名 / User name").fill(who[0])
    page.get_by_label("密码 / Password").fill(who[1])
    page.get_by_role("button", name="登录 / Sign in").click()
    page.wait_for_selector("[data-testid='stSidebar']", state="visible" if width >= 800 else "attached")
    if lang == "en":
        side = page.locator("[data-testid='stSidebar']")
        if not side.is_visible() or side.bounding_box()["x"] < 0:
            page.locator(
                "[data-testid='stExpandSidebarButton'], [data-testid='stSidebarCollapsedControl'] button"
            ).first.click()
        page.get_by_text("English", exact=True).first.click()
        if width < 800:  # close the sidebar again: the page is read below it
            page.wait_for_timeout(800)
            page.locator(
                "[data-testid='stSidebarCollapseButton'] button, [data-testid='stSidebarCollapseButton']"
            ).first.click()
            page.wait_for_timeout(800)
    return ctx, page


def _settle(page, heading: str) -> None:
    """The page has rendered and stopped changing: its heading is there, Streamlit's running
    indicator is gone, and the main area's text is the same twice in a row (a page renders in
    parts; acting on a part that is being replaced fails with 'not attached to the DOM')."""
    page.get_by_role("heading", name=heading).first.wait_for()
    main = page.locator("[data-testid='stMain']")
    last = None
    for _ in range(60):
        page.wait_for_timeout(1000)
        page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=60_000)
        now = main.inner_text()
        if now == last:
            return
        last = now


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.parametrize(("width", "height", "tag"), [(1440, 900, "desktop"), (390, 844, "phone")])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_supervision_views_render(browser, server, width, height, tag, lang):
    ctx, page = _open(browser, server, "supervision", OFFICE, width, height, lang)
    try:
        title = "督查检查" if lang == "zh" else "Inspections"
        _settle(page, title)
        body = page.locator("[data-testid='stMain']").inner_text()
        words = (
            ["督查点位", "未整改问题", "各责任单位问题整改情况", "自查与督查轮次", "督查表读取问题", "录入检查结果"]
            if lang == "zh"
            else ["Inspection points", "Open problems", "Problems by responsible unit",
                  "Self-inspection and supervision rounds", "Problems in the inspection sheets", "Record an inspection"]
        )  # fmt: skip
        for w in words:
            assert w in body, w
        assert "Traceback" not in body and "snake_case" not in body
        for raw in ("overdue_supervision", "closed_late", "back_lane", "None"):
            assert raw not in body, raw
        page.locator(".js-plotly-plot").nth(2).wait_for(timeout=60_000)  # two trends and the point map
        _shot(page, f"supervision_{tag}_{lang}")
        problems = "问题清单（整改事项）" if lang == "zh" else "Problems (rectification items)"
        page.get_by_role("heading", name=problems).first.scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        _shot(page, f"supervision_{tag}_{lang}_problems")
    finally:
        ctx.close()


def test_office_records_an_inspection_through_the_form(browser, server, env):
    _, base = env
    ctx, page = _open(browser, server, "supervision", OFFICE)
    try:
        _settle(page, "督查检查")
        form = page.locator("[data-testid='stForm']").first
        form.scroll_into_view_if_needed()
        score = form.locator("input[type='number']").first
        score.fill("3")
        score.press("Tab")
        form.get_by_role("button", name="保存检查结果").click()
        page.get_by_text("扣分须写明问题").first.wait_for()
        form.locator("input[type='text']").nth(2).fill(
            "x"
        )  # team and round first, then the first item's problem
        page.get_by_label("问题描述（扣分时必填）").first.fill("摊位占道经营")
        form.get_by_role("button", name="保存检查结果").click()
        page.get_by_text("已保存").first.wait_for()
        _shot(page, "supervision_form_saved")
    finally:
        ctx.close()
    from pipelines.plan_process import store as pstore
    from pipelines.workflow.store import Store

    insp, scores = pstore.form_inspections(Store(base / "workflow" / "workflow.sqlite"), "511923")
    assert len(insp) == 1 and insp[0]["recorded_by"] == OFFICE[0]
    assert any(s["score"] == 3 and s["problem"] == "摊位占道经营" for s in scores)


def test_a_clerk_sees_the_views_but_no_form(browser, server):
    ctx, page = _open(browser, server, "supervision", CLERK)
    try:
        _settle(page, "督查检查")
        page.get_by_text("只有创建办或督查员可以录入检查结果").first.wait_for()
        assert page.locator("[data-testid='stForm']").count() == 0
        page.get_by_text("督查点位", exact=True).first.wait_for()
        page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=60_000)
        body = page.locator("[data-testid='stMain']").inner_text()
        # only the two markets of 县市场监督管理局, out of 18 points
        assert "督查点位\n\n2\n" in body
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plan_page_shows_the_failed_first_acceptance_and_the_re_application(browser, server, lang):
    ctx, page = _open(browser, server, "plan", OFFICE, lang=lang)
    try:
        _settle(page, "进度" if lang == "zh" else "Plan")
        page.get_by_text(
            "申报与验收记录" if lang == "zh" else "Application and acceptance records"
        ).first.wait_for()
        body = page.locator("[data-testid='stMain']").inner_text()
        heading = page.get_by_role(
            "heading", name="申报与验收记录" if lang == "zh" else "Application and acceptance records"
        )
        heading.first.scroll_into_view_if_needed()
        _shot(page, f"plan_records_{lang}")
        assert ("创建项目状态" if lang == "zh" else "Campaign status") in body
        texts = page.locator("[data-testid='stTable']").first.inner_text()
        if lang == "zh":
            assert "未通过" in texts and "第 2 次（重新申报）" in texts and "第 1 次（重新申报）" not in texts
        else:
            assert "failed" in texts and "attempt 2 (re-application)" in texts and "attempt 1 (" not in texts
        page.get_by_role(
            "heading", name="目标责任书" if lang == "zh" else "Target responsibility letters"
        ).first.scroll_into_view_if_needed()
        _shot(page, f"plan_letters_{lang}")
    finally:
        ctx.close()


def test_office_records_a_re_review_through_the_plan_page_form(browser, server, env):
    _, base = env
    ctx, page = _open(browser, server, "plan", OFFICE)
    try:
        _settle(page, "进度")
        page.get_by_text("录入申报、验收或复审记录").first.click()
        form = page.locator("[data-testid='stForm']").first
        form.wait_for()
        form.get_by_role("button", name="保存记录").click()  # an application without its date
        page.get_by_text("请填写申报日期").first.wait_for()
        kind = form.locator("[data-testid='stSelectbox']").nth(1).locator("input")
        kind.click()
        kind.fill("复审")
        kind.press("Enter")
        form.get_by_role("spinbutton", name="year, 结果日期").click()
        page.keyboard.type("2016")
        form.get_by_role("spinbutton", name="month, 结果日期").click()
        page.keyboard.type("12")
        form.get_by_role("spinbutton", name="day, 结果日期").click()
        page.keyboard.type("01")
        res = form.locator("[data-testid='stSelectbox']").nth(3).locator("input")
        res.click()
        res.fill("通过")
        res.press("Enter")
        form.get_by_role("button", name="保存记录").click()
        page.get_by_text("已保存：省级").first.wait_for()
        _shot(page, "plan_record_saved")
    finally:
        ctx.close()
    from pipelines.plan_process import store as pstore
    from pipelines.workflow.store import Store

    rows = [
        r
        for r in pstore.acceptance_records(Store(base / "workflow" / "workflow.sqlite"))
        if r["kind"] == "re_review"
    ]
    assert [(r["result"], r["result_on"], r["recorded_by"]) for r in rows] == [
        ("passed", "2016-12-01", OFFICE[0])
    ]


def test_a_clerk_answers_an_inspection_problem_in_my_tasks_and_the_office_sees_it(browser, server):
    ctx, page = _open(browser, server, "workspace", HEALTH)
    try:
        _settle(page, "我的任务")
        form = page.locator("[data-testid='stForm']").filter(has_text="提交整改说明").first
        form.scroll_into_view_if_needed()
        # the overdue inspection problem comes first, selected
        assert "限期整改" in form.locator("input").first.input_value()
        form.locator("textarea").first.fill("已完成整改，候诊区禁烟标识已张贴")
        form.get_by_role("button").filter(has_text="提交").first.click()
        page.get_by_text("已提交整改说明").first.wait_for()
        _shot(page, "workspace_supervision_answer")
    finally:
        ctx.close()
    ctx, page = _open(browser, server, "supervision", OFFICE)
    try:
        _settle(page, "督查检查")
        heading = page.get_by_role("heading", name="问题清单（整改事项）").first
        heading.scroll_into_view_if_needed()
        table = page.locator("[data-testid='stDataFrame']").nth(1)
        table.wait_for()
        page.wait_for_timeout(800)
        _shot(page, "supervision_answer_seen")
    finally:
        ctx.close()
