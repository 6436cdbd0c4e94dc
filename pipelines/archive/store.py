"""Evidence items, their versions and their review, in the workflow store's SQLite file; the files
themselves content-addressed on disk.

Tables (own schema, created here, in the same `workflow.sqlite` as uploads and reviews):

- `evidence_item`: one document the county keeps for a clause × item × period (e.g. the minutes of
  2013Q2), with the unit that provides it.
- `evidence_version`: every file uploaded for an item. A re-upload is a new version (never an
  overwrite); the previous version becomes `superseded`. Review state of a version: `submitted` →
  `accepted` | `returned` (a comment is required), or `superseded`.
- `evidence_event`: every action (submitted, accepted, returned, superseded), never updated: the audit.
- `evidence_refusal`: files the gate refused (browser or drop folder), with the reason.

Files: `<store>/<sha256[:2]>/<sha256[2:]>`, written to a temp file, fsynced and hard-linked into
place (an existing blob is never rewritten: equal bytes, equal name). Nothing is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import Settings
from pipelines.workflow.store import Store, now

SCHEMA = """
CREATE TABLE IF NOT EXISTS evidence_item (
    item_id TEXT PRIMARY KEY,
    county_code TEXT NOT NULL,
    campaign_code TEXT NOT NULL,
    clause_code TEXT NOT NULL,
    item_code TEXT NOT NULL,
    period_code TEXT NOT NULL,        -- once | 2013 | 2013Q2 | 2013-05
    unit_code TEXT NOT NULL,          -- short code of the unit that provided it
    title TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS evidence_item_slot
    ON evidence_item (county_code, campaign_code, clause_code, item_code, period_code);
CREATE TABLE IF NOT EXISTS evidence_version (
    version_id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES evidence_item (item_id),
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    original_name TEXT NOT NULL,
    content_type TEXT NOT NULL,       -- pdf | png | jpeg | docx | doc | odt | pptx | xlsx | xls | ods | csv
    store_path TEXT NOT NULL,         -- relative to the evidence store: ab/cdef…
    channel TEXT NOT NULL,            -- browser | drop_folder | sample
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    review_state TEXT NOT NULL DEFAULT 'submitted', -- submitted | accepted | returned | superseded
    review_comment TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    UNIQUE (item_id, version)
);
CREATE TABLE IF NOT EXISTS evidence_event (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    county_code TEXT NOT NULL,
    item_id TEXT NOT NULL,
    version_id TEXT,
    action TEXT NOT NULL,             -- submitted | accepted | returned | superseded
    actor TEXT NOT NULL,
    comment TEXT,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence_refusal (
    refusal_id INTEGER PRIMARY KEY AUTOINCREMENT,
    county_code TEXT NOT NULL,
    unit_code TEXT,
    channel TEXT NOT NULL,
    original_name TEXT NOT NULL,
    rel_path TEXT,
    sha256 TEXT,
    reason_code TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (channel, rel_path, sha256)
);
"""

REVIEW_STATES = ("submitted", "accepted", "returned", "superseded")


class ArchiveError(ValueError):
    """A refused archive action, with messages in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str):
        self.code = code
        self.message_zh = zh
        self.message_en = en
        super().__init__(f"{zh} / {en}")


@dataclass(frozen=True)
class EvidencePaths:
    inbox: Path  # the evidence drop folder (WUCHUANG_EVIDENCE_DIR), never under the raw folder
    store: Path  # content-addressed files (WUCHUANG_EVIDENCE_STORE)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> EvidencePaths:
        settings = settings or Settings.from_env()
        base = settings.warehouse_dir.parent / "evidence"
        inbox = os.environ.get("WUCHUANG_EVIDENCE_DIR")
        store = os.environ.get("WUCHUANG_EVIDENCE_STORE")
        return cls(
            inbox=Path(inbox).expanduser().resolve() if inbox else base / "inbox",
            store=Path(store).expanduser().resolve() if store else base / "store",
        )


def open_store(settings: Settings | None = None) -> Store:
    """The workflow store with the archive tables created (idempotent)."""
    store = Store.default(settings)
    ensure_schema(store)
    return store


def ensure_schema(store: Store) -> None:
    conn = store.connect()
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()


# ---------------------------------------------------------------- content-addressed files


def blob_rel(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:]}"


