"""Result objects shared by every check: what was checked, what failed, with lineage to the cell.

An `ExpectationResult` holds one row per evaluated item (a value, or a rule evaluation) with the
columns of `ITEM_COLUMNS`; a `CheckReport` groups expectations under one Dagster asset check with a
severity and an allowed failure rate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

ITEM_COLUMNS = [
    "org_code",
    "period_code",
    "indicator_code",
    "failed",
    "observation_id",
    "file_id",
    "file_name",
    "sheet",
    "cell",
    "value",
    "raw_text",
    "detail_zh",
    "detail_en",
]

ERROR = "ERROR"
WARN = "WARN"


def empty_items() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_COLUMNS})


def items_from_frame(
    frame: pd.DataFrame, failed: pd.Series, detail_zh: str = "", detail_en: str = ""
) -> pd.DataFrame:
    """Items for rows of an (enriched) observation frame; `failed` is a boolean mask on the same index."""
    out = pd.DataFrame(index=frame.index)
    for c in ITEM_COLUMNS:
        if c in frame.columns:
            out[c] = frame[c].astype(object)
    out["failed"] = failed.reindex(frame.index).fillna(False).astype(bool)
    out["detail_zh"] = detail_zh
    out["detail_en"] = detail_en
    return out.reindex(columns=ITEM_COLUMNS)


_OWN = ("failed", "detail_zh", "detail_en")


class ItemSource:
    """`items_from_frame` for many row selections of one frame, with its columns converted once.

    `items(rows, failed, zh, en)` equals `items_from_frame(frame[rows], failed, zh, en)` (same
    values, dtypes, index and column order; tests/validation/test_shared_evaluation.py), but the
    object conversion of the item columns is paid once per frame instead of once per expectation.
    """

    def __init__(self, frame: pd.DataFrame):
        self.index = frame.index
        self._cols = [c for c in ITEM_COLUMNS if c in frame.columns and c not in _OWN]
        self._base = pd.DataFrame({c: frame[c].astype(object) for c in self._cols}, index=frame.index)

    def items(
        self, rows: pd.Series, failed: pd.Series, detail_zh: str = "", detail_en: str = ""
    ) -> pd.DataFrame:
        out = self._base[rows.reindex(self.index, fill_value=False).to_numpy(dtype=bool)]
        out["failed"] = failed.reindex(out.index).fillna(False).astype(bool)
        out["detail_zh"] = detail_zh
        out["detail_en"] = detail_en
        return out.reindex(columns=ITEM_COLUMNS)


def _clean(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT or (not isinstance(v, (list, tuple, dict)) and pd.isna(v)):
        return None
    if isinstance(v, float):
        return round(v, 6)
    return v if isinstance(v, (int, bool)) else str(v)


@dataclass
class ExpectationResult:
    check_name: str
    key: str  # stable name of the expectation / rule inside the check
    severity: str  # ERROR | WARN
    dimension: str  # completeness | validity | uniqueness | timeliness | consistency | accuracy
    bound: str  # the bound checked, human-readable
    reason_code: str
    description_zh: str
    description_en: str
    items: pd.DataFrame = field(default_factory=empty_items)
    error: str | None = None  # set when the expectation could not be evaluated at all

    @property
    def n_checked(self) -> int:
        return len(self.items)

    @property
    def n_failed(self) -> int:
        return int(self.items["failed"].astype(bool).sum()) if len(self.items) else 0

    @property
    def failed(self) -> pd.DataFrame:
        return self.items[self.items["failed"].astype(bool)] if len(self.items) else self.items

    @property
    def success(self) -> bool:
        return self.error is None and self.n_failed == 0


def examples(results: list[ExpectationResult], limit: int = 5) -> list[dict]:
    """Up to `limit` concrete failing values (file, sheet, cell, value, bound), spread over expectations."""
    out: list[dict] = []
    queues = [(r, r.failed.head(limit)) for r in results if r.n_failed]
    i = 0
    while len(out) < limit and any(i < len(q) for _, q in queues):
        for r, q in queues:
            if i < len(q) and len(out) < limit:
                row = q.iloc[i]
                out.append(
                    {
                        "expectation": r.key,
                        "file": _clean(row.get("file_name")) or _clean(row.get("file_id")),
                        "sheet": _clean(row.get("sheet")),
                        "cell": _clean(row.get("cell")),
                        "org_code": _clean(row.get("org_code")),
                        "indicator_code": _clean(row.get("indicator_code")),
                        "period_code": _clean(row.get("period_code")),
                        "value": _clean(row.get("value")),
                        "raw_text": _clean(row.get("raw_text")),
                        "bound": r.bound,
                        "detail": _clean(row.get("detail_en")) or r.description_en,
                    }
                )
        i += 1
    return out


@dataclass
class CheckReport:
    """One Dagster asset check: a group of expectations with a severity and an allowed failure rate."""

    check_name: str
    severity: str
    threshold_rate: float
    description_zh: str
    description_en: str
    results: list[ExpectationResult]

    @property
    def n_checked(self) -> int:
        return sum(r.n_checked for r in self.results)

    @property
    def n_failed(self) -> int:
        return sum(r.n_failed for r in self.results)

    @property
    def rate(self) -> float:
        return self.n_failed / self.n_checked if self.n_checked else 0.0

    @property
    def errors(self) -> list[str]:
        return [f"{r.key}: {r.error}" for r in self.results if r.error]

    @property
    def passed(self) -> bool:
        return not self.errors and self.rate <= self.threshold_rate + 1e-12

    def failing(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.n_failed or r.error]

    def summary(self) -> tuple[str, str]:
        """One line each in Chinese and English: observed rate vs allowed, and what failed."""
        what = "; ".join(f"{r.key} ({r.n_failed}/{r.n_checked})" for r in self.failing()[:6])
        zh = (
            f"{self.description_zh}：{self.n_failed}/{self.n_checked} 项未通过（{self.rate:.2%}），"
            f"允许 {self.threshold_rate:.2%}" + (f"；未通过：{what}" if what else "")
        )
        en = (
            f"{self.description_en}: {self.n_failed}/{self.n_checked} failed ({self.rate:.2%}), "
            f"allowed {self.threshold_rate:.2%}" + (f"; failing: {what}" if what else "")
        )
        if self.errors:
            zh += "；无法评估：" + "; ".join(self.errors)
            en += "; could not evaluate: " + "; ".join(self.errors)
        return zh, en

    def metadata(self) -> dict:
        """Plain-python metadata (the asset wrapper turns it into Dagster metadata values)."""
        zh, en = self.summary()
        return {
            "summary_zh": zh,
            "summary_en": en,
            "n_checked": self.n_checked,
            "n_failed": self.n_failed,
            "failure_rate": round(self.rate, 6),
            "threshold_rate": self.threshold_rate,
            "failing_expectations": [
                {
                    "expectation": r.key,
                    "bound": r.bound,
                    "n_failed": r.n_failed,
                    "n_checked": r.n_checked,
                    "rate": round(r.n_failed / r.n_checked, 6) if r.n_checked else None,
                    "error": r.error,
                }
                for r in self.failing()
            ],
            "examples": examples(self.results),
        }


def examples_json(results: list[ExpectationResult], limit: int = 5) -> str:
    return json.dumps(examples(results, limit), ensure_ascii=False)
