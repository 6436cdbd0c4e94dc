"""Small pure computations the pages need when the marts (issue 5) do not provide them yet.

No Streamlit import: readiness from verdicts, a Theil–Sen trend with an uncertainty band,
modified z-score outliers, month-over-month status changes and a transparent timeliness ranking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ASSESSED = ("pass", "near", "fail", "no_data")


VETO_CAP = 0.6  # same rule as marts.campaign_readiness


def readiness(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per campaign × period: weighted share of requirements met, capped at VETO_CAP by a failing veto item.

    The rule of marts.campaign_readiness, for when the mart is not built: met = pass, or near with
    margin >= 0; not_assessable is left out of the denominator; no_data counts as not met. Columns: campaign_code, period_code, readiness, n_pass, n_near, n_fail, n_no_data, veto_failed.
    """
    cols = [
        "campaign_code",
        "period_code",
        "readiness",
        "n_pass",
        "n_near",
        "n_fail",
        "n_no_data",
        "veto_failed",
    ]
    if verdicts.empty:
        return pd.DataFrame(columns=cols)
    v = verdicts[verdicts["status"].isin(ASSESSED)].copy()
    if v.empty:
        return pd.DataFrame(columns=cols)
    v["weight"] = v["weight"].fillna(1.0).astype(float)
    margin = v["margin"] if "margin" in v else pd.Series(np.nan, index=v.index)
    near_ok = (v["status"] == "near") & (margin.fillna(-1) >= 0)
    met = (v["status"] == "pass") | near_ok
    v["w_pass"] = np.where(met, v["weight"], 0.0)
    failing = (v["status"] == "fail") | ((v["status"] == "near") & ~near_ok)
    v["veto_fail"] = v["is_veto"].fillna(False).astype(bool) & failing
    g = v.groupby(["campaign_code", "period_code"], sort=True)
    out = g.agg(
        w_pass=("w_pass", "sum"),
        w_all=("weight", "sum"),
        n_pass=("status", lambda s: int((s == "pass").sum())),
        n_near=("status", lambda s: int((s == "near").sum())),
        n_fail=("status", lambda s: int((s == "fail").sum())),
        n_no_data=("status", lambda s: int((s == "no_data").sum())),
        veto_failed=("veto_fail", "any"),
    ).reset_index()
    share = np.where(out["w_all"] > 0, out["w_pass"] / out["w_all"].where(out["w_all"] > 0, 1), 0.0)
    out["readiness"] = np.where(out["veto_failed"], np.minimum(share, VETO_CAP), share)
    return out[cols]


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Median of pairwise slopes and the matching intercept."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 2:
        return 0.0, float(y[0]) if n else 0.0
    i, j = np.triu_indices(n, k=1)
    dx = x[j] - x[i]
    ok = dx != 0
    slope = float(np.median((y[j] - y[i])[ok] / dx[ok])) if ok.any() else 0.0
    intercept = float(np.median(y - slope * x))
    return slope, intercept


def forecast(
    dates: pd.Series, values: pd.Series, until: pd.Timestamp, min_points: int = 4
) -> pd.DataFrame | None:
    """Monthly projection from the last value to `until` with a band of ±1.96 × residual MAD scale,
    widening with the horizon. None when there are fewer than `min_points` points."""
    d = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    v = pd.Series(values, dtype=float).reset_index(drop=True)
    ok = v.notna() & d.notna()
    d, v = d[ok], v[ok]
    if len(v) < min_points:
        return None
    t0 = d.min()
    x = ((d - t0).dt.days / 30.4375).to_numpy()
    slope, icpt = theil_sen(x, v.to_numpy())
    resid = v.to_numpy() - (icpt + slope * x)
    scale = 1.4826 * float(np.median(np.abs(resid - np.median(resid)))) or float(np.std(resid)) or 0.0
    last = d.max()
    until = pd.Timestamp(until)
    if until <= last:
        return None
    future = pd.date_range(last, until, freq="ME")
    if len(future) == 0 or future[-1] < until:
        future = future.append(pd.DatetimeIndex([until]))
    xf = ((future - t0).days / 30.4375).to_numpy()
    horizon = np.maximum(xf - x.max(), 0)
    widen = np.sqrt(1 + horizon / max(len(v), 1))
    mid = icpt + slope * xf
    return pd.DataFrame(
        {"date": future, "value": mid, "low": mid - 1.96 * scale * widen, "high": mid + 1.96 * scale * widen}
    )


def outliers(values: pd.Series, threshold: float = 3.5) -> pd.Series:
    """Modified z-score (Iglewicz–Hoaglin) above `threshold`; all False when the MAD is zero."""
    v = pd.Series(values, dtype=float)
    med = v.median()
    mad = (v - med).abs().median()
    if not mad or np.isnan(mad):
        return pd.Series(False, index=v.index)
    z = 0.6745 * (v - med) / mad
    return z.abs() > threshold


def status_changes(history: pd.DataFrame, period: str) -> pd.DataFrame:
    """Requirements whose status at `period` differs from the previous month they were assessed."""
    cols = ["requirement_code", "campaign_code", "indicator_code", "before", "after"]
    if history.empty:
        return pd.DataFrame(columns=cols)
    periods = sorted(p for p in history["period_code"].unique() if p <= period)
    if len(periods) < 2 or periods[-1] != period:
        return pd.DataFrame(columns=cols)
    prev, cur = periods[-2], periods[-1]
    a = history.loc[history["period_code"] == prev, ["requirement_code", "status"]]
    b = history.loc[
        history["period_code"] == cur, ["requirement_code", "campaign_code", "indicator_code", "status"]
    ]
    joined = b.merge(a, on="requirement_code", how="inner", suffixes=("", "_before"))
    changed = joined[joined["status"] != joined["status_before"]]
    changed = changed.rename(columns={"status_before": "before", "status": "after"})
    return changed[cols]


def timeliness_ranking(subs: pd.DataFrame) -> pd.DataFrame:
    """Per unit: returns (first revisions), on time, late, mean working days late, resubmissions,
    values quarantined, and score = 100 × on-time share − 2 × mean days late − 1 × quarantined share %.
    Sorted best first."""
    cols = [
        "org_code",
        "org_name_zh",
        "org_name_en",
        "returns",
        "on_time",
        "late",
        "mean_days_late",
        "resubmissions",
        "values_quarantined",
        "score",
    ]
    if subs.empty:
        return pd.DataFrame(columns=cols)
    first = subs[subs["revision_no"].fillna(1) == 1]
    g = first.groupby(["org_code", "org_name_zh", "org_name_en"], dropna=False)
    out = g.agg(
        returns=("submission_id", "count"),
        on_time=("is_on_time", lambda s: int(s.fillna(False).astype(bool).sum())),
        mean_days_late=("working_days_late", lambda s: float(s.fillna(0).clip(lower=0).mean())),
        values_loaded=("values_loaded", "sum"),
    ).reset_index()
    out["late"] = out["returns"] - out["on_time"]
    extra = subs.groupby("org_code").agg(
        resubmissions=("revision_no", lambda s: int((s.fillna(1) > 1).sum())),
        values_quarantined=("values_quarantined", "sum"),
    )
    out = out.join(extra, on="org_code")
    q_share = (
        100 * out["values_quarantined"] / (out["values_loaded"] + out["values_quarantined"]).clip(lower=1)
    )
    out["score"] = (
        100 * out["on_time"] / out["returns"].clip(lower=1) - 2 * out["mean_days_late"] - q_share
    ).round(1)
    return out.sort_values(["score", "org_code"], ascending=[False, True])[cols].reset_index(drop=True)
