"""Rectification items open on failing verdicts, stay open through no data, close on a later pass."""

from __future__ import annotations

import datetime as dt

from pipelines import reporting_calendar as rc
from pipelines.marts import rectification
from tests.marts.conftest import COUNTY, verdict

PROGRAMMES = [
    {"county_code": COUNTY, "campaign_code": "hygienic_county", "acceptance_date": dt.date(2013, 12, 31)}
]
RESP = {"hyg_x": "awb"}


def _series(statuses: list[tuple[str, str, float | None]]) -> list[dict]:
    return [verdict("hyg_x", p, st, margin=m, value=None if m is None else 80 + m) for p, st, m in statuses]


def test_item_opens_on_failure_and_closes_by_itself_when_a_later_period_passes():
    vs = _series(
        [
            ("2013-01", "pass", 1.0),
            ("2013-02", "fail", -2.0),
            ("2013-03", "no_data", None),
            ("2013-04", "near", -0.5),
            ("2013-05", "pass", 0.5),
            ("2013-06", "pass", 0.7),
        ]
    )
    items, events = rectification.verdict_items(vs, PROGRAMMES, RESP)
    [item] = items
    assert item["item_id"] == f"verdict:{COUNTY}:hyg_x:{COUNTY}:ytd_month:2013-02"
    assert (item["opened_period_code"], item["closed_period_code"]) == ("2013-02", "2013-05")
    assert item["owner_org_code"] == f"{COUNTY}-awb"
    # due 60 working days after 2013-02-28 (late May); closed by the May verdict (period end 05-31)
    assert item["due_date"] < dt.date(2013, 5, 31)
    assert item["status"] == "closed_late"
    assert item["periods_open"] == 3
    assert item["margin_at_open"] == -2.0 and item["latest_margin"] == 0.5
    assert [(e["period_code"], e["event"]) for e in events] == [
        ("2013-02", "opened"),
        ("2013-03", "still_open"),
        ("2013-04", "still_open"),
        ("2013-05", "closed"),
    ]
    assert item["due_date"] == rc.add_working_days(dt.date(2013, 2, 28), 60)


def test_failing_again_after_closing_opens_a_new_item_and_overdue_is_marked():
    vs = _series([("2013-02", "fail", -1.0), ("2013-03", "pass", 1.0)])
    vs += _series([(f"2013-{m:02d}", "fail", -1.0) for m in range(4, 11)])
    items, events = rectification.verdict_items(vs, PROGRAMMES, RESP)
    assert [(i["opened_period_code"], i["status"]) for i in items] == [
        ("2013-02", "closed"),
        ("2013-04", "overdue"),
    ]
    second = items[1]
    assert second["closed_period_code"] is None
    assert second["due_date"] == rc.add_working_days(dt.date(2013, 4, 30), 60)
    assert any(e["event"] == "overdue" for e in events if e["item_id"] == second["item_id"])
    assert second["as_of_date"] == dt.date(2013, 10, 31)


def test_due_date_is_capped_by_an_acceptance_date_still_ahead():
    opened = dt.date(2013, 11, 30)
    assert rectification.due_date_for(opened, dt.date(2013, 12, 31)) == dt.date(2013, 12, 31)
    assert rectification.due_date_for(opened, dt.date(2013, 12, 2)) == rc.add_working_days(opened, 10)
    assert rectification.due_date_for(opened, None) == rc.add_working_days(opened, 60)


def test_passing_series_opens_nothing_and_town_verdicts_are_ignored():
    vs = _series([("2013-01", "pass", 1.0), ("2013-02", "near", 0.2)])
    vs.append(verdict("hyg_x", "2013-02", "fail", margin=-1.0, subject_org_code=f"{COUNTY}-jiangkou"))
    assert rectification.verdict_items(vs, PROGRAMMES, RESP) == ([], [])


def test_year_and_month_grains_are_tracked_separately():
    vs = _series([("2013-12", "fail", -1.0)]) + [verdict("hyg_x", "2013", "fail", margin=-1.0, value=79.0)]
    items, _ = rectification.verdict_items(vs, PROGRAMMES, RESP)
    assert sorted(i["grain"] for i in items) == ["year", "ytd_month"]


def test_unresolved_quality_problems_open_items_owned_by_the_reporting_unit():
    problems = [
        {
            "problem_ref": "outlier:1",
            "county_code": COUNTY,
            "org_code": f"{COUNTY}-sthjj",
            "indicator_code": "air",
            "period_code": "2013-03",
            "description_zh": "离群值",
        },
        {
            "problem_ref": "rule:2",
            "county_code": COUNTY,
            "org_code": f"{COUNTY}-sthjj",
            "indicator_code": "air",
            "period_code": "2013-03",
            "description_zh": "分项大于合计",
        },
    ]
    items, events = rectification.quality_items(problems, dt.date(2013, 4, 15))
    [item] = items
    assert item["owner_org_code"] == f"{COUNTY}-sthjj" and item["status"] == "open"
    assert item["problem_ref"] == "outlier:1;rule:2"
    assert "离群值" in item["description_zh"] and len(events) == 1


