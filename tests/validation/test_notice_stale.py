"""The 通报 never criticises on stale data without saying so (issue 13, item 3).

WUCHUANG_NOTICE_STALE=flag (default): a failing requirement on a stale value still counts, and the
notice says which ones rest on stale data; =exclude: such verdicts are not counted at all."""

from __future__ import annotations

import pytest

from pipelines.marts import accountability
from pipelines.validation import compliance
from tests.marts.test_accountability import ORG, _inputs


def _notice(stale: bool, monkeypatch, policy: str | None = None):
    if policy is None:
        monkeypatch.delenv(compliance.STALE_NOTICE_ENV, raising=False)
    else:
        monkeypatch.setenv(compliance.STALE_NOTICE_ENV, policy)
    inputs = _inputs()
    inputs["verdicts"] = [
        {**v, "is_stale": stale if v["requirement_code"] == "env_air" else False} for v in inputs["verdicts"]
    ]
    rows, notices = accountability.ledger_rows(**inputs)
    row = next(r for r in rows if r["org_code"] == ORG and r["period_code"] == "2013-03")
    notice = next((n for n in notices if n["org_code"] == ORG and n["period_code"] == "2013-03"), None)
    return row, notice


def test_fresh_failing_veto_is_criticised_without_a_stale_note(monkeypatch):
    row, notice = _notice(False, monkeypatch)
    assert "failing_veto" in notice["reason_codes"] and "stale_data" not in notice["reason_codes"]
    assert "过期" not in notice["reason_zh"]


def test_stale_failing_veto_is_named_as_stale_by_default(monkeypatch):
    row, notice = _notice(True, monkeypatch)
    assert "failing_veto" in notice["reason_codes"] and "stale_data" in notice["reason_codes"]
    assert "所用数据已过期（env_air）" in notice["reason_zh"]
    assert "stale values (env_air)" in notice["reason_en"]
    assert row["requirements_failing"] == 1


def test_exclude_policy_does_not_count_stale_verdicts(monkeypatch):
    row, notice = _notice(True, monkeypatch, "exclude")
    assert row["requirements_failing"] == 0 and row["requirements_owned"] == 1
    assert notice is None or "failing_veto" not in notice["reason_codes"]
    assert notice is None or "env_air" not in notice["reason_zh"]


@pytest.mark.parametrize(("raw", "policy"), [(None, "flag"), ("EXCLUDE", "exclude"), ("nonsense", "flag")])
def test_policy_setting(monkeypatch, raw, policy):
    if raw is None:
        monkeypatch.delenv(compliance.STALE_NOTICE_ENV, raising=False)
    else:
        monkeypatch.setenv(compliance.STALE_NOTICE_ENV, raw)
    assert compliance.stale_notice_policy() == policy
