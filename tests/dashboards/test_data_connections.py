"""The data module's connections and county filters: one kept read-only connection per published
snapshot, a cursor per query, a new connection (and the old one released) when CURRENT moves, the
writer's file never opened; quarantine() and observations() give the same rows as the plain joins
they replaced, also on dirty data (files of another county, files whose county is unknown)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboards import data, sql_guard
from pipelines.warehouse.publish import publish
from tests.dashboards import synthetic

pytestmark = pytest.mark.usefixtures("as_office")  # data calls outside a session: the office's scope

COUNTY, OTHER = "511923", "511900"

# the queries as they were before the county filters were pushed down (the reference)
OLD_QUARANTINE = """
    SELECT q.file_name, q.sheet, q.cell, q.org_code, q.period_code, q.indicator_code, q.raw_text,
           q.scope, q.reason_code, q.message_zh, q.message_en, q.detected_at
    FROM core.quarantine q
    LEFT JOIN core.source_file f ON f.file_id = q.file_id
    WHERE f.county_code = ? OR f.county_code IS NULL
    ORDER BY q.detected_at DESC NULLS LAST, q.file_name, q.sheet, q.cell
"""
OLD_OBSERVATIONS = """
    SELECT o.observation_id, o.org_code, ou.name_zh AS org_name_zh, ou.name_en AS org_name_en,
           o.period_code, p.frequency, p.end_date, o.value, o.value_text, o.raw_text, o.unit,
           f.file_name, f.path, o.sheet, o.cell, o.revision_no, o.valid_from, o.valid_to, o.is_current
    FROM core.observation o
    LEFT JOIN core.source_file f ON f.file_id = o.file_id
    LEFT JOIN dim.org_unit ou ON ou.org_code = o.org_code
    LEFT JOIN dim.period p ON p.period_code = o.period_code
    WHERE o.county_code = ? AND o.indicator_code = ?
    ORDER BY p.end_date, o.org_code, o.revision_no
