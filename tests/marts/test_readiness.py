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


#: r_unknown's threshold is unknown to us (the standard's gap, not the county's).
REQS = {"r_unknown": {"threshold_kind": "unknown"}}


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
    # r_unknown has no value: its data are missing, so it counts as NOT met (weight 5).
    # met: r_pass (2) + r_near_ok (1) + r_veto (1) = 4 of counted weight 2+1+1+1+5+1 = 11
    assert row["weight_assessable"] == pytest.approx(1.0)  # normalised weights sum to 1
    assert row["weight_met"] == pytest.approx(4 / 11)
    assert row["share_met"] == pytest.approx(4 / 11)
    assert row["readiness"] == pytest.approx(4 / 11)
    assert row["is_capped"] is False
    assert row["n_veto_failed"] == 0
    assert (row["n_pass"], row["n_near"], row["n_fail"], row["n_no_data"], row["n_not_assessable"]) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert (row["n_not_assessable_data"], row["n_not_assessable_standard"], row["n_counted"]) == (1, 0, 6)
    assert row["share_met_unweighted"] == pytest.approx(3 / 6)
    assert row["failing_requirement_codes"] == ["r_fail", "r_nodata", "r_unknown"]
    assert row["readiness_status"] == "not_ready"
    assert row["days_to_acceptance"] == (dt.date(2013, 12, 31) - dt.date(2013, 6, 30)).days


def test_a_failed_veto_item_caps_readiness():
    statuses = dict(BASE)
    statuses["r_fail"] = ("pass", 1.0, 1.0, False)  # share would be 5/6 without the veto
    statuses["r_veto"] = ("fail", -1.0, 1.0, True)
    [row] = readiness.readiness_rows(_month(statuses), PROGRAMMES, REQS)
    assert row["share_met"] == pytest.approx(4 / 6)  # r_unknown: threshold unknown, left out
    assert row["n_veto_failed"] == 1 and row["readiness_status"] == "veto_failed"
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


@pytest.mark.parametrize(
    ("verdict_kw", "req", "cause"),
    [
        # the standard's value is unknown to us: left out of the shares
        ({"value": 80.0}, {"threshold_kind": "unknown"}, "standard"),
        ({"value": 80.0}, {"threshold_kind": "relative", "reference": "national_avg"}, "standard"),
        ({"value": 80.0}, {"threshold_kind": "absolute"}, "standard"),  # no threshold for the variant
        # the county's own data are missing: counts as not met
        ({"value": 80.0}, {"threshold_kind": "relative", "reference": "previous_year"}, "data"),
        ({"value": 80.0}, {"threshold_kind": "relative", "reference": "5yr_avg"}, "data"),
        ({"value": 80.0, "threshold_value": 85.0}, {"threshold_kind": "relative"}, "data"),  # 3-year trend
        ({}, {"threshold_kind": "qualitative"}, "data"),  # no assessed text
        ({}, {"threshold_kind": "absolute"}, "data"),  # no numeric value
        ({}, None, "data"),
    ],
)
def test_why_a_verdict_is_not_assessable(verdict_kw, req, cause):
    v = verdict("r", "2013", "not_assessable", **verdict_kw)
    assert readiness.unassessable_cause(v, req) == cause
    assert readiness.counts_as_unmet(v, req) is (cause == "data")
    assert readiness.unassessable_cause(verdict("r", "2013", "pass", value=1.0), req) is None


def test_a_missing_earlier_return_can_never_raise_readiness():
    """2012 passes 2 of 3; in 2013 the trend item loses its earlier year (not assessable): still 2 of 3."""
    reqs = {"trend": {"threshold_kind": "relative", "reference": "previous_year"}}
    base = {"a": ("pass", 1.0, 1.0, False), "b": ("pass", 1.0, 1.0, False)}
    y12 = _month(base | {"trend": ("fail", -1.0, 1.0, False)}, "2012")
    y13 = _month(base, "2013") + [verdict("trend", "2013", "not_assessable", value=5.0)]
    r12, r13 = readiness.readiness_rows(y12 + y13, PROGRAMMES, reqs)
    assert r12["readiness"] == pytest.approx(2 / 3)
    assert r13["readiness"] == pytest.approx(2 / 3)
    assert r13["readiness_change"] == pytest.approx(0.0)
    assert r13["failing_requirement_codes"] == ["trend"]


