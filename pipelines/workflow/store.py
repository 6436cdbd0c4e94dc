"""The workflow store: one SQLite file the dashboard writes and the pipeline reads.

Why not the warehouse: the pipeline is the only writer of the DuckDB warehouse and the dashboards
read published snapshots, so state that people create in the browser (uploads and their review,
period locks, answers to rectification items, the notices outbox) needs a store of its own.
SQLite allows many processes to read and write one file safely (locking by the library, WAL
journal, `busy_timeout`), so Streamlit sessions, the upload worker and the Dagster notices job can
all use it. Crash safety: every change is one transaction (`with store.tx() as c:`), the journal is
fsynced (`synchronous=FULL`), and an interrupted upload or send is visible as such (states
`ingesting`, `sending`) and resolved on the next run, never silently repeated.

Location: `WUCHUANG_WORKFLOW_DIR` or `<data>/workflow/` next to the warehouse folder, holding
`workflow.sqlite`, `evidence/` (files answering rectification items) and `logs/` (upload workers).

Tables (all times are ISO-8601 UTC text):

- `upload`: one browser upload: who, which unit and period, where it landed under the raw folder,
  the ingest's outcome (accepted / partial / rejected / duplicate, problem cells, feedback workbook),
  and its review (`submitted` → `accepted` | `returned`; `superseded` by a later upload).
- `review_event`: every review action (submitted, accepted, returned, reopened), never updated.
- `period_lock`: a unit's period is locked once the office accepts a return for it; a later upload
  for it is refused until the office reopens it (recorded with a reason in `review_event`).
- `rect_response`: a unit's answer to a rectification item: a note and evidence files.
- `outbox`: notices to send, one row per message × recipient × channel, unique `idem_key`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pipelines.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS upload (
    upload_id TEXT PRIMARY KEY,
    county_code TEXT NOT NULL,
    unit_code TEXT NOT NULL,          -- short unit code (folder name), e.g. wjw
    org_code TEXT NOT NULL,           -- e.g. 511923-wjw
    period_code TEXT NOT NULL,        -- the period the clerk says the return is for
    file_name TEXT NOT NULL,
    rel_path TEXT NOT NULL,           -- under the raw folder
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    ingest_state TEXT NOT NULL DEFAULT 'queued',  -- queued | ingesting | ingested | published | failed
    ingest_message TEXT,
    file_id TEXT,
    result_status TEXT,               -- accepted | partial | rejected | duplicate
    values_loaded INTEGER,
    values_quarantined INTEGER,
    problems_json TEXT,               -- [{file, sheet, cell, reason_code, message_zh, message_en}]
    feedback_path TEXT,               -- relative to the feedback folder
    ingested_at TEXT,
    published_at TEXT,
    review_state TEXT NOT NULL DEFAULT 'submitted', -- submitted | accepted | returned | superseded
    review_comment TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT
);
CREATE INDEX IF NOT EXISTS upload_unit ON upload (county_code, unit_code, period_code);
CREATE TABLE IF NOT EXISTS review_event (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    county_code TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    period_code TEXT NOT NULL,
    upload_id TEXT,
    action TEXT NOT NULL,             -- submitted | accepted | returned | reopened
    actor TEXT NOT NULL,
    comment TEXT,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS period_lock (
    county_code TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    period_code TEXT NOT NULL,
    locked INTEGER NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (county_code, unit_code, period_code)
);
CREATE TABLE IF NOT EXISTS rect_response (
    response_id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    county_code TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    note TEXT NOT NULL,
    evidence_json TEXT NOT NULL,      -- [{name, path (relative to the evidence folder), size, sha256}]
    responder TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    msg_id INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key TEXT NOT NULL UNIQUE,    -- kind:county:subject:period/date:channel:recipient
    kind TEXT NOT NULL,               -- deadline_reminder | overdue_return | overdue_rectification | rectification_escalation | monthly_bulletin
    county_code TEXT NOT NULL,
    unit_code TEXT,
    channel TEXT NOT NULL,            -- email | webhook
    recipient TEXT NOT NULL,          -- an e-mail address or a webhook URL
    recipient_name TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_for TEXT NOT NULL,        -- the day ("today") the notice was produced for
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', -- pending | sending | sent | failed | dead | uncertain
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT,
    sent_at TEXT
);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def workflow_dir(settings: Settings | None = None) -> Path:
    env = os.environ.get("WUCHUANG_WORKFLOW_DIR")
    if env:
        return Path(env).expanduser().resolve()
    settings = settings or Settings.from_env()
    return settings.warehouse_dir.parent / "workflow"


class Store:
    """The workflow store at `path` (created on first use)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self.connect()
        try:
            conn.executescript(SCHEMA)  # idempotent DDL; executescript commits by itself
        finally:
            conn.close()

    @classmethod
    def default(cls, settings: Settings | None = None) -> Store:
        return cls(workflow_dir(settings) / "workflow.sqlite")

    @property
    def folder(self) -> Path:
        return self.path.parent

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: writers queue, readers go on)."""
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        conn = self.connect()
        try:
            return [dict(r) for r in conn.execute(sql, tuple(params)).fetchall()]
        finally:
            conn.close()

    def one(self, sql: str, params: tuple | list = ()) -> dict | None:
        out = self.rows(sql, params)
        return out[0] if out else None
