"""Loading returns into `core`: registry, idempotency, revisions and as-of, lineage, duplicates,
transactions, quarantine and timeliness. The parser is injected (hand-built ParsedReturn objects),
so these tests exercise the loader alone."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pytest

from pipelines import dimensions
from pipelines.returns import load
from pipelines.returns.model import CellValue, ParseContext, ParsedReturn, Problem
from pipelines.warehouse.schema import create_all
from pipelines.warehouse.tables import core, dim

ORG = "511923-sthjj"
SHEET = "填报表"


def cell(indicator: str, period: str, value: float | None, ref: str, raw: str | None = None, org: str = ORG):
    return CellValue(
        indicator_code=indicator,
        org_code=org,
        period_code=period,
        sheet=SHEET,
        cell=ref,
        raw_text=raw if raw is not None else str(value),
        value=value,
        value_text=None,
        unit="%",
    )


def bad_cell(ref: str, raw: str, reason: str = "not_a_number", period: str = "2012-03") -> Problem:
    return Problem(
        scope="value",
        reason_code=reason,
        message_zh=f"“{raw}”不是有效数值",
        message_en=f"'{raw}' is not a valid number",
        sheet=SHEET,
        cell=ref,
        raw_text=raw,
        indicator_code="eco_air_quality",
        period_code=period,
        org_code=ORG,
    )


def parsed(path: Path, values=(), problems=(), periods=("2012-03",), org: str | None = ORG) -> ParsedReturn:
    return ParsedReturn(
        path=path,
        file_format="xlsx",
        org_code=org,
        org_detected_by="folder",
        period_codes=list(periods),
        period_detected_by="title",
        layout="wide",
        values=list(values),
        problems=list(problems),
    )


class FakeParser:
    """Returns the ParsedReturn registered for a file name; counts calls."""

    def __init__(self, by_name: dict):
        self.by_name = by_name
        self.calls: list[str] = []

    def __call__(self, path: Path, ctx: ParseContext) -> ParsedReturn:
        self.calls.append(path.name)
        return self.by_name[path.name](path)


def drop(raw: Path, rel: str, content: bytes, received: dt.datetime) -> Path:
    p = raw / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content)
    ts = received.replace(tzinfo=load.CHINA_TZ).timestamp()  # received_at is China wall-clock time
    os.utime(p, (ts, ts))
    return p


_CALENDARS: dict[str, dict] = {}


def _calendar(profile) -> dict:
    if profile.code not in _CALENDARS:
        _CALENDARS[profile.code] = dimensions.calendar_rows([profile])
    return _CALENDARS[profile.code]


def warehouse_with_calendar(profile) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory warehouse holding the reporting calendar and the core tables (in memory:
    creating every table with its comments in a file costs a second per test)."""
    conn = duckdb.connect()
    create_all(conn, [dim.PERIOD, dim.REPORTING_DEADLINE])
    dimensions.write_rows(conn, _calendar(profile))
    load.ensure_core(conn)
    return conn


@pytest.fixture
def warehouse(tmp_path, profile):
    conn = warehouse_with_calendar(profile)
    yield conn
    conn.close()


@pytest.fixture
def ctx(tmp_path, catalog, profile) -> ParseContext:
    raw = tmp_path / "raw"
    raw.mkdir()
    return ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=dt.date(2017, 1, 1))


def table_contents(conn) -> dict[str, list[tuple]]:
    out = {}
    for t in (core.SOURCE_FILE, core.SUBMISSION, core.OBSERVATION, core.QUARANTINE):
        out[t.qualified] = conn.execute(f"SELECT * FROM {t.qualified} ORDER BY ALL").fetchall()
    return out


def clock(start: dt.datetime):
    state = {"t": start}

    def now():
        state["t"] += dt.timedelta(seconds=1)
        return state["t"]

    return now


MARCH_OK = {
    "good.xlsx": lambda p: parsed(
        p,
        [cell("eco_air_quality", "2012-03", 85.3, "G4"), cell("eco_water_quality", "2012-03", 90.0, "G5")],
    ),
    "partial.xlsx": lambda p: parsed(
        p,
        [cell("industrial_compliance", "2012-Q1", 70.0, "G4")],
        [bad_cell("G5", "八十五", period="2012-Q1")],
        periods=("2012-Q1",),
    ),
    "corrupt.xlsx": lambda p: parsed(
        p,
        [cell("eco_air_quality", "2012-03", 1.0, "G4")],
        [
            Problem(
                "file",
                "corrupt_archive",
                "文件“corrupt.xlsx”损坏或不完整",
                "file 'corrupt.xlsx' is corrupt or truncated",
            )
        ],
        org=None,
    ),
}


