"""Archive readiness: required vs provided vs accepted on planted cases, the prerequisite cap applied to
the archive and to the overall (indicator) readiness, and the numbers on the sample."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.archive.catalog import Slot
from pipelines.marts import readiness as rd
from pipelines.marts.common import VETO_CAP


def _slot(clause="c1", item="i1", period="2013", count=1, prereq=False, due=dt.date(2013, 12, 31), order=1):
    return Slot(
        county_code="511923", campaign_code="camp", clause_code=clause, clause_order=order, category="basic",
        clause_name_zh="条款", clause_name_en="Clause", item_code=item, kind="photo", title_zh="照片",
        title_en="Photos", count=count, period="yearly", period_code=period, due_date=due,
        provider_short="lyj", provider_org_code="511923-lyj", prerequisite=prereq, assumed=False, source="s",
    )  # fmt: skip


def _v(state, clause="c1", item="i1", period="2013", n=0):
    return {"campaign_code": "camp", "clause_code": clause, "item_code": item, "period_code": period,
            "review_state": state, "item_id": f"{clause}{item}{period}{n}{state}"}  # fmt: skip


def test_a_slot_counts_accepted_and_provided_up_to_its_count():
    rows = rd.archive_slot_rows([_slot(count=2)], [_v("accepted"), _v("submitted", n=1), _v("accepted", n=2)])
    assert (rows[0]["required"], rows[0]["provided"], rows[0]["accepted"], rows[0]["state"]) == (
        2,
        2,
        2,
        "accepted",
    )
    rows = rd.archive_slot_rows([_slot(count=2)], [_v("accepted"), _v("submitted", n=1)])
    assert (rows[0]["provided"], rows[0]["accepted"], rows[0]["state"]) == (2, 1, "submitted")


def test_a_returned_item_is_not_provided():
    rows = rd.archive_slot_rows([_slot()], [_v("returned")])
    assert (rows[0]["provided"], rows[0]["accepted"], rows[0]["n_returned"], rows[0]["state"]) == (
        0,
        0,
        1,
        "returned",
    )


def test_overdue_only_after_the_due_date():
    rows = rd.archive_slot_rows([_slot(due=dt.date(2013, 12, 31))], [], as_of=dt.date(2013, 12, 31))
    assert not rows[0]["is_overdue"] and rows[0]["is_due"]
    rows = rd.archive_slot_rows([_slot(due=dt.date(2013, 12, 31))], [], as_of=dt.date(2014, 1, 1))
    assert rows[0]["is_overdue"]


def _campaign(slots, versions, as_of=None, indicator=None):
    return rd.archive_campaign_rows(
        rd.archive_clause_rows(rd.archive_slot_rows(slots, versions, as_of)), indicator, as_of
    )[0]


def test_missing_prerequisite_evidence_caps_archive_and_overall_readiness():
    slots = [_slot(clause=f"c{i}", order=i) for i in range(1, 10)] + [
        _slot(clause="pre", prereq=True, order=10)
    ]
    versions = [_v("accepted", clause=f"c{i}") for i in range(1, 10)]
    ind = [
        {"county_code": "511923", "campaign_code": "camp", "grain": "ytd_month", "period_end": dt.date(2013, 11, 30), "period_code": "2013-11", "readiness": 0.95},
        {"county_code": "511923", "campaign_code": "camp", "grain": "year", "period_end": dt.date(2013, 12, 31), "period_code": "2013", "readiness": 0.5},
        {"county_code": "511923", "campaign_code": "camp", "grain": "ytd_month", "period_end": dt.date(2014, 1, 31), "period_code": "2014-01", "readiness": 0.1},
    ]  # fmt: skip
    row = _campaign(slots, versions, dt.date(2014, 1, 1), ind)
    assert row["share_accepted"] == pytest.approx(0.9)
    assert row["is_capped"] and row["prerequisite_missing_codes"] == ["pre"]
    assert row["archive_readiness"] == pytest.approx(VETO_CAP)
    assert row["indicator_period_code"] == "2013-11"  # latest ytd_month ending by as_of
    assert row["overall_readiness"] == pytest.approx(VETO_CAP) and row["overall_capped"]
    assert row["archive_status"] == "prerequisite_missing"
    # The prerequisite accepted: no cap, the indicator readiness stands.
    row = _campaign(slots, [*versions, _v("accepted", clause="pre")], dt.date(2014, 1, 1), ind)
    assert not row["is_capped"] and row["archive_readiness"] == pytest.approx(1.0)
    assert row["overall_readiness"] == pytest.approx(0.95) and row["archive_status"] == "complete"


def test_a_prerequisite_awaiting_review_still_caps():
    slots = [_slot(clause="pre", prereq=True)]
    row = _campaign(slots, [_v("submitted", clause="pre")], dt.date(2014, 6, 1))
    assert row["is_capped"] and row["share_provided"] == 1.0 and row["share_accepted"] == 0.0


def test_a_prerequisite_not_yet_due_does_not_cap():
    slots = [_slot(clause="c1"), _slot(clause="pre", prereq=True, due=dt.date(2014, 6, 30), order=2)]
    row = _campaign(slots, [_v("accepted", clause="c1")], dt.date(2014, 1, 1))
    assert not row["is_capped"] and row["share_accepted"] == pytest.approx(0.5)
    row = _campaign(slots, [_v("accepted", clause="c1")], dt.date(2014, 7, 1))
    assert row["is_capped"]


def test_low_share_below_the_cap_is_not_raised():
    slots = [_slot(clause=f"c{i}", order=i) for i in range(1, 5)] + [
        _slot(clause="pre", prereq=True, order=5)
    ]
    row = _campaign(slots, [_v("accepted", clause="c1")])
    assert row["archive_readiness"] == pytest.approx(0.2) and row["is_capped"]
    assert row["overall_readiness"] is None  # no indicator readiness: never invented
