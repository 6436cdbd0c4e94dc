"""Records the creation office keeps in the workflow SQLite store (the same file as
`pipelines.workflow.store`, tables prefixed `pp_`): letter signings, application / acceptance /
re-review records, and inspections entered through the dashboard form.

The pipeline mirrors them into the warehouse (`pipelines.assets.plan_process`); the dashboards write
them here (the warehouse has one writer). Every change is one transaction of `Store.tx()`.

Attachments (a signed letter's scan, inspection photos) pass `check_attachment` — the name rules of
the upload gate (`pipelines.uploads.safe_file_name`'s checks, reused through its regular
expressions), a size limit and the real content (PDF / PNG / JPEG magic bytes; a renamed workbook or
script is refused) — and land atomically (temp file, fsync, rename, never overwriting) under
`<workflow>/plan_process/<county>/<kind>/`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipelines import uploads
from pipelines.workflow.store import Store, now

SCHEMA = """
CREATE TABLE IF NOT EXISTS pp_letter_signing (
    county_code TEXT NOT NULL,
    org_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    signed_on TEXT NOT NULL,          -- ISO date
    signatory TEXT,
    document_no TEXT,
    scan_name TEXT,
    scan_path TEXT,                   -- relative to <workflow>/plan_process
    scan_sha256 TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'office',
    PRIMARY KEY (county_code, org_code, year)
);
CREATE TABLE IF NOT EXISTS pp_acceptance (
    record_id TEXT PRIMARY KEY,
    county_code TEXT NOT NULL,
    campaign_code TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'acceptance',  -- acceptance | re_review
    milestone TEXT NOT NULL DEFAULT 'acceptance', -- acceptance | interim_acceptance (forest city, provincial first)
    attempt INTEGER NOT NULL,
    applied_on TEXT,
    application_documents TEXT,
    inspection_from TEXT,
    inspection_to TEXT,
    team TEXT,
    result TEXT,                      -- passed | failed | conditional | NULL (pending)
    result_on TEXT,
    result_document TEXT,
    findings TEXT,                    -- one finding per line
    reapplication_of TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'office'
);
CREATE TABLE IF NOT EXISTS pp_inspection (
    inspection_id TEXT PRIMARY KEY,
    county_code TEXT NOT NULL,
    point_code TEXT NOT NULL,
    inspected_on TEXT NOT NULL,
    round_kind TEXT NOT NULL,         -- self | supervision
    round_name TEXT,
    team TEXT,
    note TEXT,
    photos_json TEXT NOT NULL DEFAULT '[]',
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pp_inspection_score (
    inspection_id TEXT NOT NULL,
    item_code TEXT NOT NULL,
    score REAL NOT NULL,
    problem TEXT,
    photo_ref TEXT,
    PRIMARY KEY (inspection_id, item_code)
);
"""

RESULTS = ("passed", "failed", "conditional")
RESULT_ZH = {"passed": "通过", "failed": "未通过", "conditional": "有条件通过", None: "待定"}
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024
ATTACHMENT_MAGIC = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}


class PlanProcessError(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


def ensure(store: Store) -> Store:
    conn = store.connect()
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()
    return store


def attachments_dir(store: Store) -> Path:
    return store.folder / "plan_process"


@dataclass(frozen=True)
class SavedAttachment:
    name: str
    path: str  # relative to attachments_dir
    size: int
    sha256: str


def check_attachment(name: str, data: bytes) -> str:
    """The normalised name of an acceptable scan or photo; PlanProcessError otherwise."""
    if not isinstance(data, bytes | bytearray):
        raise PlanProcessError("附件内容须为字节", "the attachment must be bytes")
    norm = unicodedata.normalize("NFKC", str(name or "")).strip()
    bad = (
        not norm
        or "/" in norm
        or "\\" in norm
        or ":" in norm
        or norm.startswith((".", "~"))
        or not uploads.NAME_RE.fullmatch(norm)
        or uploads.RESERVED_RE.fullmatch(norm.split(".", 1)[0].rstrip(" "))
        or len(norm.encode("utf-8")) > uploads.MAX_NAME_BYTES
        or any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in norm)
    )
    if bad:
        raise PlanProcessError(f"文件名不合法：{norm[:80]}", f"the file name is not acceptable: {norm[:80]}")
    ext = Path(norm).suffix.lower()
    if ext not in ATTACHMENT_MAGIC:
        raise PlanProcessError(
            f"不接受此类附件：{norm}（允许 PDF、PNG、JPG）",
            f"attachment type not accepted: {norm} (PDF, PNG, JPG)",
        )
    if not data or len(data) > MAX_ATTACHMENT_BYTES:
        raise PlanProcessError(f"附件为空或过大：{norm}", f"attachment empty or too large: {norm}")
    if not any(bytes(data).startswith(m) for m in ATTACHMENT_MAGIC[ext]):
        raise PlanProcessError(
            f"附件内容与扩展名不符：{norm}", f"the content of {norm} does not match its extension"
        )
    return norm


_SAFE = re.compile(r"[^0-9A-Za-z_-]")


def save_attachment(store: Store, county: str, kind: str, name: str, data: bytes) -> SavedAttachment:
    norm = check_attachment(name, data)
    folder = attachments_dir(store) / _SAFE.sub("_", county) / _SAFE.sub("_", kind)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex[:16]}{Path(norm).suffix.lower()}"
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.link(tmp, target)  # fails rather than overwrite
    os.unlink(tmp)
    return SavedAttachment(
        norm[:200],
        target.relative_to(attachments_dir(store)).as_posix(),
        len(data),
        hashlib.sha256(data).hexdigest(),
    )


def attachment_file(store: Store, rel: str | None) -> Path | None:
    """A recorded attachment (a signed scan, a photo) strictly inside the attachments folder, or None."""
    if not rel:
        return None
    base = attachments_dir(store).resolve()
    p = (base / rel).resolve()
    return p if p.is_relative_to(base) and p.is_file() else None


def _iso(day) -> str | None:
    if day in (None, ""):
        return None
    if isinstance(day, dt.datetime):
        day = day.date()
    if isinstance(day, dt.date):
        return day.isoformat()
    return dt.date.fromisoformat(str(day)).isoformat()


# ------------------------------------------------------------------------------------ signings


def record_signing(
    store: Store,
    county: str,
    org_code: str,
    year: int,
    signed_on,
    user: str,
    signatory: str = "",
    document_no: str = "",
    scan: tuple[str, bytes] | None = None,
    source: str = "office",
) -> None:
    """Record (or replace) the signing of a unit's letter for a year, with an optional signed scan."""
    signed = _iso(signed_on)
    if signed is None:
        raise PlanProcessError("请填写签订日期", "the signing date is required")
    if int(signed[:4]) not in (year - 1, year):
        raise PlanProcessError(
            f"签订日期 {signed} 不在 {year} 年度（或上年末）内",
            f"signing date {signed} is not in {year} (or late {year - 1})",
        )
    saved = save_attachment(store, county, "letters", *scan) if scan else None
    ensure(store)
    with store.tx() as c:
        c.execute(
            "INSERT OR REPLACE INTO pp_letter_signing (county_code, org_code, year, signed_on, signatory, document_no, "
            "scan_name, scan_path, scan_sha256, recorded_by, recorded_at, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                county,
                org_code,
                int(year),
                signed,
                signatory.strip() or None,
                document_no.strip() or None,
                saved.name if saved else None,
                saved.path if saved else None,
                saved.sha256 if saved else None,
                user,
                now(),
                source,
            ),
        )


