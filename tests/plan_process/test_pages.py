"""AppTest of the 督查检查 page and the plan page's plan-process parts: they render in both languages on a
warehouse with the plan-process tables, say so bilingually when the tables are not built, and never
raise. Browser checks (forms, screenshots) are in test_browser.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import APP, empty_env, full, nothing, warehouse_env  # noqa: F401
from tests.plan_process.test_assets import built  # noqa: F401


def _open(page: str, lang: str = "zh", user: str = "t-office") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["auth_user"] = user
    at.session_state["lang_en"] = lang == "en"
    return at.switch_page(f"app_pages/{page}.py").run()


@pytest.fixture
def with_tables(built, monkeypatch):  # noqa: F811
    settings, _ = built
    from pipelines import accounts
    from pipelines.warehouse.publish import publish

    db = settings.warehouse_dir.parent / "accounts.sqlite"
    if accounts.get_user("t-office", path=db) is None:
        accounts.add_user("t-office", "office", "511923", password="test-password-2016", path=db)
    publish(settings.warehouse_path, settings.published_dir, keep=settings.keep_snapshots)
    monkeypatch.setenv("WUCHUANG_ACCOUNTS_DB", str(db))
    for k, v in (
        ("RAW", settings.raw_dir),
        ("WAREHOUSE", settings.warehouse_dir),
        ("FEEDBACK", settings.feedback_dir),
    ):
        monkeypatch.setenv(f"WUCHUANG_{k}_DIR", str(v))
    return settings


def test_supervision_page_renders_with_its_data(with_tables):
    at = _open("supervision")
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["督查检查"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["督查点位"] == "18" and int(metrics["检查次数"]) > 200
    assert not [i.value for i in at.info]  # every part has its data
    subheaders = [s.value for s in at.subheader]
    assert "各责任单位问题整改情况" in subheaders and "录入检查结果" in subheaders


def test_plan_page_parts_render_with_their_data(with_tables):
    at = _open("plan")
    assert not at.exception, [e.message for e in at.exception]
    subheaders = [s.value for s in at.subheader]
    for s in ("申报与验收记录", "目标责任书"):
        assert s in subheaders
    assert any("有失去称号风险" in m.value or "巩固提升中" in m.value for m in at.markdown)


def test_supervision_page_without_its_tables_says_so_in_both_languages(full):  # noqa: F811
    at = _open("supervision")
    assert not at.exception, [e.message for e in at.exception]
    notices = [i.value for i in at.info]
    assert notices and all(" / " in n for n in notices)
    assert any("supervision." in n and "尚未生成" in n for n in notices)


def test_supervision_page_when_nothing_is_published(nothing):  # noqa: F811
    at = _open("supervision")
    assert not at.exception
    assert any("尚未发布数据快照" in i.value for i in at.info)


def test_supervision_page_follows_the_campaign_filter(with_tables):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["auth_user"] = "t-office"
    at.session_state["f_campaign"] = "forest_city"
    at.switch_page("app_pages/supervision.py").run()
    assert not at.exception, [e.message for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["督查点位"] == "3"  # the three river sections serve the forest city


def test_a_clerk_sees_and_answers_its_supervision_problems_and_the_office_sees_the_answer(
    with_tables, monkeypatch, tmp_path
):
    """Problems found at the points a unit is responsible for are in its 我的任务 list, can be
    answered there like any rectification item, and the answer shows on the office's 督查 table."""
    from dashboards import auth
    from dashboards import workspace_data as wd
    from pipelines import accounts
    from pipelines.workflow import review

    monkeypatch.setenv("WUCHUANG_WORKFLOW_DIR", str(tmp_path / "workflow"))
    db = with_tables.warehouse_dir.parent / "accounts.sqlite"
    if accounts.get_user("t-wjw", path=db) is None:
        accounts.add_user(
            "t-wjw",
            "dept_clerk",
            "511923",
            password="clerk-password-2016",
            org_code="511923-wjw",
            path=db,
        )
    clerk = auth.viewer_of(accounts.get_user("t-wjw", path=db))
    office = auth.viewer_of(accounts.get_user("t-office", path=db))
    items = wd.rectification(clerk, "511923", "511923-wjw")
    sup = items[items["source_kind"] == "supervision"]
    assert not sup.empty  # an overdue problem at a point of 县卫健局
    assert sup["description_zh"].str.contains("限期整改").all()
    assert set(sup["status"]) <= {"open", "overdue"}
    with pytest.raises(wd.OutOfScope):
        wd.rectification(clerk, "511923", "511923-zjj")  # not its unit
    item = sup["item_id"].iloc[0]
    assert wd.answer_labels(office, "511923", "zh") == {}
    review.respond_rectification(
        wd.store(),
        item,
        "511923",
        "wjw",
        "已清理占道摊位，整改到位",
        [review.Evidence("照片.jpg", b"\xff\xd8jpg")],
        "t-wjw",
    )
    zh = wd.answer_labels(office, "511923", "zh")
    assert zh[item].endswith("已清理占道摊位，整改到位（佐证 1 份）")
    assert wd.answer_labels(office, "511923", "en")[item].endswith("(1 evidence file)")
    assert item in wd.answer_labels(clerk, "511923", "zh")  # the unit sees its own answer
    other = auth.viewer_of(
        accounts.get_user("t-zjj", path=db)
        or accounts.add_user(
            "t-zjj", "dept_clerk", "511923", password="clerk-password-2016", org_code="511923-zjj", path=db
        )
        or accounts.get_user("t-zjj", path=db)
    )
    assert wd.answer_labels(other, "511923", "zh") == {}  # another unit's clerk does not see it
    # The office's 督查 page shows the answer in its problems table.
    monkeypatch.setenv("WUCHUANG_ACCOUNTS_DB", str(db))
    at = _open("supervision")
    assert not at.exception, [e.message for e in at.exception]
    shown = [df.value for df in at.dataframe]
    assert any(
        "单位答复" in d.columns and d["单位答复"].astype(str).str.contains("整改到位").any() for d in shown
    )


def test_the_signed_scan_of_a_letter_can_be_downloaded(with_tables, monkeypatch, tmp_path):
    """A letter signed with a scan offers the scan for download next to the letter; a recorded
    scan whose file is gone says so instead of offering a broken download."""
    from pipelines.plan_process import store as pstore
    from pipelines.workflow.store import Store

    monkeypatch.setenv("WUCHUANG_WORKFLOW_DIR", str(tmp_path / "workflow"))
    store = Store(tmp_path / "workflow" / "workflow.sqlite")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    at = _open("plan")
    assert not at.exception, [e.message for e in at.exception]
    org = at.selectbox(key="pp_letter_org").value
    year = int(at.selectbox(key="pp_letter_year").value)
    assert not [b for b in at.get("download_button") if "扫描件" in str(b.proto.label)]
    pstore.record_signing(
        store, "511923", org, year, f"{year}-01-20", "t-office", "张三", "平创〔x〕1号", ("签字.pdf", pdf)
    )
    at = _open("plan")
    labels = [str(b.proto.label) for b in at.get("download_button")]
    assert "下载签字盖章扫描件" in labels, labels
    (row,) = [r for r in pstore.signings(store, "511923") if r["org_code"] == org]
    pstore.attachment_file(store, row["scan_path"]).unlink()
    at = _open("plan")
    assert "下载签字盖章扫描件" not in [str(b.proto.label) for b in at.get("download_button")]
    assert any("文件不在存储中" in c.value for c in at.caption)
