"""Problems found at inspections → rectification items: owner, deadline in Chinese working days,
re-inspection closes or keeps open, overdue at the horizon, recurrence."""

from __future__ import annotations

import datetime as dt

from pipelines import reporting_calendar as rc
from pipelines.marts.rectification import SUPERVISION_DUE_WORKING_DAYS, supervision_items

POINTS = {
    "p1": {
        "name_zh": "城南农贸市场",
        "point_type": "market",
        "town_code": "511923-jiangkou",
        "unit_code": "511923-scjgj",
    }
}
ITEMS = {("market", "mkt_clean"): {"name_zh": "环境卫生整洁", "name_en": "Clean"}}


def _run(scores_by_day: list[tuple[str, float]], horizon: str | None = None):
    insp, scores = [], []
    for n, (day, score) in enumerate(scores_by_day):
        iid = f"i{n}"
        insp.append(
            {
                "inspection_id": iid,
                "county_code": "511923",
                "point_code": "p1",
                "inspected_on": dt.date.fromisoformat(day),
                "source_file": "f.xlsx",
            }
        )
        scores.append(
            {
                "inspection_id": iid,
                "item_code": "mkt_clean",
                "score": score,
                "max_score": 20.0,
                "problem": "垃圾未清运" if score < 20 else None,
                "cell": f"E{n + 4}",
                "sheet": "农贸市场",
            }
        )
    return supervision_items(insp, scores, POINTS, ITEMS, dt.date.fromisoformat(horizon) if horizon else None)


def test_full_scores_open_nothing():
    items, events = _run([("2013-06-12", 20), ("2013-11-20", 20)])
    assert items == [] and events == []


def test_a_deduction_opens_an_item_owned_by_the_points_unit_with_a_working_day_deadline():
    items, events = _run([("2013-09-27", 15)], horizon="2013-10-08")
    (it,) = items
    assert it["owner_org_code"] == "511923-scjgj"
    # 10 Chinese working days after 27 Sep 2013: the National Day holiday (1–7 Oct) does not count
    assert it["due_date"] == rc.add_working_days(dt.date(2013, 9, 27), SUPERVISION_DUE_WORKING_DAYS)
    assert it["due_date"] > dt.date(2013, 10, 11)
    assert it["status"] == "open" and "扣5分" in it["description_zh"] and "垃圾未清运" in it["description_zh"]
    assert (it["source_file"], it["sheet"], it["cell"]) == ("f.xlsx", "农贸市场", "E4")
    assert [e["event"] for e in events] == ["opened"]


def test_re_inspection_in_full_closes_in_time_or_late():
    items, events = _run([("2013-11-20", 15), ("2013-11-29", 20)])
    assert items[0]["status"] == "closed" and items[0]["closed_date"] == dt.date(2013, 11, 29)
    assert [e["event"] for e in events] == ["opened", "closed"]
    items, _ = _run([("2013-06-12", 15), ("2013-11-20", 20)])
    assert items[0]["status"] == "closed_late"


def test_deduction_again_keeps_it_open_and_overdue_at_the_horizon():
    items, events = _run([("2013-11-20", 15), ("2013-11-29", 17)], horizon="2014-01-10")
    (it,) = items
    assert it["status"] == "overdue" and it["times_found"] == 2 and it["is_repeat"]
    assert [e["event"] for e in events] == ["opened", "found_again"]


def test_a_problem_that_comes_back_is_a_new_item_counted_as_recurring():
    items, _ = _run([("2013-06-12", 15), ("2013-06-21", 20), ("2013-11-20", 12)], horizon="2013-11-21")
    assert [i["status"] for i in items] == ["closed", "open"]
    assert items[1]["recurrence"] == 1 and items[1]["is_repeat"] and not items[0]["is_repeat"]


def test_inspections_of_unknown_points_are_ignored():
    insp = [
        {
            "inspection_id": "x",
            "county_code": "511923",
            "point_code": "gone",
            "inspected_on": dt.date(2013, 1, 4),
        }
    ]
    scores = [{"inspection_id": "x", "item_code": "mkt_clean", "score": 1.0, "max_score": 20.0}]
    assert supervision_items(insp, scores, POINTS, ITEMS, None) == ([], [])


def test_acceptance_findings_become_items_of_the_lead_unit_closed_by_the_next_pass():
    from pipelines.marts.rectification import DUE_WORKING_DAYS, acceptance_finding_items

    recs = [
        {"record_id": "r1", "county_code": "511923", "campaign_code": "hygienic_county", "result": "failed",
         "result_on": "2013-11-08", "findings": "活禽宰杀区未隔离\n\n背街小巷暴露垃圾"},
        {"record_id": "r2", "county_code": "511923", "campaign_code": "hygienic_county", "result": "passed",
         "result_on": "2014-06-30", "findings": "病媒防制档案待完善"},
        {"record_id": "r3", "county_code": "511923", "campaign_code": "eco_county", "result": None,
         "result_on": None, "findings": "pending: not yet a finding"},
    ]  # fmt: skip
    owners = {("511923", "hygienic_county"): "511923-awb"}
    items, events = acceptance_finding_items(
        recs, owners, {"hygienic_county": "省级卫生县城"}, dt.date(2015, 1, 31)
    )
    assert [i["item_id"] for i in items] == ["acceptance:r1:1", "acceptance:r1:2", "acceptance:r2:1"]
    assert all(i["owner_org_code"] == "511923-awb" for i in items)
    first = items[0]
    assert first["due_date"] == rc.add_working_days(dt.date(2013, 11, 8), DUE_WORKING_DAYS)
    assert first["closed_date"] == dt.date(2014, 6, 30) and first["status"] == "closed_late"
    assert items[2]["closed_date"] is None and items[2]["status"] == "overdue"  # no re-review passed yet
    assert "省级卫生县城验收反馈问题：活禽宰杀区未隔离" in first["description_zh"]
    named, _ = acceptance_finding_items(
        recs, owners, {"hygienic_county": "省级卫生县城"}, dt.date(2015, 1, 31),
        {"hygienic_county": "Provincial hygienic county"},
    )  # fmt: skip
    assert named[0]["description_en"].startswith("finding of the Provincial hygienic county acceptance")
    assert all("hygienic_county" not in i["description_en"] for i in named)  # a name, never the code
    assert [e["event"] for e in events if e["item_id"] == "acceptance:r1:1"] == ["opened", "closed"]
