"""Forecast of each requirement's county figure to the campaign's acceptance date (Theil–Sen).

For every county requirement and every as-of month with a ytd_month verdict:

- Target date: the campaign's acceptance date while the as-of month ends on or before it; afterwards
  the next year-end after the as-of date (巩固 consolidation monitoring).
- Series: the county-level verdict values up to the as-of date: ytd_month verdicts of the last 24
  months, or — for annual requirements and sum / count_pass roll-ups, whose year-to-date values are
  partial sums not comparable with the threshold — the year verdicts of the last 5 completed years.
- Trend: `scipy.stats.theilslopes` with a 90% band; the projection goes through the series' median
  point: projected = median(y) + slope·(t_target − median(t)); the band uses the band's slopes.
- The trend is fitted on the verdicts' margins (natural units, > 0 on the passing side), so a
  threshold that changes over time (relative references, a new edition, a threshold pro-rated to a
  partial year) is not mistaken for a trend; slopes and projections are then converted back to
  values: projected_value = threshold + direction·projected_margin (direction +1 for >=/>, −1 for
  <=/<; for `between` the end the latest value is outside of).

- Expected reach date: counted from the LAST DATA POINT (not the as-of month): the date of the latest
  value + gap / (slope towards passing); the date of the latest value itself when it already meets.

Statuses (Open SDG manner), first rule that applies:
1. no_data — no verdict value, or no numeric threshold (not_assessable).
2. (no trend possible: qualitative or ==) achieved if the latest verdict is met, else off_track.
3. achieved — the latest verdict is met and the projection (if any) stays on the passing side.
4. insufficient_data — fewer than `min_points` points (MIN_POINTS_MONTHLY = 6 for monthly series,
   MIN_POINTS_YEARLY = 3 for yearly series; both configurable): two points always make a "line".
5. deteriorating — the slope is towards failing over its whole 90% band and the projection fails.
6. on_track — the projection and its pessimistic band end both pass AND the expected reach date is
   on or before the target date (a projection that passes while the reach date is later is at_risk).
7. at_risk — the projection passes but the pessimistic end or the reach date does not, or the
   projection fails but the current pace is at least half the pace needed (pace_ratio >= 0.5).
8. off_track — anything else (flat or too slow).

Campaign roll-up (`campaign_rows`): every requirement counts — no_data and insufficient_data count
as NOT projected to pass (only requirements not assessable because the standard's value is unknown
are left out); weights as readiness (`readiness.normalised_weights`); projected_readiness is capped
at VETO_CAP when a veto item is not projected to pass OR has no forecast (unscored); the campaign's
`projected_status` is insufficient_data when more than MAX_NO_DATA_SHARE of the weight has no
forecast, else on_track only when every requirement is achieved / on_track and no veto is unscored,
at_risk when nothing is off track and no veto is projected to fail, else off_track.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
from collections import defaultdict
from statistics import median

import duckdb
import numpy as np

from pipelines.marts.common import (
    VETO_CAP,
    add_months,
    county_verdicts,
    fetch_dicts,
    is_met,
    months_between,
    period_end,
)
from pipelines.marts.readiness import normalised_weights, requirement_info, unassessable_cause

WINDOW_MONTHS = 24
WINDOW_MONTHS_YEARLY = 60
MIN_POINTS_MONTHLY = 6
MIN_POINTS_YEARLY = 3
MAX_NO_DATA_SHARE = 0.2  # campaign: more weight than this without a forecast → insufficient_data
AT_RISK_PACE_RATIO = 0.5
BAND_ALPHA = 0.90
MAX_REACH_MONTHS = 120  # beyond ten years at the current pace: "never" (NULL)
_EPOCH = dt.date(2000, 1, 1)

STATUS_ZH = {
    "achieved": "已达标",
    "on_track": "按期可达",
    "at_risk": "有风险",
    "off_track": "难以按期达标",
    "deteriorating": "趋势恶化",
    "insufficient_data": "数据不足",
    "no_data": "无数据",
}

CAMPAIGN_STATUS_ZH = {
    "on_track": "按期可达",
    "at_risk": "有风险",
    "off_track": "难以按期达标",
    "insufficient_data": "数据不足，无法预测",
}


def direction_of(comparison: str | None, value: float | None, low: float | None, high: float | None):
    """(direction, binding threshold): +1 when higher passes, −1 when lower passes."""
    if comparison in (">=", ">"):
        return 1, low
    if comparison in ("<=", "<"):
        return -1, low
    if comparison == "between" and low is not None and high is not None and value is not None:
        if value < low:
            return 1, low
        if value > high:
            return -1, high
        return (1, low) if value - low <= high - value else (-1, high)
    return None, low


def target_for(as_of: dt.date, acceptance: dt.date | None) -> tuple[str, dt.date]:
    if acceptance is not None and as_of <= acceptance:
        return "acceptance", acceptance
    end = dt.date(as_of.year, 12, 31)
    return "consolidation", end if end > as_of else dt.date(as_of.year + 1, 12, 31)


# scipy.stats.norm.ppf of the quantile the forecast uses (BAND_ALPHA 0.90: (1 - 0.9) / 2, which in
# floating point is 0.04999999999999999), so a process that has not imported scipy.stats (≈ 1 s)
# does not import it for one number; equality with scipy is tested (tests/marts/test_forecast.py).
# Other quantiles ask scipy.
_NORM_PPF = {(1.0 - 0.90) / 2.0: -1.6448536269514729}


@functools.cache
def _norm_ppf(q: float) -> float:
    if q in _NORM_PPF:
        return _NORM_PPF[q]
    from scipy.stats import norm  # imported on first use: scipy.stats costs ≈ 1 s to import

    return float(norm.ppf(q))


def _find_repeats(arr: np.ndarray) -> np.ndarray:
    """Counts of the values occurring more than once (scipy.stats' `_find_repeats`)."""
    arr = np.sort(arr)
    change = np.concatenate(([True], arr[1:] != arr[:-1]))
    freq = np.diff(np.concatenate(np.nonzero(change) + ([arr.size],)))
    return freq[freq > 1]


def theil_sen(ys: list[float], xs: list[float], alpha: float) -> tuple[float, float, float]:
    """(slope, low slope, high slope) of `scipy.stats.theilslopes(ys, xs, alpha)` (method "separate"),
    the same arithmetic step by step without scipy's per-call argument handling, which was ~70 % of
    the forecast's time (one call per requirement and month). Identical results are tested against
    scipy in tests/marts/test_forecast.py. Inputs with NaN, or fewer than two distinct x, go to scipy."""
    y = np.array(ys, dtype=float)
    x = np.array(xs, dtype=float)
    if len(x) != len(y) or len(x) < 2 or np.isnan(x).any() or np.isnan(y).any():
        from scipy.stats import theilslopes

        res = theilslopes(ys, xs, alpha=alpha)
        return float(res.slope), float(res.low_slope), float(res.high_slope)
    deltax = x[:, np.newaxis] - x
    deltay = y[:, np.newaxis] - y
    pos = deltax > 0
    slopes = deltay[pos] / deltax[pos]
    if not slopes.size:
        from scipy.stats import theilslopes

        res = theilslopes(ys, xs, alpha=alpha)
        return float(res.slope), float(res.low_slope), float(res.high_slope)
    slopes.sort()
    medslope = np.median(slopes)
    if alpha > 0.5:
        alpha = 1.0 - alpha
    z = _norm_ppf(alpha / 2.0)
    nxreps, nyreps = _find_repeats(x), _find_repeats(y)
    nt, ny = len(slopes), len(y)
    sigsq = (
        1
        / 18.0
        * (
            ny * (ny - 1) * (2 * ny + 5)
            - sum(k * (k - 1) * (2 * k + 5) for k in nxreps)
            - sum(k * (k - 1) * (2 * k + 5) for k in nyreps)
        )
    )
    try:
        sigma = np.sqrt(sigsq)
        ru = min(int(np.round((nt - z * sigma) / 2.0)), len(slopes) - 1)
        rl = max(int(np.round((nt + z * sigma) / 2.0)) - 1, 0)
        lo, hi = slopes[[rl, ru]]
    except (ValueError, IndexError):
        lo = hi = np.nan
    return float(medslope), float(lo), float(hi)


def theil_sen_many(series: list[tuple[list[float], list[float]]], alpha: float) -> list[tuple]:
    """`theil_sen(ys, xs, alpha)` of many (ys, xs) series at once, bit for bit: series of equal length
    with strictly increasing x and no NaN are stacked and computed as arrays (one numpy call per
    length instead of ~20 per series: the forecast makes one series per requirement and month);
    anything else goes through `theil_sen`. Same arithmetic, element by element; tested against
    `theil_sen` and scipy in tests/marts/test_forecast.py."""
    out: list[tuple | None] = [None] * len(series)
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, (_ys, xs) in enumerate(series):
        by_len[len(xs)].append(i)
    a = 1.0 - alpha if alpha > 0.5 else alpha
    for n, idx in by_len.items():
        rest = idx
        if n >= 2 and all(len(series[i][0]) == n for i in idx):
            x = np.array([series[i][1] for i in idx], dtype=float)
            y = np.array([series[i][0] for i in idx], dtype=float)
            ok = ~(np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1)) & (np.diff(x, axis=1) > 0).all(axis=1)
            rest = [i for i, good in zip(idx, ok, strict=True) if not good]
            if ok.any():
                x, y, rows = x[ok], y[ok], [i for i, good in zip(idx, ok, strict=True) if good]
                hi_i, lo_i = np.tril_indices(n, -1)  # pairs (i, j) with j < i, so x_i > x_j
                slopes = (y[:, hi_i] - y[:, lo_i]) / (x[:, hi_i] - x[:, lo_i])
                slopes.sort(axis=1)
                med = np.median(slopes, axis=1)
                z = _norm_ppf(a / 2.0)
                # Ties in y: sum over groups of k(k-1)(2k+5) = sum over values of (c-1)(2c+5), c the
                # size of the value's group (exact integers); x has no ties here.
                c = (y[:, :, np.newaxis] == y[:, np.newaxis, :]).sum(axis=2)
                yreps = ((c - 1) * (2 * c + 5)).sum(axis=1)
                nt = slopes.shape[1]
                sigsq = 1 / 18.0 * (n * (n - 1) * (2 * n + 5) - 0 - yreps)
                with np.errstate(invalid="ignore"):
                    sigma = np.sqrt(sigsq)
                    up = np.round((nt - z * sigma) / 2.0)
                    down = np.round((nt + z * sigma) / 2.0)
                for k, i in enumerate(rows):
                    if not (np.isfinite(up[k]) and np.isfinite(down[k])):
                        rest.append(i)
                        continue
                    ru = min(int(up[k]), nt - 1)
                    rl = max(int(down[k]) - 1, 0)
                    if not (-nt <= ru < nt and -nt <= rl < nt):
                        rest.append(i)
                        continue
                    out[i] = (float(med[k]), float(slopes[k, rl]), float(slopes[k, ru]))
        for i in rest:
            out[i] = theil_sen(series[i][0], series[i][1], alpha)
    return out  # type: ignore[return-value]


