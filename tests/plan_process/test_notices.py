"""Overdue inspection findings go to the notices outbox (kind overdue_supervision)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.workflow import notices
from pipelines.workflow.store import Store


def _runner(problems: pd.DataFrame):
    def run(sql: str, params: list) -> pd.DataFrame:
        if "supervision.problem" in sql:
            county, today = params
            df = problems[(problems["county_code"] == county) & problems["closed_date"].isna()]
            return df[pd.to_datetime(df["due_date"]) < pd.Timestamp(today)]
        raise RuntimeError("not in this snapshot")

    return run


@pytest.fixture(autouse=True)
def _no_returns_due(monkeypatch):
    """Only the inspection findings are under test: no return is due."""
    cols = [
        "org_code",
        "org_name_zh",
        "due_state",
        "working_days_left",
        "period_code",
        "frequency",
        "due_date",
    ]
    monkeypatch.setattr(notices.duties, "due_returns", lambda *a, **k: pd.DataFrame(columns=cols))


PROBLEMS = pd.DataFrame(
    [
        {"county_code": "511923", "item_id": "supervision:p1:mkt_clean:2016-11-21", "owner_org_code": "511923-scjgj",
         "opened_date": dt.date(2016, 11, 21), "due_date": dt.date(2016, 12, 5), "closed_date": None,
         "description_zh": "城南农贸市场·环境卫生整洁：扣5分，限期整改", "description_en": "market: 5 points deducted"},
        {"county_code": "511923", "item_id": "supervision:p2:lane_clean:2016-11-21", "owner_org_code": "511923-cgj",
         "opened_date": dt.date(2016, 11, 21), "due_date": dt.date(2016, 12, 5), "closed_date": dt.date(2016, 12, 1),
         "description_zh": "已整改", "description_en": "closed"},
    ]
)  # fmt: skip


def test_overdue_finding_becomes_a_notice_to_the_responsible_unit(tmp_path):
    got = [n for n in notices.plan_notices(_runner(PROBLEMS), "511923", dt.date(2016, 12, 9), notices.NoticeSettings())
           if n.kind == "overdue_supervision"]  # fmt: skip
    (n,) = got
    assert n.unit_code == "511923-scjgj" and n.who == "clerk"
    assert "督查整改逾期" in n.subject and "已逾期 4 个工作日" in n.body and "Overdue" in n.body
    store = Store(tmp_path / "wf.sqlite")
    first = notices.fill_outbox(store, "511923", dt.date(2016, 12, 9), _runner(PROBLEMS))
    again = notices.fill_outbox(store, "511923", dt.date(2016, 12, 9), _runner(PROBLEMS))
    rows = store.rows("SELECT kind, unit_code FROM outbox WHERE kind = 'overdue_supervision'")
    assert first >= 1 and again == 0 and {r["unit_code"] for r in rows} == {"511923-scjgj"}
    assert notices.KINDS["overdue_supervision"][0] == "督查问题整改逾期"


def test_nothing_before_the_due_date_or_without_the_table():
    early = notices.plan_notices(_runner(PROBLEMS), "511923", dt.date(2016, 12, 5), notices.NoticeSettings())
    assert not [n for n in early if n.kind == "overdue_supervision"]

    def missing(sql, params):
        raise RuntimeError("no such table")

    assert not [n for n in notices.plan_notices(missing, "511923", dt.date(2016, 12, 9), notices.NoticeSettings())
                if n.kind == "overdue_supervision"]  # fmt: skip
