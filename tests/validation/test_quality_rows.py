"""`QualityRun.check_result_rows` counts by a vectorised group-by (issue 18): the same rows, in the
same order, as the item-by-item grouping it replaced (kept here as the reference)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from pipelines.validation.quality import QualityRun
from pipelines.validation.results import ITEM_COLUMNS, CheckReport, ExpectationResult, examples


def reference_rows(run: QualityRun) -> list[dict]:
    """The loop over `groupby` groups that `check_result_rows` used before (one object per group)."""
    rows = []
    for rep in run.reports.values():
        for r in rep.results:
            if not r.n_checked and not r.error:
                continue
            items = r.items.copy()
            items["org_code"] = items["org_code"].where(items["org_code"].notna(), "?").astype(str)
            items["period_code"] = items["period_code"].where(items["period_code"].notna(), "?").astype(str)
            groups = items.groupby(["org_code", "period_code"], sort=True) if len(items) else []
            for (org, period), g in groups:
                sub = ExpectationResult(
                    r.check_name, r.key, r.severity, r.dimension, r.bound, r.reason_code,
                    r.description_zh, r.description_en, g,
                )  # fmt: skip
                n, f = sub.n_checked, sub.n_failed
                rows.append(
                    {
                        "check_name": r.check_name,
                        "expectation": r.key,
                        "dimension": r.dimension,
                        "severity": r.severity,
                        "org_code": org,
                        "period_code": period,
                        "n_checked": n,
                        "n_failed": f,
                        "failure_rate": f / n if n else 0.0,
                        "threshold_rate": rep.threshold_rate,
                        "bound": r.bound,
                        "passed": f == 0,
                        "examples": json.dumps(examples([sub]), ensure_ascii=False) if f else None,
                        "message_zh": f"{r.description_zh}：{f}/{n} 未通过（{r.bound}）"
                        if f
                        else r.description_zh,
                        "message_en": f"{r.description_en}: {f}/{n} failed ({r.bound})"
                        if f
                        else r.description_en,
                        "evaluated_at": run.evaluated_at,
                    }
                )
            if r.error:
                rows.append(
                    {
                        "check_name": r.check_name,
                        "expectation": r.key,
                        "dimension": r.dimension,
                        "severity": r.severity,
                        "org_code": "?",
                        "period_code": "?",
                        "n_checked": 0,
                        "n_failed": 0,
                        "failure_rate": None,
                        "threshold_rate": rep.threshold_rate,
                        "bound": r.bound,
                        "passed": False,
                        "examples": None,
                        "message_zh": f"无法评估：{r.error}",
                        "message_en": f"could not evaluate: {r.error}",
                        "evaluated_at": run.evaluated_at,
                    }
                )
    return rows


def _items(n: int, seed: int, fail_share: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    orgs = np.array(["sthjj", "wjw", "zjj", None, "zzz"], dtype=object)
    periods = np.array(["2012-03", "2012-04", "2013-Q1", None, "2012"], dtype=object)
    df = pd.DataFrame(
        {
            "org_code": orgs[rng.integers(0, len(orgs), n)],
            "period_code": periods[rng.integers(0, len(periods), n)],
            "indicator_code": [f"ind{k % 7}" for k in range(n)],
            "failed": rng.random(n) < fail_share,
            "observation_id": [f"obs{k}" if k % 11 else None for k in range(n)],
            "file_id": [f"f{k % 13}" for k in range(n)],
            "file_name": [f"文件{k % 13}.xlsx" if k % 5 else np.nan for k in range(n)],
            "sheet": ["表1"] * n,
            "cell": [f"B{k + 2}" for k in range(n)],
            "value": [float(k) / 3 if k % 4 else np.nan for k in range(n)],
            "raw_text": [str(k) for k in range(n)],
            "detail_zh": ["" if k % 2 else "超出范围" for k in range(n)],
            "detail_en": ["" if k % 2 else "out of range" for k in range(n)],
        }
    )
    if seed % 2:  # failed as an object column holding None, like some rule results
        df["failed"] = df["failed"].astype(object).where(rng.random(n) > 0.1, None)
    return df[ITEM_COLUMNS]


def _result(key: str, items: pd.DataFrame, error: str | None = None) -> ExpectationResult:
    return ExpectationResult(
        "structure", key, "ERROR", "validity", "0 ≤ x ≤ 100", "out_of_range", "范围", "range", items, error
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_vectorised_rows_equal_the_group_by_group_rows(seed):
    results = [
        _result("a", _items(400, seed, 0.05)),
        _result("b", _items(60, seed + 10, 0.0)),  # nothing fails: no examples
        _result("c", _items(90, seed + 20, 0.9)),  # almost everything fails: five examples each
        _result("d", _items(0, seed, 0.0), error="boom"),  # could not be evaluated
        _result("e", _items(0, seed, 0.0)),  # nothing checked: no row
        _result("f", _items(5, seed + 30, 0.5), error="partly"),
    ]
    run = QualityRun(
        {"structure": CheckReport("structure", "ERROR", 0.01, "结构", "structure", results)},
        evaluated_at=dt.datetime(2026, 11, 30, 12, 0),
    )
    got, want = run.check_result_rows(), reference_rows(run)
    assert len(want) > 20 and any(r["examples"] for r in want) and any(r["org_code"] == "?" for r in want)
    assert got == want
