"""Campaign readiness: weighted share met, the veto cap, counts by status, change since last period."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.marts import readiness
from pipelines.marts.common import VETO_CAP
from tests.marts.conftest import COUNTY, verdict

PROGRAMMES = [
    {"county_code": COUNTY, "campaign_code": "hygienic_county", "acceptance_date": dt.date(2013, 12, 31)}
]


def _month(statuses: dict[str, tuple], period: str = "2013-06") -> list[dict]:
    """statuses: requirement → (status, margin, weight, is_veto)."""
    return [
        verdict(req, period, st, margin=margin, weight=w, is_veto=veto)
        for req, (st, margin, w, veto) in statuses.items()
    ]


BASE = {
    "r_pass": ("pass", 2.0, 2.0, False),
    "r_near_ok": ("near", 0.5, 1.0, False),
    "r_fail": ("fail", -3.0, 1.0, False),
    "r_nodata": ("no_data", None, 1.0, False),
    "r_unknown": ("not_assessable", None, 5.0, False),
    "r_veto": ("pass", 1.0, 1.0, True),
}


def test_readiness_without_a_failed_veto_is_the_weighted_share_met():
    [row] = readiness.readiness_rows(_month(BASE), PROGRAMMES)
    # met: r_pass (2) + r_near_ok (1) + r_veto (1) = 4 of assessable weight 2+1+1+1+1 = 6
    assert row["weight_assessable"] == 6.0
    assert row["weight_met"] == 4.0
    assert row["share_met"] == pytest.approx(4 / 6)
    assert row["readiness"] == pytest.approx(4 / 6)
    assert row["is_capped"] is False
    assert row["n_veto_failed"] == 0
    assert (row["n_pass"], row["n_near"], row["n_fail"], row["n_no_data"], row["n_not_assessable"]) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert row["share_met_unweighted"] == pytest.approx(3 / 5)
    assert row["failing_requirement_codes"] == ["r_fail", "r_nodata"]
    assert row["days_to_acceptance"] == (dt.date(2013, 12, 31) - dt.date(2013, 6, 30)).days


def test_a_failed_veto_item_caps_readiness():
    statuses = dict(BASE)
    statuses["r_fail"] = ("pass", 1.0, 1.0, False)  # share would be 5/6 without the veto
    statuses["r_veto"] = ("fail", -1.0, 1.0, True)
    [row] = readiness.readiness_rows(_month(statuses), PROGRAMMES)
    assert row["share_met"] == pytest.approx(4 / 6)
    assert row["n_veto_failed"] == 1
    assert row["veto_failed_codes"] == ["r_veto"]
    assert row["readiness"] == VETO_CAP
    assert row["is_capped"] is True


def test_a_veto_item_near_on_the_failing_side_also_caps():
    statuses = {"a": ("pass", 1.0, 1.0, False), "v": ("near", -0.1, 1.0, True)}
    [row] = readiness.readiness_rows(_month(statuses), PROGRAMMES)
    assert row["share_met"] == pytest.approx(0.5)
    assert row["readiness"] == pytest.approx(0.5)  # below the cap: capped but unchanged
    assert row["n_veto_failed"] == 1 and row["is_capped"] is False


def test_change_since_last_period_and_town_verdicts_kept_apart():
    may = _month({"a": ("fail", -1.0, 1.0, False), "b": ("pass", 1.0, 1.0, False)}, "2013-05")
    june = _month({"a": ("pass", 1.0, 1.0, False), "b": ("pass", 1.0, 1.0, False)}, "2013-06")
    town = [verdict("a", "2013-06", "fail", margin=-2.0, subject_org_code=f"{COUNTY}-jiangkou")]
    rows = readiness.readiness_rows(may + june + town, PROGRAMMES)
    assert [r["period_code"] for r in rows] == ["2013-05", "2013-06"]
    assert rows[1]["prev_period_code"] == "2013-05"
    assert rows[1]["readiness_change"] == pytest.approx(0.5)
    assert rows[1]["n_met_change"] == 1
    assert rows[1]["n_requirements"] == 2  # the town's verdict is not a county requirement
    [t] = readiness.town_rows(may + june + town)
    assert (t["n_towns"], t["n_fail"], t["failing_town_codes"]) == (1, 1, [f"{COUNTY}-jiangkou"])