def drop_march(raw: Path) -> None:
    drop(raw, "511923/sthjj/good.xlsx", b"good", dt.datetime(2012, 4, 5, 9))
    drop(raw, "511923/sthjj/partial.xlsx", b"partial", dt.datetime(2012, 4, 6, 9))
    drop(raw, "511923/sthjj/corrupt.xlsx", b"PK\x03\x04cut", dt.datetime(2012, 4, 7, 9))


# ---------------------------------------------------------------------------------------------


def test_scan_skips_readme_manifest_hidden_and_temporary_files(ctx):
    raw = ctx.raw_dir
    keep = drop(raw, "511923/sthjj/a.xlsx", b"a", dt.datetime(2012, 4, 5))
    for rel in (
        "README.md",
        "manifest.json",
        "511923/sthjj/~$a.xlsx",
        "511923/sthjj/.~lock.a.xlsx#",
        "511923/.hidden.xlsx",
        ".git/x.xlsx",
    ):
        drop(raw, rel, b"x", dt.datetime(2012, 4, 5))
    assert load.scan_raw_folder(raw) == [keep]


def test_ingesting_the_same_content_twice_changes_nothing(warehouse, ctx):
    drop_march(ctx.raw_dir)
    first = load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK), now=clock(dt.datetime(2020, 1, 1)))
    before = table_contents(warehouse)
    parser = FakeParser(MARCH_OK)
    second = load.ingest_folder(warehouse, ctx, parse=parser, now=clock(dt.datetime(2021, 1, 1)))
    assert len(first.outcomes) == 3
    assert second.outcomes == [] and second.files_skipped == 3
    assert parser.calls == []  # not even parsed again
    assert table_contents(warehouse) == before  # processed_at included


def test_statuses_and_summary_counts(warehouse, ctx):
    drop_march(ctx.raw_dir)
    s = load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    status = dict(warehouse.execute("SELECT file_name, status FROM core.source_file").fetchall())
    assert status == {"good.xlsx": "accepted", "partial.xlsx": "partial", "corrupt.xlsx": "rejected"}
    assert (s.accepted, s.partial, s.rejected, s.duplicate) == (1, 1, 1, 0)
    assert s.values_loaded == 3
    assert s.values_quarantined == 2  # the bad cell + the value of the rejected file
    assert s.as_dict()["files_processed"] == 3
    lines = s.lines()
    assert any("入库" in line and "loaded" in line for line in lines)
    assert "  拒收 rejected: 511923/sthjj/corrupt.xlsx (corrupt_archive)" in lines
    assert "  部分接收 partial: 511923/sthjj/partial.xlsx (not_a_number)" in lines


def test_structural_failure_rejects_the_whole_file(warehouse, ctx):
    drop_march(ctx.raw_dir)
    load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    fid, codes, msg = warehouse.execute(
        "SELECT file_id, reason_codes, message_zh FROM core.source_file WHERE file_name = 'corrupt.xlsx'"
    ).fetchone()
    assert codes == ["corrupt_archive"] and "corrupt.xlsx" in msg
    for t in ("core.submission", "core.observation"):
        assert warehouse.execute(f"SELECT count(*) FROM {t} WHERE file_id = ?", [fid]).fetchone()[0] == 0
    q = warehouse.execute(
        "SELECT scope, reason_code FROM core.quarantine WHERE file_id = ?", [fid]
    ).fetchall()
    assert q == [("file", "corrupt_archive")]