def put_blob(root: Path, data: bytes) -> tuple[str, str]:
    """Store `data` under its sha256; (sha256, relative path). Idempotent and atomic."""
    sha = hashlib.sha256(data).hexdigest()
    rel = blob_rel(sha)
    root = Path(root)
    folder = root / sha[:2]
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / sha[2:]
    if final.is_file() and final.stat().st_size == len(data):
        return sha, rel
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, final)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return sha, rel


def read_blob(root: Path, rel: str, sha256: str) -> bytes:
    """The stored bytes, checked against their hash (a damaged file is an error, never served)."""
    root = Path(root).resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise ArchiveError("bad_path", "文件路径越界", "file path outside the store")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArchiveError("damaged", "存档文件已损坏（校验值不符）", "stored file damaged (hash mismatch)")
    return data


# ---------------------------------------------------------------- items and versions


def slot_items(store: Store, county: str, campaign: str, clause: str, item: str, period: str) -> list[dict]:
    return store.rows(
        "SELECT * FROM evidence_item WHERE county_code = ? AND campaign_code = ? AND clause_code = ? "
        "AND item_code = ? AND period_code = ? ORDER BY created_at, item_id",
        (county, campaign, clause, item, period),
    )


def add_version(
    store: Store,
    *,
    county: str,
    campaign: str,
    clause: str,
    item: str,
    period: str,
    unit: str,
    title: str,
    sha256: str,
    size: int,
    original_name: str,
    content_type: str,
    store_path: str,
    channel: str,
    actor: str,
    item_id: str | None = None,
    at: str | None = None,
) -> dict:
    """Record a file: a new item (item_id None) or a new version of `item_id`. The previous open
    version of the item becomes superseded. A file identical to the item's latest version is refused
    as a duplicate. One transaction."""
    at = at or now()
    with store.tx() as c:
        if item_id is None:
            item_id = uuid.uuid4().hex
            c.execute(
                "INSERT INTO evidence_item VALUES (?,?,?,?,?,?,?,?,?,?)",
                (item_id, county, campaign, clause, item, period, unit, title, actor, at),
            )
            version = 1
        else:
            row = c.execute("SELECT * FROM evidence_item WHERE item_id = ?", (item_id,)).fetchone()
            if row is None or row["county_code"] != county:
                raise ArchiveError("no_item", "找不到该资料", "no such evidence item")
            last = c.execute(
                "SELECT * FROM evidence_version WHERE item_id = ? ORDER BY version DESC LIMIT 1", (item_id,)
            ).fetchone()
            if last is not None and last["sha256"] == sha256:
                raise ArchiveError(
                    "duplicate", "与该资料最新版本的文件完全相同", "identical to the item's latest version"
                )
            version = (last["version"] if last else 0) + 1
            for old in c.execute(
                "SELECT version_id FROM evidence_version WHERE item_id = ? AND review_state <> 'superseded'",
                (item_id,),
            ).fetchall():
                c.execute(
                    "UPDATE evidence_version SET review_state = 'superseded' WHERE version_id = ?",
                    (old["version_id"],),
                )
                c.execute(
                    "INSERT INTO evidence_event (county_code, item_id, version_id, action, actor, comment, at) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (county, item_id, old["version_id"], "superseded", actor, None, at),
                )
        version_id = uuid.uuid4().hex
        c.execute(
            "INSERT INTO evidence_version (version_id, item_id, version, sha256, size_bytes, original_name, "
            "content_type, store_path, channel, uploaded_by, uploaded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                version_id,
                item_id,
                version,
                sha256,
                size,
                original_name,
                content_type,
                store_path,
                channel,
                actor,
                at,
            ),
        )
        c.execute(
            "INSERT INTO evidence_event (county_code, item_id, version_id, action, actor, comment, at) "
            "VALUES (?,?,?,?,?,?,?)",
            (county, item_id, version_id, "submitted", actor, None, at),
        )
    return {"item_id": item_id, "version_id": version_id, "version": version}


