"""Outliers: modified z-score per indicator × unit series, min–max bounds; flagged, never dropped."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.validation import outliers
from tests.validation.helpers import frame, obs


def _series(catalog, values, indicator="urban_sewage_treatment", org="zjj"):
    return [obs(indicator, org, f"2012-{m:02d}", v, catalog=catalog) for m, v in enumerate(values, start=1)]


def test_scores_are_modified_z_of_the_residual_from_the_rolling_median():
    values = pd.Series([10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 40.0, 17.0, 18.0, 19.0])
    z, base, spread = outliers.series_scores(values)
    assert base[6] == pytest.approx(17.0)  # median of 14, 15, 40, 17, 18
    assert z[6] == pytest.approx((40.0 - 17.0) / spread) and abs(z[6]) > outliers.Z_THRESHOLD
    assert (z.drop(6).abs() <= outliers.Z_THRESHOLD).all()


def test_steady_improvement_is_not_an_outlier(catalog):
    rows = _series(catalog, [70.0 + 2.5 * m + (0.3 if m % 2 else -0.3) for m in range(12)])  # 70 → 97.5
    _, flagged = outliers.find_outliers(frame(rows, catalog))
    assert flagged == []


def test_whole_number_series_does_not_flag_a_step_of_one(catalog):
    rows = _series(catalog, [5, 5, 6, 5, 5, 6, 6, 5, 5, 5], indicator="civ_main_road_psa", org="cgj")
    _, flagged = outliers.find_outliers(frame(rows, catalog))
    assert flagged == []


def test_clean_series_has_no_outliers(catalog):
    rows = _series(catalog, [85.0, 86.0, 85.5, 87.0, 86.5, 85.8, 86.2, 87.1])
    results, flagged = outliers.find_outliers(frame(rows, catalog))
    z = next(r for r in results if r.key == "modified_z")
    assert (z.n_checked, z.n_failed, flagged) == (8, 0, [])


def test_spike_is_flagged_and_kept(catalog):
    rows = _series(catalog, [85.0, 86.0, 85.5, 87.0, 86.5, 8.6, 86.2, 87.1])  # 8.6: a slipped decimal
    f = frame(rows, catalog)
    results, flagged = outliers.find_outliers(f)
    assert [(r["period_code"], r["method"]) for r in flagged] == [("2012-06", "modified_z")]
    assert flagged[0]["follow_up"] == "open" and abs(flagged[0]["score"]) > outliers.Z_THRESHOLD
    assert len(f) == 8  # nothing dropped


def test_constant_series_with_one_deviation_uses_mean_absolute_deviation(catalog):
    rows = _series(catalog, [100.0] * 7 + [60.0])
    _, flagged = outliers.find_outliers(frame(rows, catalog))
    assert [r["period_code"] for r in flagged] == ["2012-08"] and flagged[0]["median"] == 100.0


def test_short_series_is_not_scored(catalog):
    rows = _series(catalog, [85.0, 86.0, 85.5, 86.2, 8.0])
    results, flagged = outliers.find_outliers(frame(rows, catalog))
    assert next(r for r in results if r.key == "modified_z").n_checked == 0 and flagged == []


def test_min_max_bounds(catalog):
    rows = [
        obs("hyg_life_expectancy", "wjw", "2012", 76.0, catalog=catalog),
        obs("hyg_life_expectancy", "wjw", "2013", 97.0, catalog=catalog),
    ]
    results, flagged = outliers.find_outliers(frame(rows, catalog), {"hyg_life_expectancy": (60.0, 90.0)})
    mm = next(r for r in results if r.key == "min_max")
    assert (mm.n_checked, mm.n_failed) == (2, 1)
    assert [(r["period_code"], r["method"], r["bound_high"]) for r in flagged] == [("2013", "min_max", 90.0)]
