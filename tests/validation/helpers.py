"""Synthetic observation rows for validation tests (no files, no parser)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.catalog.model import Catalog
from pipelines.validation.frame import enrich

COUNTY = "511923"


def obs(
    indicator: str,
    org: str,
    period: str,
    value: float | None,
    *,
    catalog: Catalog,
    text: str | None = None,
    revision: int = 1,
    current: bool = True,
    received: dt.datetime | None = None,
    oid: str | None = None,
    unit: str | None = None,
    cell: str = "G4",
) -> dict:
    org_code = org if org.startswith(COUNTY) else f"{COUNTY}-{org}"
    ind = catalog.indicators.get(indicator)
    return {
        "observation_id": oid or f"{org_code}:{indicator}:{period}:r{revision}",
        "submission_id": f"file-{org}-{period}:{org_code}:{period}",
        "file_id": f"file-{org}-{period}",
        "county_code": COUNTY,
        "org_code": org_code,
        "indicator_code": indicator,
        "period_code": period,
        "value": value,
        "value_text": text,
        "raw_text": text if text is not None else ("" if value is None else f"{value:g}"),
        "unit": unit if unit is not None else (ind.unit if ind else "%"),
        "sheet": "填报表",
        "cell": cell,
        "revision_no": revision,
        "valid_from": received or dt.datetime(2016, 12, 31, 9, 0),
        "valid_to": None,
        "is_current": current,
        "file_name": f"{period}_{org}.xlsx",
    }


def frame(rows: list[dict], catalog: Catalog) -> pd.DataFrame:
    return enrich(pd.DataFrame(rows), catalog)