def test_quality_items_close_when_the_problem_is_gone_and_keep_their_history():
    org = f"{COUNTY}-sthjj"
    problem = {
        "problem_ref": "outlier:o1",
        "county_code": COUNTY,
        "org_code": org,
        "indicator_code": "air",
        "period_code": "2013-03",
        "description_zh": "离群值",
    }
    first = rectification.quality_items([problem], dt.date(2013, 4, 15))
    run1 = rectification.merge_quality_history(first, ([], []), dt.date(2013, 4, 15))
    assert [i["status"] for i in run1[0]] == ["open"]
    # The same inputs again: nothing changes.
    again = rectification.merge_quality_history(first, run1, dt.date(2013, 4, 15))
    assert again == run1
    # A corrected return removed the problem: the item closes at the new horizon.
    run2 = rectification.merge_quality_history(([], []), run1, dt.date(2013, 5, 20))
    [closed] = run2[0]
    assert (closed["status"], closed["closed_period_code"], closed["closed_date"]) == (
        "closed",
        "2013-05",
        dt.date(2013, 5, 20),
    )
    assert [e["event"] for e in run2[1]] == ["opened", "closed"]
    assert rectification.merge_quality_history(([], []), run2, dt.date(2013, 6, 20)) == run2
    # It comes back: reopened, history kept.
    back = rectification.quality_items([problem], dt.date(2013, 7, 1))
    run3 = rectification.merge_quality_history(back, run2, dt.date(2013, 7, 1))
    assert [e["event"] for e in run3[1]] == ["opened", "closed", "reopened"]
    assert run3[0][0]["status"] == "overdue" and run3[0][0]["closed_date"] is None


def _edition(req, period, status, margin, edition):
    return verdict(req, period, status, margin=margin, value=80 + margin, edition_code=edition)


def test_an_item_is_retired_when_its_requirement_leaves_the_standard():
    """hyg_old fails under the 2010 edition; from 2014-01 the campaign is judged on the 2014 edition,
    which has no hyg_old: the item is withdrawn at 2014-01, not overdue forever."""
    vs = [_edition("hyg_old", p, "fail", -1.0, "hyg_county_2010") for p in ("2013-11", "2013-12")]
    vs += [_edition("hyg_new", p, "pass", 1.0, "hyg_city_2014") for p in ("2014-01", "2014-02")]
    items, events = rectification.verdict_items(vs, PROGRAMMES, {"hyg_old": "awb", "hyg_new": "awb"})
    [item] = items
    assert (item["status"], item["closed_reason"], item["closed_period_code"]) == (
        "withdrawn",
        "withdrawn",
        "2014-01",
    )
    assert [(e["period_code"], e["event"]) for e in events] == [
        ("2013-11", "opened"),
        ("2013-12", "still_open"),
        ("2014-01", "withdrawn"),
    ]
    assert "该要求已取消" in item["description_zh"] and "withdrawn" in item["description_en"]


def test_a_requirement_still_in_the_standard_is_not_retired():
    """Same edition later without a verdict for the item's requirement: not a withdrawal; still open."""
    vs = [_edition("hyg_x", p, "fail", -1.0, "hyg_county_2010") for p in ("2013-01", "2013-02")]
    vs += [_edition("hyg_y", p, "pass", 1.0, "hyg_county_2010") for p in ("2013-03", "2013-04")]
    items, _ = rectification.verdict_items(vs, PROGRAMMES, RESP)
    [item] = [i for i in items if i["requirement_code"] == "hyg_x"]
    assert item["status"] == "open"  # the horizon of its own series (2013-02) is before the due date
    assert item.get("closed_reason") is None and item["closed_date"] is None


def test_no_item_opens_before_the_campaign_starts():
    prog = [PROGRAMMES[0] | {"start_date": dt.date(2012, 1, 1)}]
    vs = _series([("2011-12", "fail", -2.0), ("2012-01", "pass", 1.0), ("2012-02", "fail", -1.0)])
    vs += [verdict("hyg_x", "2011", "fail", margin=-2.0, value=78.0)]
    items, _ = rectification.verdict_items(vs, prog, RESP)
    assert [(i["grain"], i["opened_period_code"]) for i in items] == [("ytd_month", "2012-02")]
    # without a start date (unknown plan) nothing is skipped
    items, _ = rectification.verdict_items(vs, PROGRAMMES, RESP)
    assert sorted(i["opened_period_code"] for i in items) == ["2011", "2011-12", "2012-02"]
