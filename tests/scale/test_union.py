"""Per-county snapshots and the union of views: only the changed county is exported, readers see
every county through one ordinary DuckDB file, and a kill -9 at any point never leaves a half state."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import publish, union


def make_county(path: Path, code: str, readiness: float, n_obs: int = 3) -> Path:
    """A tiny county working database: a shared catalog table, county tables, a view."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path))
    try:
        for schema in ("dim", "core", "marts"):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        conn.execute("CREATE OR REPLACE TABLE dim.campaign (campaign_code VARCHAR, name_zh VARCHAR)")
        conn.execute("INSERT INTO dim.campaign VALUES ('eco_county', '生态县'), ('forest_city', '森林城市')")
        conn.execute("COMMENT ON TABLE dim.campaign IS 'Campaigns (创建项目)'")
        conn.execute("COMMENT ON COLUMN dim.campaign.name_zh IS 'Chinese name'")
        conn.execute(
            "CREATE OR REPLACE TABLE core.observation (county_code VARCHAR, value DOUBLE, is_current BOOLEAN)"
        )
        conn.execute("INSERT INTO core.observation SELECT ?, i, i % 2 = 0 FROM range(?) t(i)", [code, n_obs])
        conn.execute(
            "CREATE OR REPLACE VIEW core.observation_current AS SELECT * FROM core.observation WHERE is_current"
        )
        conn.execute(
            "CREATE OR REPLACE TABLE marts.campaign_readiness (county_code VARCHAR, campaign_code VARCHAR, "
            "grain VARCHAR, period_code VARCHAR, readiness DOUBLE, readiness_status VARCHAR)"
        )
        conn.execute(
            "INSERT INTO marts.campaign_readiness VALUES (?, 'eco_county', 'year', '2015', 0.5, 'behind'), "
            "(?, 'eco_county', 'year', '2016', ?, ?)",
            [code, code, readiness, "ready" if readiness >= 0.9 else "behind"],
        )
    finally:
        conn.close()
    return path


def read(published: Path, sql: str):
    conn = publish.connect_readonly(published)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_union_reads_every_county_and_republishing_one_exports_only_it(tmp_path):
    published = tmp_path / "published"
    a = make_county(tmp_path / "a" / "warehouse.duckdb", "511923", 0.95, n_obs=4)
    b = make_county(tmp_path / "b" / "warehouse.duckdb", "519001", 0.6, n_obs=6)
    union.publish_county(a, "511923", published)
    first = union.publish_county(b, "519001", published)
    assert publish.latest_snapshot(published) == first
    # One ordinary DuckDB file: a plain read-only connection to the snapshot path sees both counties.
    conn = duckdb.connect(str(first), read_only=True)
    try:
        assert conn.execute(
            "SELECT county_code, count(*) FROM core.observation GROUP BY 1 ORDER BY 1"
        ).fetchall() == [("511923", 4), ("519001", 6)]
        assert conn.execute("SELECT count(*) FROM dim.campaign").fetchone()[0] == 2  # shared: not doubled
        assert conn.execute("SELECT count(*) FROM core.observation_current").fetchone()[0] == 2 + 3
        assert (
            conn.execute(
                "SELECT comment FROM duckdb_columns() WHERE schema_name = 'dim' AND table_name = 'campaign' "
                "AND column_name = 'name_zh'"
            ).fetchone()[0]
            == "Chinese name"
        )
        ranking = conn.execute(
            "SELECT county_code, period_code, rank_in_province FROM province.county_ranking ORDER BY 3"
        ).fetchall()
        assert ranking == [("511923", "2016", 1), ("519001", "2016", 2)]
        assert conn.execute("SELECT n_counties, n_ready FROM province.readiness").fetchall() == [(2, 1)]
    finally:
        conn.close()
    manifest = publish.snapshot_manifest(published)
    assert manifest["tables"]["core.observation"] == 10
    a_version = manifest["counties"]["511923"]
    a_files = {p: p.stat().st_mtime_ns for p in (published / "counties" / "511923" / a_version).iterdir()}

    # County B gets a new file: only B is exported again; A's snapshot folder is referenced, untouched.
    make_county(b, "519001", 0.99, n_obs=9)
    second = union.publish_county(b, "519001", published)
    manifest = publish.snapshot_manifest(published)
    assert manifest["counties"]["511923"] == a_version
    assert (
        manifest["counties"]["519001"]
        != json.loads(first.with_suffix(".json").read_text())["counties"]["519001"]
    )
    assert {
        p: p.stat().st_mtime_ns for p in (published / "counties" / "511923" / a_version).iterdir()
    } == a_files
    assert read(published, "SELECT count(*) FROM core.observation") == [(13,)]
    assert read(published, "SELECT county_code FROM province.county_ranking WHERE rank_in_province = 1") == [
        ("519001",)
    ]
    assert second.stat().st_size < 2_000_000  # the union holds views, not data
    # The older union still reads (a dashboard holding it keeps working until it reconnects).
    conn = duckdb.connect(str(first), read_only=True)
    try:
        assert conn.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 10
    finally:
        conn.close()


