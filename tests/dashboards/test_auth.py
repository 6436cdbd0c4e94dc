"""Sign-in, roles, data scoping and the audit log (issue 15, items 1–2), without a browser.

- passwords: Argon2id hashes only, wrong / unknown / disabled / locked refused, every attempt audited;
- the audit log is append-only (UPDATE and DELETE refused by the database);
- `wuchuang users add/list/disable/enable/reset/role/audit/demo`;
- roles: what each may do (`Viewer.can`);
- scope: every public `dashboards.data` function takes `scope`, refuses when nobody is signed in, and
  a 住建局 clerk gets only 住建局 rows from each (林业局's from none);
- AppTest: the sign-in form is all an unauthenticated visitor gets; a clerk's pages and downloads.
"""

from __future__ import annotations

import inspect
import io
import sqlite3

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import auth, data
from pipelines import accounts, cli
from tests.dashboards.conftest import APP, LYJ, TEST_PASSWORD, ZJJ
from tests.dashboards.synthetic import COUNTY

# ---------------------------------------------------------------- accounts and hashing


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "accounts.sqlite"
    monkeypatch.setenv("WUCHUANG_ACCOUNTS_DB", str(path))
    return path


def test_passwords_are_stored_only_as_argon2_hashes(store):
    accounts.add_user("a", "office", COUNTY, password="correct horse 1", path=store)
    with sqlite3.connect(store) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM users WHERE username = 'a'").fetchone()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert store.read_bytes().find(b"correct horse") == -1
    account, why = accounts.verify("a", "correct horse 1", path=store)
    assert why == "ok" and account.role == "office"
    assert accounts.verify("a", "correct horse 2", path=store) == (None, "bad")
    assert accounts.verify("nobody", "correct horse 1", path=store) == (None, "bad")


def test_short_passwords_unknown_roles_and_clerks_without_a_unit_are_refused(store):
    with pytest.raises(accounts.AccountError):
        accounts.add_user("a", "office", COUNTY, password="short", path=store)
    with pytest.raises(accounts.AccountError):
        accounts.add_user("a", "admin", COUNTY, password="long enough 1", path=store)
    with pytest.raises(accounts.AccountError):
        accounts.add_user("a", "dept_clerk", COUNTY, password="long enough 1", path=store)
    with pytest.raises(accounts.AccountError):
        accounts.add_user("a", "group_lead", COUNTY, password="long enough 1", path=store)
    clerk = accounts.add_user("c", "dept_clerk", COUNTY, password="long enough 1", org_code=ZJJ, path=store)
    assert clerk.units == (ZJJ,)


def test_disabled_accounts_and_repeated_failures_are_refused_and_audited(store):
    accounts.add_user("a", "leader", COUNTY, password="long enough 1", path=store)
    accounts.set_active("a", False, actor="office", path=store)
    assert accounts.verify("a", "long enough 1", path=store) == (None, "disabled")
    accounts.set_active("a", True, path=store)
    for _ in range(accounts.LOCKOUT_FAILURES):
        assert accounts.verify("a", "wrong password", path=store) == (None, "bad")
    assert accounts.verify("a", "long enough 1", path=store) == (None, "locked")
    events = [e["event"] for e in accounts.read_audit(path=store)]
    assert events.count("signin_failed") == accounts.LOCKOUT_FAILURES + 2
    assert {"user_added", "user_disabled", "user_enabled"} <= set(events)


def test_audit_log_is_append_only(store):
    accounts.record("sql", "a", "office", {"sql": "SELECT 1"}, path=store)
    with sqlite3.connect(store) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_log SET event = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit_log")
    assert accounts.read_audit(path=store)[0]["detail"] == {"sql": "SELECT 1"}


