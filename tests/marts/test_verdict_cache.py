"""The marts read the county verdicts once per process while the verdict tables stay the same
(issue 18); a changed table is read again, and callers never share row objects."""

from __future__ import annotations

import shutil

import duckdb

from pipelines.marts import common
from tests.marts.conftest import COUNTY, insert_verdicts, verdict


def _fetches(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = common.fetch_dicts

    def counting(conn, sql, params=None):
        if "FROM compliance.verdict v" in sql:
            calls.append(sql)
        return real(conn, sql, params)

    monkeypatch.setattr(common, "fetch_dicts", counting)
    return calls


def test_same_tables_are_read_once_and_a_change_is_read_again(warehouse, monkeypatch, tmp_path):
    common._VERDICT_CACHE.clear()
    calls = _fetches(monkeypatch)
    with warehouse.get_connection() as conn:
        req, freq = conn.execute(
            "SELECT requirement_code, frequency FROM dim.requirement WHERE frequency <> 'annual' LIMIT 1"
        ).fetchone()
        insert_verdicts(
            conn,
            [
                verdict(req, "2012-06", "pass", value=99.0, margin=4.0),
                verdict(req, "2012-06", "fail", subject_org_code="511923-town1", value=1.0),
            ],
        )
        first = common.county_verdicts(conn, True)
        towns = common.county_verdicts(conn, False)
        again = common.county_verdicts(conn, True)
        assert len(calls) == 2  # county and town rows: one read each
        assert first[0]["req_frequency"] == freq
        assert first == again and first is not again and first[0] is not again[0]
        assert [r["subject_org_code"] for r in towns] == ["511923-town1"]
        again[0]["status"] = "changed by a caller"
        assert common.county_verdicts(conn, True)[0]["status"] == "pass"
        # The verdicts change (same row count): read again, new values.
        conn.execute(
            "UPDATE compliance.verdict SET status = 'fail', margin = -1 WHERE subject_org_code = ?", [COUNTY]
        )
        changed = common.county_verdicts(conn, True)
        assert len(calls) == 3 and changed[0]["status"] == "fail" and changed[0]["margin"] == -1
        # The joined requirement table changes: read again.
        conn.execute("UPDATE dim.requirement SET frequency = 'annual' WHERE requirement_code = ?", [req])
        assert common.county_verdicts(conn, True)[0]["req_frequency"] == "annual"
        assert len(calls) == 4
    # Another database file with the same content is read on its own.
    other = tmp_path / "other.duckdb"
    shutil.copy(warehouse.database_path, other)
    conn = duckdb.connect(str(other))
    try:
        assert common.county_verdicts(conn, True)[0]["req_frequency"] == "annual"
        assert len(calls) == 5
    finally:
        conn.close()