def test_prune_keeps_what_kept_unions_read(tmp_path):
    published = tmp_path / "published"
    a = make_county(tmp_path / "a" / "warehouse.duckdb", "511923", 0.5)
    b = make_county(tmp_path / "b" / "warehouse.duckdb", "519001", 0.5)
    union.publish_county(a, "511923", published, keep=2)
    for _ in range(4):
        union.publish_county(b, "519001", published, keep=2)
    unions = sorted(published.glob("warehouse-*.duckdb"))
    assert len(unions) == 2
    versions_b = sorted(p.name for p in (published / "counties" / "519001").iterdir())
    assert len(versions_b) == 2  # the two kept unions' versions of B; older ones pruned
    assert len(list((published / "counties" / "511923").iterdir())) == 1  # A: still read by both
    for u in unions:
        conn = duckdb.connect(str(u), read_only=True)
        try:
            assert conn.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 6
        finally:
            conn.close()


def test_a_county_database_that_is_missing_fails_clearly(tmp_path):
    with pytest.raises(publish.PublishError, match="519001"):
        union.publish_county(tmp_path / "nope.duckdb", "519001", tmp_path / "published")


CHILD = """
import sys, time
from pathlib import Path
from pipelines.warehouse import union
root = Path(sys.argv[1])
print("ready", flush=True)
while True:
    union.publish_county(root / "b" / "warehouse.duckdb", "519001", root / "published", keep=2)
"""


@pytest.mark.slow
def test_kill_9_at_random_points_of_county_publishing_never_leaves_a_half_state(tmp_path):
    published = tmp_path / "published"
    a = make_county(tmp_path / "a" / "warehouse.duckdb", "511923", 0.8, n_obs=4)
    make_county(tmp_path / "b" / "warehouse.duckdb", "519001", 0.7, n_obs=6)
    union.publish_county(a, "511923", published, keep=2)
    rng = random.Random(18)
    for _ in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, cwd=os.getcwd()
        )
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 1.5))
        child.send_signal(signal.SIGKILL)
        child.wait()
        # Whatever the moment: CURRENT names a complete union that reads both counties.
        rows = read(published, "SELECT county_code, count(*) FROM core.observation GROUP BY 1 ORDER BY 1")
        assert rows[0] == ("511923", 4)
        assert rows[1:] in ([], [("519001", 6)])
    # The next publish sweeps the leftovers and succeeds.
    union.publish_county(tmp_path / "b" / "warehouse.duckdb", "519001", published, keep=2)
    assert not list(published.glob(".tmp-*")) and not list(published.glob("counties/*/.tmp-*"))
    assert read(published, "SELECT count(*) FROM core.observation") == [(10,)]