def test_bad_cell_rejects_that_value_only_with_messages_naming_file_sheet_and_cell(warehouse, ctx):
    drop_march(ctx.raw_dir)
    load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    fid = warehouse.execute(
        "SELECT file_id FROM core.source_file WHERE file_name = 'partial.xlsx'"
    ).fetchone()[0]
    obs = warehouse.execute(
        "SELECT indicator_code, cell FROM core.observation WHERE file_id = ?", [fid]
    ).fetchall()
    assert obs == [("industrial_compliance", "G4")]
    row = warehouse.execute(
        "SELECT sheet, cell, raw_text, reason_code, message_zh, message_en FROM core.quarantine WHERE file_id = ?",
        [fid],
    ).fetchone()
    sheet, ref, raw, reason, zh, en = row
    assert (sheet, ref, raw, reason) == (SHEET, "G5", "八十五", "not_a_number")
    for msg in (zh, en):
        assert "partial.xlsx" in msg and SHEET in msg and "G5" in msg
    sub = warehouse.execute(
        "SELECT values_loaded, values_quarantined FROM core.submission WHERE file_id = ?", [fid]
    ).fetchone()
    assert sub == (1, 1)


def test_observation_lineage_reaches_file_sheet_and_cell(warehouse, ctx):
    drop_march(ctx.raw_dir)
    load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    row = warehouse.execute(
        "SELECT f.path, f.content_sha256, o.sheet, o.cell, o.raw_text, o.value, s.org_code, s.period_code "
        "FROM core.observation o JOIN core.submission s USING (submission_id) "
        "JOIN core.source_file f ON f.file_id = o.file_id WHERE o.indicator_code = 'eco_air_quality'"
    ).fetchone()
    assert row[0] == "511923/sthjj/good.xlsx"
    assert row[1] == load.sha256_file(ctx.raw_dir / "511923/sthjj/good.xlsx")
    assert row[2:] == (SHEET, "G4", "85.3", 85.3, ORG, "2012-03")


def test_exact_duplicate_at_another_path_is_registered_without_values(warehouse, ctx):
    drop(ctx.raw_dir, "511923/sthjj/good.xlsx", b"same bytes", dt.datetime(2012, 4, 5, 9))
    drop(ctx.raw_dir, "511923/sthjj/good - 副本.xlsx", b"same bytes", dt.datetime(2012, 4, 6, 9))
    parser = FakeParser({"good.xlsx": MARCH_OK["good.xlsx"], "good - 副本.xlsx": MARCH_OK["good.xlsx"]})
    s = load.ingest_folder(warehouse, ctx, parse=parser)
    assert (s.accepted, s.duplicate) == (1, 1)
    orig, dup = warehouse.execute(
        "SELECT file_id, status, duplicate_of, content_sha256, values_loaded, org_code, period_codes "
        "FROM core.source_file ORDER BY received_at"
    ).fetchall()
    assert dup[1] == "duplicate" and dup[2] == orig[0] and dup[3] == orig[3] and dup[4] == 0
    assert dup[5:] == (ORG, ["2012-03"])  # what the copy was detected as is kept
    assert (
        warehouse.execute("SELECT count(*) FROM core.observation WHERE file_id = ?", [dup[0]]).fetchone()[0]
        == 0
    )
    q = warehouse.execute(
        "SELECT reason_code, message_zh FROM core.quarantine WHERE file_id = ?", [dup[0]]
    ).fetchone()
    assert q[0] == "duplicate_file" and "good.xlsx" in q[1]


def test_same_bytes_under_a_name_giving_another_period_is_another_return(warehouse, ctx):
    # A CSV carries its period in the file name only: two years with the same figures are two returns.
    drop(ctx.raw_dir, "511923/kx/2012年_科协指标.csv", b"same,bytes", dt.datetime(2013, 1, 20))
    drop(ctx.raw_dir, "511923/kx/2013年_科协指标.csv", b"same,bytes", dt.datetime(2014, 1, 20))

    def by_year(year):
        return lambda p: parsed(p, [cell("eco_cod_intensity", year, 1.5, "B2")], periods=(year,))

    parser = FakeParser({"2012年_科协指标.csv": by_year("2012"), "2013年_科协指标.csv": by_year("2013")})
    s = load.ingest_folder(warehouse, ctx, parse=parser)
    assert (s.accepted, s.duplicate) == (2, 0)
    rows = warehouse.execute(
        "SELECT f.file_id = f.content_sha256, o.period_code FROM core.observation o "
        "JOIN core.source_file f USING (file_id) ORDER BY o.period_code"
    ).fetchall()
    assert rows == [(True, "2012"), (False, "2013")]  # the second gets a derived file_id


