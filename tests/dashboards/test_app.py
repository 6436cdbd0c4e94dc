"""AppTest over the whole app: every page renders on a full warehouse, on one whose marts are still
empty, on one with only the dim schema and with nothing published — never an exception; keyed
interactions: filters that persist across pages, the language switch, click-through to an indicator,
the SQL console (a run and a refusal), downloads."""

from __future__ import annotations

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.warehouse.publish import latest_snapshot
from tests.dashboards.conftest import APP

PAGES = {
    "overview": ("总览", "Overview"),
    "campaign": ("创建项目", "Campaign"),
    "indicator": ("指标", "Indicator"),
    "units": ("责任单位", "Units"),
    "submissions": ("数据报送与质量", "Submissions and quality"),
    "plan": ("进度", "Plan"),
    "sql": ("SQL 查询", "SQL console"),
    "briefing": ("简报", "Briefing"),
}


def _open(page: str = "overview", at: AppTest | None = None, user: str = "t-office") -> AppTest:
    """Open a page in a fresh app signed in as `user` (a test account of conftest.TEST_USERS), or,
    given `at`, switch to it within that session."""
    if at is None:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.session_state["auth_user"] = user
    return at.switch_page(f"app_pages/{page}.py").run()


def _assert_clean(at: AppTest, page: str, lang: int = 0) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == [PAGES[page][lang]]


def _texts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_on_the_full_warehouse(full, page):
    at = _open(page)
    _assert_clean(at, page)
    assert not _texts(at, "info"), _texts(at, "info")  # every part has its data


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_while_marts_are_empty(no_marts, page):
    _assert_clean(_open(page), page)


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_show_a_bilingual_notice_when_tables_are_not_built(dims_only, page):
    at = _open(page)
    _assert_clean(at, page)
    if page != "sql":  # the console works on whatever is there
        notices = _texts(at, "info")
        assert notices and all(" / " in n for n in notices), notices
        assert any("尚未生成" in n and "not built yet" in n for n in notices)


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_explain_when_nothing_is_published(nothing, page):
    at = _open(page)
    _assert_clean(at, page)
    assert any("尚未发布数据快照" in n and "make run" in n for n in _texts(at, "info"))


def test_language_switch_changes_titles_and_labels(full):
    at = _open("overview")
    assert at.sidebar.selectbox(key="f_county__zh").label == "县（区）"
    at.sidebar.selectbox(key="f_campaign__zh").set_value("forest_city").run()
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    _assert_clean(at, "overview", lang=1)
    assert at.sidebar.selectbox(key="f_county__en").label == "County"
    assert at.session_state["f_campaign"] == "forest_city", "the filter survives the language switch"
    assert at.sidebar.selectbox(key="f_campaign__en").value == "forest_city"
    at = _open("units", at)
    _assert_clean(at, "units", lang=1)
    assert "Accountability ranking" in _texts(at, "subheader")


def test_filters_persist_across_pages(full):
    at = _open("overview")
    at.sidebar.selectbox(key="f_campaign__zh").set_value("forest_city").run()
    at.sidebar.selectbox(key="f_period__zh").set_value("2016-06").run()
    at.sidebar.selectbox(key="f_unit__zh").set_value("511923-lyj").run()
    at = _open("campaign", at)
    _assert_clean(at, "campaign")
    assert at.session_state["f_campaign"] == "forest_city"
    assert at.session_state["f_period"] == "2016-06"
    assert at.session_state["f_unit"] == "511923-lyj"
    assert any("国家森林城市" in s and "2016-06" in s for s in _texts(at, "subheader"))
    at = _open("briefing", at)
    assert at.session_state["f_campaign"] == "forest_city"
    assert any("2016年6月" in m for m in _texts(at, "markdown"))


def test_overview_shows_the_readiness_of_each_campaign(full):
    at = _open("overview")
    snap = latest_snapshot(full.published_dir)
    conn = duckdb.connect(str(snap), read_only=True)
    try:
        expected = conn.execute(
            """SELECT r.readiness FROM marts.campaign_readiness r
               JOIN dim.county_campaign c USING (county_code, campaign_code)
               WHERE r.period_code = '2016-12' AND r.grain = 'ytd_month'
               ORDER BY c.acceptance_date, r.campaign_code"""
        ).fetchall()
    finally:
        conn.close()
    shown = [m.value for m in at.metric if m.label == "达标率"]
    assert shown == [f"{r[0] * 100:.1f}%" for r in expected]  # percent with 1 decimal (present.pct)
    assert len(shown) == 5