@pytest.mark.parametrize(
    ("veto", "status", "readiness_value", "capped"),
    [
        (("pass", 1.0), "ready", 1.0, False),
        (("near", 0.0), "ready", 1.0, False),
        (("no_data", None), "unknown", VETO_CAP, True),
        (("not_assessable", None), "unknown", VETO_CAP, True),
        (("fail", -2.0), "veto_failed", VETO_CAP, True),
    ],
)
def test_a_veto_item_without_data_is_unknown_never_ready(veto, status, readiness_value, capped):
    others = {f"r{k}": ("pass", 1.0, 1.0, False) for k in range(9)}
    vs = _month(others | {"v": (*veto, 1.0, True)})
    [row] = readiness.readiness_rows(vs, PROGRAMMES)
    assert row["readiness_status"] == status
    assert row["readiness"] == pytest.approx(readiness_value)
    assert row["is_capped"] is capped
    assert row["readiness_status_zh"] == readiness.READINESS_STATUS_ZH[status]
    if veto[0] in ("no_data", "not_assessable"):
        assert row["veto_no_data_codes"] == ["v"] and row["n_veto_no_data"] == 1


def test_weights_follow_the_standards_own_scoring():
    """civ_2011: the minors' moral score is 20 % of the total whatever its catalog weight (20 of 45 = 44 %)."""
    vs = [
        verdict(
            f"civ_{k}", "2013", "pass", weight=1.0, edition_code="civ_2011", campaign_code="civilized_city"
        )
        for k in range(25)
    ] + [
        verdict(
            "civ_minors_moral_score",
            "2013",
            "fail",
            margin=-1.0,
            weight=20.0,
            edition_code="civ_2011",
            campaign_code="civilized_city",
        )
    ]
    w = readiness.normalised_weights(vs)
    assert w["civ_minors_moral_score"] == pytest.approx(0.20)
    assert w["civ_0"] == pytest.approx(0.80 / 25)
    assert sum(w.values()) == pytest.approx(1.0)
    [row] = readiness.readiness_rows(vs, [])
    assert row["share_met"] == pytest.approx(0.80)  # not 25/45 = 0.56 as with raw weights
    assert row["max_weight_requirement_code"] == "civ_minors_moral_score"
    assert row["max_weight_share"] == pytest.approx(0.20)
    # An edition the standard does not score: the catalog weights, normalised.
    plain = [verdict("a", "2013", "pass", weight=1.0), verdict("b", "2013", "fail", margin=-1.0, weight=3.0)]
    assert readiness.normalised_weights(plain) == pytest.approx({"a": 0.25, "b": 0.75})


@pytest.mark.parametrize(
    ("value", "comparison", "threshold", "ceiling", "status"),
    [
        (100.0, ">=", 100.0, 100.0, "pass"),  # a percentage at its 100 % target is fully met, not "near"
        (99.9, ">=", 100.0, 100.0, "fail"),  # below it: fails, however narrowly
        (95.5, ">=", 95.0, 100.0, "near"),  # a target under the ceiling keeps its warning band
        (100.0, ">=", 100.0, None, "near"),  # a count of 100 against 100 (no ceiling): still near
        (2.0, "<=", 2.0, 100.0, "near"),  # upper bounds are untouched
    ],
)
def test_near_for_a_target_at_the_ceiling(value, comparison, threshold, ceiling, status):
    """Compliance rule readiness depends on (pipelines.validation.compliance.judge, issue 13 item 4)."""
    from pipelines.validation import compliance

    assert compliance.judge(value, comparison, threshold, None, ceiling)[0] == status


def test_archive_cap_uses_the_indicator_readiness_rows_as_they_are():
    """Archive readiness (issue 16) reads marts.campaign_readiness rows: the indicator readiness of the
    latest year-to-date period is carried over unchanged without a missing prerequisite, capped with one."""
    vs = [verdict("a", "2013-06", "pass"), verdict("b", "2013-06", "fail", margin=-1.0)]
    for v in vs:
        v["grain"] = "ytd_month"
    ind = readiness.readiness_rows(vs, [])
    clause = {
        "county_code": COUNTY, "campaign_code": ind[0]["campaign_code"], "required": 1, "provided": 1,
        "accepted": 1, "n_returned": 0, "n_overdue": 0, "prerequisite_missing": False, "clause_code": "c",
    }  # fmt: skip
    [row] = readiness.archive_campaign_rows([clause], ind)
    assert row["indicator_readiness"] == pytest.approx(ind[0]["readiness"]) == pytest.approx(0.5)
    assert row["overall_readiness"] == pytest.approx(0.5) and not row["is_capped"]
    [capped] = readiness.archive_campaign_rows([{**clause, "accepted": 0, "prerequisite_missing": True}], ind)
    assert capped["overall_readiness"] == pytest.approx(min(0.5, VETO_CAP)) and capped["is_capped"]
    assert capped["archive_readiness"] == 0.0
