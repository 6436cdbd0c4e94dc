"""Publishing immutable read-only snapshots of the warehouse for readers.

DuckDB allows one writer process or many readers, never both. The pipeline writes
`warehouse.duckdb`; after each successful run it publishes a copy, under an exclusive lock on
`published/.publish.lock` (one publisher at a time; the lock dies with its process):

1. sweep leftovers of interrupted publishes (`.tmp-*`);
2. open the working database (waiting while the pipeline holds it), CHECKPOINT (folds the WAL into
   the file), count every table's rows and copy the file to `published/.tmp-<id>.duckdb` while the
   connection is still open (so no other process can write meanwhile); close; fsync the copy;
3. verify the copy: same size, opens read-only, same tables with the same row counts;
4. rename it to `published/warehouse-<stamp>-<id>.duckdb` (atomic on one filesystem), fsync the
   folder, and write its manifest `warehouse-<stamp>-<id>.json` (published time, row counts);
5. write `published/.tmp-<id>.CURRENT` naming the new file, fsync, rename over `CURRENT`, fsync the
   folder: this rename is the moment readers switch;
6. prune old snapshots beyond `keep`, never the one `CURRENT` names.

Free space in the published folder is checked before the copy (the database's size plus a margin);
disk-full and permission errors anywhere in publishing become a `PublishError` in Chinese and English
(`os_error`), naming files, never absolute paths.

One writer at a time: `writer_lock` holds an exclusive, non-blocking `flock` on `.writer.lock` in the
warehouse folder for the whole of a `wuchuang ingest` or `wuchuang publish`; a second one gets
`WarehouseBusy` (the CLI exits 3) at once, naming the process that holds it.

Readers resolve `CURRENT` and open that file read-only, so they never see a half-written run and
never hold a lock on the writer's file; a snapshot is never written after its rename. A crash
(even `kill -9`) at any step leaves the previous snapshot and pointer intact; leftovers are swept
by the next publish. Deleting an old snapshot does not disturb a reader that has it open (POSIX
keeps the inode alive), and `connect_readonly` re-resolves the pointer if the file it was about
to open has just been pruned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

POINTER = "CURRENT"
LOCK = ".publish.lock"
WRITER_LOCK = ".writer.lock"
# Free space required beyond the snapshot's own size (manifest, pointer, filesystem slack).
FREE_SPACE_MARGIN = 16 * 1024 * 1024
FREE_SPACE_FRACTION = 0.02
TMP_PREFIX = ".tmp-"
SNAPSHOT_RE = re.compile(r"^warehouse-\d{8}T\d{6}\d{6}Z-[0-9a-f]{8}\.duckdb$")


class NoSnapshotError(FileNotFoundError):
    """Nothing has been published yet."""

    def __init__(self, published_dir: Path):
        super().__init__(
            "尚未发布数据快照，请先运行 make run 或 wuchuang ingest / "
            f"no published snapshot in {Path(published_dir).name}: run `make run` or `wuchuang ingest` first"
        )


class PublishError(RuntimeError):
    """Publishing failed; the previous snapshot stays current. Message in Chinese and English."""


class WarehouseBusy(PublishError):
    """Another process is writing the warehouse (it holds the writer lock)."""


class DiskFullError(PublishError):
    """Not enough free space (checked before copying, or reported by the system)."""


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NO_PERMISSION = (errno.EACCES, errno.EPERM, errno.EROFS)


def os_error(exc: BaseException, doing_zh: str, doing_en: str) -> PublishError:
    """A clear Chinese/English error for a system error (disk full, no permission, other), naming
    the file but not its absolute path."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    name = Path(getattr(exc, "filename", None) or "").name
    where = f"（{name}）" if name else ""
    where_en = f" ({name})" if name else ""
    if code in _NO_SPACE or "no space left" in text or "disk quota" in text:
        return DiskFullError(
            f"{doing_zh}失败：磁盘空间不足{where}，请清理磁盘或减少保留的快照数后重试 / "
            f"{doing_en} failed: the disk is full{where_en}; free some space or keep fewer snapshots, then retry"
        )
    if code in _NO_PERMISSION or "permission denied" in text or "read-only file system" in text:
        return PublishError(
            f"{doing_zh}失败：没有写入权限{where}，请检查文件夹的权限 / "
            f"{doing_en} failed: no permission to write{where_en}; check the folder's permissions"
        )
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return PublishError(f"{doing_zh}失败{where}：{reason} / {doing_en} failed{where_en}: {reason}")