"""


def _clear_caches() -> None:
    data._query.clear()
    data._catalog.clear()
    data._connection.clear()
    data._current.clear()


@pytest.fixture
def fresh(tmp_settings):
    """A dims-only warehouse published in tmp, every cache of the data module empty."""
    _clear_caches()
    synthetic.build(tmp_settings, dims_only=True)
    yield tmp_settings
    _clear_caches()


def _kept_now(settings) -> duckdb.DuckDBPyConnection:
    return data._connection(str(settings.published_dir), data.snapshot_name())


def test_queries_of_one_snapshot_share_one_kept_connection(fresh, monkeypatch):
    data.tables()  # the catalog is read once per snapshot, on its own short-lived connection
    opened = []
    real_open = data._open
    monkeypatch.setattr(data, "_open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    data.counties()
    data.campaigns(COUNTY)
    data.units(COUNTY)
    assert len(opened) == 1
    kept = _kept_now(fresh)
    assert kept is _kept_now(fresh)
    assert kept.execute("SELECT count(*) FROM dim.county").fetchone()[0] == 1  # still open


def test_each_query_runs_on_its_own_cursor(fresh):
    """Concurrent sessions: on a shared connection DuckDB refuses a second running call."""
    name = data.snapshot_name()
    errors, results = [], []

    def work() -> None:
        try:
            df = data._run(name, "SELECT count(*) AS n FROM range(3000000) a, dim.county", [])
            results.append(int(df["n"].iloc[0]))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [3000000] * 6


def test_a_new_publish_opens_a_new_connection_and_releases_the_old(fresh):
    first = data.snapshot_name()
    data.counties()
    old = _kept_now(fresh)
    publish(fresh.warehouse_path, fresh.published_dir)
    assert data.snapshot_name() != first
    data.counties()  # first query on the new snapshot
    new = _kept_now(fresh)
    assert new is not old
    with pytest.raises(duckdb.ConnectionException):
        old.execute("SELECT 1")
    assert new.execute("SELECT 1").fetchone()[0] == 1


def test_a_connection_closed_under_a_query_is_answered_by_a_short_lived_one(fresh):
    name = data.snapshot_name()
    data._run(name, "SELECT 1", [])
    _kept_now(fresh).close()  # as a concurrent switch to a newer snapshot would
    assert data._run(name, "SELECT count(*) AS n FROM dim.county", [])["n"].iloc[0] == 1


@pytest.mark.parametrize("name", ["warehouse.duckdb", "../warehouse.duckdb", "/tmp/x.duckdb", ""])
def test_the_writers_file_and_other_paths_are_refused(fresh, name):
    with pytest.raises(ValueError, match="not a published snapshot name"):
        data._open(name)
    with pytest.raises(ValueError, match="not a published snapshot name"):
        data._run(name, "SELECT 1", [])


def test_queries_never_open_the_working_file(fresh, monkeypatch):
    paths = []
    real_connect = duckdb.connect
    monkeypatch.setattr(
        duckdb, "connect", lambda p, *a, **k: paths.append(Path(p)) or real_connect(p, *a, **k)
    )
    data.counties()
    data.months(COUNTY)
    assert paths and all(p.parent == fresh.published_dir for p in paths)
    assert fresh.warehouse_path not in paths


def test_the_kept_connection_and_the_sql_console_share_the_instance_safely(fresh):
    """The console hardens (and locks) the database instance the kept connection keeps alive: both
    keep working, in either order, under the same memory limit."""
    name = data.snapshot_name()
    data._run(name, "SELECT 1", [])
    limit = "SELECT current_setting('memory_limit') AS m"
    assert data._run(name, limit, [])["m"].iloc[0] == "953.6 MiB"  # sql_guard.MEMORY_LIMIT, 1GB
    threshold = "SELECT current_setting('dynamic_or_filter_threshold') AS t"
    assert int(data._run(name, threshold, [])["t"].iloc[0]) == 1000
    for _ in range(2):  # the second console query finds the configuration already locked
        res = sql_guard.run_query(data.snapshot_path(), "SELECT count(*) AS n FROM dim.county")
        assert int(res.frame["n"].iloc[0]) == 1
    assert data._run(name, limit, [])["m"].iloc[0] == "953.6 MiB"
    assert int(data._run(name, threshold, [])["t"].iloc[0]) == 1000
    assert data._run(name, "SELECT count(*) AS n FROM dim.county", [])["n"].iloc[0] == 1


# ---------------------------------------------------------------- county filters: same rows as before


@pytest.fixture
def dirty(warehouse_env, tmp_settings):
    """The full synthetic warehouse plus a file of another county and a file of unknown county, with
    quarantined values, and an observation of our county whose file was filed under the other one."""
    _clear_caches()
    src = Path(warehouse_env["WUCHUANG_WAREHOUSE_DIR"]) / "warehouse.duckdb"
    shutil.copy(src, tmp_settings.warehouse_path)
    conn = duckdb.connect(str(tmp_settings.warehouse_path))
    try:
        for fid, county in (("f-other", OTHER), ("f-null", None)):
            conn.execute(
                "INSERT INTO core.source_file (file_id, file_name, path, county_code, status) "
                "VALUES (?, ?, ?, ?, 'partial')",
                [fid, f"{fid}.xlsx", f"x/{fid}.xlsx", county],
            )
            conn.execute(
                "INSERT INTO core.quarantine (quarantine_id, file_id, file_name, sheet, cell, scope, "
                "reason_code, message_zh, message_en, detected_at) "
                "VALUES (?, ?, ?, 'S', 'B2', 'value', 'out_of_range', '超出范围', 'out of range', "
                "TIMESTAMP '2017-01-05 10:00:00')",
                [f"q-{fid}", fid, f"{fid}.xlsx"],
            )
        row = conn.execute(
            "SELECT observation_id, indicator_code FROM core.observation WHERE county_code = ? LIMIT 1",
            [COUNTY],
        ).fetchone()
        conn.execute(
            "INSERT INTO core.observation SELECT * REPLACE ('obs-x' AS observation_id, 'f-other' AS file_id) "
            "FROM core.observation WHERE observation_id = ?",
            [row[0]],
        )
        conn.execute(
            "INSERT INTO core.observation SELECT * REPLACE ('obs-y' AS observation_id, ? AS county_code) "
            "FROM core.observation WHERE observation_id = ?",
            [OTHER, row[0]],
        )
    finally:
        conn.close()
    snap = publish(tmp_settings.warehouse_path, tmp_settings.published_dir)
    yield snap, row[1]
    _clear_caches()


def _reference(snap: Path, sql: str, params: list) -> pd.DataFrame:
    conn = duckdb.connect(str(snap), read_only=True)
    try:
        return conn.execute(sql, params).df()
    finally:
        conn.close()


def test_quarantine_gives_the_rows_of_the_plain_join_on_dirty_files(dirty):
    snap, _ind = dirty
    for county in (COUNTY, OTHER):
        got = data.quarantine(county).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, _reference(snap, OLD_QUARANTINE, [county]))
    ours, theirs = set(data.quarantine(COUNTY)["file_name"]), set(data.quarantine(OTHER)["file_name"])
    assert "f-null.xlsx" in ours and "f-null.xlsx" in theirs
    assert "f-other.xlsx" not in ours and "f-other.xlsx" in theirs
    assert len(ours) > 2  # the county's own quarantined files are there too


def test_observations_give_the_rows_of_the_plain_join_on_dirty_files(dirty):
    snap, ind = dirty
    for county in (COUNTY, OTHER):
        got = data.observations(county, ind).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, _reference(snap, OLD_OBSERVATIONS, [county, ind]))
    ours = data.observations(COUNTY, ind).set_index("observation_id")
    assert ours.loc["obs-x", "file_name"] == "f-other.xlsx"  # a file filed under another county
    assert ours["file_name"].notna().all()
    assert list(data.observations(OTHER, ind)["observation_id"]) == ["obs-y"]
