"""Publishing: atomic snapshots, pointer, verification, pruning, leftovers, readers never disturbed."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import publish


def make_warehouse(path: Path, rows: int = 10) -> Path:
    conn = duckdb.connect(str(path))
    try:
        conn.execute("CREATE SCHEMA IF NOT EXISTS core")
        conn.execute("CREATE OR REPLACE TABLE core.t (i INTEGER, s VARCHAR)")
        conn.execute("INSERT INTO core.t SELECT i, 'v' || i FROM range(?) r(i)", [rows])
    finally:
        conn.close()
    return path


@pytest.fixture
def wh(tmp_path: Path) -> tuple[Path, Path]:
    return make_warehouse(tmp_path / "warehouse.duckdb"), tmp_path / "published"


def read_count(published: Path) -> int:
    conn = publish.connect_readonly(published)
    try:
        return conn.execute("SELECT count(*) FROM core.t").fetchone()[0]
    finally:
        conn.close()


def test_publish_writes_snapshot_manifest_and_pointer(wh):
    src, pub = wh
    snap = publish.publish(src, pub)
    assert (pub / "CURRENT").read_text().strip() == snap.name
    assert publish.latest_snapshot(pub) == snap
    manifest = json.loads(snap.with_suffix(".json").read_text())
    assert manifest["tables"] == {"core.t": 10}
    assert manifest["size_bytes"] == snap.stat().st_size
    assert read_count(pub) == 10
    assert not list(pub.glob(".tmp-*"))


def test_snapshot_is_read_only(wh):
    src, pub = wh
    publish.publish(src, pub)
    conn = publish.connect_readonly(pub)
    try:
        with pytest.raises(duckdb.Error):
            conn.execute("DELETE FROM core.t")
    finally:
        conn.close()


def test_publish_folds_the_wal_into_the_copy(tmp_path):
    src = make_warehouse(tmp_path / "w.duckdb")
    conn = duckdb.connect(str(src))
    conn.execute("INSERT INTO core.t VALUES (99, 'wal')")
    # simulate a crash: the process dies with a WAL on disk; copy the files as they are now
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for f in tmp_path.glob("w.duckdb*"):
        shutil.copy(f, crashed / f.name)
    conn.close()
    assert (crashed / "w.duckdb.wal").stat().st_size > 0
    snap = publish.publish(crashed / "w.duckdb", tmp_path / "pub")
    assert not (crashed / "w.duckdb.wal").exists()
    c = duckdb.connect(str(snap), read_only=True)
    assert c.execute("SELECT count(*) FROM core.t").fetchone()[0] == 11
    c.close()


def test_new_publish_switches_readers_and_keeps_open_readers_working(wh):
    src, pub = wh
    publish.publish(src, pub)
    reader = publish.connect_readonly(pub)  # a dashboard holding the old snapshot open
    make_warehouse(src, rows=20)
    publish.publish(src, pub, keep=1)  # prunes the old snapshot while it is open
    assert reader.execute("SELECT count(*) FROM core.t").fetchone()[0] == 10
    reader.close()
    assert read_count(pub) == 20


def test_publish_succeeds_while_another_process_reads_the_snapshot(wh):
    src, pub = wh
    publish.publish(src, pub)
    code = textwrap.dedent(
        f"""
        import sys, time
        from pipelines.warehouse.publish import connect_readonly
        c = connect_readonly({str(pub)!r})
        print(c.execute("SELECT count(*) FROM core.t").fetchone()[0], flush=True)
        sys.stdin.readline()
        print(c.execute("SELECT count(*) FROM core.t").fetchone()[0], flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "10"
        make_warehouse(src, rows=30)
        for _ in range(4):  # more publishes than `keep`: the reader's file is pruned meanwhile
            publish.publish(src, pub, keep=2)
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "10"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    assert read_count(pub) == 30


def test_pruning_keeps_the_newest_and_never_the_current_one(wh):
    src, pub = wh
    snaps = [publish.publish(src, pub, keep=10) for _ in range(5)]
    # point CURRENT back at the oldest (as if the newest publishes died before switching)
    (pub / "CURRENT").write_text(snaps[0].name + "\n")
    removed = publish.prune(pub, keep=2)
    left = sorted(p.name for p in pub.glob("warehouse-*.duckdb"))
    assert left == sorted([snaps[0].name, snaps[3].name, snaps[4].name])
    assert {p.name for p in removed} == {snaps[1].name, snaps[2].name}
    assert not snaps[1].with_suffix(".json").exists()
    assert publish.latest_snapshot(pub) == snaps[0]


def test_leftovers_of_an_interrupted_publish_are_swept(wh):
    src, pub = wh
    publish.publish(src, pub)
    before = publish.latest_snapshot(pub)
    (pub / ".tmp-deadbeef.duckdb").write_bytes(b"half a copy")
    (pub / ".tmp-deadbeef.CURRENT").write_text("warehouse-bogus.duckdb")
    assert publish.latest_snapshot(pub) == before  # a leftover never changes what readers see
    publish.publish(src, pub)
    assert not list(pub.glob(".tmp-*"))


def test_a_copy_that_does_not_verify_is_never_published(wh, monkeypatch):
    src, pub = wh
    good = publish.publish(src, pub)

    def truncating_copy(a, b):
        Path(b).write_bytes(Path(a).read_bytes()[:4096])

    monkeypatch.setattr(publish.shutil, "copyfile", truncating_copy)
    with pytest.raises(publish.PublishError):
        publish.publish(src, pub)
    assert publish.latest_snapshot(pub) == good
    assert not list(pub.glob(".tmp-*"))
    assert read_count(pub) == 10


def test_publish_of_a_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(publish.PublishError, match="工作数据库不存在"):
        publish.publish(tmp_path / "nope.duckdb", tmp_path / "pub")
    assert not (tmp_path / "nope.duckdb").exists()


def test_publish_waits_for_the_writer_then_gives_up_cleanly(wh):
    src, pub = wh
    good = publish.publish(src, pub)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({str(src)!r}); print('held', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(publish.PublishError, match="cannot open the working database"):
            publish.publish(src, pub, lock_timeout=0.5)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert publish.latest_snapshot(pub) == good


@pytest.mark.parametrize("pointer", ["", "../warehouse.duckdb", "/etc/passwd", "warehouse-x.duckdb"])
def test_a_bad_pointer_is_never_followed(tmp_path, pointer):
    pub = tmp_path / "pub"
    pub.mkdir()
    (pub / "CURRENT").write_text(pointer)
    with pytest.raises(publish.NoSnapshotError):
        publish.latest_snapshot(pub)


def test_no_snapshot_yet_is_a_bilingual_error(tmp_path):
    with pytest.raises(publish.NoSnapshotError, match="尚未发布.*no published snapshot"):
        publish.connect_readonly(tmp_path)
