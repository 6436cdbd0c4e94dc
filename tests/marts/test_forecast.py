"""Forecast statuses on synthetic series whose answer is known."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from pipelines.marts import forecast
from pipelines.marts.common import period_end

AS_OF = dt.date(2013, 6, 30)
TARGET = dt.date(2013, 12, 31)


def _series(values: list[float], last: str = "2013-06") -> list[tuple[dt.date, float]]:
    y, m = map(int, last.split("-"))
    out = []
    for k, v in enumerate(reversed(values)):
        mm = m - k
        yy = y + (mm - 1) // 12
        mm = (mm - 1) % 12 + 1
        out.append((period_end(f"{yy}-{mm:02d}"), v))
    return list(reversed(out))


def _classify(values, threshold=85.0, direction=1, met=None):
    pts = _series(values)
    latest_met = (direction * (values[-1] - threshold) >= 0) if met is None else met
    return forecast.classify(
        pts, AS_OF, TARGET, direction, threshold, latest_met, forecast.MIN_POINTS_MONTHLY
    )


def test_improving_series_reaching_the_threshold_in_time_is_on_track():
    fc = _classify([66 + 1.5 * k for k in range(12)])  # last 82.5; +1.5/month × 6 months = 91.5 at target
    assert fc["status"] == "on_track"
    assert fc["slope_per_month"] == pytest.approx(1.5 * 12 / 365.25 * 30.436875, rel=0.02)
    assert fc["projected_margin"] > 0
    assert fc["gap"] == pytest.approx(2.5)
    assert fc["expected_reach_date"] > AS_OF


def test_flat_series_below_the_threshold_is_off_track():
    fc = _classify([80.0] * 12)
    assert fc["status"] == "off_track"
    assert fc["slope_per_month"] == 0
    assert fc["expected_reach_date"] is None
    assert fc["required_pace_per_month"] == pytest.approx(5 / forecast.months_between(AS_OF, TARGET))


def test_worsening_series_is_deteriorating():
    fc = _classify([84 - 0.8 * k for k in range(12)])
    assert fc["status"] == "deteriorating"
    assert fc["slope_high"] < 0


def test_lower_is_better_series_worsening_upwards_is_deteriorating():
    fc = _classify([50 + 2 * k for k in range(12)], threshold=60.0, direction=-1)
    assert fc["status"] == "deteriorating"


def test_already_achieved_series_is_achieved():
    fc = _classify([90 + 0.1 * k for k in range(12)])
    assert fc["status"] == "achieved"
    assert fc["gap"] == 0
    assert fc["expected_reach_date"] == AS_OF


def test_too_few_points_is_insufficient_data():
    fc = _classify([70.0, 72.0, 74.0])
    assert fc["n_points"] == 3
    assert fc["status"] == "insufficient_data"
    assert "3 < 6" in fc["status_reason_en"]


@pytest.mark.parametrize(
    ("n_years", "status"), [(1, "insufficient_data"), (2, "insufficient_data"), (3, "on_track")]
)
def test_a_yearly_trend_needs_three_points(n_years, status):
    years = [dt.date(2010 + k, 12, 31) for k in range(3)][-n_years:]
    pts = [(d, 70.0 + 5 * (d.year - 2010)) for d in years]  # +5 a year, 80 in 2012
    fc = forecast.classify(
        pts, dt.date(2013, 1, 31), dt.date(2013, 12, 31), 1, 83.0, False, forecast.MIN_POINTS_YEARLY
    )
    assert forecast.MIN_POINTS_YEARLY == 3
    assert fc["status"] == status


def test_the_reach_date_is_counted_from_the_last_data_point():
    # Yearly series whose last point is 2012-12-31, forecast as of 2013-06: gap 3 at 5/year → 7.2 months.
    pts = [(dt.date(2010 + k, 12, 31), 70.0 + 5 * k) for k in range(3)]
    fc = forecast.classify(pts, dt.date(2013, 6, 30), dt.date(2013, 12, 31), 1, 83.0, False, 3)
    assert fc["last_point_date"] == dt.date(2012, 12, 31)
    assert fc["expected_reach_date"] == forecast.add_months(dt.date(2012, 12, 31), 3 / (5 / 12.0))
    assert fc["expected_reach_date"] < dt.date(2013, 12, 31) and fc["status"] == "on_track"


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ([70.0 + k for k in range(12)], "on_track"),  # last 81, gap 4 at 1/month: reached in 4 of 6 months
        ([70.0 + k for k in range(11)] + [76.0], "at_risk"),  # line passes, but gap 9 from 76 needs 9 months
    ],
)
def test_on_track_only_when_the_reach_date_is_on_or_before_the_target(values, status):
    fc = _classify(values)
    assert fc["projected_margin"] > 0  # the trend line passes at the target either way
    assert fc["status"] == status
    if status == "on_track":
        assert fc["expected_reach_date"] <= TARGET
    else:
        assert fc["expected_reach_date"] > TARGET


def test_slow_improvement_at_more_than_half_the_needed_pace_is_at_risk():
    # gap 10 over 6 months needs 1.667/month; it improves ~1/month (ratio ≈ 0.6)
    fc = _classify([64 + 1.0 * k for k in range(12)])
    assert fc["status"] == "at_risk"
    assert 0.5 <= fc["pace_ratio"] < 1


def test_no_threshold_is_no_data():
    pts = _series([70.0 + k for k in range(12)])
    fc = forecast.classify(pts, AS_OF, TARGET, 1, None, None, 6)
    assert fc["status"] == "no_data"


def test_qualitative_items_are_achieved_or_off_track_from_the_latest_verdict():
    assert forecast.classify([], AS_OF, TARGET, None, None, True, 6, trendable=False)["status"] == "achieved"
    assert (
        forecast.classify([], AS_OF, TARGET, None, None, False, 6, trendable=False)["status"] == "off_track"
    )


def test_target_is_acceptance_until_it_passes_then_next_year_end():
    acc = dt.date(2013, 12, 31)
    assert forecast.target_for(dt.date(2013, 6, 30), acc) == ("acceptance", acc)
    assert forecast.target_for(dt.date(2013, 12, 31), acc) == ("acceptance", acc)
    assert forecast.target_for(dt.date(2014, 1, 31), acc) == ("consolidation", dt.date(2014, 12, 31))
    assert forecast.target_for(dt.date(2014, 12, 31), acc) == ("consolidation", dt.date(2015, 12, 31))


def _verdicts(values, thresholds, comparison=">=", req="r1", last="2013-06"):
    from tests.marts.conftest import verdict

    out = []
    for (d, v), thr in zip(_series(values, last), thresholds, strict=True):
        direction = 1 if comparison in (">=", ">") else -1
        margin = direction * (v - thr)
        code = f"{d.year}-{d.month:02d}"
        out.append(
            verdict(
                req,
                code,
                "pass" if margin >= 0 else "fail",
                value=v,
                threshold_value=thr,
                margin=margin,
                comparison=comparison,
                req_frequency="monthly",
                ind_rollup="mean",
            )
        )
    return out


PROG = [{"county_code": "511923", "campaign_code": "hygienic_county", "acceptance_date": TARGET}]


def test_forecast_rows_convert_margin_trends_back_to_values_for_lower_is_better():
    # Lower passes (<= 50): the value falls 1 per month from 62 to 51; projected below 50 by December.
    vs = _verdicts([62.0 - k for k in range(12)], [50.0] * 12, comparison="<=")
    rows, camp = forecast.forecast_rows(vs, PROG)
    last = rows[-1]
    assert last["is_latest"] and last["as_of_period_code"] == "2013-06"
    assert last["direction"] == -1 and last["status"] == "on_track"
    assert last["slope_per_month"] == pytest.approx(-1.0, rel=0.03)
    assert last["projected_value"] == pytest.approx(51.0 - 6.0, abs=0.3)
    assert last["projected_low"] <= last["projected_value"] <= last["projected_high"]
    assert last["projected_margin"] == pytest.approx(50.0 - last["projected_value"])
    assert last["required_pace_per_month"] < 0 and last["gap"] == pytest.approx(1.0)
    assert last["series_period_codes"][-1] == "2013-06" and len(last["series_period_codes"]) == 12
    assert camp[-1]["n_on_track"] == 1 and camp[-1]["earliest_ready_date"] is not None


def test_a_threshold_that_changes_is_not_read_as_a_trend():
    # Values and thresholds fall together (a pro-rated threshold): the margin stays +5 → achieved.
    vs = _verdicts([100.0 - 3 * k for k in range(12)], [95.0 - 3 * k for k in range(12)])
    rows, _ = forecast.forecast_rows(vs, PROG)
    assert rows[-1]["status"] == "achieved"
    assert rows[-1]["slope_per_month"] == pytest.approx(0.0, abs=1e-9)


def _req_row(req, status, *, veto=False, weight=1.0, cause=None, reach=AS_OF):
    return {
        "county_code": "511923",
        "campaign_code": "hygienic_county",
        "requirement_code": req,
        "as_of_period_code": "2013-06",
        "as_of_date": AS_OF,
        "target_kind": "acceptance",
        "target_date": TARGET,
        "status": status,
        "is_veto": veto,
        "weight": weight,
        "edition_code": "hyg_county_2010",
        "unassessable_cause": cause,
        "expected_reach_date": None if status in ("no_data", "insufficient_data") else reach,
    }


PASSING = [_req_row(f"r{k}", "achieved") for k in range(9)]


@pytest.mark.parametrize(
    ("last", "status", "readiness"),
    [
        (_req_row("v", "achieved", veto=True), "on_track", 1.0),
        (_req_row("v", "on_track", veto=True), "on_track", 1.0),
        (_req_row("v", "at_risk", veto=True), "at_risk", forecast.VETO_CAP),
        (_req_row("v", "off_track", veto=True), "off_track", forecast.VETO_CAP),
        # an unscored veto caps the projection: never on track
        (_req_row("v", "no_data", veto=True), "at_risk", forecast.VETO_CAP),
        (_req_row("v", "insufficient_data", veto=True), "at_risk", forecast.VETO_CAP),
        # a non-veto item without data counts as unmet
        (_req_row("x", "no_data"), "at_risk", 0.9),
        # unless its standard value is unknown to us: left out
        (_req_row("x", "no_data", cause="standard"), "on_track", 1.0),
    ],
)
def test_campaign_projection_respects_vetoes_and_missing_data(last, status, readiness):
    [c] = forecast.campaign_rows([*PASSING, last])
    assert c["projected_status"] == status
    assert c["projected_readiness"] == pytest.approx(readiness)
    if last["is_veto"] and last["status"] not in ("achieved", "on_track"):
        assert c["veto_blocking_codes"] == ["v"]


def test_a_campaign_mostly_without_data_is_insufficient_data_not_ready():
    """Civilized city, Jan 2012: a failing veto and 20 of 26 requirements without data."""
    rows = [_req_row(f"r{k}", "achieved") for k in range(5)]
    rows += [_req_row(f"n{k}", "no_data") for k in range(20)]
    rows += [_req_row("v", "off_track", veto=True)]
    [c] = forecast.campaign_rows(rows)
    assert c["projected_status"] == "insufficient_data"
    assert c["projected_readiness"] == pytest.approx(5 / 26)
    assert c["no_data_weight_share"] == pytest.approx(20 / 26)
    assert (c["n_no_data"], c["n_veto_projected_fail"], c["earliest_ready_date"]) == (20, 1, None)
    # the tolerance is configurable
    [lenient] = forecast.campaign_rows(rows, max_no_data_share=0.9)
    assert lenient["projected_status"] == "off_track"


# ---- the Theil–Sen fit without scipy's per-call overhead (issue 18): identical to scipy


def _random_series(rng, n: int, ties: bool):
    xs = sorted(rng.choice(range(60), size=n, replace=ties).tolist())
    if ties:
        ys = rng.choice([1.5, 2.0, 2.5, 80.0, -3.25], size=n).tolist()
    else:
        ys = (rng.normal(0, 5, n) + 0.37 * np.array(xs)).tolist()
    return [float(x) for x in xs], ys


@pytest.mark.parametrize("seed", range(6))
def test_theil_sen_equals_scipy_theilslopes(seed):
    from scipy.stats import theilslopes

    from pipelines.marts.forecast import BAND_ALPHA, theil_sen

    rng = np.random.default_rng(seed)
    compared = 0
    for n in (2, 3, 5, 6, 12, 24, 25):
        for ties in (False, True):
            xs, ys = _random_series(rng, n, ties)
            if len(set(xs)) < 2:
                continue
            for alpha in (BAND_ALPHA, 0.95, 0.2):
                res = theilslopes(ys, xs, alpha=alpha)
                want = (float(res.slope), float(res.low_slope), float(res.high_slope))
                got = theil_sen(ys, xs, alpha)
                assert np.array_equal(np.array(got), np.array(want), equal_nan=True), (xs, ys, alpha)
                compared += 1
    assert compared > 30


def test_theil_sen_hands_odd_input_to_scipy():
    from pipelines.marts.forecast import theil_sen

    slope, lo, hi = theil_sen([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0], 0.9)
    assert all(math.isnan(v) for v in (slope, lo, hi))  # scipy's NaN propagation


@pytest.mark.parametrize("alpha", [0.9, 0.95, 0.2])
def test_theil_sen_many_equals_theil_sen_bit_for_bit(alpha):
    """The batched fit (one numpy call per series length) gives exactly the per-series result, on
    series with ties in y and x, NaN, unsorted x and lengths 2..25 mixed in one call."""
    from pipelines.marts.forecast import theil_sen, theil_sen_many

    rng = np.random.default_rng(7)
    series = []
    for n in (2, 3, 5, 6, 12, 24, 25):
        for ties in (False, True):
            for _ in range(4):
                xs, ys = _random_series(rng, n, ties)
                if len(set(xs)) >= 2:
                    series.append((ys, xs))
    series.append(([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0]))  # NaN: handed to scipy
    series.append(([1.0, 2.0, 4.0], [3.0, 1.0, 2.0]))  # x not increasing
    series.append(([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]))  # every y tied
    got = theil_sen_many(series, alpha)
    want = [theil_sen(ys, xs, alpha) for ys, xs in series]
    assert len(got) == len(want) == len(series)
    for g, w, s in zip(got, want, series, strict=True):
        assert np.array_equal(np.array(g), np.array(w), equal_nan=True), s


def test_the_built_in_normal_quantile_equals_scipy():
    from scipy.stats import norm

    from pipelines.marts.forecast import _NORM_PPF, BAND_ALPHA

    assert (1.0 - BAND_ALPHA) / 2.0 in _NORM_PPF  # the quantile theil_sen asks for (alpha > 0.5)
    for q, z in _NORM_PPF.items():
        assert z == float(norm.ppf(q))


def test_forecast_rows_batched_equal_forecast_rows_fitted_one_by_one(monkeypatch):
    """forecast_rows fits all trends in one batch; the rows equal those of one fit per row."""
    from pipelines.marts import forecast

    rng = np.random.default_rng(3)
    verdicts = []
    for req, comparison in (("r1", ">="), ("r2", "<="), ("r3", ">=")):
        for m in range(1, 25):
            value = float(rng.normal(50, 10))
            period = f"{2011 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}"
            verdicts.append(
                {
                    "county_code": "511923",
                    "subject_org_code": "511923",
                    "requirement_code": req,
                    "campaign_code": "hygienic_county",
                    "indicator_code": req,
                    "grain": "ytd_month",
                    "period_code": period,
                    "value": value,
                    "margin": value - 50 if comparison == ">=" else 50 - value,
                    "threshold_value": 50.0,
                    "comparison": comparison,
                    "status": "pass" if (value >= 50) == (comparison == ">=") else "fail",
                    "req_frequency": "monthly",
                    "ind_rollup": "mean",
                    "weight": 1.0,
                    "is_veto": req == "r3",
                }
            )
    programmes = [{"county_code": "511923", "campaign_code": "hygienic_county", "acceptance_date": None}]
    batched = forecast.forecast_rows(verdicts, programmes)
    monkeypatch.setattr(forecast, "_trends", lambda series: [None] * len(series))
    one_by_one = forecast.forecast_rows(verdicts, programmes)
    assert sum(r["slope_per_month"] is not None for r in batched[0]) > 40
    assert batched == one_by_one