def test_same_bytes_as_a_rejected_file_are_judged_afresh(warehouse, ctx):
    # Sent before the period ended (rejected), then the same file sent again after it ended.
    drop(ctx.raw_dir, "511923/sthjj/2014-09.xlsx", b"early", dt.datetime(2014, 8, 15, 11))
    drop(ctx.raw_dir, "511923/sthjj/2014-09(2).xlsx", b"early", dt.datetime(2014, 10, 13, 13))
    too_early = Problem("file", "period_in_future", "报告期晚于收到日期", "period later than received")
    parser = FakeParser(
        {
            "2014-09.xlsx": lambda p: parsed(p, [], [too_early], periods=("2014-09",)),
            "2014-09(2).xlsx": lambda p: parsed(
                p, [cell("eco_air_quality", "2014-09", 88.0, "G4")], periods=("2014-09",)
            ),
        }
    )
    s = load.ingest_folder(warehouse, ctx, parse=parser)
    assert (s.rejected, s.accepted, s.duplicate) == (1, 1, 0)
    assert warehouse.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 1


def test_failure_mid_load_rolls_back_the_whole_file(warehouse, ctx, monkeypatch):
    drop_march(ctx.raw_dir)
    real_insert = load._insert

    def failing_insert(conn, t, rows):
        real_insert(conn, t, rows)  # the source_file row and submissions are written first ...
        if t is core.OBSERVATION and any(r[5] == "eco_water_quality" for r in rows):
            raise RuntimeError("disk full")  # ... then the load of good.xlsx fails half-way

    monkeypatch.setattr(load, "_insert", failing_insert)
    s = load.ingest_folder(warehouse, ctx, parse=FakeParser(MARCH_OK))
    fid, status, codes, msg = warehouse.execute(
        "SELECT file_id, status, reason_codes, message_en FROM core.source_file WHERE file_name = 'good.xlsx'"
    ).fetchone()
    assert (status, codes) == ("rejected", ["load_failed"]) and "disk full" in msg
    for t in ("core.submission", "core.observation"):
        assert warehouse.execute(f"SELECT count(*) FROM {t} WHERE file_id = ?", [fid]).fetchone()[0] == 0
    assert (
        warehouse.execute("SELECT count(*) FROM core.source_file WHERE file_id = ?", [fid]).fetchone()[0] == 1
    )
    # the other files are unaffected
    assert (s.partial, s.rejected) == (1, 2)
    assert warehouse.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 1


def test_parser_exception_rejects_the_file_and_the_run_goes_on(warehouse, ctx):
    drop_march(ctx.raw_dir)

    def boom(p):
        raise ValueError("unexpected")

    s = load.ingest_folder(warehouse, ctx, parse=FakeParser({**MARCH_OK, "good.xlsx": boom}))
    assert s.rejected == 2 and s.partial == 1
    codes = warehouse.execute(
        "SELECT reason_codes FROM core.source_file WHERE file_name='good.xlsx'"
    ).fetchone()
    assert codes == (["parse_failed"],)


REVISIONS = {
    "v1.xlsx": lambda p: parsed(
        p, [cell("eco_air_quality", "2012-03", 80.0, "G4"), cell("eco_water_quality", "2012-03", 90.0, "G5")]
    ),
    "v2.xlsx": lambda p: parsed(p, [cell("eco_air_quality", "2012-03", 82.5, "G4")]),
    "v3.xlsx": lambda p: parsed(p, [cell("eco_air_quality", "2012-03", 83.0, "G4")]),
}
T1, T2, T3 = dt.datetime(2012, 4, 5, 9), dt.datetime(2012, 4, 20, 9), dt.datetime(2012, 5, 3, 9)


def test_corrected_file_creates_a_revision_and_keeps_the_old_values(warehouse, ctx):
    drop(ctx.raw_dir, "511923/sthjj/v1.xlsx", b"v1", T1)
    drop(ctx.raw_dir, "511923/sthjj/v2.xlsx", b"v2", T2)
    load.ingest_folder(warehouse, ctx, parse=FakeParser(REVISIONS))
    subs = warehouse.execute(
        "SELECT revision_no, is_current, received_at FROM core.submission ORDER BY revision_no"
    ).fetchall()
    assert subs == [(1, False, T1), (2, True, T2)]
    air = warehouse.execute(
        "SELECT value, revision_no, valid_from, valid_to, is_current FROM core.observation "
        "WHERE indicator_code = 'eco_air_quality' ORDER BY valid_from"
    ).fetchall()
    assert air == [(80.0, 1, T1, T2, False), (82.5, 2, T2, None, True)]
    # water was not in the correction: the first return's value stays current
    water = warehouse.execute(
        "SELECT value, valid_to, is_current FROM core.observation WHERE indicator_code = 'eco_water_quality'"
    ).fetchall()
    assert water == [(90.0, None, True)]
    current = warehouse.execute(
        "SELECT indicator_code, value FROM core.observation_current ORDER BY 1"
    ).fetchall()
    assert current == [("eco_air_quality", 82.5), ("eco_water_quality", 90.0)]