def test_users_cli_adds_lists_disables_resets_and_changes_roles(store, monkeypatch, capsys):
    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return cli.main(list(argv))

    assert run("users", "add", "zjj1", "--role", "dept_clerk", "--org", ZJJ, "--county", COUNTY,
               "--password-stdin", stdin="first password\n") == 0  # fmt: skip
    assert run("users", "add", "sso1", "--role", "leader", "--county", COUNTY, "--sso-only",
               "--email", "lead@example.org") == 0  # fmt: skip
    assert (
        run("users", "add", "zjj1", "--role", "leader", "--county", COUNTY, "--sso-only", "--email", "x@y")
        == 2
    )
    assert run("users", "list") == 0
    out = capsys.readouterr().out
    assert "zjj1\tdept_clerk\t511923-zjj" in out and "sso1\tleader" in out and "SSO" in out
    assert "first password" not in out
    assert run("users", "reset", "zjj1", "--password-stdin", stdin="second password\n") == 0
    assert accounts.verify("zjj1", "second password", path=store)[1] == "ok"
    assert run("users", "disable", "zjj1") == 0
    assert accounts.verify("zjj1", "second password", path=store)[1] == "disabled"
    assert run("users", "role", "sso1", "--role", "group_lead", "--campaigns", "forest_city") == 0
    assert accounts.get_user("sso1", path=store).campaigns == ("forest_city",)
    assert run("users", "audit", "--limit", "20") == 0
    out = capsys.readouterr().out
    assert "role_changed" in out and "password_reset" in out and "user_disabled" in out
    assert run("users", "demo") == 0
    assert {a.role for a in accounts.list_users(path=store)} >= set(accounts.ROLES)
    assert accounts.verify("demo-zjj", "demo-zjj-2016", path=store)[1] == "ok"


# ---------------------------------------------------------------- roles


def _viewer(name: str) -> auth.Viewer:
    return auth.viewer_of(accounts.get_user(name))


def test_what_each_role_may_do(full):
    leader, office, lead = _viewer("t-leader"), _viewer("t-office"), _viewer("t-forest")
    zjj, town = _viewer("t-zjj"), _viewer("t-town")
    assert office.sees_all and leader.sees_all and not lead.sees_all and not zjj.sees_all
    for action in ("sql", "approve", "mappings", "users", "audit"):
        assert office.can(action)
        assert not any(v.can(action) for v in (leader, lead, zjj, town))
    assert zjj.can("upload") and town.can("upload") and office.can("upload") and not leader.can("upload")
    assert zjj.can(f"download_feedback:{ZJJ}") and not zjj.can(f"download_feedback:{LYJ}")
    assert office.can(f"download_feedback:{LYJ}") and not leader.can(f"download_feedback:{LYJ}")
    assert not lead.can(f"download_lineage:{LYJ}") and zjj.can(f"download_lineage:{ZJJ}")
    assert zjj.units == (ZJJ,) and town.units == (town.org_code,)
    assert lead.campaigns == ("forest_city",) and LYJ in lead.units  # the forest group reports via 林业局


# ---------------------------------------------------------------- scope in the data layer

PUBLIC = [
    name
    for name, fn in inspect.getmembers(data, inspect.isfunction)
    if fn.__module__ == data.__name__
    and not name.startswith("_")
    and name
    not in {
        "settings",
        "snapshot_path",
        "snapshot_name",
        "tables",
        "has",
        "require",
        "has_rows",
        "has_columns",
    }
    and name != "campaign_units"  # resolves a group lead's scope at sign-in (returns unit codes only)
]

ARGS = {  # every public query function with arguments on the synthetic warehouse
    "counties": (),
    "campaigns": (COUNTY,),
    "units": (COUNTY,),
    "months": (COUNTY,),
    "period_info": ("2016-12",),
    "indicators": (COUNTY,),
    "verdicts_asof": (COUNTY, "2016-12"),
    "verdict_history": (COUNTY, "2016-12"),
    "readiness_mart": (COUNTY, "2016-12"),
    "readiness": (COUNTY, "2016-12"),
    "coverage": (COUNTY, "2016-12"),
    "campaign_forecast": (COUNTY, "2016-12"),
    "requirement_forecast": (COUNTY, "2016-12"),
    "unit_accountability": (COUNTY, "2016-12"),
    "lagging_units": (COUNTY, "2016-12"),
    "plan_schedule": (COUNTY,),
    "tasks": (COUNTY,),
    "rectification": (COUNTY,),
    "outlier_flags": ("__indicator__",),
    "quality_by_period": (COUNTY,),
    "observations": (COUNTY, "__indicator__"),
    "indicator_requirements": (COUNTY, "__indicator__"),
    "submissions": (COUNTY,),
    "expected_returns": (COUNTY, "2016-12"),
    "requirement_owners": (COUNTY,),
    "working_groups": (COUNTY,),
    "acceptance_outcomes": (COUNTY,),
    "unit_returns": (COUNTY, ZJJ, "2016-12"),
    "source_files": (COUNTY,),
    "quarantine": (COUNTY,),
    "feedback_file": ("__feedback__",),
    "plan": (COUNTY,),
    "query": ("SELECT 1 AS x",),
}
ORG_COLS = ("org_code", "owner_org_code", "reporting_org_code")