def test_a_locked_down_reader_reads_the_union_and_nothing_else(tmp_path):
    published = tmp_path / "published"
    union.publish_county(make_county(tmp_path / "a" / "w.duckdb", "511923", 0.5), "511923", published)
    snap = publish.latest_snapshot(published)
    outside = tmp_path / "outside.parquet"
    duckdb.execute(f"COPY (SELECT 1 AS x) TO '{outside}' (FORMAT parquet)")
    conn = duckdb.connect(str(snap), read_only=True)
    try:
        publish.allow_county_snapshots(conn, snap)
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
        assert conn.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 3
        with pytest.raises(duckdb.PermissionException):
            conn.execute(f"SELECT * FROM read_parquet('{outside}')").fetchall()
    finally:
        conn.close()
    # A single-file snapshot needs no folder at all.
    assert publish.county_snapshot_dirs(tmp_path / "warehouse-x.duckdb") == []


def test_compaction_reads_the_base_and_never_counts_a_county_twice(tmp_path, monkeypatch):
    monkeypatch.setattr(union, "COMPACT_AFTER", 1)
    published = tmp_path / "published"
    dbs = {
        code: make_county(tmp_path / code / "w.duckdb", code, r, n_obs=n)
        for code, r, n in (("511923", 0.5, 4), ("519001", 0.6, 6), ("519002", 0.7, 8))
    }
    for code, db in dbs.items():
        union.publish_county(db, code, published)
    manifest = publish.snapshot_manifest(published)
    assert manifest["base"]  # compacted once two counties were read from their own snapshots
    base_dir = published / "base" / manifest["base"]
    assert (base_dir / "core.observation.parquet").is_file()
    expected = [("511923", 4), ("519001", 6), ("519002", 8)]
    sql = "SELECT county_code, count(*) FROM core.observation GROUP BY 1 ORDER BY 1"
    assert read(published, sql) == expected
    # One county changes after the compaction: the base serves the others, the county its snapshot.
    monkeypatch.setattr(union, "COMPACT_AFTER", 100)
    make_county(dbs["519001"], "519001", 0.9, n_obs=10)
    union.publish_county(dbs["519001"], "519001", published)
    again = publish.snapshot_manifest(published)
    assert again["base"] == manifest["base"]
    assert read(published, sql) == [("511923", 4), ("519001", 10), ("519002", 8)]
    assert read(published, "SELECT count(*) FROM dim.campaign") == [(2,)]
    assert again["tables"]["core.observation"] == 22


def test_the_sql_console_reads_a_county_union_and_lists_its_views(tmp_path):
    from dashboards import sql_guard

    published = tmp_path / "published"
    union.publish_county(make_county(tmp_path / "a" / "w.duckdb", "511923", 0.5), "511923", published)
    union.publish_county(make_county(tmp_path / "b" / "w.duckdb", "519001", 0.6), "519001", published)
    snap = publish.latest_snapshot(published)
    conn = sql_guard.connect_hardened(snap)
    try:
        assert conn.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 6
        outside = tmp_path / "outside.parquet"
        duckdb.execute(f"COPY (SELECT 1 AS x) TO '{outside}' (FORMAT parquet)")
        with pytest.raises(duckdb.Error):
            conn.execute(f"SELECT * FROM read_parquet('{outside}')").fetchall()
    finally:
        conn.close()
    cols = sql_guard.schema_columns(snap)
    assert "observation" in set(cols.loc[cols["schema_name"] == "core", "table_name"])


