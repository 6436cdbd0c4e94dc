"""The drop-folder sensor: a run for new or changed files in the raw folder.

The cursor is a JSON object `{relative path: [size, mtime_ns]}` of every file already handed to a
run. Each tick scans the folder and compares:

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


def scan_raw_folder(raw_dir: Path) -> dict[str, Fingerprint]:
    """Fingerprint of every candidate file under `raw_dir`, keyed by POSIX path relative to it."""
    raw_dir = Path(raw_dir)
    found: dict[str, Fingerprint] = {}
    if not raw_dir.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(raw_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in filenames:
            path = Path(dirpath) / fname
            rel = path.relative_to(raw_dir)
            if not is_candidate(rel):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:  # deleted while scanning
                continue
            if path.is_file():
                found[rel.as_posix()] = (st.st_size, st.st_mtime_ns)
    return found


def parse_cursor(cursor: str | None) -> dict[str, Fingerprint]:
    """The cursor's file map; an unreadable cursor counts as empty (one extra, idempotent run)."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        return {str(k): (int(v[0]), int(v[1])) for k, v in data.items()}
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return {}


def dump_cursor(files: dict[str, Fingerprint]) -> str:
    return json.dumps(
        {k: list(v) for k, v in sorted(files.items())}, ensure_ascii=False, separators=(",", ":")
    )


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
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "报表接收目录有新文件或文件变化时启动入库并发布 / starts an ingest + publish run when files in the raw "
        "folder are new or changed (cursor: path → size, mtime; deleted files are forgotten, no run)."
    ),
)
def raw_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    raw_dir = Settings.from_env().raw_dir
    changes = detect_changes(parse_cursor(context.cursor), scan_raw_folder(raw_dir))
    cursor = dump_cursor(changes.cursor)
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
