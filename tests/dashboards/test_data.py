"""The data module: reads only the latest published snapshot, read-only, with caches that a new
publish invalidates; feedback files only from inside the feedback folder; missing tables named."""

from __future__ import annotations

import duckdb
import pytest

from dashboards import data
from pipelines.warehouse.publish import NoSnapshotError, latest_snapshot, publish
from tests.dashboards import synthetic

pytestmark = pytest.mark.usefixtures("as_office")  # data calls outside a session: the office's scope


def test_reads_the_latest_snapshot_never_the_working_file(full):
    assert data.snapshot_path() == latest_snapshot(full.published_dir)
    assert data.snapshot_path() != full.warehouse_path
    assert len(data.counties()) == 1


def test_a_new_publish_is_seen_at_once(tmp_settings):
    synthetic.build(tmp_settings, dims_only=True)
    before = data.campaigns("511923")
    conn = duckdb.connect(str(tmp_settings.warehouse_path))
    try:
        conn.execute("UPDATE dim.campaign SET name_zh = '改名后的项目' WHERE campaign_code = 'forest_city'")
    finally:
        conn.close()
    publish(tmp_settings.warehouse_path, tmp_settings.published_dir)
    after = data.campaigns("511923")
    assert "改名后的项目" not in set(before["name_zh"])
    assert "改名后的项目" in set(after["name_zh"])


def test_connections_are_read_only(full):
    conn = data._open(data.snapshot_name())
    try:
        with pytest.raises(duckdb.Error):
            conn.execute("DELETE FROM dim.campaign")
    finally:
        conn.close()


def test_values_are_bound_parameters(full):
    hostile = "511923' OR '1'='1"
    assert data.campaigns(hostile)["acceptance_date"].isna().all()
    assert data.units(hostile).empty


def test_missing_tables_are_named(dims_only):
    with pytest.raises(data.MissingTables) as info:
        data.verdicts_asof("511923", "2016-12")
    assert "compliance.verdict" in info.value.tables
    assert not data.has("core.submission") and not data.has_rows("core.submission")


def test_no_snapshot_raises_the_publish_error(nothing):
    assert data.snapshot_path() is None
    with pytest.raises(NoSnapshotError):
        data.counties()


def test_feedback_files_only_from_inside_the_feedback_folder(full):
    inside = data.feedback_file("sthjj/empty_反馈.xlsx")  # written by the synthetic build
    assert inside is not None and inside.is_relative_to(full.feedback_dir)
    assert (full.feedback_dir.parent / "outside.xlsx").exists()
    assert data.feedback_file("../outside.xlsx") is None
    assert data.feedback_file(str(full.feedback_dir.parent / "outside.xlsx")) is None
    assert data.feedback_file("/etc/passwd") is None
    assert data.feedback_file("sthjj/does-not-exist.xlsx") is None
    assert data.feedback_file(None) is None


def test_months_offer_the_periods_with_data(full, dims_only_env, monkeypatch):
    months = data.months("511923")
    assert months[0] == "2015-01" and months[-1] == "2016-12" and len(months) == 24
    for k, v in dims_only_env.items():
        monkeypatch.setenv(k, v)
    assert len(data.months("511923")) > 24  # no returns yet: the calendar's months


def test_a_pruned_snapshot_falls_back_to_the_newest_one(monkeypatch, tmp_path):
    import duckdb as _duckdb

    from dashboards import data as _data

    published = tmp_path / "published"
    published.mkdir()
    newest = published / "warehouse-20161231T000000000000Z-0123abcd.duckdb"
    con = _duckdb.connect(str(newest))
    con.execute("CREATE TABLE t AS SELECT 42 AS x")
    con.close()
    (published / "CURRENT").write_text(newest.name + "\n", encoding="utf-8")
    monkeypatch.setenv("WUCHUANG_WAREHOUSE_DIR", str(tmp_path))
    conn = _data._open("warehouse-20161130T000000000000Z-89abcdef.duckdb")
    try:
        assert conn.execute("SELECT x FROM t").fetchone()[0] == 42
    finally:
        conn.close()
