"""Fixtures of the marts tests: a temporary warehouse with the real dimensions (built once, copied per
test) and helpers that insert synthetic verdicts and submissions."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import dimensions
from pipelines.resources import WarehouseResource
from pipelines.warehouse.schema import create_all
from pipelines.warehouse.tables import compliance, core

COUNTY = "511923"


@pytest.fixture(scope="session")
def dims_db(tmp_path_factory, catalog, profile) -> Path:
    path = tmp_path_factory.mktemp("dims") / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    try:
        create_all(conn)
        for rows in (
            dimensions.catalog_rows(catalog),
            dimensions.profile_rows(catalog, [profile]),
            dimensions.calendar_rows([profile]),
        ):
            dimensions.write_rows(conn, rows)
    finally:
        conn.close()
    return path


@pytest.fixture
def warehouse(dims_db, tmp_settings) -> WarehouseResource:
    """A WarehouseResource on a fresh copy of the dimension-only warehouse under tmp_settings."""
    shutil.copy(dims_db, tmp_settings.warehouse_path)
    return WarehouseResource.from_settings(tmp_settings)


def verdict(requirement: str, period: str, status: str, **kw) -> dict:
    grain = "year" if len(period) == 4 else "ytd_month"
    row = {
        "county_code": COUNTY,
        "requirement_code": requirement,
        "campaign_code": kw.pop("campaign_code", "hygienic_county"),
        "edition_code": kw.pop("edition_code", "hyg_county_2010"),
        "indicator_code": kw.pop("indicator_code", requirement),
        "subject_org_code": kw.pop("subject_org_code", COUNTY),
        "reporting_org_code": None,
        "period_code": period,
        "grain": grain,
        "status": status,
        "comparison": ">=",
        "weight": 1.0,
        "is_veto": False,
        "n_observations": 1,
        "observation_ids": [f"obs:{requirement}:{period}"],
    }
    row.update(kw)
    return row


def insert(conn: duckdb.DuckDBPyConnection, table, rows: list[dict]) -> None:
    names = table.column_names
    conn.executemany(
        f"INSERT INTO {table.qualified} VALUES ({', '.join('?' for _ in names)})",
        [tuple(r.get(n) for n in names) for r in rows],
    )


def insert_verdicts(conn, rows: list[dict]) -> None:
    insert(conn, compliance.VERDICT, rows)


def submission(
    org: str, period: str, received: dt.datetime, due: dt.date, late: int, rev: int = 1, **kw
) -> dict:
    fid = kw.pop("file_id", f"f-{org}-{period}-{rev}")
    return {
        "submission_id": f"{fid}:{org}:{period}",
        "file_id": fid,
        "county_code": COUNTY,
        "org_code": org,
        "period_code": period,
        "revision_no": rev,
        "received_at": received,
        "due_date": due,
        "working_days_late": late,
        "is_on_time": late == 0,
        "is_current": kw.pop("is_current", True),
        "values_loaded": kw.pop("values_loaded", 2),
        "values_quarantined": kw.pop("values_quarantined", 0),
    }


def insert_submissions(conn, rows: list[dict]) -> None:
    insert(conn, core.SUBMISSION, rows)