@functools.lru_cache(maxsize=8192)
def _x(day: dt.date) -> float:
    return months_between(_EPOCH, day)


def classify(
    points: list[tuple[dt.date, float]],
    as_of: dt.date,
    target: dt.date,
    direction: int | None,
    threshold: float | None,
    latest_met: bool | None,
    min_points: int,
    trendable: bool = True,
    latest_value: float | None = ...,  # type: ignore[assignment]
    trend: tuple[float, float, float] | None = None,
) -> dict:
    """Trend, projection and status for one requirement series. Pure function: the tests call it.
    `trend`: the series' `theil_sen` result when already computed (`theil_sen_many`)."""
    out: dict = {
        "n_points": len(points),
        "min_points": min_points,
        "slope_per_month": None,
        "slope_low": None,
        "slope_high": None,
        "projected_value": None,
        "projected_low": None,
        "projected_high": None,
        "projected_margin": None,
        "required_pace_per_month": None,
        "pace_ratio": None,
        "expected_reach_date": None,
        "gap": None,
        "months_to_target": months_between(as_of, target),
    }
    latest = (points[-1][1] if points else None) if latest_value is ... else latest_value
    # The reach date is counted from the date of the latest value, not from the as-of month.
    last_day = points[-1][0] if points else as_of
    out["last_point_date"] = last_day
    if not trendable:
        if latest_met is None:
            return out | _status("no_data", "无可评估的数据", "nothing to assess")
        if latest_met:
            return (
                out
                | {"expected_reach_date": last_day}
                | _status("achieved", "定性指标当前已达标", "qualitative item met now")
            )
        return out | _status(
            "off_track", "定性指标当前未达标，无法测算趋势", "qualitative item not met; no trend"
        )
    if latest is None or threshold is None or direction is None:
        return out | _status("no_data", "无数值或阈值未知", "no value or unknown threshold")

    gap = max(0.0, direction * (threshold - latest))
    out["gap"] = gap
    months = out["months_to_target"]
    if gap > 0 and months > 0:
        out["required_pace_per_month"] = direction * gap / months
    if len(points) >= 2 and len({p[0] for p in points}) >= 2:
        xs = [_x(d) for d, _ in points]
        ys = [v for _, v in points]
        slope, lo, hi = trend if trend is not None else theil_sen(ys, xs, BAND_ALPHA)
        mx, my, xt = median(xs), median(ys), _x(target)
        proj = my + slope * (xt - mx)
        p_lo, p_hi = my + lo * (xt - mx), my + hi * (xt - mx)
        out.update(
            slope_per_month=slope,
            slope_low=lo,
            slope_high=hi,
            projected_value=proj,
            projected_low=p_lo,
            projected_high=p_hi,
            projected_margin=direction * (proj - threshold),
        )
        improving = direction * slope
        if out["required_pace_per_month"] is not None:
            out["pace_ratio"] = improving / abs(out["required_pace_per_month"])
        if gap == 0:
            out["expected_reach_date"] = last_day
        elif improving > 0 and gap / improving <= MAX_REACH_MONTHS:
            out["expected_reach_date"] = add_months(last_day, gap / improving)
    elif gap == 0:
        out["expected_reach_date"] = last_day

    margin = out["projected_margin"]
    if latest_met and (margin is None or margin >= 0):
        return out | _status("achieved", "当前已达标，趋势保持", "met now and the trend holds")
    if len(points) < min_points:
        return out | _status(
            "insufficient_data",
            f"趋势点数不足（{len(points)}<{min_points}），数据不足以预测",
            f"too few points for a trend ({len(points)} < {min_points}): insufficient data",
        )
    slope, lo, hi = out["slope_per_month"], out["slope_low"], out["slope_high"]
    best = max(direction * lo, direction * hi)
    pessimistic = min(
        direction * (out["projected_low"] - threshold), direction * (out["projected_high"] - threshold)
    )
    if best < 0 and margin < 0:
        return out | _status("deteriorating", "指标持续向不达标方向变化", "moving away from the threshold")
    reach = out["expected_reach_date"]
    in_time = reach is not None and reach <= target
    if margin >= 0 and pessimistic >= 0 and in_time:
        return out | _status(
            "on_track", "按当前趋势可在目标日前达标", "projected to meet the threshold by the target date"
        )
    ratio = out["pace_ratio"]
    if margin >= 0 and pessimistic >= 0:
        return out | _status(
            "at_risk",
            "趋势外推可达标，但按最新值和当前速度测算的达标日期晚于目标日",
            "the trend line passes, but at the current pace from the latest value the threshold is "
            "reached after the target date",
        )
    if margin >= 0 or (ratio is not None and ratio >= AT_RISK_PACE_RATIO):
        return out | _status(
            "at_risk", "按当前趋势达标存在不确定性或进度偏慢", "uncertain, or pace below what is needed"
        )
    return out | _status(
        "off_track", "按当前进度无法在目标日前达标", "current pace will not close the gap in time"
    )