def test_value_as_reported_on_a_date(warehouse, ctx):
    for name, t in (("v1.xlsx", T1), ("v2.xlsx", T2), ("v3.xlsx", T3)):
        drop(ctx.raw_dir, f"511923/sthjj/{name}", name.encode(), t)
    load.ingest_folder(warehouse, ctx, parse=FakeParser(REVISIONS))

    def air(as_of):
        df = load.values_as_of(warehouse, as_of)
        return df.loc[df.indicator_code == "eco_air_quality", "value"].tolist()

    assert air(dt.date(2012, 4, 1)) == []  # nothing reported yet
    assert air(dt.date(2012, 4, 10)) == [80.0]
    assert air(T2) == [82.5]  # valid_from is inclusive
    assert air(dt.date(2012, 4, 30)) == [82.5]
    assert air(dt.date(2012, 12, 31)) == [83.0]
    assert warehouse.execute("SELECT max(revision_no) FROM core.submission").fetchone()[0] == 3


def test_revisions_follow_received_time_whatever_the_scan_or_batch_order(warehouse, ctx, tmp_path):
    paths = [
        drop(ctx.raw_dir, f"511923/sthjj/{n}", n.encode(), t)
        for n, t in (("v1.xlsx", T1), ("v2.xlsx", T2), ("v3.xlsx", T3))
    ]
    # the latest file arrives first in its own batch, then the two older ones in reverse order
    load.ingest_files(warehouse, ctx, [paths[2]], parse=FakeParser(REVISIONS))
    load.ingest_files(warehouse, ctx, [paths[1], paths[0]], parse=FakeParser(REVISIONS))
    got = table_contents(warehouse)

    other = warehouse_with_calendar(ctx.profiles[0])
    try:
        load.ingest_files(other, ctx, paths, parse=FakeParser(REVISIONS), now=lambda: dt.datetime(2000, 1, 1))
        want = table_contents(other)
    finally:
        other.close()

    def strip(contents):  # processed_at differs between the two warehouses
        i = core.SOURCE_FILE.column_names.index("processed_at")
        j = core.QUARANTINE.column_names.index("detected_at")
        return {
            **contents,
            "core.source_file": sorted(r[:i] + r[i + 1 :] for r in contents["core.source_file"]),
            "core.quarantine": sorted(r[:j] + r[j + 1 :] for r in contents["core.quarantine"]),
        }

    assert strip(got) == strip(want)
    revs = warehouse.execute(
        "SELECT f.file_name, s.revision_no, s.is_current FROM core.submission s "
        "JOIN core.source_file f USING (file_id) ORDER BY s.revision_no"
    ).fetchall()
    assert revs == [("v1.xlsx", 1, False), ("v2.xlsx", 2, False), ("v3.xlsx", 3, True)]


@pytest.mark.parametrize(
    ("received", "late", "on_time"),
    # received times are China wall-clock times (UTC+8), whatever the server's time zone
    [
        # 2012-09 is due on the 5th working day after 30 Sep: the National Day holiday (1-7 Oct)
        # pushes it to Fri 12 Oct.
        (dt.datetime(2012, 10, 8, 17), 0, True),  # 8 days after month end, still on time
        (dt.datetime(2012, 10, 12, 23, 59), 0, True),
        (dt.datetime(2012, 10, 13, 10), 0, False),  # Saturday: late, but no working day lost yet
        (dt.datetime(2012, 10, 15, 9), 1, False),  # Monday: one working day late
        (dt.datetime(2012, 10, 19, 9), 5, False),
    ],
)
def test_timeliness_in_working_days_across_the_national_day_holiday(warehouse, ctx, received, late, on_time):
    drop(ctx.raw_dir, "511923/sthjj/sep.xlsx", b"sep", received)
    parser = FakeParser(
        {
            "sep.xlsx": lambda p: parsed(
                p, [cell("eco_air_quality", "2012-09", 80.0, "G4")], periods=("2012-09",)
            )
        }
    )
    load.ingest_folder(warehouse, ctx, parse=parser)
    row = warehouse.execute("SELECT due_date, working_days_late, is_on_time FROM core.submission").fetchone()
    assert row == (dt.date(2012, 10, 12), late, on_time)