def review(
    store: Store, version_id: str, action: str, actor: str, comment: str = "", at: str | None = None
) -> None:
    """The office accepts or returns the latest version of an item (a return needs a comment)."""
    if action not in ("accepted", "returned"):
        raise ArchiveError("bad_action", "未知的审核操作", f"unknown review action {action!r}")
    comment = (comment or "").strip()
    if action == "returned" and not comment:
        raise ArchiveError(
            "comment_required", "退回时必须填写意见", "a comment is required to return an item"
        )
    at = at or now()
    with store.tx() as c:
        row = c.execute(
            "SELECT v.*, i.county_code FROM evidence_version v JOIN evidence_item i USING (item_id) "
            "WHERE v.version_id = ?",
            (version_id,),
        ).fetchone()
        if row is None:
            raise ArchiveError("no_version", "找不到该版本", "no such version")
        if row["review_state"] != "submitted":
            raise ArchiveError(
                "not_submitted",
                "只能审核待审核的最新版本",
                f"only a submitted latest version can be reviewed (this one is {row['review_state']})",
            )
        c.execute(
            "UPDATE evidence_version SET review_state = ?, review_comment = ?, reviewed_by = ?, reviewed_at = ? "
            "WHERE version_id = ?",
            (action, comment or None, actor, at, version_id),
        )
        c.execute(
            "INSERT INTO evidence_event (county_code, item_id, version_id, action, actor, comment, at) "
            "VALUES (?,?,?,?,?,?,?)",
            (row["county_code"], row["item_id"], version_id, action, actor, comment or None, at),
        )


def record_refusal(
    store: Store,
    *,
    county: str,
    unit: str | None,
    channel: str,
    name: str,
    rel_path: str | None,
    sha256: str | None,
    reason_code: str,
    zh: str,
    en: str,
) -> bool:
    """Record a refused file once (by channel, path and hash); True when it is new."""
    with store.tx() as c:
        cur = c.execute(
            "INSERT OR IGNORE INTO evidence_refusal (county_code, unit_code, channel, original_name, rel_path, "
            "sha256, reason_code, message_zh, message_en, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (county, unit, channel, name[:200], rel_path, sha256, reason_code, zh, en, now()),
        )
        return cur.rowcount > 0


def versions(store: Store, county: str, campaign: str | None = None) -> list[dict]:
    """Every version with its item's columns, newest version first within an item."""
    sql = (
        "SELECT i.county_code, i.campaign_code, i.clause_code, i.item_code, i.period_code, i.unit_code, i.title, "
        "i.created_by, i.created_at, v.* FROM evidence_version v JOIN evidence_item i USING (item_id) "
        "WHERE i.county_code = ?"
    )
    params: list = [county]
    if campaign:
        sql += " AND i.campaign_code = ?"
        params.append(campaign)
    sql += " ORDER BY i.campaign_code, i.clause_code, i.item_code, i.period_code, i.created_at, i.item_id, v.version DESC"
    return store.rows(sql, params)


def latest_versions(store: Store, county: str, campaign: str | None = None) -> list[dict]:
    """The latest version of every item (its state is the item's state)."""
    seen: set[str] = set()
    out = []
    for v in versions(store, county, campaign):
        if v["item_id"] in seen:
            continue
        seen.add(v["item_id"])
        out.append(v)
    return out


def events(store: Store, county: str, limit: int = 500) -> list[dict]:
    return store.rows(
        "SELECT e.*, i.campaign_code, i.clause_code, i.item_code, i.period_code, i.unit_code, i.title "
        "FROM evidence_event e LEFT JOIN evidence_item i USING (item_id) WHERE e.county_code = ? "
        "ORDER BY e.event_id DESC LIMIT ?",
        (county, limit),
    )


def refusals(store: Store, county: str, limit: int = 200) -> list[dict]:
    return store.rows(
        "SELECT * FROM evidence_refusal WHERE county_code = ? ORDER BY refusal_id DESC LIMIT ?",
        (county, limit),
    )
