"""Uploads from the department workspace, the office's review and period locks, rectification
answers. Plain functions over the workflow store (no Streamlit), used by the dashboard pages.

A browser upload goes: `uploads.save_upload` (the gate) → `register_upload` (refused when the unit's
period is locked; earlier open submissions of that unit and period become `superseded`) →
`start_ingest` (a detached `python -m pipelines.workflow.upload_worker` process: the CLI's ingest of
given files under the warehouse's writer lock, then the refresh and publish) → the page polls
`upload_row` until the outcome is recorded (seconds) and shows it.

Review: a received return is `submitted`; `accept` locks the unit's period, `return_upload` sends it
back with a comment (the unit sees it on 我的任务 and uploads again); `reopen_period` unlocks a
locked period with a reason. Every action is a row in `review_event`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import PROJECT_ROOT, Settings
from pipelines.uploads import SavedUpload
from pipelines.workflow.store import Store, now

OPEN_STATES = ("submitted", "returned")
EVIDENCE_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".xls", ".ods", ".csv", ".txt")
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


class WorkflowError(ValueError):
    """A refused action, with a message in Chinese and English."""

    def __init__(self, zh: str, en: str):
        self.message_zh, self.message_en = zh, en
        super().__init__(f"{zh} / {en}")


def is_locked(store: Store, county: str, unit: str, period: str) -> bool:
    row = store.one(
        "SELECT locked FROM period_lock WHERE county_code = ? AND unit_code = ? AND period_code = ?",
        (county, unit, period),
    )
    return bool(row and row["locked"])


def locks(store: Store, county: str, unit: str | None = None) -> list[dict]:
    sql = "SELECT * FROM period_lock WHERE county_code = ?"
    params: list = [county]
    if unit:
        sql += " AND unit_code = ?"
        params.append(unit)
    return store.rows(sql + " ORDER BY period_code DESC, unit_code", params)


def _event(c, county, unit, period, upload_id, action, actor, comment=None) -> None:
    c.execute(
        "INSERT INTO review_event (county_code, unit_code, period_code, upload_id, action, actor, comment, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (county, unit, period, upload_id, action, actor, comment, now()),
    )


def check_not_locked(store: Store, county: str, unit: str, period: str) -> None:
    if is_locked(store, county, unit, period):
        raise WorkflowError(
            f"{period} 报告期已审核通过并锁定；如需修订，请联系创建办重新开放",
            f"period {period} was accepted and is locked; ask the creation office to reopen it for a revision",
        )


def register_upload(
    store: Store, saved: SavedUpload, county: str, unit: str, org_code: str, period: str, user: str
) -> str:
    """Record a landed upload as `submitted`; WorkflowError when the period is locked."""
    upload_id = uuid.uuid4().hex[:16]
    with store.tx() as c:
        locked = c.execute(
            "SELECT locked FROM period_lock WHERE county_code = ? AND unit_code = ? AND period_code = ?",
            (county, unit, period),
        ).fetchone()
        if locked and locked["locked"]:
            raise WorkflowError(
                f"{period} 报告期已审核通过并锁定；如需修订，请联系创建办重新开放",
                f"period {period} was accepted and is locked; ask the creation office to reopen it",
            )
        c.execute(
            "UPDATE upload SET review_state = 'superseded' WHERE county_code = ? AND unit_code = ? "
            "AND period_code = ? AND review_state IN ('submitted', 'returned')",
            (county, unit, period),
        )
        c.execute(
            "INSERT INTO upload (upload_id, county_code, unit_code, org_code, period_code, file_name, rel_path, "
            "sha256, size_bytes, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload_id,
                county,
                unit,
                org_code,
                period,
                saved.path.name,
                saved.rel_path,
                saved.sha256,
                saved.size,
                user,
                now(),
            ),
        )
        _event(c, county, unit, period, upload_id, "submitted", user)
    return upload_id


def upload_row(store: Store, upload_id: str) -> dict | None:
    row = store.one("SELECT * FROM upload WHERE upload_id = ?", (upload_id,))
    if row is not None:
        row["problems"] = json.loads(row.get("problems_json") or "[]")
    return row


def uploads(store: Store, county: str, unit: str | None = None, states: tuple[str, ...] = ()) -> list[dict]:
    sql = "SELECT * FROM upload WHERE county_code = ?"
    params: list = [county]
    if unit:
        sql += " AND unit_code = ?"
        params.append(unit)
    if states:
        sql += f" AND review_state IN ({','.join('?' * len(states))})"
        params.extend(states)
    return store.rows(sql + " ORDER BY uploaded_at DESC, upload_id", params)


def events(store: Store, county: str, unit: str | None = None, limit: int = 200) -> list[dict]:
    sql = "SELECT * FROM review_event WHERE county_code = ?"
    params: list = [county]
    if unit:
        sql += " AND unit_code = ?"
        params.append(unit)
    return store.rows(sql + " ORDER BY event_id DESC LIMIT ?", [*params, limit])


def _review(store: Store, upload_id: str, state: str, actor: str, comment: str | None) -> dict:
    with store.tx() as c:
        row = c.execute("SELECT * FROM upload WHERE upload_id = ?", (upload_id,)).fetchone()
        if row is None:
            raise WorkflowError("找不到该报送", "no such submission")
        if row["review_state"] != "submitted":
            raise WorkflowError(
                f"该报送当前状态为 {row['review_state']}，不能再审核",
                f"the submission is {row['review_state']}; it cannot be reviewed again",
            )
        c.execute(
            "UPDATE upload SET review_state = ?, review_comment = ?, reviewed_by = ?, reviewed_at = ? "
            "WHERE upload_id = ?",
            (state, comment, actor, now(), upload_id),
        )
        county, unit, period = row["county_code"], row["unit_code"], row["period_code"]
        _event(c, county, unit, period, upload_id, state, actor, comment)
        if state == "accepted":
            c.execute(
                "INSERT INTO period_lock (county_code, unit_code, period_code, locked, changed_by, changed_at, reason) "
                "VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT (county_code, unit_code, period_code) DO UPDATE SET "
                "locked = 1, changed_by = excluded.changed_by, changed_at = excluded.changed_at, reason = excluded.reason",
                (county, unit, period, actor, now(), f"accepted {upload_id}"),
            )
        return dict(row)


def accept(store: Store, upload_id: str, actor: str, comment: str | None = None) -> None:
    """The office accepts a submitted return: its unit's period is locked."""
    _review(store, upload_id, "accepted", actor, comment or None)


