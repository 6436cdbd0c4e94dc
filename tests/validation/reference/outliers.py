"""Outliers per indicator × reporting unit series: modified z-score and min–max bounds.

Modified z-score (Iglewicz & Hoaglin) on the unit's current values of one indicator at one
frequency, in period order. The campaigns move values steadily (a rate climbing from 80% to 98%
over three years), so the score is taken on the residual from a centred rolling median of
`WINDOW` periods rather than on the raw values: z = 0.6745 · (r − median(r)) / MAD(r), |z| > 3.5
flagged. The spread has a floor (`SPREAD_FLOOR` of |median value|, and 1 for whole-number series)
so that near-constant series (100, 100, 99.9, 100 …) do not flag rounding. Series shorter than
`MIN_HISTORY` (e.g. six annual values) are not scored. Min–max: values outside the indicator's
plausible bounds (`bounds:` in the rules file) are flagged too. Flagged values are kept in
core.observation and listed in quality.outlier for follow-up; nothing is dropped.
"""

from __future__ import annotations

import pandas as pd

from tests.validation.reference.results import WARN, ExpectationResult, items_from_frame

Z_THRESHOLD = 3.5
MIN_HISTORY = 8
WINDOW = 5
SPREAD_FLOOR = 0.02
OUTLIER_CHECK = "value_outliers"


def series_scores(values: pd.Series) -> tuple[pd.Series, pd.Series, float]:
    """(z-scores, local baseline, spread) of a series in period order, as described above."""
    x = values.astype(float).reset_index(drop=True)
    base = x.rolling(WINDOW, center=True, min_periods=3).median().fillna(x.median())
    r = x - base
    med_r = float(r.median())
    mad = float((r - med_r).abs().median())
    floor = SPREAD_FLOOR * abs(float(x.median()))
    if bool((x == x.round()).all()):
        floor = max(floor, 1.0)
    spread = max(mad / 0.6745, floor, 1e-9)
    z = (r - med_r) / spread
    z.index, base.index = values.index, values.index
    return z, base + med_r, spread


def find_outliers(
    frame: pd.DataFrame, bounds: dict[str, tuple[float | None, float | None]] | None = None
) -> tuple[list[ExpectationResult], list[dict]]:
    """Score every current numeric value; returns the two expectations and the quality.outlier rows."""
    bounds = bounds or {}
    cur = frame[frame["is_current"].astype(bool) & frame["value"].notna()]
    z_failed = pd.Series(False, index=frame.index)
    z_checked = pd.Series(False, index=frame.index)
    rows: list[dict] = []
    z_detail: dict[int, tuple[str, str]] = {}
    group_cols = ["indicator_code", "org_code", "period_frequency"]
    for _, series in cur.groupby(group_cols, dropna=False, sort=True):
        if len(series) < MIN_HISTORY:
            continue
        series = series.sort_values("period_start")
        z, base, spread = series_scores(series["value"])
        z_checked.loc[series.index] = True
        for i in series.index[z.abs() > Z_THRESHOLD]:
            r = frame.loc[i]
            b = float(base[i])
            lo, hi = b - Z_THRESHOLD * spread, b + Z_THRESHOLD * spread
            z_failed.loc[i] = True
            zh = (
                f"{r['period_code']} 数值 {r['value']:g} 偏离前后各期的中位数 {b:.4g}"
                f"（修正Z分数 {z[i]:.2f}，阈值 {Z_THRESHOLD}；合理区间 {lo:.4g}–{hi:.4g}）"
            )
            en = (
                f"{r['period_code']} value {r['value']:g} is far from the neighbouring periods' median {b:.4g} "
                f"(modified z {z[i]:.2f}, threshold {Z_THRESHOLD}; expected {lo:.4g}–{hi:.4g})"
            )
            z_detail[i] = (zh, en)
            rows.append(_row(r, "modified_z", float(z[i]), b, spread * 0.6745, lo, hi, len(series), zh, en))
    mm_failed = pd.Series(False, index=frame.index)
    mm_checked = cur["indicator_code"].isin(bounds)
    for i in cur.index[mm_checked]:
        r = frame.loc[i]
        lo, hi = bounds[r["indicator_code"]]
        v = float(r["value"])
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            mm_failed.loc[i] = True
            b = f"{'' if lo is None else f'{lo:g} ≤ '}value{'' if hi is None else f' ≤ {hi:g}'}"
            zh = f"{r['period_code']} 数值 {v:g} 超出合理范围 {b}"
            en = f"{r['period_code']} value {v:g} outside the plausible range {b}"
            rows.append(_row(r, "min_max", None, None, None, lo, hi, None, zh, en))
    z_items = items_from_frame(frame[z_checked], z_failed)
    for i, (zh, en) in z_detail.items():
        z_items.loc[i, "detail_zh"], z_items.loc[i, "detail_en"] = zh, en
    results = [
        ExpectationResult(
            OUTLIER_CHECK,
            "modified_z",
            WARN,
            "accuracy",
            f"|modified z| ≤ {Z_THRESHOLD} on the residual from a {WINDOW}-period rolling median (series ≥ {MIN_HISTORY} values)",
            "outlier",
            "数值明显偏离本单位该指标的历史数值",
            "value far from the unit's history of this indicator",
            z_items,
        ),
        ExpectationResult(
            OUTLIER_CHECK,
            "min_max",
            WARN,
            "accuracy",
            "indicator's plausible min–max (bounds in validation_rules.yaml)",
            "outlier",
            "数值超出该指标的合理范围",
            "value outside the indicator's plausible range",
            items_from_frame(frame[mm_checked.reindex(frame.index, fill_value=False)], mm_failed),
        ),
    ]
    return results, rows


def _row(r, method, score, med, mad, lo, hi, n, zh, en) -> dict:
    return {
        "observation_id": r["observation_id"],
        "method": method,
        "indicator_code": r["indicator_code"],
        "org_code": r["org_code"],
        "period_code": r["period_code"],
        "value": float(r["value"]),
        "score": score,
        "median": med,
        "mad": mad,
        "bound_low": lo,
        "bound_high": hi,
        "n_history": n,
        "file_id": r.get("file_id"),
        "sheet": r.get("sheet"),
        "cell": r.get("cell"),
        "follow_up": "open",
        "message_zh": zh,
        "message_en": en,
    }
