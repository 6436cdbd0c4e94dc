"""Loading departmental returns into the `core` tables: file registry, returns, observations, quarantine.

Plain functions, no Dagster. The flow for a batch of files:

1. scan the raw folder (skipping README.md, manifest.json, hidden and temporary files) and sort by
   received time (file modification time), then path, so revisions come out the same whatever the
   scan order;
2. skip file versions already registered: a path whose size and modification time are those of a
   registered version is not read at all (what make and rsync assume); any other file is hashed
   (SHA-256) and parsed, and skipped if the same content is registered at the same path. Ingesting
   the same content again changes nothing, not even `processed_at`. Large batches are hashed and
   parsed in forked worker processes (results consumed in input order, so the outcome is the same);
   the registry is read for the files at hand only, so one new file costs the same whatever the
   history holds;
3. an exact duplicate of an earlier file at another path is registered with status `duplicate`
   and loads no values;
4. every other file (parsed by `pipelines.returns.parse.parse_file`) is loaded atomically:
   the `source_file` row, one `submission` per unit × period, the `observation`s and the
   `quarantine` rows. A failure half-way rolls the file back completely and records it as
   rejected with the error.

Revisions: a later return for the same unit × period gets `revision_no + 1`; the observations it
replaces (same unit, indicator and period) get `valid_to` = its received time and
`is_current = false`, and are kept. `values_as_of(conn, ts)` answers "the value as reported on
date X"; the view `core.observation_current` holds the current values.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import stat
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines import reporting_calendar as rc
from pipelines.returns.model import REASONS, CellValue, ParseContext, ParsedReturn, Problem
from pipelines.returns.workers import can_fork, default_workers, fork_chunks, fork_map
from pipelines.settings import Settings
from pipelines.warehouse.schema import Table, create_all
from pipelines.warehouse.tables import core

log = logging.getLogger(__name__)

# Names in the raw folder that are never returns.
IGNORED_NAMES = frozenset({"readme.md", "manifest.json", "thumbs.db", "desktop.ini"})
# Temporary / lock files written by office suites: ~$x.xlsx (Excel), .~lock.x# (LibreOffice).
IGNORED_PREFIXES = ("~$", ".", "~")
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", "#")

EXTENSIONS = {".xlsx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".ods": "ods", ".csv": "csv"}

# Reasons raised by the loader itself (the parser's are in pipelines.returns.model.REASONS).
LOAD_REASONS = {
    "parse_failed": ("读取文件时发生内部错误", "internal error while reading the file"),
    "load_failed": ("入库时发生错误，该文件未入库", "error while loading; nothing of this file was loaded"),
}

AS_OF_SQL = """
SELECT o.*
FROM core.observation o
WHERE o.valid_from <= $as_of AND (o.valid_to IS NULL OR o.valid_to > $as_of)
"""

CURRENT_VIEW_SQL = """
CREATE OR REPLACE VIEW core.observation_current AS
SELECT * FROM core.observation WHERE is_current
"""

_CHUNK = 1 << 20

# Received and processing times are wall-clock times in China (UTC+8, no daylight saving), stored
# as naive TIMESTAMPs, so a return's received date is the date the office saw, whatever the
# server's time zone.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


# Many returns share a due date and a received date; the working-day walk is worth remembering.
_working_days_late = functools.lru_cache(maxsize=8192)(rc.working_days_late)


def _now() -> dt.datetime:
    return dt.datetime.now(CHINA_TZ).replace(tzinfo=None)


def reason_text(code: str) -> tuple[str, str]:
    """Chinese and English text of a reason code (parser's or loader's)."""
    return REASONS.get(code) or LOAD_REASONS.get(code) or (code, code)


# --------------------------------------------------------------------------------------------
# Scanning


@dataclass(frozen=True)
class RawFile:
    """One file found in the raw folder."""

    path: Path  # absolute
    rel_path: str  # POSIX path relative to the raw folder
    size: int
    received_at: dt.datetime  # file modification time, China wall-clock time (UTC+8), naive
    content_sha256: str

    @property
    def file_format(self) -> str:
        return EXTENSIONS.get(self.path.suffix.lower(), "unknown")


# Task ledgers (任务台账) are read by the plan mart (pipelines.marts.task_ledger), not as returns.
TASK_LEDGER_MARK = "任务台账"


def is_ignored(path: Path) -> bool:
    """README/manifest, task ledgers, hidden files and office temporary or lock files are not returns."""
    name = path.name
    return (
        name.lower() in IGNORED_NAMES
        or TASK_LEDGER_MARK in name
        or name.startswith(IGNORED_PREFIXES)
        or name.lower().endswith(IGNORED_SUFFIXES)
    )


def scan_raw_folder(raw_dir: Path) -> list[Path]:
    """Candidate return files under `raw_dir` (recursive), skipping hidden folders and ignored files."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    out = []
    for p in raw_dir.rglob("*"):
        rel = p.relative_to(raw_dir)
        if any(part.startswith(".") for part in rel.parts[:-1]) or not p.is_file() or is_ignored(p):
            continue
        out.append(p)
    return sorted(out)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _relative(path: Path, raw_dir: Path) -> tuple[Path, str]:
    """(absolute path, POSIX path relative to the raw folder); a file outside it keeps its name."""
    absolute, root = os.path.abspath(path), os.path.abspath(raw_dir)
    prefix = root if root.endswith(os.sep) else root + os.sep
    if absolute.startswith(prefix):  # the common case, without pathlib's per-call parsing
        rel = absolute[len(prefix) :]
        return Path(absolute), rel if os.sep == "/" else rel.replace(os.sep, "/")
    path, root_path = Path(absolute), Path(root)
    if path.is_relative_to(root_path):
        return path, path.relative_to(root_path).as_posix()
    real, real_root = path.resolve(), root_path.resolve()  # symlinked folders
    if real.is_relative_to(real_root):
        return real, real.relative_to(real_root).as_posix()
    return path, path.name


