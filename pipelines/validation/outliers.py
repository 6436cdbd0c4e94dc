"""Outliers per indicator × reporting unit series: modified z-score and min–max bounds.

Modified z-score (Iglewicz & Hoaglin): z = 0.6745 · (x − median) / MAD over the unit's current
values of that indicator at one frequency; |z| > 3.5 is flagged. When MAD is 0 the mean absolute
deviation is used instead (z = (x − median) / (1.253314 · MeanAD)); a series of identical values has
no outliers. Series shorter than `MIN_HISTORY` are not scored. Min–max: values outside the
indicator's plausible bounds (`bounds:` in the rules file) are flagged too. Flagged values are kept
in core.observation and listed in quality.outlier for follow-up; nothing is dropped.
"""

from __future__ import annotations

import pandas as pd

from pipelines.validation.results import WARN, ExpectationResult, items_from_frame

Z_THRESHOLD = 3.5
MIN_HISTORY = 5
OUTLIER_CHECK = "value_outliers"


def modified_z(values: pd.Series) -> tuple[pd.Series, float, float]:
    """Modified z-scores of `values`, with the median and MAD used."""
    med = float(values.median())
    dev = (values - med).abs()
    mad = float(dev.median())
    if mad > 0:
        return 0.6745 * (values - med) / mad, med, mad
    mean_ad = float(dev.mean())
    if mean_ad > 0:
        return (values - med) / (1.253314 * mean_ad), med, mad
    return pd.Series(0.0, index=values.index), med, mad


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
        z, med, mad = modified_z(series["value"].astype(float))
        z_checked.loc[series.index] = True
        spread = (mad / 0.6745) if mad > 0 else 1.253314 * float((series["value"] - med).abs().mean())
        lo, hi = med - Z_THRESHOLD * spread, med + Z_THRESHOLD * spread
        for i in series.index[z.abs() > Z_THRESHOLD]:
            r = frame.loc[i]
            z_failed.loc[i] = True
            zh = f"{r['period_code']} 数值 {r['value']:g} 偏离该单位历史中位数 {med:g}（修正Z分数 {z[i]:.2f}，阈值 {Z_THRESHOLD}）"
            en = f"{r['period_code']} value {r['value']:g} is far from the series median {med:g} (modified z {z[i]:.2f}, threshold {Z_THRESHOLD})"
            z_detail[i] = (zh, en)
            rows.append(_row(r, "modified_z", float(z[i]), med, mad, lo, hi, len(series), zh, en))
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
            f"|modified z| ≤ {Z_THRESHOLD} within the indicator × unit series (≥ {MIN_HISTORY} values)",
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