def test_every_public_data_function_takes_the_viewers_scope():
    assert set(PUBLIC) == set(ARGS), "a new data function needs a scope test here"
    for name in PUBLIC:
        assert "scope" in inspect.signature(getattr(data, name)).parameters, name


def _frames(result) -> list[pd.DataFrame]:
    if isinstance(result, pd.DataFrame):
        return [result]
    if isinstance(result, tuple):
        return [r for r in result if isinstance(r, pd.DataFrame)]
    if isinstance(result, dict) and all(isinstance(v, pd.DataFrame) for v in result.values()):
        return list(result.values())
    return []


def _call(name: str, viewer: auth.Viewer, indicator: str, feedback: str):
    args = tuple(
        {"__indicator__": indicator, "__feedback__": feedback}.get(a, a) if isinstance(a, str) else a
        for a in ARGS[name]
    )
    return getattr(data, name)(*args, scope=viewer)


def _lyj_indicator_and_feedback() -> tuple[str, str]:
    ind = data.query(
        "SELECT indicator_code, count(*) n FROM core.observation WHERE org_code = ? GROUP BY 1 ORDER BY 2 DESC",
        [LYJ],
        scope=auth.EVERYTHING,
    )["indicator_code"].iloc[0]
    fb = data.query(
        "SELECT feedback_path FROM core.source_file WHERE org_code = ? AND feedback_path IS NOT NULL",
        [LYJ],
        scope=auth.EVERYTHING,
    )
    return ind, (fb["feedback_path"].iloc[0] if len(fb) else "none.xlsx")


def test_nobody_signed_in_gets_nothing(full):
    for name in PUBLIC:
        args = [("x" if isinstance(a, str) and a.startswith("__") else a) for a in ARGS[name]]
        with pytest.raises(auth.NotSignedIn):
            getattr(data, name)(*args)


def test_a_zjj_clerk_gets_only_zjj_rows_from_every_data_function(full):
    zjj, office = _viewer("t-zjj"), _viewer("t-office")
    indicator, feedback = _lyj_indicator_and_feedback()
    saw_own = set()
    for name in PUBLIC:
        if name == "query":
            with pytest.raises(PermissionError):
                _call(name, zjj, indicator, feedback)
            continue
        if name == "feedback_file":
            assert _call(name, zjj, indicator, feedback) is None  # 林业局's feedback workbook
            continue
        for frame in _frames(_call(name, zjj, indicator, feedback)):
            for col in ORG_COLS:
                if col in frame.columns:
                    assert set(frame[col].dropna()) <= {ZJJ}, (name, col, set(frame[col]))
                    assert frame[col].notna().all() or col == "owner_org_code", (name, col)
                    saw_own |= {name} if (frame[col] == ZJJ).any() else set()
        if name == "units":
            assert list(_call(name, zjj, indicator, feedback)["org_code"]) == [ZJJ]
    assert {"submissions", "source_files", "unit_accountability"} <= saw_own
    # the office, with the same calls, sees 林业局's rows: the filter is the scope, not the data
    assert (_call("observations", office, indicator, feedback)["org_code"] == LYJ).any()
    assert _call("observations", zjj, indicator, feedback).empty
    assert (data.submissions(COUNTY, scope=office)["org_code"] == LYJ).any()