def return_upload(store: Store, upload_id: str, actor: str, comment: str) -> None:
    """The office returns a submitted return to the unit with a comment (required)."""
    if not (comment or "").strip():
        raise WorkflowError("退回时必须填写意见", "a comment is required to return a submission")
    _review(store, upload_id, "returned", actor, comment.strip())


def reopen_period(store: Store, county: str, unit: str, period: str, actor: str, reason: str) -> None:
    """Unlock an accepted period so the unit can send a revision (recorded with the reason)."""
    if not (reason or "").strip():
        raise WorkflowError("重新开放须说明理由", "a reason is required to reopen a period")
    with store.tx() as c:
        c.execute(
            "UPDATE period_lock SET locked = 0, changed_by = ?, changed_at = ?, reason = ? "
            "WHERE county_code = ? AND unit_code = ? AND period_code = ?",
            (actor, now(), reason.strip(), county, unit, period),
        )
        _event(c, county, unit, period, None, "reopened", actor, reason.strip())


# ------------------------------------------------------------------------------ ingest


def start_ingest(store: Store, upload_id: str, settings: Settings | None = None) -> subprocess.Popen:
    """Ingest an upload at once in a detached worker process (it outlives the browser session)."""
    logs = store.folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WUCHUANG_WORKFLOW_DIR": str(store.folder)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    with open(logs / f"{upload_id}.log", "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines.workflow.upload_worker", upload_id],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


# ------------------------------------------------------------------------------ rectification answers


@dataclass(frozen=True)
class Evidence:
    name: str
    data: bytes


_SAFE = re.compile(r"[^0-9A-Za-z._-]")


def respond_rectification(
    store: Store, item_id: str, county: str, unit: str, note: str, files: list[Evidence], user: str
) -> int:
    """Record a unit's answer to a rectification item: a note and evidence files (stored under
    `evidence/<county>/<unit>/` with a generated name; the original name is kept in the store)."""
    if not (note or "").strip():
        raise WorkflowError("请填写整改说明", "please write a note")
    saved = []
    folder = store.folder / "evidence" / _SAFE.sub("_", county) / _SAFE.sub("_", unit)
    for f in files:
        ext = Path(f.name).suffix.lower()
        if ext not in EVIDENCE_EXTENSIONS:
            raise WorkflowError(f"不接受此类佐证文件：{f.name}", f"evidence file type not accepted: {f.name}")
        if not f.data or len(f.data) > MAX_EVIDENCE_BYTES:
            raise WorkflowError(
                f"佐证文件为空或过大：{f.name}", f"evidence file empty or too large: {f.name}"
            )
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        digest = hashlib.sha256(f.data).hexdigest()
        target = folder / f"{uuid.uuid4().hex[:12]}{Path(f.name).suffix.lower()}"
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(f.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        saved.append(
            {
                "name": f.name[:200],
                "path": target.relative_to(store.folder / "evidence").as_posix(),
                "size": len(f.data),
                "sha256": digest,
            }
        )
    with store.tx() as c:
        cur = c.execute(
            "INSERT INTO rect_response (item_id, county_code, unit_code, note, evidence_json, responder, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (item_id, county, unit, note.strip(), json.dumps(saved, ensure_ascii=False), user, now()),
        )
        return int(cur.lastrowid)


def rect_responses(store: Store, county: str, unit: str | None = None) -> list[dict]:
    sql = "SELECT * FROM rect_response WHERE county_code = ?"
    params: list = [county]
    if unit:
        sql += " AND unit_code = ?"
        params.append(unit)
    out = store.rows(sql + " ORDER BY response_id DESC", params)
    for r in out:
        r["evidence"] = json.loads(r["evidence_json"] or "[]")
    return out


def evidence_file(store: Store, rel: str) -> Path | None:
    base = (store.folder / "evidence").resolve()
    p = (base / rel).resolve()
    return p if p.is_relative_to(base) and p.is_file() else None


# ------------------------------------------------------------------------------ verdicts on accepted data


def accepted_only_enabled() -> bool:
    """Setting WUCHUANG_VERDICTS_ACCEPTED_ONLY=1: verdicts use only data the office accepted."""
    return os.environ.get("WUCHUANG_VERDICTS_ACCEPTED_ONLY", "").strip().lower() in ("1", "true", "yes", "on")


def unaccepted_rel_paths(store: Store) -> set[str]:
    """Raw-folder paths of browser uploads not accepted (yet): submitted, returned or superseded.
    Files that reach the raw folder otherwise (the office's own drops) are not under review."""
    return {r["rel_path"] for r in store.rows("SELECT rel_path FROM upload WHERE review_state <> 'accepted'")}
