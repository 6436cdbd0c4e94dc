"""AppTest of 档案资料: the page renders for every role, in both languages, on a full warehouse, on one
whose marts are empty, on one with only dimensions and with nothing published — never an exception,
never a raw code; each role is offered only the tabs it may use."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import APP

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(autouse=True)
def _own_workflow(tmp_path, monkeypatch):
    monkeypatch.setenv("WUCHUANG_WORKFLOW_DIR", str(tmp_path / "workflow"))
    monkeypatch.setenv("WUCHUANG_EVIDENCE_DIR", str(tmp_path / "evidence" / "inbox"))
    monkeypatch.setenv("WUCHUANG_EVIDENCE_STORE", str(tmp_path / "evidence" / "store"))
    from dashboards import archive_data

    archive_data._archive.cache_clear()
    yield
    archive_data._archive.cache_clear()


def _open(user: str, en: bool = False) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["auth_user"] = user
    if en:
        at.session_state["lang_en"] = True
    return at.switch_page("app_pages/archive.py").run()


def _texts(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in ("markdown", "caption", "info", "warning", "success", "error")
        for e in getattr(at, kind)
    ]
    parts += [m.label + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


@pytest.mark.parametrize(("user", "tabs"), [
    ("t-office", ["条款准备度", "缺失资料", "资料与版本", "上传资料", "资料审核", "迎检资料包", "拒收记录"]),
    ("t-leader", ["条款准备度", "缺失资料", "资料与版本"]),
    ("t-lyj", ["条款准备度", "缺失资料", "资料与版本", "上传资料"]),
    ("t-forest", ["条款准备度", "缺失资料", "资料与版本"]),
])  # fmt: skip
def test_every_role_sees_its_tabs_on_the_full_warehouse(full, user, tabs):
    at = _open(user)
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["档案资料"]
    assert [t.label for t in at.tabs] == tabs
    assert any(m.label == "档案准备度" for m in at.metric)
    assert not CODE.search(_texts(at))


def test_a_group_lead_sees_only_its_campaign(full):
    at = _open("t-forest")
    box = next(s for s in at.selectbox if s.label == "创建项目")
    assert box.options == ["国家森林城市"]


@pytest.mark.parametrize("env", ["full", "no_marts", "dims_only", "nothing"])
def test_the_page_renders_in_english_on_every_state_of_the_warehouse(request, env):
    request.getfixturevalue(env)
    at = _open("t-office", en=True)
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Archive"]
    text = _texts(at)
    assert "Archive readiness" in text and not CODE.search(text)
    assert "None" not in text and "nan" not in re.findall(r"\bnan\b", text)
