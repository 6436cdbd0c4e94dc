"""Application and acceptance records: the office's rules, milestones read from the records (a failed
first attempt and the re-application), the title status per campaign and regression alerts."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.marts import plan
from pipelines.plan_process import acceptance as acc
from pipelines.plan_process import store as pstore
from pipelines.workflow.store import Store

D = dt.date


@pytest.fixture
def store(tmp_path):
    return pstore.ensure(Store(tmp_path / "workflow.sqlite"))


def _fail_then_pass(store):
    first = pstore.record_acceptance(
        store, "511923", "hygienic_county", "office", applied_on="2013-06-20", inspection_from="2013-10-15",
        inspection_to="2013-10-17", team="省爱卫会考核组", result="failed", result_on="2013-11-08",
        findings="活禽宰杀区未隔离\n背街小巷暴露垃圾",
    )  # fmt: skip
    second = pstore.record_acceptance(
        store, "511923", "hygienic_county", "office", applied_on="2014-03-10", inspection_to="2014-05-21",
        result="passed", result_on="2014-06-30", result_document="命名文件",
    )  # fmt: skip
    return first, second


def test_re_application_after_a_failure_is_attempt_two(store):
    first, second = _fail_then_pass(store)
    rows = {r["record_id"]: r for r in pstore.acceptance_records(store, "511923")}
    assert rows[first]["attempt"] == 1 and rows[first]["result"] == "failed"
    assert rows[second]["attempt"] == 2 and rows[second]["reapplication_of"] == first


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({}, "申报日期"),
        ({"applied_on": "2013-06-20", "result": "passed"}, "结果日期"),
        ({"applied_on": "2013-06-20", "inspection_from": "2013-05-01"}, "日期顺序"),
        ({"applied_on": "2013-06-20", "result": "great", "result_on": "2013-07-01"}, "未知验收结果"),
    ],
)
def test_bad_records_are_refused(store, kwargs, word):
    with pytest.raises(pstore.PlanProcessError) as e:
        pstore.record_acceptance(store, "511923", "civilized_city", "office", **kwargs)
    assert word in e.value.zh and e.value.en


def test_no_new_application_while_pending_or_after_a_pass(store):
    pstore.record_acceptance(store, "511923", "eco_county", "office", applied_on="2014-05-19")
    with pytest.raises(pstore.PlanProcessError, match="尚无验收结果"):
        pstore.record_acceptance(store, "511923", "eco_county", "office", applied_on="2014-06-01")
    _fail_then_pass(store)
    with pytest.raises(pstore.PlanProcessError, match="已通过验收"):
        pstore.record_acceptance(store, "511923", "hygienic_county", "office", applied_on="2015-01-05")
    rid = pstore.record_acceptance(
        store,
        "511923",
        "hygienic_county",
        "office",
        kind="re_review",
        result="passed",
        result_on="2017-06-01",
    )
    assert rid.startswith("re_review:")


def test_milestones_read_their_status_from_the_records(store):
    _fail_then_pass(store)
    events = acc.plan_events(pstore.acceptance_records(store))
    programmes = [{"county_code": "511923", "campaign_code": "hygienic_county", "start_date": D(2012, 1, 1),
                   "acceptance_date": D(2013, 12, 31), "working_group_code": None}]  # fmt: skip
    rows = plan.schedule_rows(
        phases=[], milestones=[], programmes=programmes, working_groups=[], tasks=[], yearly_readiness={},
        as_of=D(2014, 1, 31), events=events,
    )  # fmt: skip
    by = {r["code"]: r for r in rows}
    # after the failure only: the acceptance is overdue, with the failure named
    assert by["acceptance"]["status"] == "overdue" and "未通过" in by["acceptance"]["status_reason_zh"]
    assert by["application"]["status"] == "done"
    rows = plan.schedule_rows(
        phases=[], milestones=[], programmes=programmes, working_groups=[], tasks=[], yearly_readiness={},
        as_of=D(2014, 12, 31), events=events,
    )  # fmt: skip
    a = next(r for r in rows if r["code"] == "acceptance")
    assert a["status"] == "done" and a["evidence_date"] == D(2014, 6, 30) and a["completed_late"] is True
    assert "第2次" in a["evidence_document"]


def test_event_rows_read_the_store_only_when_it_exists(tmp_path, store, profile):
    assert plan.acceptance_events({"511923"}, tmp_path / "none.sqlite") == []
    _fail_then_pass(store)
    got = plan.event_rows([profile], store.path)
    assert sum(1 for e in got if e["milestone"] == "acceptance" and e["outcome"] == "failed") == 1
    assert any(e["milestone"] == "start" for e in got)  # the profile's own events are kept


def _v(period, status, margin=1.0, value=90.0, req="hyg_a", veto=False):
    return {"county_code": "511923", "campaign_code": "hygienic_county", "requirement_code": req,
            "subject_org_code": "511923", "grain": "year", "period_code": period, "status": status,
            "margin": margin, "value": value, "threshold_token": "85", "is_veto": veto}  # fmt: skip


def test_regression_alert_when_a_requirement_met_at_the_pass_slips():
    passes = {("511923", "hygienic_county"): D(2014, 6, 30)}
    clean = [_v("2013", "pass"), _v("2014", "pass"), _v("2015", "pass")]
    assert acc.regression_alerts(clean, passes, {}) == []
    slipped = [
        _v("2013", "pass"),
        _v("2014", "pass"),
        _v("2015", "near", -0.5, 84.5),
        _v("2016", "fail", -3, 82),
    ]
    alerts = acc.regression_alerts(slipped, passes, {"hyg_a": "甲指标"})
    # near on the failing side (margin < 0) counts as failing
    assert [(a["period_code"], a["status"], a["is_latest"]) for a in alerts] == [
        ("2015", "fail", False),
        ("2016", "fail", True),
    ]
    assert "甲指标" in alerts[-1]["message_zh"] and "2016" in alerts[-1]["message_zh"]
    (en,) = acc.regression_alerts(slipped[:2] + slipped[3:], passes, {"hyg_a": "甲指标"}, {"hyg_a": "Item A"})
    assert "Item A" in en["message_en"] and "hyg_a" not in en["message_en"]  # a name, never the code
    near_side = acc.regression_alerts([_v("2013", "pass"), _v("2015", "near", 0.2)], passes, {})
    assert [a["status"] for a in near_side] == ["near"]
    never_met = [_v("2013", "fail", -2), _v("2015", "fail", -2)]
    assert acc.regression_alerts(never_met, passes, {}) == []  # failing at the pass: not a regression


RULES = {"hygienic_county": {"re_review": "复审", "cycle_years": 3, "assumed": False}}


def _rec(**kw):
    base = {"county_code": "511923", "campaign_code": "hygienic_county", "kind": "acceptance", "milestone": "acceptance",
            "attempt": 1, "applied_on": "2013-06-20", "result": None, "result_on": None}  # fmt: skip
    return base | kw


@pytest.mark.parametrize(
    ("records", "alerts", "as_of", "status"),
    [
        ([], [], D(2013, 1, 1), "creating"),
        ([_rec()], [], D(2013, 7, 1), "applied"),
        ([_rec(result="failed", result_on="2013-11-08")], [], D(2013, 12, 1), "failed"),
        ([_rec(result="passed", result_on="2014-06-30")], [], D(2014, 6, 30), "passed"),
        ([_rec(result="passed", result_on="2014-06-30")], [], D(2015, 1, 31), "consolidating"),
        (
            [_rec(result="passed", result_on="2014-06-30")],
            [
                {
                    "county_code": "511923",
                    "campaign_code": "hygienic_county",
                    "is_latest": True,
                    "status": "fail",
                    "is_veto": True,
                }
            ],
            D(2015, 1, 31),
            "at_risk",
        ),  # fmt: skip
        ([_rec(result="passed", result_on="2014-06-30")], [], D(2017, 7, 31), "at_risk"),  # re-review overdue
        (
            [
                _rec(result="passed", result_on="2014-06-30"),
                _rec(kind="re_review", attempt=1, result="passed", result_on="2017-06-01"),
            ],
            [],
            D(2017, 7, 31),
            "re_reviewed",
        ),  # fmt: skip
    ],
)
def test_campaign_status(records, alerts, as_of, status):
    (row,) = acc.campaign_status("511923", ["hygienic_county"], records, alerts, RULES, as_of)
    assert row["status"] == status, row
    assert row["status_zh"] and row["reason_zh"] and row["reason_en"]


def test_consolidation_rules_come_from_the_catalog(catalog):
    from pipelines.settings import Settings

    rules = acc.consolidation_rules(Settings.from_env().standards_dir)
    assert set(rules) == set(catalog.campaigns)
    assert rules["hygienic_county"]["cycle_years"] == 3 and rules["hygienic_county"]["re_review"] == "复审"
    assert rules["forest_city"]["assumed"] is True


def test_alert_texts_write_periods_and_values_for_people():
    assert acc.period_text("2016") == "2016年" and acc.period_text("2016", "en") == "2016"
    assert acc.period_text("2015-01") == "2015年1月" and acc.period_text("2015-03") == "2015年1–3月"
    assert acc.period_text("2015-03", "en") == "Jan–Mar 2015"
    passes = {("511923", "hygienic_county"): D(2014, 6, 30)}
    (a,) = acc.regression_alerts(
        [_v("2013", "pass"), _v("2015", "fail", -4.2333, 80.76666666666667)], passes, {}
    )
    assert "数值80.77" in a["message_zh"] and "2015年" in a["message_zh"]