def signings(store: Store, county: str | None = None) -> list[dict]:
    ensure(store)
    if county:
        return store.rows(
            "SELECT * FROM pp_letter_signing WHERE county_code = ? ORDER BY year, org_code", (county,)
        )
    return store.rows("SELECT * FROM pp_letter_signing ORDER BY county_code, year, org_code")


# ------------------------------------------------------------------------------------ acceptance


def record_acceptance(
    store: Store,
    county: str,
    campaign: str,
    user: str,
    *,
    kind: str = "acceptance",
    milestone: str = "acceptance",
    applied_on=None,
    application_documents: str = "",
    inspection_from=None,
    inspection_to=None,
    team: str = "",
    result: str | None = None,
    result_on=None,
    result_document: str = "",
    findings: str = "",
    record_id: str | None = None,
    source: str = "office",
) -> str:
    """Add (or, with `record_id`, update) an application / acceptance record or a re-review.

    Rules: an acceptance needs its application date; dates are in order (applied ≤ inspection ≤
    result); a result needs its date; a new application for a campaign whose latest attempt failed
    is a re-application (`reapplication_of` the failed record); nothing is added after a pass but
    re-reviews."""
    if milestone not in ("acceptance", "interim_acceptance"):
        raise PlanProcessError(f"未知节点：{milestone}", f"unknown milestone: {milestone}")
    if kind not in ("acceptance", "re_review"):
        raise PlanProcessError(f"未知记录类型：{kind}", f"unknown record kind: {kind}")
    if result not in (None, "", *RESULTS):
        raise PlanProcessError(f"未知验收结果：{result}", f"unknown result: {result}")
    result = result or None
    applied, i_from, i_to, r_on = map(_iso, (applied_on, inspection_from, inspection_to, result_on))
    if kind == "acceptance" and not applied:
        raise PlanProcessError("请填写申报日期", "the application date is required")
    if result and not r_on:
        raise PlanProcessError("有验收结果时须填写结果日期", "a result needs its date")
    chain = [d for d in (applied, i_from, i_to, r_on) if d]
    if chain != sorted(chain):
        raise PlanProcessError(
            "日期顺序有误：申报 ≤ 考核开始 ≤ 考核结束 ≤ 结果",
            "dates out of order: applied ≤ inspection ≤ result",
        )
    ensure(store)
    with store.tx() as c:
        rows = [
            dict(r)
            for r in c.execute(
                "SELECT * FROM pp_acceptance WHERE county_code = ? AND campaign_code = ? AND kind = 'acceptance' "
                "AND milestone = ? ORDER BY attempt",
                (county, campaign, milestone),
            ).fetchall()
        ]
        if record_id:
            old = c.execute("SELECT * FROM pp_acceptance WHERE record_id = ?", (record_id,)).fetchone()
            if old is None:
                raise PlanProcessError(f"记录不存在：{record_id}", f"no such record: {record_id}")
            c.execute(
                "UPDATE pp_acceptance SET applied_on=?, application_documents=?, inspection_from=?, inspection_to=?, "
                "team=?, result=?, result_on=?, result_document=?, findings=?, recorded_by=?, recorded_at=? "
                "WHERE record_id = ?",
                (
                    applied,
                    application_documents or None,
                    i_from,
                    i_to,
                    team or None,
                    result,
                    r_on,
                    result_document or None,
                    findings or None,
                    user,
                    now(),
                    record_id,
                ),
            )
            return record_id
        prior = None
        attempt = 1
        if kind == "acceptance":
            if any(r["result"] in ("passed", "conditional") for r in rows):
                raise PlanProcessError(
                    "该项目已通过验收，不能再次申报（复审请选“复审/复查”）",
                    "already passed: record a re-review instead",
                )
            if rows:
                last = rows[-1]
                if last["result"] is None:
                    raise PlanProcessError(
                        "上一次申报尚无验收结果，请先补录结果", "the previous application has no result yet"
                    )
                prior = last["record_id"]
                attempt = last["attempt"] + 1
                if applied and last["result_on"] and applied < last["result_on"]:
                    raise PlanProcessError(
                        "重新申报日期不能早于上次验收结果日期",
                        "a re-application cannot precede the failed result",
                    )
        else:
            n = c.execute(
                "SELECT count(*) FROM pp_acceptance WHERE county_code = ? AND campaign_code = ? AND kind = 're_review'",
                (county, campaign),
            ).fetchone()[0]
            attempt = n + 1
        rid = f"{kind}:{county}:{campaign}:{milestone}:{attempt}"
        c.execute(
            "INSERT INTO pp_acceptance (record_id, county_code, campaign_code, kind, milestone, attempt, applied_on, "
            "application_documents, inspection_from, inspection_to, team, result, result_on, result_document, "
            "findings, reapplication_of, recorded_by, recorded_at, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                rid,
                county,
                campaign,
                kind,
                milestone,
                attempt,
                applied,
                application_documents or None,
                i_from,
                i_to,
                team or None,
                result,
                r_on,
                result_document or None,
                findings or None,
                prior,
                user,
                now(),
                source,
            ),
        )
        return rid


