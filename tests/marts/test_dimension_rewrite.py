"""Dimension assets skip rewriting tables that already hold their rows (issue 18: less work per
county run), and rewrite whenever the catalog, profile or calendar rows changed or the tables no
longer hold what was written."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from pipelines import dimensions
from pipelines.warehouse.schema import create_all
from pipelines.warehouse.tables import dim


@pytest.fixture
def conn(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_all(c)
    yield c
    c.close()


def _content(conn, tables) -> dict:
    return {
        t.qualified: sorted(conn.execute(f"SELECT * FROM {t.qualified}").fetchall(), key=repr) for t in tables
    }


def test_unchanged_rows_are_not_rewritten_and_changed_rows_are(conn, catalog, profile):
    rows = dimensions.profile_rows(catalog, [profile])
    counts, rewritten = dimensions.write_rows_if_changed(conn, "county_profiles", rows)
    assert rewritten and counts["dim.milestone"] == len(rows[dim.MILESTONE]) > 0
    before = _content(conn, rows)
    # The same rows again: nothing is written (no DELETE or INSERT reaches the tables).
    written = []
    real = dimensions.replace_rows
    dimensions.replace_rows = lambda *a, **k: written.append(a[1]) or real(*a, **k)
    try:
        counts2, rewritten2 = dimensions.write_rows_if_changed(conn, "county_profiles", rows)
    finally:
        dimensions.replace_rows = real
    assert not rewritten2 and counts2 == counts and written == []
    assert _content(conn, rows) == before
    # A changed profile (one milestone due later): rewritten, and the tables hold the new rows.
    m = profile.milestones[0]
    later = dataclasses.replace(m, due=m.due.replace(year=m.due.year + 1))
    changed = dataclasses.replace(profile, milestones=(later, *profile.milestones[1:]))
    new_rows = dimensions.profile_rows(catalog, [changed])
    assert new_rows != rows
    _, rewritten3 = dimensions.write_rows_if_changed(conn, "county_profiles", new_rows)
    assert rewritten3
    assert (m.code, later.due) in conn.execute(
        "SELECT milestone_code, due_date FROM dim.milestone"
    ).fetchall()
    assert _content(conn, new_rows) != before


def test_tables_changed_behind_the_assets_back_are_rewritten(conn, catalog, profile):
    rows = dimensions.catalog_rows(catalog)
    dimensions.write_rows_if_changed(conn, "standards_catalog", rows)
    want = _content(conn, rows)
    # A row edited (same count), then a table emptied (as a schema migration recreates it).
    conn.execute(
        "UPDATE dim.campaign SET name_en = 'edited' WHERE campaign_code = (SELECT min(campaign_code) FROM dim.campaign)"
    )
    _, rewritten = dimensions.write_rows_if_changed(conn, "standards_catalog", rows)
    assert rewritten and _content(conn, rows) == want
    conn.execute("DELETE FROM dim.requirement_variant")
    _, rewritten = dimensions.write_rows_if_changed(conn, "standards_catalog", rows)
    assert rewritten and _content(conn, rows) == want
    _, rewritten = dimensions.write_rows_if_changed(conn, "standards_catalog", rows)
    assert not rewritten


def test_each_asset_keeps_its_own_record(conn, catalog, profile):
    cal = dimensions.calendar_rows([profile])
    cat = dimensions.catalog_rows(catalog)
    assert dimensions.write_rows_if_changed(conn, "reporting_calendar", cal)[1]
    assert dimensions.write_rows_if_changed(conn, "standards_catalog", cat)[1]
    assert not dimensions.write_rows_if_changed(conn, "reporting_calendar", cal)[1]
    assert not dimensions.write_rows_if_changed(conn, "standards_catalog", cat)[1]
    # Fewer periods (a shorter calendar): rewritten, and the dropped periods are gone.
    shorter = {t: data[: len(data) // 2] for t, data in cal.items()}
    assert dimensions.write_rows_if_changed(conn, "reporting_calendar", shorter)[1]
    assert conn.execute("SELECT count(*) FROM dim.period").fetchone()[0] == len(shorter[dim.PERIOD])