def test_a_group_lead_sees_its_campaigns_and_units_only(full):
    lead = _viewer("t-forest")
    assert set(data.campaigns(COUNTY, scope=lead)["campaign_code"]) == {"forest_city"}
    assert set(data.verdicts_asof(COUNTY, "2016-12", scope=lead)["campaign_code"]) <= {"forest_city"}
    assert set(data.readiness(COUNTY, "2016-12", scope=lead)[0]["campaign_code"]) <= {"forest_city"}
    assert set(data.submissions(COUNTY, scope=lead)["org_code"]) <= set(lead.units)
    assert ZJJ not in lead.units or "forest_city" in set(data.campaigns(COUNTY, scope=lead)["campaign_code"])


def test_another_county_is_never_served(full):
    other = auth.Viewer("x", "x", "leader", "999999", None, (), ())
    assert data.counties(scope=other).empty
    assert data.submissions(COUNTY, scope=other).empty
    assert data.verdicts_asof(COUNTY, "2016-12", scope=other).empty


# ---------------------------------------------------------------- the app


def test_unauthenticated_visitors_get_only_the_sign_in_form(full):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["五创联动指标监测"]
    assert at.text_input(key="signin_user") is not None
    assert not at.get("plotly_chart") and not at.metric and not at.dataframe and not at.get("download_button")
    assert not at.sidebar.selectbox


def test_password_sign_in_opens_the_app_and_is_audited(full):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input(key="signin_user").set_value("t-zjj")
    at.text_input(key="signin_password").set_value("wrong password")
    at.button[0].click().run()
    assert any("用户名或密码不正确" in e.value for e in at.error)
    at.text_input(key="signin_user").set_value("t-zjj")
    at.text_input(key="signin_password").set_value(TEST_PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["总览"]
    units = at.sidebar.selectbox(key="f_unit__zh")
    assert units.options == ["全部", "县住房和城乡建设局"]
    events = [(e["username"], e["event"]) for e in accounts.read_audit(20)]
    assert ("t-zjj", "signin") in events and ("t-zjj", "signin_failed") in events


def test_a_clerk_sees_own_files_and_no_console(full):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["auth_user"] = "t-zjj"
    at.switch_page("app_pages/submissions.py").run()
    assert not at.exception
    own = data.query(
        "SELECT count(*) AS n FROM core.source_file WHERE org_code = ?", [ZJJ], scope=auth.EVERYTHING
    )
    everyone = data.query("SELECT count(*) AS n FROM core.source_file", scope=auth.EVERYTHING)
    assert at.metric[0].value == str(own["n"].iloc[0]) != str(everyone["n"].iloc[0])
    for frame in (d.value for d in at.dataframe):
        assert set(frame.get("org_code", pd.Series(dtype=str)).dropna()) <= {ZJJ}
    assert "下载反馈工作簿" not in [b.proto.label for b in at.get("download_button")]
    for page in ("sql", "admin", "mappings"):  # not offered to a clerk …
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{page}.py")
        # … and refused by the page itself when its script is run anyway
        direct = AppTest.from_file(str(APP.parent / "app_pages" / f"{page}.py"), default_timeout=60)
        direct.session_state["auth_user"] = "t-zjj"
        direct.run()
        assert any("无权" in w.value for w in direct.warning), page
        assert not direct.text_area and not direct.dataframe


def test_office_sql_queries_and_downloads_are_audited(full):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["auth_user"] = "t-office"
    at.switch_page("app_pages/sql.py").run()
    at.text_area(key="sql_text").set_value("SELECT count(*) FROM dim.campaign")
    at.button(key="sql_run").click().run()
    assert not at.exception
    last = accounts.read_audit(5, "t-office")
    assert last[0]["event"] == "sql" and "dim.campaign" in last[0]["detail"]["sql"]
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    assert any("审计日志" in s.value for s in at.subheader)


def test_readme_lists_every_demo_account_with_role_user_and_password():
    from pipelines.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for username, role, _display, _org, _camps, password in accounts.DEMO_ACCOUNTS:
        line = next((ln for ln in readme.splitlines() if f"`{username}` / `{password}`" in ln), None)
        assert line is not None, username
        assert role in line, (role, line)
