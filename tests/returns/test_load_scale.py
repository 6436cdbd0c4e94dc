"""Loader performance behaviour that must not change results: reading in worker processes, not
reading unchanged files again, and reading the registry for the files at hand only."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest

from pipelines.returns import load, workers
from pipelines.returns.model import ParseContext, ParsedReturn
from pipelines.returns.parse import parse_file
from tests.returns.test_load import (
    MARCH_OK,
    FakeParser,
    cell,
    clock,
    drop,
    parsed,
    table_contents,
    warehouse_with_calendar,
)


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory, catalog, profile) -> Path:
    from pipelines.sample.generate import build_corpus, write_corpus

    raw = tmp_path_factory.mktemp("scale") / "raw"
    write_corpus(build_corpus(catalog, profile, years=[2012, 2013], units=["sthjj", "wjw"]), raw)
    return raw


def _ingest(profile, ctx, workers: int):
    conn = warehouse_with_calendar(profile)
    loader = load.Loader(conn, ctx, now=clock(dt.datetime(2020, 1, 1)), workers=workers)
    summary = loader.ingest(load.scan_raw_folder(ctx.raw_dir))
    return conn, summary


def test_parallel_reading_loads_exactly_what_reading_in_process_loads(
    sample_raw, catalog, profile, monkeypatch
):
    ctx = ParseContext(catalog=catalog, profiles=(profile,), raw_dir=sample_raw, today=dt.date(2017, 1, 1))
    calls = []
    real = load.fork_chunks

    def spy(func, chunks, n):
        calls.extend(len(c) for c in chunks)
        return real(func, chunks, n)

    monkeypatch.setattr(load, "fork_chunks", spy)
    monkeypatch.setattr(load, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(load, "READ_CHUNKS", 5)  # several chunks: each read while the last is loaded
    serial_conn, serial = _ingest(profile, ctx, workers=1)
    assert calls == []  # one worker: everything read in this process
    parallel_conn, parallel = _ingest(profile, ctx, workers=3)
    assert len(calls) >= 5 and sum(calls) == serial.files_seen  # the worker path was taken for every file
    assert parallel.as_dict() == serial.as_dict()
    assert [(o.rel_path, o.status) for o in parallel.outcomes] == [
        (o.rel_path, o.status) for o in serial.outcomes
    ]
    assert table_contents(parallel_conn) == table_contents(serial_conn)
    assert serial.values_loaded > 0


def _exit_in_child(parent: int):
    def parse(path: Path, ctx: ParseContext) -> ParsedReturn:
        if os.getpid() != parent:
            os._exit(3)  # a worker dying mid-way (out of memory, killed)
        return parse_file(path, ctx)

    return parse


def test_files_of_a_dead_worker_are_read_in_process(sample_raw, catalog, profile):
    ctx = ParseContext(catalog=catalog, profiles=(profile,), raw_dir=sample_raw, today=dt.date(2017, 1, 1))
    paths = load.scan_raw_folder(sample_raw)[:12]
    got = load.read_in_parallel(paths, ctx, _exit_in_child(os.getpid()), 2)
    want = [load._hash_and_parse(p, ctx, parse_file) for p in paths]
    assert [r.sha for r in got] == [r.sha for r in want] == [load.sha256_file(p) for p in paths]
    assert [r.parsed.values for r in got] == [r.parsed.values for r in want]
    assert [r.parsed.problems for r in got] == [r.parsed.problems for r in want]


@pytest.fixture
def ctx(tmp_path, catalog, profile) -> ParseContext:
    raw = tmp_path / "raw"
    raw.mkdir()
    return ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=dt.date(2017, 1, 1))


@pytest.fixture
def warehouse(profile):
    conn = warehouse_with_calendar(profile)
    yield conn
    conn.close()


def test_unchanged_files_are_neither_hashed_nor_parsed_again(warehouse, ctx, monkeypatch):
    drop(ctx.raw_dir, "511923/sthjj/good.xlsx", b"good", dt.datetime(2012, 4, 5, 9))
    drop(ctx.raw_dir, "511923/sthjj/partial.xlsx", b"partial", dt.datetime(2012, 4, 6, 9))
    load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    before = table_contents(warehouse)
    hashed = []
    monkeypatch.setattr(load, "sha256_file", lambda p: hashed.append(p) or "x")
    parser = FakeParser(MARCH_OK)
    again = load.ingest_folder(warehouse, ctx, parse=parser)
    assert (again.files_seen, again.files_skipped, again.outcomes) == (2, 2, [])
    assert hashed == [] and parser.calls == []
    assert table_contents(warehouse) == before


def test_touched_file_with_the_same_bytes_is_hashed_and_skipped(warehouse, ctx):
    p = drop(ctx.raw_dir, "511923/sthjj/good.xlsx", b"good", dt.datetime(2012, 4, 5, 9))
    load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    before = table_contents(warehouse)
    ts = p.stat().st_mtime + 3600
    os.utime(p, (ts, ts))  # copied again, same bytes
    again = load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    assert (again.files_seen, again.files_skipped, again.outcomes) == (1, 1, [])
    assert table_contents(warehouse) == before


def test_rewritten_file_of_the_same_size_is_a_new_revision(warehouse, ctx):
    v1 = {"r.xlsx": lambda p: parsed(p, [cell("eco_air_quality", "2012-03", 80.0, "G4")])}
    v2 = {"r.xlsx": lambda p: parsed(p, [cell("eco_air_quality", "2012-03", 81.0, "G4")])}
    drop(ctx.raw_dir, "511923/sthjj/r.xlsx", b"v1", dt.datetime(2012, 4, 5, 9))
    load.ingest_folder(warehouse, ctx, parse=FakeParser(v1))
    drop(ctx.raw_dir, "511923/sthjj/r.xlsx", b"v2", dt.datetime(2012, 4, 8, 9))  # same size, later
    s = load.ingest_folder(warehouse, ctx, parse=FakeParser(v2))
    assert [o.status for o in s.outcomes] == ["accepted"]
    rows = warehouse.execute(
        "SELECT value, revision_no, is_current FROM core.observation ORDER BY revision_no"
    ).fetchall()
    assert rows == [(80.0, 1, False), (81.0, 2, True)]


def test_one_new_file_reads_only_its_own_part_of_the_registry(warehouse, ctx):
    # a history of 2,000 registered files (other paths, other contents, other unit × periods)
    warehouse.execute(
        """
        INSERT INTO core.source_file (file_id, path, content_sha256, file_name, size_bytes, received_at,
                                      processed_at, status, values_loaded, values_quarantined)
        SELECT 'h' || i, 'old/' || i || '.xlsx', 'h' || i, i || '.xlsx', 10, TIMESTAMP '2012-01-01',
               TIMESTAMP '2012-01-01', 'accepted', 1, 0
        FROM range(2000) t(i)
        """
    )
    warehouse.execute(
        """
        INSERT INTO core.submission (submission_id, file_id, org_code, period_code, revision_no,
                                     received_at, is_current, values_loaded, values_quarantined)
        SELECT 'h' || i || ':s', 'h' || i, '511923-x' || i, '2012-03', 1, TIMESTAMP '2012-01-01', true, 1, 0
        FROM range(2000) t(i)
        """
    )
    drop(ctx.raw_dir, "511923/sthjj/good.xlsx", b"good", dt.datetime(2012, 4, 5, 9))
    loader = load.Loader(warehouse, ctx, parse=FakeParser(MARCH_OK))
    s = loader.ingest(load.scan_raw_folder(ctx.raw_dir))
    assert [o.status for o in s.outcomes] == ["accepted"]
    assert loader.registered == {
        (load.sha256_file(ctx.raw_dir / "511923/sthjj/good.xlsx"), "511923/sthjj/good.xlsx")
    }
    assert set(loader.revisions) == {("511923-sthjj", "2012-03")}
    n = warehouse.execute("SELECT count(*) FROM core.source_file").fetchone()[0]
    assert n == 2001


# --------------------------------------------------------------------------------------------
# fork_map and parallel feedback


def _square(n: int) -> int:
    return n * n


def _square_dies_in_child(parent: int):
    def f(n: int) -> int:
        if os.getpid() != parent:
            os._exit(3)
        return n * n

    return f


def _fails_on_seven(n: int) -> int:
    if n == 7:
        raise ValueError("seven")
    return n


def test_fork_map_returns_results_in_input_order():
    items = list(range(23))
    assert workers.fork_map(_square, items, 3) == [n * n for n in items]
    assert workers.fork_map(_square, items, 1) == [n * n for n in items]
    assert workers.fork_map(_square, [], 4) == []


def test_fork_map_redoes_a_dead_workers_share_here():
    items = list(range(10))
    assert workers.fork_map(_square_dies_in_child(os.getpid()), items, 2) == [n * n for n in items]


def test_fork_map_raises_the_error_the_function_raises():
    with pytest.raises(ValueError, match="seven"):
        workers.fork_map(_fails_on_seven, list(range(10)), 2)


def test_feedback_written_in_parallel_is_the_same_as_one_by_one(sample_raw, catalog, profile, tmp_path):
    from pipelines.returns import feedback

    ctx = ParseContext(catalog=catalog, profiles=(profile,), raw_dir=sample_raw, today=dt.date(2017, 1, 1))
    conn, summary = _ingest(profile, ctx, workers=1)
    ids = summary.file_ids
    serial = feedback.write_feedback(conn, sample_raw, tmp_path / "fb1", ids, workers=1, clean_files=True)
    paths1 = conn.execute("SELECT file_id, feedback_path FROM core.source_file ORDER BY 1").fetchall()
    parallel = feedback.write_feedback(conn, sample_raw, tmp_path / "fb2", ids, workers=3, clean_files=True)
    paths2 = conn.execute("SELECT file_id, feedback_path FROM core.source_file ORDER BY 1").fetchall()
    assert len(serial) == len(summary.file_ids) > 10
    assert {k: p.relative_to(tmp_path / "fb1") for k, p in serial.items()} == {
        k: p.relative_to(tmp_path / "fb2") for k, p in parallel.items()
    }
    assert paths1 == paths2 and all(p for _, p in paths2)
    for k, p in serial.items():  # same sheets and cell values (timestamps aside)
        a, b = openpyxl.load_workbook(p), openpyxl.load_workbook(parallel[k])
        assert a.sheetnames == b.sheetnames
        for name in a.sheetnames:
            assert [[c.value for c in r] for r in a[name].iter_rows()] == [
                [c.value for c in r] for r in b[name].iter_rows()
            ]


def test_fork_chunks_yields_every_chunk_in_order_with_its_results():
    chunks = [list(range(k * 10, k * 10 + 10)) for k in range(4)] + [[99]]
    got = list(workers.fork_chunks(_square, chunks, 3))
    assert [list(c) for c, _ in got] == chunks
    assert [r for _, r in got] == [[n * n for n in c] for c in chunks]


def test_fork_chunks_redoes_a_dead_workers_share_and_stops_cleanly():
    import multiprocessing

    chunks = [list(range(k * 10, k * 10 + 10)) for k in range(3)]
    got = list(workers.fork_chunks(_square_dies_in_child(os.getpid()), chunks, 2))
    assert [r for _, r in got] == [[n * n for n in c] for c in chunks]
    it = workers.fork_chunks(_square, chunks, 2)
    next(it)  # the second chunk is now being read by a worker
    it.close()  # the caller stops early: the worker is ended, not left behind
    assert multiprocessing.active_children() == []


def test_revisions_stay_right_after_a_batch_rolled_back_mid_chunk(warehouse, ctx, monkeypatch):
    """A batch fails and is reloaded file by file; the next file of the same chunk still gets the
    right revision number (the counts forgotten at the rollback are read again)."""
    from pipelines.warehouse.tables import core

    def version(period: str, v: float):
        return lambda p: parsed(p, [cell("eco_air_quality", period, v, "G4")], periods=(period,))

    # a and v3 report April, v1 and v2 March
    versions = {
        "a.xlsx": version("2012-04", 80.0),
        "v1.xlsx": version("2012-03", 81.0),
        "v2.xlsx": version("2012-03", 82.0),
        "v3.xlsx": version("2012-04", 83.0),
    }
    a = drop(ctx.raw_dir, "511923/sthjj/a.xlsx", b"a", dt.datetime(2012, 4, 1, 9))
    load.Loader(warehouse, ctx, parse=FakeParser(versions)).ingest([a])
    ts = dt.datetime(2012, 4, 2, 9).replace(tzinfo=load.CHINA_TZ).timestamp()
    os.utime(a, (ts, ts))  # touched, same bytes: read again and skipped inside the first chunk
    for k, name in enumerate(["v1.xlsx", "v2.xlsx", "v3.xlsx"]):
        drop(ctx.raw_dir, f"511923/sthjj/{name}", name.encode(), dt.datetime(2012, 5, 3 + k, 9))
    real_insert, failed = load._insert, []

    def fail_once(conn, t, rows):
        real_insert(conn, t, rows)
        if t is core.OBSERVATION and len(rows) > 1 and not failed:
            failed.append(len(rows))
            raise RuntimeError("transient")

    monkeypatch.setattr(load, "_insert", fail_once)
    # chunks [a, v1] [v2, v3]; the batch [v1, v2] is flushed (and fails) before v3 is prepared
    s = load.Loader(warehouse, ctx, parse=FakeParser(versions), batch_size=2).ingest(
        load.scan_raw_folder(ctx.raw_dir)
    )
    assert failed == [2]
    assert [o.status for o in s.outcomes] == ["accepted"] * 3 and s.files_skipped == 1
    rows = warehouse.execute(
        "SELECT file_name, s.period_code, s.revision_no, s.is_current FROM core.submission s "
        "JOIN core.source_file USING (file_id) ORDER BY s.period_code, s.revision_no"
    ).fetchall()
    assert rows == [
        ("v1.xlsx", "2012-03", 1, False),
        ("v2.xlsx", "2012-03", 2, True),
        ("a.xlsx", "2012-04", 1, False),
        ("v3.xlsx", "2012-04", 2, True),
    ]