def to_natural(fc: dict, direction: int, threshold: float) -> dict:
    """Convert a forecast made on margins (threshold 0, higher passes) back to natural units."""
    out = dict(fc)

    def nat(m):
        return None if m is None else threshold + direction * m

    if fc["slope_per_month"] is not None:
        lo, hi = direction * fc["slope_low"], direction * fc["slope_high"]
        out["slope_per_month"] = direction * fc["slope_per_month"]
        out["slope_low"], out["slope_high"] = min(lo, hi), max(lo, hi)
        a, b = nat(fc["projected_low"]), nat(fc["projected_high"])
        out["projected_value"] = nat(fc["projected_value"])
        out["projected_low"], out["projected_high"] = min(a, b), max(a, b)
    if fc["required_pace_per_month"] is not None:
        out["required_pace_per_month"] = direction * fc["required_pace_per_month"]
    return out


def _status(status: str, zh: str, en: str) -> dict:
    return {"status": status, "status_zh": STATUS_ZH[status], "status_reason_zh": zh, "status_reason_en": en}


def _uses_year_series(v: dict) -> bool:
    rollup = v.get("ind_rollup") or v.get("rollup")
    return v.get("req_frequency") == "annual" or rollup in ("sum", "count_pass")


def forecast_rows(
    verdicts: list[dict],
    programmes: list[dict],
    thresholds_high: dict[str, float] | None = None,
    *,
    requirements: dict[str, dict] | None = None,
    min_points_monthly: int = MIN_POINTS_MONTHLY,
    min_points_yearly: int = MIN_POINTS_YEARLY,
    max_no_data_share: float = MAX_NO_DATA_SHARE,
):
    """marts.requirement_forecast and marts.campaign_forecast rows from county-level verdict dicts.

    `requirements`: dim.requirement rows by code (why a verdict is not assessable); the minimum points
    and the campaign's no-data tolerance are configurable."""
    thresholds_high = thresholds_high or {}
    requirements = requirements or {}
    acceptance = {(p["county_code"], p["campaign_code"]): p.get("acceptance_date") for p in programmes}
    by_req: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for v in verdicts:
        if v["subject_org_code"] != v["county_code"]:
            continue
        by_req[(v["county_code"], v["requirement_code"])][v["grain"]].append(v)

    req_rows: list[dict] = []
    pending: list[tuple] = []  # classify's arguments per row; classified after, trends in one batch
    for (county, req), grains in sorted(by_req.items()):
        months = sorted(grains.get("ytd_month", []), key=lambda v: period_end(v["period_code"]))
        years = sorted(grains.get("year", []), key=lambda v: period_end(v["period_code"]))
        if not months:
            continue
        yearly = _uses_year_series(months[-1])
        # Sorted by period end, so each window is a slice (found by bisection, not by filtering).
        month_ends = [period_end(v["period_code"]) for v in months]
        year_ends = [period_end(v["period_code"]) for v in years]
        for i, cur in enumerate(months):
            as_of = period_end(cur["period_code"])
            kind, target = target_for(as_of, acceptance.get((county, cur["campaign_code"])))
            start = add_months(as_of, -WINDOW_MONTHS)
            if yearly:
                y_start = add_months(as_of, -WINDOW_MONTHS_YEARLY)
                src = years[bisect.bisect_right(year_ends, y_start) : bisect.bisect_right(year_ends, as_of)]
                grain, min_points = "year", min_points_yearly
            else:
                src = months[bisect.bisect_right(month_ends, start, 0, i + 1) : i + 1]
                grain, min_points = "ytd_month", min_points_monthly
            src = [v for v in src if v.get("value") is not None]
            points = [(period_end(v["period_code"]), float(v["value"])) for v in src]
            # The verdict the status is read from: this month's, or for yearly series the last completed year.
            ref = (src[-1] if src else cur) if yearly else cur
            comparison = ref.get("comparison")
            value = ref.get("value")
            direction, threshold = direction_of(
                comparison, value, ref.get("threshold_value"), thresholds_high.get(req)
            )
            trendable = comparison not in ("qualitative", "==") and (
                value is not None or not ref.get("value_text")
            )
            status = ref["status"]
            latest_met = (
                None if status in ("no_data", "not_assessable") else is_met(status, ref.get("margin"))
            )
            if status == "not_assessable":
                threshold = None
            if trendable and direction is not None and threshold is not None:
                # Trend the margins, so threshold changes (relative references, editions, pro-rated
                # partial years) are not read as trends; convert back to natural units after.
                m_points = [
                    (period_end(v["period_code"]), float(v["margin"]))
                    for v in src
                    if v.get("margin") is not None
                ]
                args = (m_points, as_of, target, 1, 0.0, latest_met, min_points, True, ref.get("margin"))
                natural = (direction, threshold)
            else:
                args = (points, as_of, target, direction, threshold, latest_met, min_points, trendable, value)
                natural = None
            pending.append((args, natural))
            req_rows.append(
                {
                    "county_code": county,
                    "campaign_code": cur["campaign_code"],
                    "requirement_code": req,
                    "indicator_code": cur["indicator_code"],
                    "subject_org_code": county,
                    "as_of_period_code": cur["period_code"],
                    "as_of_date": as_of,
                    "is_latest": i == len(months) - 1,
                    "target_kind": kind,
                    "target_date": target,
                    "comparison": comparison,
                    "direction": direction,
                    "threshold_value": threshold,
                    "latest_period_code": ref["period_code"],
                    "latest_grain": grain,
                    "latest_status": status,
                    "latest_value": value,
                    "series_period_codes": [v["period_code"] for v in src],
                    "is_veto": cur.get("is_veto"),
                    "weight": cur.get("weight"),
                    "edition_code": cur.get("edition_code"),
                    "unassessable_cause": unassessable_cause(ref, requirements.get(req)),
                }
            )
    # Only series classify fits a trend to (trendable, with a latest value, threshold and direction).
    trends = _trends(
        [
            a[0] if a[7] and a[8] is not None and a[4] is not None and a[3] is not None else []
            for a, _ in pending
        ]
    )
    for row, (args, natural), trend in zip(req_rows, pending, trends, strict=True):
        fc = classify(*args, trend=trend)
        row.update(to_natural(fc, *natural) if natural else fc)
    return req_rows, campaign_rows(req_rows, max_no_data_share)


