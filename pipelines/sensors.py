"""The drop-folder sensor: a run for new or changed files in the raw folder.

The cursor names a state file holding `{relative path: [size, mtime_ns]}` of every file already
handed to a run (`dump_cursor`: the map itself is too large to store with every tick at province
scale). Each tick scans the folder and compares:

- new or changed files (size or mtime differ) start ONE run of `monitoring_job` whose run key is a
  hash of exactly those (path, size, mtime) triples: if the daemon dies after starting the run but
  before saving the cursor, the next tick asks for the same run key and Dagster does not start it
  twice; after a restart the saved cursor means nothing is repeated and nothing is missed;
- deleted files are dropped from the cursor (no run: the warehouse keeps what it received);
- unchanged files do nothing.

The run refreshes the whole folder, which is cheap because the ingest skips content it has already
registered (content hash), so the run key is about *when* to run, not *what* to read.

With county partitions (`counties.partitioned`: more than one county profile, or
WUCHUANG_COUNTY_PARTITIONS=on) the tick starts one run per *affected county* instead, with that
county as partition key (its first folder under the raw folder, `<raw>/<county>/<unit>/<file>`) and a
run key hashed from that county's new or changed files: the county is re-ingested, re-validated,
recomputed and published alone; the other counties' snapshots stay as they are. Files outside a
known county's folder cannot be attributed and are only logged.
Skipped: README.md, manifest.json, hidden files and folders (`.x`), Office lock files (`~$x`) and
partial downloads/temp files; files modified in the last few seconds wait for the next tick so a
copy in progress is not read half-written (uploads through `pipelines.uploads` are atomic anyway).
"""

import contextlib
import gzip
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.settings import Settings

IGNORED_NAMES = frozenset({"README.md", "manifest.json", "Thumbs.db", "desktop.ini"})
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".lock", "~")
SETTLE_SECONDS = 5.0
MAX_TAG_FILES = 20
STATE_DIRNAME = "sensor-state"
CURSOR_VERSION = 2
KEEP_STATES = 20
_STATE_CACHE: dict[str, dict[str, tuple[int, int]]] = {}

Fingerprint = tuple[int, int]  # (size in bytes, mtime in ns)


def is_candidate(relative: Path) -> bool:
    """True for files the pipeline should read: what the loader reads (`load.is_ignored`), minus
    anything in a hidden folder and a few more temp-file suffixes."""
    from pipelines.returns.load import is_ignored

    name = relative.name
    if name in IGNORED_NAMES or name.startswith("~") or is_ignored(relative):
        return False
    if any(part.startswith(".") for part in relative.parts):
        return False
    return not name.lower().endswith(TEMP_SUFFIXES)


def _candidate_name(name: str) -> bool:
    """`is_candidate` for a file name in a folder that is not hidden (the walk skips hidden ones)."""
    from pipelines.returns.load import is_ignored

    if name in IGNORED_NAMES or name.startswith("~") or name.lower().endswith(TEMP_SUFFIXES):
        return False
    return not is_ignored(Path(name))


