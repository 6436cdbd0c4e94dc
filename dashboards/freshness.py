"""Is what the pages show current? The stale-data banner of every page (issue 13, item 6).

Two reasons make the published data stale:
- a return file reached the raw folder after the snapshot was published (received, not yet
  published: the next run will publish it, or it is failing);
- the latest run of `monitoring_job` failed after the snapshot was published (a systemic data
  problem, or an error): readers keep the last good snapshot, and the reason is shown.

`notice` is the rule (pure, tested); `gather` collects its inputs from the published manifest, the
raw folder and the Dagster instance, never raising: a page must render even when they are absent.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

JOB = "monitoring_job"
MAX_REASON = 400


@dataclass(frozen=True)
class FailedRun:
    at: dt.datetime  # aware
    run_id: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Freshness:
    published_at: dt.datetime | None  # aware
    newest_file: str | None  # path relative to the raw folder
    newest_file_at: dt.datetime | None  # aware
    files_after_publish: int
    failed_run: FailedRun | None


def _local(t: dt.datetime) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


def notice(f: Freshness) -> tuple[str, str] | None:
    """(Chinese, English) banner text, or None when the published data are current."""
    if f.published_at is None:
        return None  # nothing published: the pages already say so
    shown_zh = f"页面显示的是 {_local(f.published_at)} 发布的数据"
    shown_en = f"the pages show the data published {_local(f.published_at)}"
    zh, en = [], []
    if f.failed_run is not None and f.failed_run.at > f.published_at:
        zh.append(
            f"最近一次数据更新（{_local(f.failed_run.at)}）失败，{shown_zh}。"
            f"原因：{f.failed_run.reason_zh[:MAX_REASON].rstrip('。；')}。"
        )
        en.append(
            f"The last update ({_local(f.failed_run.at)}) failed; {shown_en}. "
            f"Reason: {f.failed_run.reason_en[:MAX_REASON].rstrip('.; ')}."
        )
    if f.files_after_publish and f.newest_file_at is not None and f.newest_file_at > f.published_at:
        zh.append(
            f"已收到 {f.files_after_publish} 个新报表文件（最新：{f.newest_file}，{_local(f.newest_file_at)}），"
            f"尚未发布；{shown_zh}。"
        )
        en.append(
            f"{f.files_after_publish} new return file(s) received (newest: {f.newest_file}, "
            f"{_local(f.newest_file_at)}) are not published yet; {shown_en}."
        )
    if not zh:
        return None
    return " ".join(zh), " ".join(en)


def published_at(published_dir: Path) -> dt.datetime | None:
    from pipelines.warehouse.publish import NoSnapshotError, snapshot_manifest

    try:
        when = snapshot_manifest(published_dir).get("published_at")
    except (NoSnapshotError, OSError):
        return None
    try:
        t = dt.datetime.fromisoformat(when) if when else None
    except ValueError:
        return None
    if t is not None and t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t


def newer_files(raw_dir: Path, since: dt.datetime | None) -> tuple[int, str | None, dt.datetime | None]:
    """(files modified after `since`, newest file, its time) among the files the pipeline reads."""
    from pipelines.sensors import scan_raw_folder

    try:
        found = scan_raw_folder(raw_dir)
    except OSError:
        return 0, None, None
    if not found:
        return 0, None, None
    path, (_, mtime_ns) = max(found.items(), key=lambda kv: kv[1][1])
    newest = dt.datetime.fromtimestamp(mtime_ns / 1e9, tz=dt.UTC)
    if since is None:
        return 0, path, newest
    cut = since.timestamp() * 1e9
    return sum(1 for _, m in found.values() if m > cut), path, newest


def _failure_reason(instance, run_id: str) -> tuple[str, str]:
    """The failed blocking checks' summaries (Chinese from their metadata), else the step errors."""
    from dagster import AssetCheckSeverity, DagsterEventType

    zh, en = [], []
    try:
        records = instance.all_logs(
            run_id, of_type={DagsterEventType.ASSET_CHECK_EVALUATION, DagsterEventType.STEP_FAILURE}
        )
    except Exception:  # an unreadable event log must not break a page
        records = []
    for rec in records:
        ev = rec.dagster_event
        if ev is None:
            continue
        data = ev.event_specific_data
        if ev.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            if data.passed or data.severity != AssetCheckSeverity.ERROR:
                continue
            meta = data.metadata or {}
            summary_zh = getattr(meta.get("summary_zh"), "value", None) or getattr(
                meta.get("summary_zh"), "text", None
            )
            en.append(data.description or data.check_name)
            zh.append(str(summary_zh or data.description or data.check_name))
        elif ev.event_type == DagsterEventType.STEP_FAILURE and not zh:
            err = getattr(data, "error", None)
            msg = (getattr(err, "message", "") or "").strip().splitlines()
            if msg:
                en.append(f"{ev.step_key}: {msg[0]}")
    if not zh and not en:
        return "运行失败，详见 Dagster 运行日志", "the run failed; see the Dagster run log"
    return "；".join(zh or en), "; ".join(en)


def failed_run() -> FailedRun | None:
    """The latest monitoring_job run when it failed (only with a Dagster instance configured)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not Path(home).is_dir():
        return None
    try:
        import dagster as dg

        instance = dg.DagsterInstance.get()
        runs = instance.get_runs(dg.RunsFilter(job_name=JOB), limit=1)
        if not runs or runs[0].status != dg.DagsterRunStatus.FAILURE:
            return None
        run = runs[0]
        record = instance.get_run_record_by_id(run.run_id)
        at = (
            record.end_time and dt.datetime.fromtimestamp(record.end_time, tz=dt.UTC)
        ) or record.update_timestamp
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        zh, en = _failure_reason(instance, run.run_id)
        return FailedRun(at, run.run_id, zh, en)
    except Exception:  # the banner must never break a page
        return None


def gather(published_dir: Path, raw_dir: Path) -> Freshness:
    when = published_at(Path(published_dir))
    n, path, newest = newer_files(Path(raw_dir), when)
    return Freshness(when, path, newest, n, failed_run() if when is not None else None)