def acceptance_records(store: Store, county: str | None = None) -> list[dict]:
    ensure(store)
    sql = "SELECT * FROM pp_acceptance" + (" WHERE county_code = ?" if county else "")
    return store.rows(
        sql + " ORDER BY county_code, campaign_code, kind, attempt", (county,) if county else ()
    )


# ------------------------------------------------------------------------------------ inspections (form)


def record_inspection(
    store: Store,
    county: str,
    point_code: str,
    inspected_on,
    scores: dict[str, tuple[float, str]],
    checklist,
    user: str,
    round_kind: str = "supervision",
    round_name: str = "",
    team: str = "",
    note: str = "",
    photos: list[tuple[str, bytes]] | None = None,
) -> str:
    """An inspection entered through the dashboard form: a score (and problem text) per checklist item.
    Scores must lie in 0..max of their item; every item of the checklist must be scored; a deduction
    needs a problem description."""
    day = _iso(inspected_on)
    if day is None:
        raise PlanProcessError("请填写检查日期", "the inspection date is required")
    if round_kind not in ("self", "supervision"):
        raise PlanProcessError(f"未知检查类型：{round_kind}", f"unknown round kind: {round_kind}")
    problems = []
    for item in checklist.items:
        if item.code not in scores:
            problems.append((f"“{item.name_zh}”未评分", f"{item.name_en}: no score"))
            continue
        score, text = scores[item.code]
        if score is None or not 0 <= float(score) <= item.max_score:
            problems.append(
                (
                    f"“{item.name_zh}”得分须在 0–{item.max_score:g} 之间",
                    f"{item.name_en}: score must be 0–{item.max_score:g}",
                )
            )
        elif float(score) < item.max_score and not (text or "").strip():
            problems.append(
                (
                    f"“{item.name_zh}”扣分须写明问题",
                    f"{item.name_en}: a deduction needs a problem description",
                )
            )
    if problems:
        raise PlanProcessError("；".join(p[0] for p in problems), "; ".join(p[1] for p in problems))
    saved = [save_attachment(store, county, "photos", n, d) for n, d in (photos or [])]
    ensure(store)
    iid = f"form:{county}:{point_code}:{day}:{uuid.uuid4().hex[:8]}"
    with store.tx() as c:
        c.execute(
            "INSERT INTO pp_inspection (inspection_id, county_code, point_code, inspected_on, round_kind, round_name, "
            "team, note, photos_json, recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                iid,
                county,
                point_code,
                day,
                round_kind,
                round_name or None,
                team or None,
                note or None,
                json.dumps([s.__dict__ for s in saved], ensure_ascii=False),
                user,
                now(),
            ),
        )
        for code, (score, text) in scores.items():
            c.execute(
                "INSERT INTO pp_inspection_score (inspection_id, item_code, score, problem, photo_ref) VALUES (?,?,?,?,?)",
                (
                    iid,
                    code,
                    float(score),
                    (text or "").strip() or None,
                    ",".join(s.name for s in saved) or None,
                ),
            )
    return iid


def form_inspections(store: Store, county: str | None = None) -> tuple[list[dict], list[dict]]:
    ensure(store)
    where = " WHERE county_code = ?" if county else ""
    args = (county,) if county else ()
    insp = store.rows("SELECT * FROM pp_inspection" + where + " ORDER BY inspected_on, inspection_id", args)
    scores = store.rows(
        "SELECT s.* FROM pp_inspection_score s JOIN pp_inspection i USING (inspection_id)"
        + where.replace("county_code", "i.county_code"),
        args,
    )
    return insp, scores