@dataclass(frozen=True)
class _Stat:
    """A file's registry key before hashing: where it is, its size and its received time."""

    path: Path
    rel_path: str
    size: int
    received_at: dt.datetime


def _stat_file(path: Path, raw_dir: Path) -> _Stat | None:
    """Path, size and received time of a regular file; None for a folder. Raises OSError."""
    path, rel = _relative(path, raw_dir)
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        return None
    received = dt.datetime.fromtimestamp(st.st_mtime, CHINA_TZ).replace(tzinfo=None)
    return _Stat(path, rel, st.st_size, received)


def describe_file(path: Path, raw_dir: Path) -> RawFile:
    path, rel = _relative(Path(path), Path(raw_dir))
    st = path.stat()
    return RawFile(
        path=path,
        rel_path=rel,
        size=st.st_size,
        received_at=dt.datetime.fromtimestamp(st.st_mtime, CHINA_TZ).replace(tzinfo=None),
        content_sha256=sha256_file(path),
    )


def processing_order(files: Iterable[RawFile]) -> list[RawFile]:
    """Deterministic order: received time, then path."""
    return sorted(files, key=lambda f: (f.received_at, f.rel_path))


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class FileOutcome:
    file_id: str
    rel_path: str
    status: str  # accepted | partial | rejected | duplicate
    values_loaded: int = 0
    values_quarantined: int = 0
    reason_codes: tuple[str, ...] = ()  # distinct reasons of the file's problems


@dataclass
class IngestSummary:
    """What a run did, for printing by the run command and for Dagster metadata."""

    files_seen: int = 0
    files_skipped: int = 0  # already registered: unchanged
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def accepted(self) -> int:
        return self.count("accepted")

    @property
    def partial(self) -> int:
        return self.count("partial")

    @property
    def rejected(self) -> int:
        return self.count("rejected")

    @property
    def duplicate(self) -> int:
        return self.count("duplicate")

    @property
    def values_loaded(self) -> int:
        return sum(o.values_loaded for o in self.outcomes)

    @property
    def values_quarantined(self) -> int:
        return sum(o.values_quarantined for o in self.outcomes)

    @property
    def file_ids(self) -> list[str]:
        return [o.file_id for o in self.outcomes]

    def as_dict(self) -> dict[str, int]:
        return {
            "files_seen": self.files_seen,
            "files_unchanged": self.files_skipped,
            "files_processed": len(self.outcomes),
            "files_accepted": self.accepted,
            "files_partial": self.partial,
            "files_rejected": self.rejected,
            "files_duplicate": self.duplicate,
            "values_loaded": self.values_loaded,
            "values_quarantined": self.values_quarantined,
        }

    def lines(self, max_files: int = 20) -> list[str]:
        """Human summary, Chinese first then English, with the files that need attention."""
        out = [
            f"文件 / files: 共 {self.files_seen} 个 seen, {self.files_skipped} 个未变 unchanged, "
            f"{len(self.outcomes)} 个处理 processed",
            f"  接收 accepted {self.accepted}, 部分接收 partial {self.partial}, "
            f"拒收 rejected {self.rejected}, 重复 duplicate {self.duplicate}",
            f"数值 / values: {self.values_loaded} 个入库 loaded, {self.values_quarantined} 个隔离 quarantined",
        ]
        flagged = [o for o in self.outcomes if o.status in ("rejected", "partial")]
        for o in flagged[:max_files]:
            label = "拒收 rejected" if o.status == "rejected" else "部分接收 partial"
            out.append(f"  {label}: {o.rel_path} ({', '.join(o.reason_codes)})")
        if len(flagged) > max_files:
            out.append(f"  … 另有 {len(flagged) - max_files} 个 / {len(flagged) - max_files} more")
        return out


# --------------------------------------------------------------------------------------------
# Loading