def test_overview_counts_days_since_a_passed_acceptance_date_instead_of_negative_days(full):
    at = _open("overview")
    to_go = [m.value for m in at.metric if m.label == "距验收天数"]
    since = [m.value for m in at.metric if m.label.startswith("验收目标日已过")]
    # At 2016-12: forest city's acceptance is 2016-12-31 (0 days to go); the other four have passed.
    assert to_go == ["0"]
    assert len(since) == 4 and all(int(v) > 0 for v in since)


def test_campaign_click_through_opens_the_indicator(full):
    at = _open("overview")
    at.sidebar.selectbox(key="f_campaign__zh").set_value("forest_city").run()
    at = _open("campaign", at)
    at.selectbox(key="campaign_pick__zh").set_value("builtup_green_coverage").run()
    at.button(key="campaign_open").click().run()
    _assert_clean(at, "indicator")
    assert at.session_state["indicator_code"] == "builtup_green_coverage"
    lineage = [df.value for df in at.dataframe if "版本" in df.value.columns]  # labelled, no raw names
    assert lineage and {"文件名", "工作表", "单元格", "版本"} <= set(lineage[0].columns)


def test_sql_console_runs_a_query(full):
    at = _open("sql")
    at.text_area(key="sql_text").set_value("SELECT campaign_code FROM dim.campaign ORDER BY 1").run()
    at.button(key="sql_run").click().run()
    assert not at.exception and not at.error
    frames = [df.value for df in at.dataframe if list(df.value.columns) == ["campaign_code"]]
    assert frames and len(frames[0]) == 5
    assert any("返回 5 行" in c for c in _texts(at, "caption"))


def test_sql_console_refuses_a_write_with_a_bilingual_message(full):
    at = _open("sql")
    at.text_area(key="sql_text").set_value("DROP TABLE dim.campaign").run()
    at.button(key="sql_run").click().run()
    assert not at.exception
    errors = _texts(at, "error")
    assert errors and "已拒绝" in errors[0] and "Refused" in errors[0] and "DROP" in errors[0]


def test_sql_example_button_fills_the_editor(full):
    at = _open("sql")
    at.button(key="sql_example_2").click().run()
    assert "core.submission" in at.text_area(key="sql_text").value


def _name_zh(settings, org: str) -> str:
    conn = duckdb.connect(str(latest_snapshot(settings.published_dir)), read_only=True)
    try:
        return conn.execute("SELECT name_zh FROM dim.org_unit WHERE org_code = ?", [org]).fetchone()[0]
    finally:
        conn.close()


def test_units_page_lists_the_lagging_unit_for_the_month(full):
    at = _open("units")
    frames = [df.value for df in at.dataframe if "原因" in df.value.columns]  # the 通报 list, labelled
    assert frames and _name_zh(full, "511923-cgj") in set(frames[0]["责任单位"])
    assert not any("511923-" in str(v) for v in frames[0].to_numpy().ravel())  # names, never codes


def test_units_page_fallback_names_late_and_missing_units(no_marts):
    at = _open("units")
    frames = [df.value for df in at.dataframe if "原因" in df.value.columns]
    assert frames
    reason = dict(zip(frames[0]["责任单位"], frames[0]["原因"], strict=True))
    assert "迟报" in reason[_name_zh(no_marts, "511923-cgj")]
    assert "缺报" in reason[_name_zh(no_marts, "511923-wjw")]


def test_feedback_download_only_from_inside_the_feedback_folder(full):
    at = _open("submissions")
    buttons = [b.proto.label for b in at.get("download_button")]
    assert "下载反馈工作簿" in buttons, "a feedback workbook inside the folder is offered"
    conn = duckdb.connect(str(latest_snapshot(full.published_dir)), read_only=True)
    try:
        (escaping,) = conn.execute(
            "SELECT file_id FROM core.source_file WHERE feedback_path LIKE '../%'"
        ).fetchone()
    finally:
        conn.close()
    at.selectbox(key="s_feedback__zh").set_value(escaping).run()
    assert not at.exception
    assert any("不在反馈目录" in w for w in _texts(at, "warning"))
    assert "下载反馈工作簿" not in [b.proto.label for b in at.get("download_button")]


def test_briefing_offers_pdf_and_word(full):
    at = _open("briefing")
    labels = [b.proto.label for b in at.get("download_button")]
    assert "下载 Word" in labels and "下载 PDF" in labels
    text = "\n".join(_texts(at, "markdown"))
    for heading in ("一、各创建项目进展", "二、主要风险", "三、迟报、漏报单位", "四、较上月变化"):
        assert heading in text