def check_free_space(folder: Path, needed: int) -> None:
    """DiskFullError unless `folder`'s filesystem has `needed` bytes plus a margin free."""
    want = int(needed + max(FREE_SPACE_MARGIN, needed * FREE_SPACE_FRACTION))
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise os_error(exc, "检查磁盘空间", "checking free space") from None
    if free < want:
        mb = 1024 * 1024
        raise DiskFullError(
            f"磁盘空间不足：发布需要约 {want / mb:,.0f} MB，{folder.name} 所在磁盘只剩 {free / mb:,.0f} MB；"
            "请清理磁盘或减少保留的快照数后重试 / "
            f"not enough disk space: publishing needs about {want / mb:,.0f} MB, the disk holding "
            f"{folder.name} has {free / mb:,.0f} MB free; free some space or keep fewer snapshots"
        )


@contextlib.contextmanager
def writer_lock(warehouse_path: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock (non-blocking): WarehouseBusy if another process has it.
    The lock dies with its process; the file records who holds it, for the message."""
    folder = Path(warehouse_path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise os_error(exc, "获取写入锁", "taking the writer lock") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            except OSError:
                holder = ""
            who = f"（{holder}）" if holder else ""
            who_en = f" ({holder})" if holder else ""
            raise WarehouseBusy(
                f"数据仓库正被另一个进程写入{who}，请等待其结束后再试 / "
                f"the warehouse is being written by another process{who_en}; wait for it to finish and try again"
            ) from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:3]))
            os.pwrite(fd, f"pid {os.getpid()}: {command}"[:200].encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _write_durably(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def publish_lock(published_dir: Path, timeout: float = 120.0) -> Iterator[None]:
    """Exclusive lock so that two publishers never interleave (released when the process dies)."""
    published_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(published_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PublishError(
                        f"另一个发布进程正在运行（等待 {timeout:.0f} 秒后放弃） / "
                        f"another publish is running (gave up after {timeout:.0f} s)"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflict" in text or "could not set" in text)


def _open_writer(path: Path, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open the working database read-write, waiting up to `timeout` s while another process holds it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc) or time.monotonic() > deadline:
                raise PublishError(
                    f"无法打开工作数据库 {path.name}（可能正被流水线写入）：{exc} / "
                    f"cannot open the working database {path.name} (the pipeline may be writing it): {exc}"
                ) from exc
            time.sleep(0.2)


def table_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Exact row count of every table, keyed by `schema.table`."""
    names = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, name in names:
        ident = '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'
        counts[f"{schema}.{name}"] = conn.execute(f"SELECT count(*) FROM {ident}").fetchone()[0]
    return counts


def _checkpoint_and_copy(warehouse_path: Path, dest: Path, timeout: float) -> tuple[dict[str, int], int]:
    """CHECKPOINT the working database, count its rows and copy it to `dest` while still holding it
    open, so no other process can change the file during the copy. Returns row counts and size."""
    conn = _open_writer(warehouse_path, timeout)
    try:
        conn.execute("CHECKPOINT")
        wal = _wal(warehouse_path)
        if wal.exists() and wal.stat().st_size > 0:
            raise PublishError(
                f"检查点后仍有未合并的日志文件 {wal.name} / a WAL file is left after CHECKPOINT: {wal.name}"
            )
        counts = table_counts(conn)
        size = warehouse_path.stat().st_size
        check_free_space(dest.parent, size)
        try:
            shutil.copyfile(warehouse_path, dest)
        except OSError as exc:
            raise os_error(exc, "复制快照", "copying the snapshot") from None
    finally:
        conn.close()
    _fsync_file(dest)
    return counts, size


def _verify(copy: Path, source_size: int, counts: dict[str, int]) -> None:
    size = copy.stat().st_size
    if size != source_size:
        raise PublishError(
            f"快照副本大小不一致（{size} ≠ {source_size}） / snapshot copy size differs ({size} != {source_size})"
        )
    check = duckdb.connect(str(copy), read_only=True)
    try:
        got = table_counts(check)
    finally:
        check.close()
    if got != counts:
        diff = sorted(k for k in set(got) | set(counts) if got.get(k) != counts.get(k))
        raise PublishError(
            f"快照副本与工作数据库不一致：{', '.join(diff[:5])} / snapshot copy differs from the source: "
            f"{', '.join(diff[:5])}"
        )


def sweep_leftovers(published_dir: Path) -> list[Path]:
    """Remove temp files of interrupted publishes. Call only while holding the publish lock."""
    removed = []
    for stale in published_dir.glob(TMP_PREFIX + "*"):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed


def publish(warehouse_path: Path, published_dir: Path, keep: int = 3, lock_timeout: float = 60.0) -> Path:
    """Publish a verified snapshot of `warehouse_path` and point `CURRENT` at it; return its path.

    Raises PublishError (previous snapshot stays current) if the source is missing or held by
    another process for more than `lock_timeout` seconds, or if the copy does not verify.
    """
    warehouse_path, published_dir = Path(warehouse_path), Path(published_dir)
    if not warehouse_path.exists():
        raise PublishError(
            f"工作数据库不存在：{warehouse_path}，请先运行 wuchuang ingest / "
            f"the working database does not exist: {warehouse_path}; run `wuchuang ingest` first"
        )
    try:
        return _publish(warehouse_path, published_dir, keep, lock_timeout)
    except PublishError:
        raise
    except OSError as exc:
        raise os_error(exc, "发布快照", "publishing") from None
    except duckdb.IOException as exc:
        if any(k in str(exc).lower() for k in ("no space left", "disk quota", "permission denied")):
            raise os_error(exc, "发布快照", "publishing") from None
        raise


def _publish(warehouse_path: Path, published_dir: Path, keep: int, lock_timeout: float) -> Path:
    with publish_lock(published_dir, lock_timeout):
        sweep_leftovers(published_dir)
        token = uuid.uuid4().hex[:8]
        tmp = published_dir / f"{TMP_PREFIX}{token}.duckdb"
        try:
            counts, size = _checkpoint_and_copy(warehouse_path, tmp, lock_timeout)
            _verify(tmp, size, counts)
        except Exception:
            tmp.unlink(missing_ok=True)
            raise
        now = dt.datetime.now(dt.UTC)
        final = published_dir / f"warehouse-{now.strftime('%Y%m%dT%H%M%S%fZ')}-{token}.duckdb"
        os.replace(tmp, final)
        manifest = {
            "snapshot": final.name,
            "published_at": now.isoformat(),
            "size_bytes": final.stat().st_size,
            "tables": counts,
        }
        manifest_tmp = published_dir / f"{TMP_PREFIX}{token}.json"
        _write_durably(manifest_tmp, json.dumps(manifest, ensure_ascii=False, indent=1))
        os.replace(manifest_tmp, final.with_suffix(".json"))
        _fsync_dir(published_dir)
        pointer_tmp = published_dir / f"{TMP_PREFIX}{token}.{POINTER}"
        _write_durably(pointer_tmp, final.name + "\n")
        os.replace(pointer_tmp, published_dir / POINTER)
        _fsync_dir(published_dir)
        prune(published_dir, keep)
    return final


def prune(published_dir: Path, keep: int) -> list[Path]:
    """Delete snapshots beyond the `keep` newest; the one CURRENT names is never deleted."""
    try:
        current = latest_snapshot(published_dir).name
    except NoSnapshotError:
        current = None
    snaps = sorted(
        (p for p in published_dir.glob("warehouse-*.duckdb") if SNAPSHOT_RE.match(p.name)),
        key=lambda p: p.name,
        reverse=True,
    )
    removed = []
    for old in snaps[max(keep, 1) :]:
        if old.name == current:
            continue
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)
        removed.append(old)
    return removed