def test_wuchuang_status_and_sql_fallback_read_a_county_union(tmp_path, monkeypatch, capsys):
    from pipelines import cli
    from pipelines.settings import Settings

    wh = tmp_path / "wh"
    published = wh / "published"
    for code, r in (("511923", 0.5), ("519001", 0.6)):
        db = make_county(tmp_path / code / "w.duckdb", code, r)
        conn = duckdb.connect(str(db))
        conn.execute(
            "CREATE TABLE core.source_file (county_code VARCHAR, path VARCHAR, size_bytes BIGINT, "
            "status VARCHAR, values_loaded INT, values_quarantined INT, feedback_path VARCHAR, "
            "message_zh VARCHAR, message_en VARCHAR)"
        )
        conn.execute(
            "INSERT INTO core.source_file VALUES (?, ?, 10, 'accepted', 3, 0, NULL, NULL, NULL)",
            [code, f"{code}/sthjj/a.xlsx"],
        )
        conn.close()
        union.publish_county(db, code, published)
    monkeypatch.setenv("WUCHUANG_WAREHOUSE_DIR", str(wh))
    monkeypatch.setenv("WUCHUANG_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    (tmp_path / "raw").mkdir()
    (tmp_path / "dh").mkdir()
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "core.observation" in out and "视图 view" in out
    assert "accepted" in out and "回执 2 份" in out
    snap = publish.latest_snapshot(Settings.from_env().published_dir)
    cols, rows, truncated = cli._fallback_query(snap, "SELECT count(*) FROM core.observation", 10)
    assert rows == [(6,)] and not truncated


# ---- unchanged tables are not exported again (issue 18: publishing that does not copy unchanged data)


def _files(published: Path, code: str) -> dict[str, os.stat_result]:
    version = publish.snapshot_manifest(published)["counties"][code]
    return {p.name: p.stat() for p in (published / "counties" / code / version).glob("*.parquet")}


def _county_tables(db: Path) -> dict[str, list]:
    conn = duckdb.connect(str(db), read_only=True)
    try:
        keys = [
            f"{s}.{t}"
            for s, t in conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        ]
        return {k: sorted(conn.execute(f"SELECT * FROM {k}").fetchall(), key=repr) for k in keys}
    finally:
        conn.close()


def _published_tables(published: Path, code: str) -> dict[str, list]:
    version = publish.snapshot_manifest(published)["counties"][code]
    folder = published / "counties" / code / version
    conn = duckdb.connect()
    try:
        return {
            p.stem: sorted(
                conn.execute(f"SELECT * EXCLUDE ({union.COUNTY_COLUMN}) FROM read_parquet('{p}')").fetchall(),
                key=repr,
            )
            for p in folder.glob("*.parquet")
        }
    finally:
        conn.close()


def test_republishing_reuses_the_files_of_unchanged_tables_and_exports_changed_ones(tmp_path):
    published = tmp_path / "published"
    b = make_county(tmp_path / "b" / "warehouse.duckdb", "519001", 0.6, n_obs=6)
    union.publish_county(b, "519001", published, keep=1)
    first = _files(published, "519001")
    # Nothing changed: every file is the previous snapshot's (same inode), in a new immutable folder.
    union.publish_county(b, "519001", published, keep=1)
    second = _files(published, "519001")
    assert {k: v.st_ino for k, v in second.items()} == {k: v.st_ino for k, v in first.items()}
    version = publish.snapshot_manifest(published)["counties"]["519001"]
    schema = json.loads((published / "counties" / "519001" / version / "schema.json").read_text())
    assert sorted(schema["reused"]) == sorted(k.removesuffix(".parquet") for k in second)
    # One value changes (same row count): that table alone is exported again.
    conn = duckdb.connect(str(b))
    conn.execute("UPDATE core.observation SET value = value + 0.5 WHERE value = 2")
    conn.close()
    union.publish_county(b, "519001", published, keep=1)
    third = _files(published, "519001")
    changed = {k for k in third if third[k].st_ino != second[k].st_ino}
    assert changed == {"core.observation.parquet"}
    # keep=1 pruned the first folders; the reused files still read, and every table equals the county's.
    assert len(list((published / "counties" / "519001").iterdir())) == 1
    assert _published_tables(published, "519001") == _county_tables(b)
    assert read(published, "SELECT sum(value) FROM core.observation") == [(15.5,)]
    # A new column (same rows otherwise) is a change too.
    conn = duckdb.connect(str(b))
    conn.execute("ALTER TABLE dim.campaign ADD COLUMN name_en VARCHAR")
    conn.close()
    union.publish_county(b, "519001", published, keep=1)
    fourth = _files(published, "519001")
    assert {k for k in fourth if fourth[k].st_ino != third[k].st_ino} == {"dim.campaign.parquet"}
    assert _published_tables(published, "519001") == _county_tables(b)


def test_without_hard_links_unchanged_tables_are_exported_again(tmp_path, monkeypatch):
    published = tmp_path / "published"
    b = make_county(tmp_path / "b" / "warehouse.duckdb", "519001", 0.6, n_obs=6)
    union.publish_county(b, "519001", published)
    first = _files(published, "519001")

    def no_links(*_a, **_k):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(union.os, "link", no_links)
    union.publish_county(b, "519001", published)
    second = _files(published, "519001")
    assert all(second[k].st_ino != first[k].st_ino for k in first)
    assert _published_tables(published, "519001") == _county_tables(b)


REUSE_CHILD = """
import sys
from pathlib import Path
import duckdb
from pipelines.warehouse import union
root = Path(sys.argv[1])
db = root / "b" / "warehouse.duckdb"
print("ready", flush=True)
i = 0
while True:
    i += 1
    conn = duckdb.connect(str(db))  # one table changes at every publish; the others are reused
    conn.execute("UPDATE core.toggle SET x = ?", [i % 2])
    conn.close()
    union.publish_county(db, "519001", root / "published", keep=1)
"""


@pytest.mark.slow
def test_kill_9_while_reusing_unchanged_tables_never_loses_a_file(tmp_path):
    """kill -9 at random moments of publishes that hard-link the previous snapshot's files and prune
    it (keep=1): the current union always reads complete counties whose tables equal the databases."""
    published = tmp_path / "published"
    a = make_county(tmp_path / "a" / "warehouse.duckdb", "511923", 0.8, n_obs=4)
    b = make_county(tmp_path / "b" / "warehouse.duckdb", "519001", 0.7, n_obs=6)
    conn = duckdb.connect(str(b))
    conn.execute("CREATE TABLE core.toggle AS SELECT 0 AS x")
    conn.close()
    union.publish_county(a, "511923", published, keep=1)
    union.publish_county(b, "519001", published, keep=1)
    want = _county_tables(b)
    del want["core.toggle"]
    rng = random.Random(1818)
    for _ in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", REUSE_CHILD, str(tmp_path)], stdout=subprocess.PIPE, cwd=os.getcwd()
        )
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 1.5))
        child.send_signal(signal.SIGKILL)
        child.wait()
        rows = read(
            published, "SELECT county_code, count(*), sum(value) FROM core.observation GROUP BY 1 ORDER BY 1"
        )
        assert rows == [("511923", 4, 6.0), ("519001", 6, 15.0)]
        assert read(published, "SELECT count(*) FROM marts.campaign_readiness") == [(4,)]
        got = _published_tables(published, "519001")
        assert got.pop("core.toggle") in ([(0,)], [(1,)])
        assert got == want
    conn = duckdb.connect(str(b))  # a value no child wrote: this table must be exported afresh
    conn.execute("UPDATE core.toggle SET x = 2")
    conn.close()
    union.publish_county(b, "519001", published, keep=1)
    assert not list(published.glob("counties/*/.tmp-*"))
    assert _published_tables(published, "519001") == _county_tables(b)
    version = publish.snapshot_manifest(published)["counties"]["519001"]
    schema = json.loads((published / "counties" / "519001" / version / "schema.json").read_text())
    assert "core.observation" in schema["reused"] and "core.toggle" not in schema["reused"]
