"""`python -m pipelines.workflow.upload_worker UPLOAD_ID`: ingest one browser upload now.

Started detached by `review.start_ingest`. Waits (up to `WAIT_S`) for the warehouse's writer lock
(`publish.writer_lock`, the one `wuchuang ingest` holds), then does what `wuchuang ingest FILE`
does: `ingest_return_files` for that file, and records the outcome in the workflow store at once —
status, values loaded and quarantined, every problem cell (file, sheet, cell, reason zh/en) and the
feedback workbook — so the page shows it within seconds; then the refresh after the ingest
(validation, marts) and the publish, still under the lock, after which `published_at` is set.
A crash leaves `ingesting` in the store and the file in the raw folder, where the next folder
sensor run or `wuchuang ingest` picks it up.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from pipelines.settings import Settings
from pipelines.warehouse import publish
from pipelines.workflow.store import Store, now

WAIT_S = 600
log = logging.getLogger("wuchuang.upload_worker")


def _set(store: Store, upload_id: str, **cols) -> None:
    names = ", ".join(f"{k} = ?" for k in cols)
    with store.tx() as c:
        c.execute(f"UPDATE upload SET {names} WHERE upload_id = ?", [*cols.values(), upload_id])


def _problems(conn, file_id: str, file_name: str) -> tuple[list[dict], dict]:
    src = conn.execute(
        "SELECT status, reason_codes, message_zh, message_en, feedback_path FROM core.source_file WHERE file_id = ?",
        [file_id],
    ).fetchone()
    rows = conn.execute(
        "SELECT file_name, sheet, cell, reason_code, message_zh, message_en FROM core.quarantine "
        "WHERE file_id = ? ORDER BY sheet NULLS FIRST, cell NULLS FIRST",
        [file_id],
    ).fetchall()
    problems = [
        {
            "file": r[0] or file_name,
            "sheet": r[1] or "",
            "cell": r[2] or "",
            "reason_code": r[3] or "",
            "message_zh": r[4] or "",
            "message_en": r[5] or "",
        }
        for r in rows
    ]
    info = {}
    if src is not None:
        info = {"status": src[0], "message_zh": src[2], "message_en": src[3], "feedback_path": src[4]}
        if not problems and src[0] in ("rejected", "duplicate", "partial") and (src[2] or src[3]):
            problems.append(
                {
                    "file": file_name,
                    "sheet": "",
                    "cell": "",
                    "reason_code": ",".join(src[1] or []) if isinstance(src[1], list) else str(src[1] or ""),
                    "message_zh": src[2] or "",
                    "message_en": src[3] or "",
                }
            )
    return problems, info


def _target(settings: Settings, rel_path: str) -> tuple[str | None, Path]:
    """(county, working database) the upload goes to: with county partitions, the county of the
    folder it was saved in (`<raw>/<county>/<unit>/…`) and that county's database; else the
    single warehouse."""
    from pipelines.warehouse import counties

    if not counties.partitioned(settings.profiles_dir):
        return None, settings.warehouse_path
    code = counties.county_of(rel_path)
    if code not in counties.county_codes(settings.profiles_dir):
        raise ValueError(
            f"上传文件不在任何县的文件夹中：{rel_path} / the upload is outside every county's folder: {rel_path}"
        )
    return code, counties.county_database(settings.warehouse_dir, code)


def _lock(database):
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            cm = publish.writer_lock(database)
            cm.__enter__()
            return cm
        except publish.WarehouseBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run(
    upload_id: str, settings: Settings | None = None, store: Store | None = None, publish_after: bool = True
) -> int:
    import duckdb

    settings = settings or Settings.from_env()
    store = store or Store.default(settings)
    row = store.one("SELECT * FROM upload WHERE upload_id = ?", (upload_id,))
    if row is None:
        print(f"no upload {upload_id}", file=sys.stderr)  # noqa: T201
        return 2
    _set(
        store, upload_id, ingest_state="ingesting", ingest_message="等待写入锁 / waiting for the writer lock"
    )
    try:
        county, database = _target(settings, row["rel_path"])
    except ValueError as exc:
        _set(store, upload_id, ingest_state="failed", ingest_message=str(exc))
        return 2
    try:
        cm = _lock(database)
    except publish.WarehouseBusy as exc:
        _set(store, upload_id, ingest_state="failed", ingest_message=str(exc))
        return 3
    try:
        # The CLI's ingest of given files (`ingest_return_files`), without importing Dagster first:
        # the outcome is on the page within seconds; the refresh and publish follow.
        from contextlib import nullcontext

        from pipelines.returns.load import ingest_returns
        from pipelines.warehouse import counties
        from pipelines.warehouse.connection import writer

        settings.ensure_dirs()
        path = (settings.raw_dir.resolve() / row["rel_path"]).resolve()
        _set(store, upload_id, ingest_message="正在入库 / ingesting")
        deadline = time.monotonic() + WAIT_S
        while True:  # a Dagster run of the pipeline may hold the database itself
            try:
                scope = counties.county_scope(county) if county else nullcontext()
                with scope, writer(database) as conn:
                    summary = ingest_returns(conn, Settings.from_env(), [path])
                    outcome = summary.outcomes[0] if summary.outcomes else None
                    problems, info = (
                        _problems(conn, outcome.file_id, row["file_name"]) if outcome else ([], {})
                    )
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(1)
        if outcome is None:
            _set(
                store,
                upload_id,
                ingest_state="ingested",
                result_status="duplicate",
                ingested_at=now(),
                ingest_message="文件已入库过（内容相同）/ this file was already ingested (same content)",
                problems_json="[]",
            )
        else:
            _set(
                store,
                upload_id,
                ingest_state="ingested",
                file_id=outcome.file_id,
                result_status=outcome.status,
                values_loaded=outcome.values_loaded,
                values_quarantined=outcome.values_quarantined,
                problems_json=json.dumps(problems, ensure_ascii=False),
                feedback_path=info.get("feedback_path"),
                ingest_message=" / ".join(x for x in (info.get("message_zh"), info.get("message_en")) if x)
                or None,
                ingested_at=now(),
            )
        if publish_after:
            from pipelines import cli

            ok = cli._run_job(
                settings, True, {"wuchuang/trigger": "upload", "wuchuang/upload": upload_id}, county=county
            )
            if ok:
                _set(store, upload_id, ingest_state="published", published_at=now())
            else:
                _set(
                    store, upload_id, ingest_message="刷新发布失败，请联系创建办 / refresh and publish failed"
                )
        return 0
    except Exception as exc:
        log.exception("upload %s failed", upload_id)
        _set(store, upload_id, ingest_state="failed", ingest_message=f"{type(exc).__name__}: {exc}"[:500])
        return 1
    finally:
        cm.__exit__(None, None, None)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pipelines.workflow.upload_worker UPLOAD_ID", file=sys.stderr)  # noqa: T201
        return 2
    logging.basicConfig(level=logging.INFO)
    return run(args[0])


if __name__ == "__main__":
    raise SystemExit(main())