def test_period_outside_the_calendar_has_no_due_date(warehouse, ctx):
    drop(ctx.raw_dir, "511923/sthjj/old.xlsx", b"old", dt.datetime(2010, 4, 1))
    parser = FakeParser(
        {
            "old.xlsx": lambda p: parsed(
                p, [cell("eco_air_quality", "2009-03", 1.0, "G4")], periods=("2009-03",)
            )
        }
    )
    load.ingest_folder(warehouse, ctx, parse=parser)
    assert warehouse.execute(
        "SELECT due_date, working_days_late, is_on_time FROM core.submission"
    ).fetchone() == (None, None, None)


def test_return_with_only_empty_markers_is_still_a_return(warehouse, ctx):
    drop(ctx.raw_dir, "511923/sthjj/blank.xlsx", b"blank", dt.datetime(2012, 4, 5))
    s = load.ingest_folder(warehouse, ctx, parse=FakeParser({"blank.xlsx": lambda p: parsed(p)}))
    assert s.accepted == 1
    assert warehouse.execute(
        "SELECT org_code, period_code, values_loaded, is_on_time FROM core.submission"
    ).fetchall() == [(ORG, "2012-03", 0, True)]


# --------------------------------------------------------------------------------------------
# End to end with the real parser on one unit's share of the sample corpus (manifest = truth).


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, catalog, profile):
    from pipelines.returns.feedback import write_feedback
    from pipelines.sample.generate import build_corpus, write_corpus

    base = tmp_path_factory.mktemp("sample")
    raw, fb = base / "raw", base / "feedback"
    write_corpus(build_corpus(catalog, profile, units=["sthjj"]), raw)
    manifest = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))
    conn = warehouse_with_calendar(profile)
    ctx = ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=dt.date(2017, 1, 1))
    summary = load.ingest_folder(conn, ctx)
    write_feedback(conn, raw, fb, summary.file_ids)
    yield conn, ctx, manifest, summary, fb
    conn.close()


@pytest.mark.slow
def test_sample_files_get_the_status_the_manifest_expects(sample_run):
    conn, _, manifest, summary, _ = sample_run
    got = dict(conn.execute("SELECT path, status FROM core.source_file").fetchall())
    want = {f["path"]: f["expected"]["status"] for f in manifest["files"]}
    assert got == want
    assert summary.files_seen == len(manifest["files"])  # manifest.json itself is not a return


@pytest.mark.slow
def test_sample_values_are_traceable_to_their_cells(sample_run):
    conn, _, manifest, _, _ = sample_run
    obs = {
        (path, sheet, ref): (raw, value if value_text is None else value_text)
        for path, sheet, ref, raw, value, value_text in conn.execute(
            "SELECT f.path, o.sheet, o.cell, o.raw_text, o.value, o.value_text FROM core.observation o "
            "JOIN core.source_file f ON f.file_id = o.file_id"
        ).fetchall()
    }
    quarantined = {
        (path, sheet, ref): (reason, zh, en)
        for path, sheet, ref, reason, zh, en in conn.execute(
            "SELECT f.path, q.sheet, q.cell, q.reason_code, q.message_zh, q.message_en FROM core.quarantine q "
            "JOIN core.source_file f ON f.file_id = q.file_id WHERE q.scope <> 'file'"
        ).fetchall()
    }
    checked = bad = 0
    for f in manifest["files"]:
        if f["expected"]["status"] not in ("accepted", "partial"):
            continue
        for c in f["cells"]:
            key = (f["path"], c["sheet"], c["cell"])
            if c["expect"] == "ok" and c["value"] is not None:
                assert obs[key][0] == c["raw"], key
                want = c["value"] if isinstance(c["value"], str) else pytest.approx(c["value"])
                assert obs[key][1] == want, key
                checked += 1
            elif c["expect"] not in ("ok", "missing"):
                reason, zh, en = quarantined[key]
                assert reason == c["expect"]
                name = Path(f["path"]).name
                assert all(s in zh and s in en for s in (name, c["sheet"], c["cell"]))
                bad += 1
    assert checked > 100 and bad >= 2