def _trends(series_points: list[list[tuple[dt.date, float]]]) -> list[tuple | None]:
    """The Theil–Sen trend `classify` would compute for each series (None where it fits none)."""
    todo = [
        i for i, points in enumerate(series_points) if len(points) >= 2 and len({p[0] for p in points}) >= 2
    ]
    fits = theil_sen_many(
        [([v for _, v in series_points[i]], [_x(d) for d, _ in series_points[i]]) for i in todo], BAND_ALPHA
    )
    out: list[tuple | None] = [None] * len(series_points)
    for i, fit in zip(todo, fits, strict=True):
        out[i] = fit
    return out


def campaign_rows(req_rows: list[dict], max_no_data_share: float = MAX_NO_DATA_SHARE) -> list[dict]:
    """Campaign roll-up per as-of month (rules in the module docstring)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in req_rows:
        groups[(r["county_code"], r["campaign_code"], r["as_of_period_code"])].append(r)
    latest_as_of: dict[tuple, dt.date] = {}
    for (county, campaign, _), rs in groups.items():
        d = rs[0]["as_of_date"]
        latest_as_of[(county, campaign)] = max(latest_as_of.get((county, campaign), d), d)
    passing = {"achieved", "on_track"}
    unscored = {"no_data", "insufficient_data"}
    out = []
    for (county, campaign, as_of_code), rs in sorted(groups.items()):
        n = defaultdict(int)
        for r in rs:
            n[r["status"]] += 1
        # Only requirements whose standard value is unknown to us are left out; no data counts as unmet.
        counted = [r for r in rs if r.get("unassessable_cause") != "standard"]
        weights = normalised_weights(counted)
        w_all = sum(weights.values())
        w_pass = sum(weights[r["requirement_code"]] for r in counted if r["status"] in passing)
        w_none = sum(weights[r["requirement_code"]] for r in counted if r["status"] in unscored)
        share = w_pass / w_all if w_all else None
        vetos = [r for r in rs if r.get("is_veto")]
        veto_unscored = sorted(r["requirement_code"] for r in vetos if r["status"] in unscored)
        veto_fail = sorted(
            r["requirement_code"] for r in vetos if r["status"] not in passing and r["status"] not in unscored
        )
        capped = bool(veto_fail or veto_unscored)
        scored = [r for r in counted if r["status"] not in unscored]
        unreachable = [r for r in scored if r["expected_reach_date"] is None]
        reach = [r["expected_reach_date"] for r in scored if r["expected_reach_date"] is not None]
        no_data_share = w_none / w_all if w_all else None
        if share is None or (no_data_share is not None and no_data_share > max_no_data_share):
            status = "insufficient_data"
        elif share >= 1 - 1e-12 and not capped:
            status = "on_track"
        elif not any(r["status"] in ("off_track", "deteriorating") for r in counted):
            status = "at_risk"  # nothing off track: items at risk, unscored items or vetoes cap it here
        else:
            status = "off_track"
        out.append(
            {
                "county_code": county,
                "campaign_code": campaign,
                "as_of_period_code": as_of_code,
                "as_of_date": rs[0]["as_of_date"],
                "is_latest": rs[0]["as_of_date"] == latest_as_of[(county, campaign)],
                "target_kind": rs[0]["target_kind"],
                "target_date": rs[0]["target_date"],
                "n_requirements": len(rs),
                "n_counted": len(counted),
                "n_achieved": n["achieved"],
                "n_on_track": n["on_track"],
                "n_at_risk": n["at_risk"],
                "n_off_track": n["off_track"],
                "n_deteriorating": n["deteriorating"],
                "n_no_data": n["no_data"],
                "n_insufficient_data": n["insufficient_data"],
                "n_projected_pass": n["achieved"] + n["on_track"],
                "projected_share": share,
                "no_data_weight_share": no_data_share,
                "n_veto_projected_fail": len(veto_fail),
                "n_veto_no_data": len(veto_unscored),
                "veto_blocking_codes": veto_fail + veto_unscored,
                "readiness_cap": VETO_CAP,
                "projected_readiness": None if share is None else (min(share, VETO_CAP) if capped else share),
                "projected_status": status,
                "projected_status_zh": CAMPAIGN_STATUS_ZH[status],
                "n_unreachable": len(unreachable),
                "earliest_ready_date": (
                    max(reach) if reach and not unreachable and len(scored) == len(counted) else None
                ),
                "blocking_requirement_codes": sorted(
                    r["requirement_code"] for r in counted if r["status"] not in passing
                ),
            }
        )
    return out


def build(conn: duckdb.DuckDBPyConnection) -> dict:
    from pipelines.warehouse.tables import marts

    programmes = fetch_dicts(conn, "SELECT * FROM dim.county_campaign")
    highs = {
        r["requirement_code"]: r["threshold_high"]
        for r in fetch_dicts(conn, "SELECT requirement_code, threshold_high FROM dim.requirement")
        if r["threshold_high"] is not None and not math.isnan(r["threshold_high"])
    }
    req_rows, camp_rows = forecast_rows(
        county_verdicts(conn, True), programmes, highs, requirements=requirement_info(conn)
    )
    return {marts.REQUIREMENT_FORECAST: req_rows, marts.CAMPAIGN_FORECAST: camp_rows}