def ensure_core(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the core tables and the `core.observation_current` view if missing."""
    tables = [core.SOURCE_FILE, core.SUBMISSION, core.OBSERVATION, core.QUARANTINE]
    existing = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'core'"
        ).fetchall()
    }
    missing = [t for t in tables if t.name not in existing]
    if missing:
        create_all(conn, missing)
    has_view = conn.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'core' AND view_name = 'observation_current'"
    ).fetchone()[0]
    if missing or not has_view:
        conn.execute(CURRENT_VIEW_SQL)


def values_as_of(conn: duckdb.DuckDBPyConnection, as_of: dt.datetime | dt.date) -> pd.DataFrame:
    """Observations as reported at `as_of` (a date means the end of that day)."""
    if not isinstance(as_of, dt.datetime):
        as_of = dt.datetime.combine(as_of, dt.time.max)
    return conn.execute(AS_OF_SQL + " ORDER BY org_code, indicator_code, period_code", {"as_of": as_of}).df()


def _default_parse() -> Callable[[Path, ParseContext], ParsedReturn]:
    from pipelines.returns.parse import parse_file

    return parse_file


def _insert(conn: duckdb.DuckDBPyConnection, t: Table, rows: list[tuple]) -> None:
    """Bulk insert: one statement per table from a registered Arrow table (NULLs stay NULL).

    Falls back to a DataFrame when Arrow cannot type a column (mixed Python types)."""
    if not rows:
        return
    names = t.column_names
    placeholders = ", ".join("?" for _ in names)
    cols = ", ".join(f'"{n}"' for n in names)
    if len(rows) == 1:
        conn.execute(f"INSERT INTO {t.qualified} ({cols}) VALUES ({placeholders})", list(rows[0]))
        return
    try:
        columns = zip(*rows, strict=True)
        frame = pa.table({n: pa.array(values) for n, values in zip(names, columns, strict=True)})
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        frame = pd.DataFrame.from_records(rows, columns=names)
    conn.register("_load_rows", frame)
    try:
        conn.execute(f"INSERT INTO {t.qualified} ({cols}) SELECT {cols} FROM _load_rows")
    finally:
        conn.unregister("_load_rows")


def _located(p: Problem, file_name: str) -> tuple[str, str]:
    """The problem's messages, made sure to name file, sheet and cell."""
    zh, en = p.message_zh, p.message_en
    if file_name not in zh:
        where_zh = f"文件“{file_name}”" + (f"工作表“{p.sheet}”" if p.sheet else "")
        where_zh += f"单元格 {p.cell}" if p.cell else ""
        zh = f"{where_zh}：{zh}"
    if file_name not in en:
        where_en = f"file '{file_name}'" + (f", sheet '{p.sheet}'" if p.sheet else "")
        where_en += f", cell {p.cell}" if p.cell else ""
        en = f"{where_en}: {en}"
    return zh, en


def _file_problem(code: str, file_name: str, detail: str = "") -> Problem:
    zh, en = reason_text(code)
    suffix = f"（{detail}）" if detail else ""
    return Problem(
        scope="file",
        reason_code=code,
        message_zh=f"文件“{file_name}”：{zh}{suffix}",
        message_en=f"file '{file_name}': {en}" + (f" ({detail})" if detail else ""),
    )


@dataclass
class _Pending:
    """One file ready to be written: its rows per table, prepared outside the transaction."""

    f: RawFile
    file_id: str
    processed_at: dt.datetime
    parsed: ParsedReturn | None
    duplicate_of: tuple[str, str] | None  # exact duplicate: (file_id, path) of the original
    rows: dict[str, list[tuple]] = field(default_factory=dict)
    rechain: set[tuple[str, str]] = field(default_factory=set)
    outcome: FileOutcome | None = None


# --------------------------------------------------------------------------------------------
# Hashing and parsing, in worker processes for large batches

# Below this many files to read, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 48
# A large batch is read in about this many chunks (at most `batch_size` files each), each read while
# the previous one is loaded. Every chunk costs a fork (measured: ~25 ms on the 2-core machine, mostly
# copy-on-write page faults), so few large chunks beat many small ones.
READ_CHUNKS = 1


@dataclass
class _Read:
    """A file hashed and parsed: `sha` is None if it could not be read, `parsed` None if the parser
    crashed (`error` says why)."""

    sha: str | None
    parsed: ParsedReturn | None = None
    error: str | None = None
    trace: str | None = None


def _hash_and_parse(
    path: Path, ctx: ParseContext, parse: Callable[[Path, ParseContext], ParsedReturn]
) -> _Read:
    try:
        sha = sha256_file(path)
    except OSError as exc:  # vanished or unreadable since the scan
        return _Read(None, error=str(exc))
    try:
        return _Read(sha, parse(path, ctx))
    except Exception as exc:  # the parser promises not to raise; never let one file stop the run
        # logged by the caller's process (a worker must not write to the parent's log handlers)
        return _Read(sha, error=repr(exc)[:300], trace=traceback.format_exc())


def _read_stat(s: _Stat, ctx: ParseContext, parse: Callable[[Path, ParseContext], ParsedReturn]) -> _Read:
    return _hash_and_parse(s.path, ctx, parse)


def read_in_parallel(
    paths: list[Path],
    ctx: ParseContext,
    parse: Callable[[Path, ParseContext], ParsedReturn],
    workers: int,
) -> list[_Read]:
    """Hash and parse `paths` in this process and `workers - 1` forked ones; results in input order
    (see `pipelines.returns.workers.fork_map`; a dead worker's files are read again here)."""
    from pipelines.returns.parse import resources

    resources(ctx)  # build the parser's matchers once, before the fork, for every process
    return fork_map(functools.partial(_hash_and_parse, ctx=ctx, parse=parse), paths, workers)


def _return_keys(parsed: ParsedReturn) -> set[tuple[str | None, str | None]]:
    """The unit × periods a parsed file may create returns for (superset: rejected files create none)."""
    keys: set[tuple[str | None, str | None]] = {(v.org_code, v.period_code) for v in parsed.values}
    if parsed.org_code:
        keys.update((parsed.org_code, per) for per in parsed.period_codes)
    return keys


class Loader:
    """Loads files into one open warehouse connection; keeps the registry state of the batch in memory.

    Rows are prepared file by file and written in batches of up to `batch_size` files per
    transaction (one DataFrame insert per table instead of one per file). Each file is atomic:
    if a batch fails, it is rolled back and its files are written again one transaction per
    file, so only the failing file is rejected (`load_failed`) and nothing of it remains.
    """

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        ctx: ParseContext,
        parse: Callable[[Path, ParseContext], ParsedReturn] | None = None,
        now: Callable[[], dt.datetime] | None = None,
        batch_size: int = 500,
        workers: int | None = None,
    ):
        self.conn = conn
        self.ctx = ctx
        self._parse = parse
        self.now = now or _now
        self.batch_size = max(1, batch_size)
        self.workers = default_workers() if workers is None else max(1, workers)
        ensure_core(conn)
        # The registry state is read for the files at hand only (their paths, then their content
        # hashes, then the unit × periods they report), so one new file costs the same whatever
        # the history holds.
        self.registered: set[tuple[str, str]] = set()
        # content hash -> the first loaded (accepted or partial) file with those bytes:
        # (file_id, path, org_code, sorted period_codes)
        self.first_by_content: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {}
        self.content_seen: set[str] = set()
        self._hashes_read: set[str] = set()
        self.revisions: dict[tuple[str | None, str | None], int] = {}
        self.deadlines: dict[tuple[str, str], dt.date] = {}
        self._deadline_counties: set[str] = set()
        self._has_deadlines = bool(
            conn.execute(
                "SELECT count(*) FROM duckdb_tables() "
                "WHERE schema_name = 'dim' AND table_name = 'reporting_deadline'"
            ).fetchone()[0]
        )
        self.org_county: dict[str, str] = {}
        for prof in ctx.profiles:
            for u in prof.org_units:
                if u.county:
                    self.org_county[u.code] = u.county
        self.county_codes = {prof.code for prof in ctx.profiles}

    # -- registry look-ups, for the files at hand only -------------------------------------

    def _known_versions(self, rel_paths: list[str]) -> set[tuple[str, int, dt.datetime]]:
        """(path, size, received time) of the registered versions of these paths."""
        if not rel_paths:
            return set()
        rows = self.conn.execute(
            "SELECT path, size_bytes, received_at FROM core.source_file "
            "WHERE path IN (SELECT unnest($paths))",
            {"paths": sorted(set(rel_paths))},
        ).fetchall()
        return {(path, size, received) for path, size, received in rows}

    def _read_registry(self, hashes: Iterable[str]) -> None:
        """Registered files with these content hashes (in received order): duplicates, file ids."""
        new = sorted({h for h in hashes if h not in self._hashes_read})
        if not new:
            return
        self._hashes_read.update(new)
        for file_id, path, sha, status, org, periods in self.conn.execute(
            "SELECT file_id, path, coalesce(content_sha256, file_id), status, org_code, period_codes "
            "FROM core.source_file WHERE coalesce(content_sha256, file_id) IN (SELECT unnest($hashes)) "
            "ORDER BY received_at, path",
            {"hashes": new},
        ).fetchall():
            self.registered.add((sha, path))
            self.content_seen.add(sha)
            if status in ("accepted", "partial"):
                self.first_by_content.setdefault(sha, (file_id, path, org, tuple(sorted(periods or []))))

    def _read_revisions(self, keys: Iterable[tuple[str | None, str | None]]) -> None:
        """Number of registered returns per unit × period, for the keys not read yet."""
        new = sorted({k for k in keys if k not in self.revisions}, key=lambda k: (str(k[0]), str(k[1])))
        if not new:
            return
        for k in new:
            self.revisions[k] = 0
        rows = self.conn.execute(
            """
            SELECT s.org_code, s.period_code, count(*)
            FROM core.submission s
            JOIN (SELECT unnest($orgs) AS org_code, unnest($periods) AS period_code) k
              ON s.org_code IS NOT DISTINCT FROM k.org_code AND s.period_code IS NOT DISTINCT FROM k.period_code
            GROUP BY 1, 2
            """,
            {"orgs": [k[0] for k in new], "periods": [k[1] for k in new]},
        ).fetchall()
        for org, per, n in rows:
            self.revisions[(org, per)] = n

    def _reload_revisions(self, batch: Iterable[_Pending] = ()) -> None:
        """After a rollback: forget the counts and read again those of the batch's unit × periods."""
        self.revisions = {}
        self._read_revisions(k for item in batch if item.parsed for k in _return_keys(item.parsed))

    def _read_deadlines(self, county: str) -> None:
        self._deadline_counties.add(county)
        if not self._has_deadlines:
            return
        for c, p, d in self.conn.execute(
            "SELECT county_code, period_code, due_date FROM dim.reporting_deadline WHERE county_code = ?",
            [county],
        ).fetchall():
            self.deadlines[(c, p)] = d

    @property
    def parse(self) -> Callable[[Path, ParseContext], ParsedReturn]:
        if self._parse is None:
            self._parse = _default_parse()
        return self._parse

    # -- public ---------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path]) -> IngestSummary:
        summary = IngestSummary()
        stats: list[_Stat] = []
        for p in paths:
            try:
                st = _stat_file(p, self.ctx.raw_dir)
            except FileNotFoundError:  # gone since the scan (moved away, deleted): nothing to ingest
                continue
            except OSError as exc:  # unreadable
                log.warning("cannot read %s: %s", p, exc)
                continue
            if st is not None:
                stats.append(st)
        stats.sort(key=lambda s: (s.received_at, s.rel_path))  # deterministic: received time, then path
        summary.files_seen = len(stats)
        # A path whose size and modification time are those of a registered version is that version:
        # it is neither hashed nor read again (what make and rsync assume).
        known = self._known_versions([s.rel_path for s in stats])
        todo = []
        for s in stats:
            if (s.rel_path, s.size, s.received_at) in known:
                summary.files_skipped += 1
            else:
                todo.append(s)
        batch: list[_Pending] = []
        for chunk, reads in self._read_chunks(todo):
            self._read_registry(r.sha for r in reads if r.sha)
            self._read_revisions(k for r in reads if r.parsed for k in _return_keys(r.parsed))
            for s, r in zip(chunk, reads, strict=True):
                if r.sha is None:
                    log.warning("cannot read %s: %s", s.rel_path, r.error)
                    summary.files_seen -= 1
                    continue
                f = RawFile(s.path, s.rel_path, s.size, s.received_at, r.sha)
                if (f.content_sha256, f.rel_path) in self.registered:  # touched, same bytes
                    summary.files_skipped += 1
                    continue
                batch.append(self._prepare_file(f, self._parsed(f, r)))
                if len(batch) >= self.batch_size:
                    summary.outcomes.extend(self._flush(batch))
                    batch = []
        summary.outcomes.extend(self._flush(batch))
        return summary

    # -- preparing ------------------------------------------------------------------------

    def _read_chunks(self, todo: list[_Stat]) -> Iterator[tuple[Sequence[_Stat], list[_Read]]]:
        """(files, their hash and parse results) chunk by chunk, in order. With enough files, the
        next chunk is read by worker processes while this one is loaded (see `fork_chunks`)."""
        parallel = (
            self.workers > 1
            and len(todo) >= PARALLEL_MIN_FILES
            and self._parse is None  # an injected parser (tests) runs in this process
            and can_fork()
        )
        if not parallel:
            parse = self.parse
            for start in range(0, len(todo), self.batch_size):
                chunk = todo[start : start + self.batch_size]
                yield chunk, [_hash_and_parse(s.path, self.ctx, parse) for s in chunk]
            return
        from pipelines.returns.parse import resources

        resources(self.ctx)  # build the parser's matchers once, before the fork, for every process
        size = min(self.batch_size, max(PARALLEL_MIN_FILES // 2, -(-len(todo) // READ_CHUNKS)))
        chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
        read = functools.partial(_read_stat, ctx=self.ctx, parse=self.parse)
        yield from fork_chunks(read, chunks, self.workers)

    def _parsed(self, f: RawFile, r: _Read) -> ParsedReturn:
        if r.parsed is not None:
            return r.parsed
        # the parser promises not to raise; never let one file stop the run
        log.error("parser failed on %s: %s\n%s", f.rel_path, r.error, r.trace or "")
        parsed = ParsedReturn(path=f.path, file_format=f.file_format)
        parsed.problems.append(_file_problem("parse_failed", f.path.name, r.error or ""))
        return parsed

    def _prepare_file(self, f: RawFile, parsed: ParsedReturn) -> _Pending:
        processed_at = self.now()
        sha = f.content_sha256
        if sha in self.content_seen:
            file_id = f"{sha}@{hashlib.sha256(f.rel_path.encode()).hexdigest()[:12]}"
        else:
            file_id = sha
        self.content_seen.add(sha)
        self.registered.add((sha, f.rel_path))
        first = self.first_by_content.get(sha)
        if first is not None and (parsed.org_code, tuple(sorted(parsed.period_codes))) == first[2:]:
            # Same bytes as a loaded file, same unit and periods: an exact duplicate. Same bytes under
            # a name giving another period (a CSV whose period is in its file name) is another return;
            # same bytes as a rejected file are judged afresh (a return sent too early, sent again).
            item = _Pending(f, file_id, processed_at, parsed, first[:2])
            self._prepare_duplicate(item)
            return item
        item = _Pending(f, file_id, processed_at, parsed, None)
        self._prepare_parsed(item)
        if first is None and item.outcome.status in ("accepted", "partial"):
            self.first_by_content[sha] = (
                file_id,
                f.rel_path,
                parsed.org_code,
                tuple(sorted(parsed.period_codes)),
            )
        return item

    def _county(self, org_code: str | None, rel_path: str) -> str | None:
        if org_code and org_code in self.org_county:
            return self.org_county[org_code]
        if org_code and "-" in org_code:
            return org_code.split("-", 1)[0]
        head = rel_path.split("/", 1)[0]
        if head in self.county_codes:
            return head
        return next(iter(self.county_codes)) if len(self.county_codes) == 1 else None

    def _timeliness(
        self, county: str | None, period: str, received: dt.datetime
    ) -> tuple[dt.date | None, int | None, bool | None]:
        if county and county not in self._deadline_counties:
            self._read_deadlines(county)
        due = self.deadlines.get((county, period)) if county else None
        if due is None:
            return None, None, None
        try:
            late = _working_days_late(due, received.date())
        except rc.CalendarError:
            late = None
        return due, late, received.date() <= due

    def _source_row(
        self,
        item: _Pending,
        status: str,
        loaded: int,
        quarantined: int,
        reason_codes: list[str],
        message_zh: str,
        message_en: str,
    ) -> tuple:
        f, parsed = item.f, item.parsed
        org = parsed.org_code if parsed else None
        row = {
            "file_id": item.file_id,
            "path": f.rel_path,
            "content_sha256": f.content_sha256,
            "duplicate_of": item.duplicate_of[0] if item.duplicate_of else None,
            "file_name": f.path.name,
            "file_format": (parsed.file_format if parsed else None) or f.file_format,
            "size_bytes": f.size,
            "received_at": f.received_at,
            "processed_at": item.processed_at,
            "county_code": self._county(org, f.rel_path),
            "org_code": org,
            "org_detected_by": parsed.org_detected_by if parsed else None,
            "period_codes": list(parsed.period_codes) if parsed else [],
            "period_detected_by": parsed.period_detected_by if parsed else None,
            "template_version": parsed.template_version if parsed else None,
            "layout": parsed.layout if parsed else None,
            "status": status,
            "values_loaded": loaded,
            "values_quarantined": quarantined,
            "reason_codes": reason_codes,
            "message_zh": message_zh,
            "message_en": message_en,
            "feedback_path": None,
        }
        return tuple(row[n] for n in core.SOURCE_FILE.column_names)

    def _prepare_duplicate(self, item: _Pending) -> None:
        f, file_id = item.f, item.file_id
        _orig_id, orig_path = item.duplicate_of
        zh, en = REASONS["duplicate_file"]
        msg_zh = f"文件“{f.path.name}”：{zh}（{orig_path}），未重复入库"
        msg_en = f"file '{f.path.name}': {en} ({orig_path}); not loaded again"
        source = self._source_row(item, "duplicate", 0, 0, ["duplicate_file"], msg_zh, msg_en)
        quarantine = (f"{file_id}:q0000", file_id, f.path.name, *([None] * 6), "file", "duplicate_file")
        quarantine += (msg_zh, msg_en, item.processed_at)
        item.rows = {"source_file": [source], "quarantine": [quarantine]}
        item.outcome = FileOutcome(file_id, f.rel_path, "duplicate", reason_codes=("duplicate_file",))

    def _prepare_parsed(self, item: _Pending) -> None:
        f, file_id, parsed, processed_at = item.f, item.file_id, item.parsed, item.processed_at
        item.rechain = set()
        name = f.path.name
        file_problems = [p for p in parsed.problems if p.scope == "file"]
        rejected = bool(file_problems)
        values: list[CellValue] = [] if rejected else list(parsed.values)

        # Quarantine: every problem, with a stable id and messages naming file, sheet and cell.
        quarantine = []
        for i, p in enumerate(parsed.problems):
            zh, en = _located(p, name)
            quarantine.append(
                (
                    f"{file_id}:q{i:04d}",
                    file_id,
                    name,
                    p.sheet,
                    p.cell,
                    p.org_code or parsed.org_code,
                    p.period_code,
                    p.indicator_code,
                    p.raw_text,
                    p.scope,
                    p.reason_code,
                    zh,
                    en,
                    processed_at,
                )
            )
        n_bad = sum(1 for p in parsed.problems if p.scope != "file")
        if rejected:
            # Values the parser read are not loaded: they count as quarantined with the file.
            n_bad += len(parsed.values)

        # Returns: one per unit × period, from the values and from the detected unit × periods.
        keys: dict[tuple[str, str], list[CellValue]] = {}
        if not rejected:
            if parsed.org_code:
                for per in parsed.period_codes:
                    keys.setdefault((parsed.org_code, per), [])
            for v in values:
                keys.setdefault((v.org_code, v.period_code), []).append(v)
        bad_by_key: dict[tuple[str | None, str | None], int] = {}
        for p in parsed.problems:
            if p.scope != "file":
                k = (p.org_code or parsed.org_code, p.period_code)
                bad_by_key[k] = bad_by_key.get(k, 0) + 1

        self._read_revisions(keys)  # normally read already for the whole chunk; after a rollback, again
        submissions, observations = [], []
        for (org, per), vals in sorted(keys.items()):
            sub_id = f"{file_id}:{org}:{per}"
            prev = self.revisions.get((org, per), 0)
            rev = prev + 1
            self.revisions[(org, per)] = rev
            if prev:
                item.rechain.add((org, per))
            county = self._county(org, f.rel_path)
            due, late, on_time = self._timeliness(county, per, f.received_at)
            submissions.append(
                (
                    sub_id,
                    file_id,
                    county,
                    org,
                    per,
                    rev,
                    f.received_at,
                    due,
                    late,
                    on_time,
                    True,
                    len(vals),
                    bad_by_key.get((org, per), 0),
                )
            )
            seen: set[str] = set()
            for v in vals:
                obs_id = f"{sub_id}:{v.indicator_code}:{v.sheet}!{v.cell}"
                if obs_id in seen:
                    obs_id = f"{obs_id}#{len(seen)}"
                seen.add(obs_id)
                observations.append(
                    (
                        obs_id,
                        sub_id,
                        file_id,
                        county,
                        org,
                        v.indicator_code,
                        per,
                        v.value,
                        v.value_text,
                        v.raw_text,
                        v.unit,
                        v.sheet,
                        v.cell,
                        rev,
                        f.received_at,
                        None,
                        True,
                    )
                )

        status = "rejected" if rejected else ("partial" if n_bad else "accepted")
        if rejected:
            msg_zh = "；".join(_located(p, name)[0] for p in file_problems) + "。整个文件未入库。"
            msg_en = (
                "; ".join(_located(p, name)[1] for p in file_problems) + ". Nothing of this file was loaded."
            )
        else:
            msg_zh = f"文件“{name}”：{len(observations)} 个数值入库，{n_bad} 个数值被拒收。"
            msg_en = f"file '{name}': {len(observations)} values loaded, {n_bad} values rejected."
        codes = sorted({p.reason_code for p in file_problems})
        source = self._source_row(item, status, len(observations), n_bad, codes, msg_zh, msg_en)
        item.rows = {
            "source_file": [source],
            "submission": submissions,
            "observation": observations,
            "quarantine": quarantine,
        }
        reasons = tuple(dict.fromkeys(p.reason_code for p in parsed.problems))
        item.outcome = FileOutcome(file_id, f.rel_path, status, len(observations), n_bad, reasons)

    # -- writing --------------------------------------------------------------------------

    def _transaction(self, work: Callable[[], None]) -> None:
        self.conn.execute("BEGIN TRANSACTION")
        try:
            work()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _write(self, batch: list[_Pending]) -> None:
        for t in (core.SOURCE_FILE, core.SUBMISSION, core.OBSERVATION, core.QUARANTINE):
            _insert(self.conn, t, [r for item in batch for r in item.rows.get(t.name, [])])
        for org, per in sorted({k for item in batch for k in item.rechain}):
            _rechain(self.conn, org, per)

    def _flush(self, batch: list[_Pending]) -> list[FileOutcome]:
        if not batch:
            return []
        try:
            self._transaction(lambda: self._write(batch))
            return [item.outcome for item in batch]
        except Exception as exc:
            self._reload_revisions(batch)
            if len(batch) > 1:  # find the failing file: one transaction per file
                log.warning("batch of %d files failed (%s); loading them one by one", len(batch), exc)
                outcomes = []
                for item in batch:
                    if item.duplicate_of:
                        self._prepare_duplicate(item)
                    else:
                        self._prepare_parsed(item)
                    outcomes.extend(self._flush([item]))
                return outcomes
            item = batch[0]
            log.error("loading %s failed; rolled back: %r", item.f.rel_path, exc)
            parsed = item.parsed or ParsedReturn(path=item.f.path, file_format=item.f.file_format)
            failed = _Pending(
                item.f,
                item.file_id,
                item.processed_at,
                ParsedReturn(
                    path=item.f.path,
                    file_format=parsed.file_format,
                    org_code=parsed.org_code,
                    org_detected_by=parsed.org_detected_by,
                    period_codes=list(parsed.period_codes),
                    period_detected_by=parsed.period_detected_by,
                    template_version=parsed.template_version,
                    layout=parsed.layout,
                    problems=[_file_problem("load_failed", item.f.path.name, repr(exc)[:300])],
                ),
                None,
            )
            self._prepare_parsed(failed)
            self._transaction(lambda: self._write([failed]))
            return [failed.outcome]


_RECHAIN_SUBMISSIONS = """
UPDATE core.submission AS s
SET revision_no = r.rn, is_current = (r.rn = r.n)
FROM (
    SELECT s2.submission_id,
           row_number() OVER (ORDER BY s2.received_at, f.path, s2.submission_id) AS rn,
           count(*) OVER () AS n
    FROM core.submission s2 JOIN core.source_file f ON f.file_id = s2.file_id
    WHERE s2.org_code = $org AND s2.period_code = $period
) AS r
WHERE s.submission_id = r.submission_id
"""

_RECHAIN_OBSERVATIONS = """
UPDATE core.observation AS o
SET revision_no = nx.rev, valid_to = nx.next_from, is_current = (nx.next_from IS NULL)
FROM (
    WITH k AS (
        SELECT o2.observation_id, o2.indicator_code, o2.valid_from, s.revision_no AS rev
        FROM core.observation o2 JOIN core.submission s ON s.submission_id = o2.submission_id
        WHERE o2.org_code = $org AND o2.period_code = $period
    )
    SELECT a.observation_id, a.rev, min(b.valid_from) AS next_from
    FROM k a LEFT JOIN k b ON b.indicator_code = a.indicator_code AND b.rev > a.rev
    GROUP BY a.observation_id, a.rev
) AS nx
WHERE o.observation_id = nx.observation_id
"""


def _rechain(conn: duckdb.DuckDBPyConnection, org: str, period: str) -> None:
    """Renumber the revisions of one unit × period and close superseded observations.

    Revision order is received time, then path; an observation stays current until a later
    revision reports the same indicator.
    """
    params = {"org": org, "period": period}
    conn.execute(_RECHAIN_SUBMISSIONS, params)
    conn.execute(_RECHAIN_OBSERVATIONS, params)


# --------------------------------------------------------------------------------------------
# Entry points


def ingest_files(
    conn: duckdb.DuckDBPyConnection,
    ctx: ParseContext,
    paths: Iterable[Path],
    parse: Callable[[Path, ParseContext], ParsedReturn] | None = None,
    now: Callable[[], dt.datetime] | None = None,
    batch_size: int = 500,
) -> IngestSummary:
    """Ingest the given files only (sensor, CLI). Ignored names are skipped; order is deterministic."""
    paths = [p for p in map(Path, paths) if not is_ignored(p)]  # folders and vanished files: see ingest
    return Loader(conn, ctx, parse=parse, now=now, batch_size=batch_size).ingest(paths)


def ingest_folder(
    conn: duckdb.DuckDBPyConnection,
    ctx: ParseContext,
    parse: Callable[[Path, ParseContext], ParsedReturn] | None = None,
    now: Callable[[], dt.datetime] | None = None,
    batch_size: int = 500,
) -> IngestSummary:
    """Ingest every new file version under `ctx.raw_dir`."""
    return Loader(conn, ctx, parse=parse, now=now, batch_size=batch_size).ingest(scan_raw_folder(ctx.raw_dir))


def record_feedback_path(conn: duckdb.DuckDBPyConnection, file_id: str, path: str | None) -> None:
    conn.execute("UPDATE core.source_file SET feedback_path = ? WHERE file_id = ?", [path, file_id])


def ingest_returns(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    paths: Iterable[Path] | None = None,
    parse: Callable[[Path, ParseContext], ParsedReturn] | None = None,
    feedback: bool = True,
    today: dt.date | None = None,
) -> IngestSummary:
    """Ingest the raw folder (or only `paths`) and write the feedback workbooks of the new files that
    have problems (clean files get none: their registry row is the receipt).

    The one entry point for the Dagster asset, the folder sensor and the CLI.
    """
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.returns.feedback import pending_feedback, write_feedback

    catalog = load_catalog(settings.standards_dir)
    profiles = tuple(load_profiles(settings.profiles_dir, catalog))
    ctx = ParseContext(catalog, profiles, settings.raw_dir, today or _now().date())
    if paths is None:
        summary = ingest_folder(conn, ctx, parse=parse)
    else:
        summary = ingest_files(conn, ctx, paths, parse=parse)
    if feedback:
        # Workbooks only for files with problems (clean files: the registry row is the receipt); also
        # files committed by a run that died before its feedback step: none is left without one.
        todo = list(dict.fromkeys([*summary.file_ids, *pending_feedback(conn)]))
        write_feedback(conn, settings.raw_dir, settings.feedback_dir, todo)
    return summary
