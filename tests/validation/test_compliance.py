"""Compliance verdicts, table-driven over threshold kinds, boundaries, editions, variants and roll-ups."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from pipelines import reporting_calendar as rc
from pipelines.validation import compliance
from pipelines.validation.compliance import YEAR, YTD
from pipelines.warehouse.tables.compliance import VERDICT
from tests.validation.helpers import COUNTY, obs


def verdicts(rows, catalog, profile, period: str, grain: str = YEAR) -> list[dict]:
    frame = (
        pd.DataFrame(rows) if rows else pd.DataFrame(columns=["observation_id", "org_code", "indicator_code"])
    )
    return compliance.compute_verdicts(frame, catalog, [profile], periods=[(grain, rc.parse_period(period))])


def verdict(rows, catalog, profile, requirement: str, period: str, grain: str = YEAR, subject: str = COUNTY):
    found = [
        v for v in verdicts(rows, catalog, profile, period, grain) if v["requirement_code"] == requirement
    ]
    found = [v for v in found if v["subject_org_code"] == subject]
    assert len(found) == 1, f"{requirement} not assessed for {subject} in {period}"
    return found[0]


# (requirement, indicator, org, period, value, expected status, expected margin)
ABSOLUTE_CASES = [
    # >= passes at exactly the threshold (near: meets with margin 0), fails just under
    ("env_builtup_green_coverage", "builtup_green_coverage", "zjj", "2012", 35.0, "near", 0.0),
    ("env_builtup_green_coverage", "builtup_green_coverage", "zjj", "2012", 34.99, "fail", -0.01),
    ("env_builtup_green_coverage", "builtup_green_coverage", "zjj", "2012", 36.0, "near", 1.0),  # band 1.75
    ("env_builtup_green_coverage", "builtup_green_coverage", "zjj", "2012", 40.0, "pass", 5.0),
    # > (大于) does not pass at exactly the threshold
    ("civ_gov_satisfaction", "civ_gov_satisfaction", "tjj", "2012", 90.0, "fail", 0.0),
    ("civ_gov_satisfaction", "civ_gov_satisfaction", "tjj", "2012", 90.5, "near", 0.5),
    ("civ_gov_satisfaction", "civ_gov_satisfaction", "tjj", "2012", 97.0, "pass", 7.0),
    # <= passes at exactly the threshold, margin positive below
    ("hyg_regional_noise", "regional_noise", "sthjj", "2015", 60.0, "near", 0.0),
    ("hyg_regional_noise", "regional_noise", "sthjj", "2015", 60.1, "fail", -0.1),
    ("hyg_regional_noise", "regional_noise", "sthjj", "2015", 52.0, "pass", 8.0),
    # == (none allowed): no warning band
    ("env_no_major_incident", "env_no_major_incident", "sthjj", "2012", 0.0, "pass", 0.0),
    ("env_no_major_incident", "env_no_major_incident", "sthjj", "2012", 1.0, "fail", -1.0),
]


@pytest.mark.parametrize(("req", "ind", "org", "period", "value", "status", "margin"), ABSOLUTE_CASES)
def test_absolute_thresholds_follow_the_wording(
    catalog, profile, req, ind, org, period, value, status, margin
):
    org = next(a.org_code for a in profile.assignments(catalog) if a.indicator == ind and a.role == "primary")
    row = obs(ind, org, period, value, catalog=catalog)
    v = verdict([row], catalog, profile, req, period)
    assert v["status"] == status
    assert v["margin"] == pytest.approx(margin)
    assert v["value"] == value and v["observation_ids"] == [row["observation_id"]]
    assert v["meets"] is (status in ("pass", "near"))
    assert v["reporting_org_code"] == org and v["explanation_zh"] and v["explanation_en"]


def test_edition_switch_for_hygienic_county(catalog, profile):
    dec = {v["requirement_code"]: v for v in verdicts([], catalog, profile, "2014-12", YTD)}
    jan = {v["requirement_code"]: v for v in verdicts([], catalog, profile, "2015-01", YTD)}
    assert dec["hyg_sewer_network_coverage"]["edition_code"] == "hyg_county_2010"
    assert "hyg_sewer_network_coverage" not in jan
    assert jan["hyg_builtup_green_coverage"]["edition_code"] == "hyg_city_2014"
    assert "hyg_builtup_green_coverage" not in dec
    assert {v["edition_code"] for k, v in jan.items() if v["campaign_code"] == "hygienic_county"} == {
        "hyg_city_2014"
    }


@pytest.mark.parametrize(
    ("terrain", "threshold", "status"), [("mountain", 75.0, "fail"), ("hill", 45.0, "pass")]
)
def test_variant_switch_for_eco_forest_coverage(catalog, profile, terrain, threshold, status):
    p = dataclasses.replace(profile, variants={**profile.variants, "terrain": terrain})
    org = next(
        a.org_code for a in p.assignments(catalog) if a.indicator == "forest_coverage" and a.role == "primary"
    )
    v = verdict(
        [obs("forest_coverage", org, "2013", 50.0, catalog=catalog)],
        catalog,
        p,
        "eco_forest_coverage",
        "2013",
    )
    assert (v["threshold_value"], v["status"]) == (threshold, status)


def _monthly(catalog, ind, org, year, values, texts=None):
    return [
        obs(ind, org, f"{year}-{m:02d}", v, text=None if texts is None else texts[m - 1], catalog=catalog)
        for m, v in enumerate(values, start=1)
    ]


def test_rollup_mean_over_the_year_and_year_to_date(catalog, profile):
    rows = _monthly(catalog, "hyg_street_cleaning_hours", "cgj", 2012, [10.0] * 6 + [14.0] * 6)
    year = verdict(rows, catalog, profile, "hyg_street_cleaning_hours", "2012")
    assert (year["rollup"], year["value"], year["n_observations"], year["status"]) == (
        "mean",
        12.0,
        12,
        "near",
    )
    ytd = verdict(rows, catalog, profile, "hyg_street_cleaning_hours", "2012-06", YTD)
    assert (ytd["value"], ytd["n_observations"], ytd["status"]) == (10.0, 6, "fail")


def test_rollup_sum_is_pro_rated_for_a_partial_year(catalog, profile):
    days = [25.0] * 12  # 300 days over 12 months: exactly the threshold
    rows = _monthly(catalog, "hyg_aqi_good_days", "sthjj", 2015, days)
    year = verdict(rows, catalog, profile, "hyg_aqi_good_days", "2015")
    assert (year["rollup"], year["value"], year["threshold_value"], year["status"]) == (
        "sum",
        300.0,
        300.0,
        "near",
    )
    ytd = verdict(rows, catalog, profile, "hyg_aqi_good_days", "2015-01", YTD)
    assert ytd["value"] == 25.0 and ytd["threshold_value"] == pytest.approx(300.0 * 31 / 365)
    assert ytd["status"] == "fail"  # 25 good days in January < 25.48 pro-rated


def test_rollup_last_uses_the_annual_value_and_latest_available_for_ytd(catalog, profile):
    rows = [
        obs("builtup_green_coverage", "zjj", "2012", 33.0, catalog=catalog),
        obs("builtup_green_coverage", "zjj", "2013", 38.0, catalog=catalog),
    ]
    assert verdict(rows, catalog, profile, "env_builtup_green_coverage", "2013")["value"] == 38.0
    mid = verdict(rows, catalog, profile, "env_builtup_green_coverage", "2013-06", YTD)
    assert (mid["value"], mid["status"]) == (33.0, "fail")  # the 2013 figure is not in before December
    dec = verdict(rows, catalog, profile, "env_builtup_green_coverage", "2013-12", YTD)
    assert dec["value"] == 38.0


def test_rollup_all_pass_for_a_qualitative_monthly_item(catalog, profile):
    org = next(
        a.org_code
        for a in profile.assignments(catalog)
        if a.indicator == "eco_air_quality" and a.role == "primary"
    )
    good = _monthly(catalog, "eco_air_quality", org, 2013, [None] * 12, ["达标"] * 12)
    v = verdict(good, catalog, profile, "eco_air_quality", "2013")
    assert (v["status"], v["n_observations"], v["rollup"]) == ("pass", 12, "all_pass")
    bad = _monthly(
        catalog, "eco_air_quality", org, 2013, [None] * 12, ["达标"] * 7 + ["不达标"] + ["达标"] * 4
    )
    v = verdict(bad, catalog, profile, "eco_air_quality", "2013")
    assert (v["status"], v["value_text"]) == ("fail", "不达标")


def test_qualitative_annual_item(catalog, profile):
    org = next(
        a.org_code
        for a in profile.assignments(catalog)
        if a.indicator == "eco_noise_quality" and a.role == "primary"
    )
    for text, status in (("达标", "pass"), ("是", "pass"), ("不达标", "fail")):
        rows = [obs("eco_noise_quality", org, "2013", None, text=text, catalog=catalog)]
        assert verdict(rows, catalog, profile, "eco_noise_quality", "2013")["status"] == status


def _annual(catalog, ind, org, values: dict[int, float]):
    return [obs(ind, org, str(y), v, catalog=catalog) for y, v in values.items()]


def test_relative_national_avg_with_declining_3y(catalog, profile):
    ind, req = "env_industrial_energy_intensity", "env_industrial_energy_intensity"
    org = next(a.org_code for a in profile.assignments(catalog) if a.indicator == ind and a.role == "primary")
    national_2013 = catalog.reference_value("national_avg", ind, 2013)
    ok = verdict(_annual(catalog, ind, org, {2011: 1.4, 2012: 1.3, 2013: 1.0}), catalog, profile, req, "2013")
    assert (ok["status"], ok["threshold_value"], ok["trend_holds"]) == ("pass", national_2013, True)
    flat = verdict(
        _annual(catalog, ind, org, {2011: 0.9, 2012: 0.95, 2013: 1.0}), catalog, profile, req, "2013"
    )
    assert (flat["status"], flat["trend_holds"]) == ("fail", False)  # below average but not declining
    above = verdict(
        _annual(catalog, ind, org, {2011: 1.6, 2012: 1.5, 2013: 1.4}), catalog, profile, req, "2013"
    )
    assert above["status"] == "fail" and above["margin"] == pytest.approx(national_2013 - 1.4)
    short = verdict(_annual(catalog, ind, org, {2013: 1.0}), catalog, profile, req, "2013")
    assert (short["status"], short["trend_holds"]) == ("not_assessable", None)


def test_relative_previous_year(catalog, profile):
    ind = "hyg_student_myopia_trend"
    org = next(a.org_code for a in profile.assignments(catalog) if a.indicator == ind and a.role == "primary")
    v = verdict(_annual(catalog, ind, org, {2021: 50.0, 2022: 45.0}), catalog, profile, ind, "2022")
    assert (v["status"], v["threshold_value"], v["margin"]) == ("pass", 50.0, 5.0)
    v = verdict(_annual(catalog, ind, org, {2021: 50.0, 2022: 50.0}), catalog, profile, ind, "2022")
    assert v["status"] == "fail"  # 逐年下降: equal to last year is not a decline
    v = verdict(_annual(catalog, ind, org, {2021: 50.0, 2022: 50.5}), catalog, profile, ind, "2022")
    assert v["status"] == "fail"
    v = verdict(_annual(catalog, ind, org, {2022: 49.0}), catalog, profile, ind, "2022")
    assert v["status"] == "not_assessable"


def test_relative_5yr_avg(catalog, profile):
    ind = "hyg_notifiable_disease_incidence"
    org = next(a.org_code for a in profile.assignments(catalog) if a.indicator == ind and a.role == "primary")
    history = {2017: 300.0, 2018: 280.0, 2019: 260.0, 2020: 240.0, 2021: 220.0}  # mean 260
    v = verdict(_annual(catalog, ind, org, {**history, 2022: 240.0}), catalog, profile, ind, "2022")
    assert (v["status"], v["threshold_value"]) == ("pass", 260.0)
    v = verdict(_annual(catalog, ind, org, {**history, 2022: 270.0}), catalog, profile, ind, "2022")
    assert v["status"] == "fail"
    v = verdict(_annual(catalog, ind, org, {2021: 220.0, 2022: 200.0}), catalog, profile, ind, "2022")
    assert v["status"] == "not_assessable"  # fewer than three years of history


def test_or_trend_clause_passes_a_declining_value_above_the_limit(catalog, profile):
    ind = "hyg_infant_mortality"
    org = next(a.org_code for a in profile.assignments(catalog) if a.indicator == ind and a.role == "primary")
    declining = verdict(
        _annual(catalog, ind, org, {2020: 7.0, 2021: 6.5, 2022: 6.0}), catalog, profile, ind, "2022"
    )
    assert (declining["status"], declining["trend_holds"]) == ("pass", True) and declining["margin"] < 0
    rising = verdict(
        _annual(catalog, ind, org, {2020: 5.8, 2021: 5.9, 2022: 6.0}), catalog, profile, ind, "2022"
    )
    assert (rising["status"], rising["trend_holds"]) == ("fail", False)


def test_no_data_and_unknown_threshold(catalog, profile):
    v = verdict([], catalog, profile, "env_builtup_green_coverage", "2012")
    assert (v["status"], v["n_observations"], v["reporting_org_code"], v["meets"]) == (
        "no_data",
        0,
        None,
        None,
    )
    org = next(
        a.org_code
        for a in profile.assignments(catalog)
        if a.indicator == "civ_traffic_death_rate" and a.role == "primary"
    )
    v = verdict(
        [obs("civ_traffic_death_rate", org, "2012", 3.0, catalog=catalog)],
        catalog,
        profile,
        "civ_traffic_death_rate",
        "2012",
    )
    assert (v["status"], v["value"]) == ("not_assessable", 3.0)


def test_only_current_observations_count(catalog, profile):
    rows = [
        obs("builtup_green_coverage", "zjj", "2012", 30.0, catalog=catalog, current=False),
        obs("builtup_green_coverage", "zjj", "2012", 40.0, catalog=catalog, revision=2),
    ]
    v = verdict(rows, catalog, profile, "env_builtup_green_coverage", "2012")
    assert (v["value"], v["observation_ids"]) == (40.0, [rows[1]["observation_id"]])


def test_secondary_unit_does_not_make_the_county_figure(catalog, profile):
    rows = [obs("builtup_green_coverage", "lyj", "2012", 40.0, catalog=catalog)]
    assert verdict(rows, catalog, profile, "env_builtup_green_coverage", "2012")["status"] == "no_data"


def test_each_town_gets_its_own_verdict_for_town_indicators(catalog, profile):
    ind = "eco_rural_sanitary_toilet"
    req = next(r for r in catalog.requirements.values() if r.indicator == ind and r.edition == "eco_2007")
    town = f"{COUNTY}-jiangkou"
    rows = [obs(ind, town, "2013", 10.0, catalog=catalog)]
    v = verdict(rows, catalog, profile, req.code, "2013", subject=town)
    assert (v["status"], v["reporting_org_code"], v["value"]) == ("fail", town, 10.0)
    assert verdict(rows, catalog, profile, req.code, "2013")["status"] == "no_data"  # the county figure


def test_full_calendar_has_one_verdict_per_key(catalog, profile):
    rows = compliance.compute_verdicts(pd.DataFrame(), catalog, [profile])
    keys = [(r["requirement_code"], r["subject_org_code"], r["period_code"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["grain"] for r in rows} == {YEAR, YTD}
    assert all(len(t) == len(VERDICT.columns) for t in compliance.verdict_tuples(rows))


@pytest.mark.parametrize(
    ("rollup", "value", "status"),
    [("min", 10.0, "fail"), ("max", 14.0, "pass"), ("count_pass", 6.0, "fail"), ("all_pass", 10.0, "fail")],
)
def test_rollups_min_max_count_pass(catalog, profile, rollup, value, status):
    ind = dataclasses.replace(catalog.indicators["hyg_street_cleaning_hours"], rollup=rollup)
    cat = dataclasses.replace(catalog, indicators={**catalog.indicators, ind.code: ind})
    rows = _monthly(cat, ind.code, "cgj", 2012, [10.0] * 6 + [14.0] * 6)  # threshold >= 12 (county town)
    v = verdict(rows, cat, profile, "hyg_street_cleaning_hours", "2012")
    assert (v["rollup"], v["value"], v["status"]) == (rollup, value, status)
