"""Verdicts and coverage go into the warehouse as Arrow tables (issue 18); the tables hold exactly
what the pandas path (`store.replace_frame`) wrote, including NULLs, NaN, lists and dates."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.validation import compliance
from pipelines.validation.store import replace_frame
from pipelines.warehouse.schema import create_all
from pipelines.warehouse.tables import compliance as tables


def _verdict(county: str, i: int, **kw) -> dict:
    row = {
        "county_code": county,
        "requirement_code": f"req_{i}",
        "campaign_code": "hygienic_county",
        "edition_code": "hyg_county_2010",
        "indicator_code": f"ind_{i}",
        "subject_org_code": county,
        "period_code": "2012-06",
        "grain": "ytd_month",
        "status": ["pass", "near", "fail", "no_data"][i % 4],
        "value": None if i % 4 == 3 else 10.5 * i,
        "margin": float("nan") if i == 5 else (None if i % 4 == 3 else i - 2.25),
        "threshold_value": 3,  # an int into a DOUBLE column
        "n_observations": i,
        "observation_ids": [f"obs:{i}:{k}" for k in range(i % 3)],
        "is_veto": i % 2 == 0,
        "period_end": dt.date(2012, 6, 30),
        "value_age_days": None,
        "explanation_zh": f"说明 {i}",
    }
    row.update(kw)
    return row


def _coverage(county: str) -> dict:
    return {
        "county_code": county,
        "campaign_code": "hygienic_county",
        "period_code": "2012-06",
        "grain": "ytd_month",
        "edition_code": "hyg_county_2010",
        "period_end": dt.date(2012, 6, 30),
        "n_requirements": 8,
        "coverage": 0.625,
        "label_zh": "覆盖",
    }


def _db(path):
    conn = duckdb.connect(str(path))
    create_all(conn)
    return conn


def _content(conn) -> dict:
    return {
        t.qualified: sorted(conn.execute(f"SELECT * FROM {t.qualified}").fetchall(), key=repr)
        for t in (tables.VERDICT, tables.COVERAGE)
    }


def _old_write(conn, rows, coverage, counties):
    where, params = "county_code IN (SELECT unnest(?))", [counties]
    conn.execute("BEGIN TRANSACTION")
    replace_frame(conn, tables.VERDICT, rows, where=where, params=params)
    replace_frame(conn, tables.COVERAGE, coverage, where=where, params=params)
    conn.execute("COMMIT")


@pytest.mark.parametrize("mixed", [False, True])
def test_write_verdicts_equals_the_pandas_path(tmp_path, mixed):
    rows = [_verdict("511923", i) for i in range(1, 13)]
    if mixed:  # a column Arrow cannot type (text and numbers): handed to the pandas path
        rows[0]["value_text"] = 7
        rows[1]["value_text"] = "七"
    others = [_verdict("519001", i) for i in range(1, 4)]
    new, old = _db(tmp_path / "new.duckdb"), _db(tmp_path / "old.duckdb")
    try:
        for conn, write in ((new, compliance.write_verdicts), (old, _old_write)):
            write(conn, others, [_coverage("519001")], ["519001"])
            write(conn, rows, [_coverage("511923")], ["511923"])
            # Rewriting a county replaces its rows only.
            write(conn, rows[:10], [_coverage("511923")], ["511923"])
        assert compliance.write_verdicts(new, rows[:10], [_coverage("511923")], ["511923"]) == 10
        got, want = _content(new), _content(old)
        assert got == want
        verdicts = got["compliance.verdict"]
        assert len(verdicts) == 13
        margins = new.execute(
            "SELECT margin FROM compliance.verdict WHERE requirement_code = 'req_5'"
        ).fetchall()
        assert margins == [(None,)]  # NaN stored as NULL, as before
        assert new.execute(
            "SELECT observation_ids FROM compliance.verdict WHERE requirement_code = 'req_2' AND county_code = '511923'"
        ).fetchall() == [(["obs:2:0", "obs:2:1"],)]
    finally:
        new.close()
        old.close()


def test_a_failed_write_leaves_the_previous_verdicts(tmp_path):
    conn = _db(tmp_path / "w.duckdb")
    try:
        compliance.write_verdicts(conn, [_verdict("511923", 1)], [_coverage("511923")], ["511923"])
        before = _content(conn)
        bad = [_verdict("511923", 2), _verdict("511923", 2)]  # duplicate primary key
        with pytest.raises(duckdb.ConstraintException):
            compliance.write_verdicts(conn, bad, [_coverage("511923")], ["511923"])
        assert _content(conn) == before
    finally:
        conn.close()