def scan_raw_folder(raw_dir: Path) -> dict[str, Fingerprint]:
    """Fingerprint of every candidate file under `raw_dir`, keyed by POSIX path relative to it.

    One `os.scandir` walk (the entries' types come with the listing; one `stat` per file), hidden
    folders pruned: at province scale (≈ 160,000 files) a tick must stay cheap."""
    raw_dir = Path(raw_dir)
    found: dict[str, Fingerprint] = {}
    if not raw_dir.is_dir():
        return found
    stack: list[tuple[str, str]] = [(str(raw_dir), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):  # removed while scanning
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{prefix}{name}/"))
                    continue
                if not entry.is_file() or not _candidate_name(name):
                    continue
                st = entry.stat()
            except FileNotFoundError:  # deleted while scanning
                continue
            found[f"{prefix}{name}"] = (st.st_size, st.st_mtime_ns)
    return found


def _state_dir() -> Path:
    return Settings.from_env().warehouse_dir / STATE_DIRNAME


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def _state_of(cursor: str | None) -> str | None:
    """The state file's digest a cursor names, or None (no cursor, an older inline cursor, junk)."""
    if not cursor or not cursor.startswith("{"):
        return None
    try:
        data = json.loads(cursor)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("v") == CURSOR_VERSION and isinstance(data.get("state"), str):
        return data["state"]
    return None


def parse_cursor(cursor: str | None) -> dict[str, Fingerprint]:
    """The cursor's file map; an unreadable cursor (or a missing or damaged state file) counts as
    empty: one extra run per county, idempotent because the ingest skips content it already has.
    An inline map (the cursor of earlier versions) is still read."""
    if not cursor:
        return {}
    state = _state_of(cursor)
    try:
        if state is None:
            data = json.loads(cursor)
        elif state in _STATE_CACHE:
            return dict(_STATE_CACHE[state])
        else:
            body = gzip.decompress((_state_dir() / f"{state}.json.gz").read_bytes())
            if _digest(body) != state:
                return {}
            data = json.loads(body)
        files = {str(k): (int(v[0]), int(v[1])) for k, v in data.items()}
    except (OSError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        return {}
    if state is not None:
        _remember(state, files)
    return files


def _remember(state: str, files: dict[str, Fingerprint]) -> None:
    """Keep the last state read or written in memory: the sensor runs in the long-lived code
    server, so a steady tick reads no state file (content-addressed: a digest never changes)."""
    _STATE_CACHE.clear()
    _STATE_CACHE[state] = dict(files)


def dump_cursor(files: dict[str, Fingerprint]) -> str:
    """A small cursor naming a content-addressed state file that holds the file map.

    Dagster stores the cursor with the sensor's state and with every tick: a map of every file
    in a province's drop folder (≈ 10 MB) stored every 30 s would grow its database by gigabytes a
    day. The state file (`<warehouse>/sensor-state/<digest>.json.gz`) is written atomically *before*
    the tick returns, and is never changed afterwards; if the daemon dies before Dagster saves
    the new cursor, the old cursor still names its own (older, kept) state file. The newest
    `KEEP_STATES` state files are kept."""
    body = json.dumps(
        {k: list(v) for k, v in sorted(files.items())}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    state = _digest(body)
    folder = _state_dir()
    path = folder / f"{state}.json.gz"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{state}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(gzip.compress(body, compresslevel=1, mtime=0))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _prune_states(folder, keep=path)
    else:
        os.utime(path)  # the newest in use: kept by the pruning
    _remember(state, files)
    return json.dumps({"v": CURSOR_VERSION, "state": state, "files": len(files)})


def _touch_state(state: str | None) -> None:
    if state is not None:
        with contextlib.suppress(OSError):
            os.utime(_state_dir() / f"{state}.json.gz")


def _prune_states(folder: Path, keep: Path) -> None:
    states = sorted(folder.glob("*.json.gz"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in states[KEEP_STATES:]:
        if old != keep:
            old.unlink(missing_ok=True)


def sensor_interval_seconds() -> int:
    """Seconds between ticks: WUCHUANG_SENSOR_INTERVAL_SECONDS (default 30, at least 5, the
    daemon's own loop). A tick costs one stat per file in the drop folder (≈ 10 ms for a county,
    1.6–3 s for a 160,000-file province), so a province keeps the default."""
    raw = os.environ.get("WUCHUANG_SENSOR_INTERVAL_SECONDS", "").strip()
    try:
        return max(5, int(raw)) if raw else 30
    except ValueError:
        return 30


@dataclass
class FolderChanges:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    settling: list[str] = field(default_factory=list)  # too recent: looked at again next tick
    cursor: dict[str, Fingerprint] = field(default_factory=dict)  # the cursor to save

    @property
    def to_ingest(self) -> list[str]:
        return sorted(self.new + self.changed)

    def run_key(self) -> str:
        triples = [[p, *self.cursor[p]] for p in self.to_ingest]
        digest = hashlib.sha256(json.dumps(triples, ensure_ascii=False).encode("utf-8")).hexdigest()
        return f"raw-{digest[:32]}"


def detect_changes(
    previous: dict[str, Fingerprint],
    current: dict[str, Fingerprint],
    now_ns: int | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> FolderChanges:
    """Compare two scans. Files modified less than `settle_seconds` ago are deferred: they keep
    their previous cursor entry (or none), so the next tick sees them as new or changed."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    limit = now_ns - int(settle_seconds * 1e9)
    out = FolderChanges()
    for path, fp in sorted(current.items()):
        old = previous.get(path)
        if old == fp:
            out.cursor[path] = fp
            continue
        if fp[1] > limit:
            out.settling.append(path)
            if old is not None:
                out.cursor[path] = old
            continue
        (out.new if old is None else out.changed).append(path)
        out.cursor[path] = fp
    out.deleted = sorted(set(previous) - set(current))
    return out


def county_run_requests(changes: FolderChanges, known: set[str]) -> tuple[list[dg.RunRequest], list[str]]:
    """One run request per county with new or changed files; and the files of no known county."""
    from pipelines.warehouse.counties import county_of

    by_county: dict[str, list[str]] = {}
    stray = []
    for path in changes.to_ingest:
        code = county_of(path)
        if code in known:
            by_county.setdefault(code, []).append(path)
        else:
            stray.append(path)
    requests = []
    for code, files in sorted(by_county.items()):
        triples = [[p, *changes.cursor[p]] for p in files]
        digest = hashlib.sha256(json.dumps(triples, ensure_ascii=False).encode("utf-8")).hexdigest()
        part = FolderChanges(
            new=[p for p in changes.new if p in files],
            changed=[p for p in changes.changed if p in files],
            cursor=changes.cursor,
        )
        requests.append(
            dg.RunRequest(
                run_key=f"raw-{code}-{digest[:32]}",
                partition_key=code,
                tags={**_tags(part), "wuchuang/county": code},
            )
        )
    return requests, stray


def _tags(changes: FolderChanges) -> dict[str, str]:
    files = changes.to_ingest
    shown = files[:MAX_TAG_FILES]
    more = f" (+{len(files) - len(shown)})" if len(files) > len(shown) else ""
    return {
        "wuchuang/trigger": "raw_folder",
        "wuchuang/new_files": str(len(changes.new)),
        "wuchuang/changed_files": str(len(changes.changed)),
        "wuchuang/files": "; ".join(shown) + more,
    }


@dg.sensor(
    job_name="monitoring_job",
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "报表接收目录有新文件或文件变化时启动入库并发布 / starts an ingest + publish run when files in the raw "
        "folder are new or changed (cursor: path → size, mtime; deleted files are forgotten, no run)."
    ),
)
def raw_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    raw_dir = Settings.from_env().raw_dir
    previous = parse_cursor(context.cursor)
    _touch_state(_state_of(context.cursor))  # in use: the pruning keeps the newest states
    changes = detect_changes(previous, scan_raw_folder(raw_dir))
    # Nothing new, changed or deleted: the stored cursor stays (no state file to write).
    unchanged = _state_of(context.cursor) is not None and changes.cursor == previous
    cursor = context.cursor if unchanged else dump_cursor(changes.cursor)
    if changes.deleted:
        context.log.info(f"forgotten (deleted from {raw_dir}): {', '.join(changes.deleted[:20])}")
    if not changes.to_ingest:
        reason = "无新文件 / no new or changed files"
        if changes.settling:
            reason += f"; {len(changes.settling)} 个文件仍在写入 / still being written"
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)
    from pipelines.warehouse import counties

    settings = Settings.from_env()
    if counties.partitioned(settings.profiles_dir):
        requests, stray = county_run_requests(changes, set(counties.county_codes(settings.profiles_dir)))
        if stray:
            context.log.warning(
                f"不属于任何县文件夹的文件未入库 / files outside every county folder were not ingested: "
                f"{', '.join(stray[:20])}"
            )
        if not requests:
            return dg.SensorResult(
                skip_reason=dg.SkipReason("新文件不属于任何县 / new files belong to no county folder"),
                cursor=cursor,
            )
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=changes.run_key(), tags=_tags(changes))],
        cursor=cursor,
    )


sensors = [raw_files_sensor]