def latest_snapshot(published_dir: Path) -> Path:
    """Path of the current published snapshot; NoSnapshotError if none."""
    published_dir = Path(published_dir)
    try:
        name = (published_dir / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoSnapshotError(published_dir) from None
    # The pointer holds a bare snapshot name: nothing else (no paths) is ever followed.
    if not SNAPSHOT_RE.match(name) or not (published_dir / name).is_file():
        raise NoSnapshotError(published_dir)
    return published_dir / name


def snapshot_manifest(published_dir: Path) -> dict:
    """Manifest of the current snapshot (published_at, size, row counts); {} if it has none."""
    snap = latest_snapshot(published_dir)
    try:
        return json.loads(snap.with_suffix(".json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"snapshot": snap.name}


def connect_readonly(
    published_dir: Path, config: dict | None = None, attempts: int = 5
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the latest published snapshot.

    If the snapshot named by CURRENT disappears between reading the pointer and opening it (it was
    pruned after several newer publishes), the pointer is read again.
    """
    last: Exception | None = None
    for _ in range(attempts):
        path = latest_snapshot(published_dir)
        try:
            return duckdb.connect(str(path), read_only=True, config=config or {})
        except duckdb.IOException as exc:
            if path.exists():
                raise
            last = exc
    raise NoSnapshotError(Path(published_dir)) from last


def county_snapshot_dirs(snapshot: Path) -> list[str]:
    """Folders a snapshot's views read: `[<published>/counties/]` for a county union (see
    `pipelines.warehouse.union`), `[]` for a single-file snapshot."""
    snapshot = Path(snapshot)
    try:
        kind = json.loads(snapshot.with_suffix(".json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError):
        kind = None
    if kind != "county_union":
        return []
    return [str(snapshot.parent.resolve() / "counties") + os.sep]


def allow_county_snapshots(conn: duckdb.DuckDBPyConnection, snapshot: Path) -> None:
    """Let a connection that will be locked down (`enable_external_access = false`) still read a
    county union's Parquet files: call after connecting and BEFORE disabling external access."""
    dirs = county_snapshot_dirs(snapshot)
    if dirs:
        conn.execute("SET allowed_directories = ?", [dirs])