@pytest.mark.slow
def test_sample_timeliness_matches_the_calendar(sample_run):
    conn, _, manifest, _, _ = sample_run
    got = {
        (path, period): late
        for path, period, late in conn.execute(
            "SELECT f.path, s.period_code, s.working_days_late FROM core.submission s "
            "JOIN core.source_file f ON f.file_id = s.file_id"
        ).fetchall()
    }
    want = {
        (f["path"], p): n
        for f in manifest["files"]
        if f["expected"]["status"] in ("accepted", "partial")
        for p, n in f["late_working_days"].items()
    }
    assert got == want
    assert any(n > 0 for n in want.values()) and any(n == 0 for n in want.values())


@pytest.mark.slow
def test_sample_resubmission_is_a_revision_and_a_second_ingest_changes_nothing(sample_run):
    conn, ctx, manifest, _, _ = sample_run
    resub = next(f for f in manifest["files"] if f["kind"] == "resubmission")
    (period,) = resub["periods"]
    revs = conn.execute(
        "SELECT f.path, s.revision_no, s.is_current FROM core.submission s JOIN core.source_file f "
        "ON f.file_id = s.file_id WHERE s.org_code = ? AND s.period_code = ? ORDER BY s.revision_no",
        [resub["org_code"], period],
    ).fetchall()
    assert len(revs) == 2 and revs[1] == (resub["path"], 2, True) and revs[0][1:] == (1, False)
    superseded = conn.execute(
        "SELECT count(*) FROM core.observation o JOIN core.source_file f ON f.file_id = o.file_id "
        "WHERE f.path = ? AND NOT o.is_current AND o.valid_to IS NOT NULL",
        [revs[0][0]],
    ).fetchone()[0]
    assert superseded > 0
    before = table_contents(conn)
    again = load.ingest_folder(conn, ctx)
    assert again.outcomes == [] and table_contents(conn) == before


@pytest.mark.slow
def test_sample_partial_file_feedback_marks_its_bad_cells(sample_run):
    import openpyxl

    from pipelines.returns.feedback import SUMMARY_SHEET, feedback_path_for

    conn, _, manifest, _, fb = sample_run
    f = next(f for f in manifest["files"] if f["expected"]["status"] == "partial")
    wb = openpyxl.load_workbook(feedback_path_for(fb, f["path"]))
    assert wb.sheetnames[0] == SUMMARY_SHEET
    for c in f["expected"]["bad_cells"]:
        cell = wb[c["sheet"]][c["cell"]]
        assert cell.fill.fill_type == "solid" and cell.comment is not None
    # a workbook for every file with problems, none for the clean ones (their row is the receipt)
    with_problems = {g["path"] for g in manifest["files"] if g["expected"]["status"] != "accepted"}
    got = dict(conn.execute("SELECT path, feedback_path FROM core.source_file").fetchall())
    assert with_problems and all(got[p] for p in with_problems if p in got)
    clean = conn.execute(
        "SELECT count(*), count(feedback_path) FROM core.source_file WHERE status = 'accepted' "
        "AND values_quarantined = 0 AND file_id NOT IN (SELECT file_id FROM core.quarantine)"
    ).fetchone()
    assert clean[0] > 10 and clean[1] == 0


def test_ingest_files_registers_paths_relative_to_the_raw_folder(warehouse, ctx, monkeypatch):
    drop(ctx.raw_dir, "511923/sthjj/good.xlsx", b"good", dt.datetime(2012, 4, 5, 9))
    drop(ctx.raw_dir, "511923/sthjj/~$good.xlsx", b"lock", dt.datetime(2012, 4, 5, 9))
    monkeypatch.chdir(ctx.raw_dir / "511923")
    parser = FakeParser(MARCH_OK)
    s = load.ingest_files(warehouse, ctx, [Path("sthjj/good.xlsx"), Path("sthjj/~$good.xlsx")], parse=parser)
    assert parser.calls == ["good.xlsx"] and s.accepted == 1
    assert warehouse.execute("SELECT path FROM core.source_file").fetchall() == [("511923/sthjj/good.xlsx",)]
