"""Command-line interface for analysts: `wuchuang <command>`.

    wuchuang ingest [FILE ...] [--rerun] [--period P]   ingest now (Dagster run, recorded in DAGSTER_HOME)
    wuchuang templates --period 2013-06 [--out DIR]     return forms for a period
    wuchuang publish                                     publish the working database for readers
    wuchuang status                                      last run, last publish, pending files, rejects
    wuchuang sql "SELECT ..." [--csv]                    read-only query on the published snapshot
    wuchuang mappings list|show|apply|reingest           import mappings (learned layouts)

Reads use the latest published snapshot (never the pipeline's working file). Exit codes: 0 ok,
1 the work failed, 2 a user error (bad argument, refused SQL, unknown file), 3 the warehouse is
busy (another process is writing it), 130 interrupted. User errors print a message in Chinese and
English, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import sys
import threading
import uuid
from pathlib import Path

from pipelines.settings import Settings
from pipelines.warehouse import publish

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
JOB = "monitoring_job"


class CliError(Exception):
    """A problem the user can act on: printed without a traceback."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Dagster plumbing (imported lazily: `status` and `sql` stay fast)


def _instance(settings: Settings):
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        home = settings.root / ".dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["DAGSTER_HOME"] = str(home)
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


def _mark_dead_cli_runs(instance) -> None:
    """Runs started by an earlier `wuchuang ingest` that was killed stay STARTED forever: mark them failed."""
    import dagster as dg

    for run in instance.get_runs(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]), limit=50
    ):
        pid = run.tags.get("wuchuang/pid")
        if pid and pid.isdigit() and not _alive(int(pid)):
            instance.report_run_failed(run, "进程已终止 / the wuchuang process running it was killed")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _refuse_if_running(settings: Settings, force: bool) -> None:
    """Exit 3 when a Dagster run is in progress: its writes would interleave with ours, and a
    publish now would show readers a half-finished run."""
    if force:
        return
    try:
        import dagster as dg

        instance = _instance(settings)
        _mark_dead_cli_runs(instance)
        running = instance.get_runs(
            dg.RunsFilter(
                statuses=[
                    dg.DagsterRunStatus.STARTED,
                    dg.DagsterRunStatus.STARTING,
                    dg.DagsterRunStatus.CANCELING,
                ]
            ),
            limit=5,
        )
    except CliError:
        raise
    except Exception:  # no readable instance: nothing known to be running
        return
    if running:
        ids = ", ".join(f"{r.job_name} {r.run_id[:8]}" for r in running)
        raise CliError(
            f"有正在进行的运行（{ids}），请等待其结束，或加 --force / a run is in progress ({ids}): wait for it "
            "to finish, or pass --force",
            EXIT_BUSY,
        )


def _check_writer_free(settings: Settings, database: Path | None = None) -> None:
    """Fail fast (exit 3) when another process holds the working database (or a county's)."""
    import duckdb

    database = database or settings.warehouse_path
    if not database.exists():
        return
    try:
        duckdb.connect(str(database)).close()
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise CliError(
                "数据仓库正被另一个进程写入（可能是 Dagster 运行），请稍后再试 / the warehouse is being written by "
                "another process (a Dagster run?); try again later",
                EXIT_BUSY,
            ) from None
        raise


class _Progress(threading.Thread):
    """Prints step starts/ends and the assets' own log lines while a run executes in-process."""

    def __init__(self, instance, run_id: str, total: int):
        super().__init__(daemon=True)
        self.instance, self.run_id, self.total = instance, run_id, total
        self.cursor: str | None = None
        self.done = 0
        self.started: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.poll()
            self.stop.wait(0.5)

    def poll(self) -> None:
        from dagster import DagsterEventType as E

        try:
            conn = self.instance.get_records_for_run(self.run_id, cursor=self.cursor)
        except Exception:  # the run is not stored yet
            return
        self.cursor = conn.cursor
        for rec in conn.records:
            entry = rec.event_log_entry
            ev = entry.dagster_event
            step = entry.step_key or ""
            if ev is None:
                if entry.level >= 20 and step and entry.user_message:
                    for line in entry.user_message.splitlines():
                        print(f"      {line}", flush=True)
                continue
            if ev.event_type == E.STEP_START:
                self.started[step] = entry.timestamp
                print(f"[{self.done + 1}/{self.total}] ▶ {step} …", flush=True)
            elif ev.event_type in (E.STEP_SUCCESS, E.STEP_FAILURE, E.STEP_SKIPPED):
                self.done += 1
                took = entry.timestamp - self.started.get(step, entry.timestamp)
                mark = {E.STEP_SUCCESS: "✓", E.STEP_FAILURE: "✗", E.STEP_SKIPPED: "–"}[ev.event_type]
                print(f"[{self.done}/{self.total}] {mark} {step} ({took:.1f} s)", flush=True)


def _definitions(settings: Settings):
    """The code location's assets and jobs, with the warehouse resource bound to `settings` now
    (not to the settings seen when `pipelines.definitions` was first imported)."""
    import dagster as dg

    from pipelines import definitions
    from pipelines.resources import WarehouseResource

    return dg.Definitions(
        assets=[*definitions.domain_assets, definitions.published_warehouse],
        asset_checks=definitions.domain_checks,
        jobs=[definitions.monitoring_job],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        executor=dg.in_process_executor,
    )


def _run_job(
    settings: Settings, after_ingest: bool = False, tags: dict | None = None, county: str | None = None
) -> bool:
    """Execute `monitoring_job` in-process with progress; True on success.

    `after_ingest`: only what comes after the returns ingest (its checks, validation, marts,
    publishing), for when the CLI has just ingested chosen files itself.
    `county`: the county partition to run (county mode, docs/scaling.md).
    """
    import dagster as dg

    defs = _definitions(settings)
    job = defs.resolve_job_def(JOB)
    if after_ingest:
        graph = defs.resolve_asset_graph()
        returns = dg.AssetSelection.assets("departmental_returns")
        if dg.AssetKey("departmental_returns") not in graph.get_all_asset_keys():
            raise CliError("入库资产尚未注册 / the departmental_returns asset is not registered", EXIT_FAILED)
        selection = (returns.downstream() - returns) | dg.AssetSelection.checks_for_assets(
            "departmental_returns"
        )
        job = job.get_subset(
            asset_selection=set(selection.resolve(graph)),
            asset_check_selection=set(selection.resolve_checks(graph)),
        )
    instance = _instance(settings)
    _mark_dead_cli_runs(instance)
    run_id = str(uuid.uuid4())
    progress = _Progress(instance, run_id, len(job.nodes_in_topological_order))
    progress.start()
    try:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            partition_key=county,
            raise_on_error=False,
            tags={"wuchuang/trigger": "cli", "wuchuang/pid": str(os.getpid()), **(tags or {})},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    finally:
        progress.stop.set()
        progress.join(timeout=5)
        progress.poll()
    if not result.success:
        for ev in result.all_events:
            if ev.is_step_failure and ev.step_failure_data and ev.step_failure_data.error:
                error = ev.step_failure_data.error
                while error.cause is not None and "Error occurred while executing" in error.message:
                    error = error.cause  # the step's own error, not Dagster's wrapper
                _err(f"✗ {ev.step_key}: {_explain_failure(error.message.strip()[:2000])}")
    where = f"（县 county {county}）" if county else ""
    print(f"运行 / run {run_id}{where}: {'成功 succeeded' if result.success else '失败 failed'}", flush=True)
    return result.success


def _raw_paths(settings: Settings, files: list[str]) -> list[Path]:
    raw = settings.raw_dir.resolve()
    out = []
    for f in files:
        p = Path(f).expanduser()
        p = (p if p.is_absolute() else Path.cwd() / p).resolve()
        if not p.is_file():
            alt = (raw / f).resolve()
            if alt.is_file() and alt.is_relative_to(raw):
                p = alt
            else:
                raise CliError(f"找不到文件：{f} / file not found: {f}")
        if not p.is_relative_to(raw):
            raise CliError(
                f"文件不在报表接收目录 {raw} 中，请先放入 <县代码>/<单位代码>/ 子目录：{f} / "
                f"the file is not inside the raw folder {raw}; put it under <county>/<unit>/ first: {f}"
            )
        out.append(p)
    return out


# --------------------------------------------------------------------------------------------
# Commands


@contextlib.contextmanager
def _writing(settings: Settings, doing_zh: str, doing_en: str):
    """Hold the warehouse's writer lock for the whole command (a second ingest or publish exits 3 at
    once); system errors (disk full, no permission) become a message in Chinese and English."""
    try:
        with publish.writer_lock(settings.warehouse_path):
            yield
    except publish.WarehouseBusy as exc:
        raise CliError(str(exc), EXIT_BUSY) from None
    except publish.PublishError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    except OSError as exc:
        raise CliError(str(publish.os_error(exc, doing_zh, doing_en)), EXIT_FAILED) from None


def _explain_failure(message: str) -> str:
    """A step's error text, with a Chinese/English line added for disk-full and permission errors."""
    low = message.lower()
    if any(k in low for k in ("no space left", "disk quota", "permission denied", "read-only file system")):
        exc = OSError(message)
        return f"{message}\n  → {publish.os_error(exc, '运行', 'the run')}"
    return message


def _county_mode(settings: Settings) -> bool:
    from pipelines.warehouse import counties

    return counties.partitioned(settings.profiles_dir)


def _chosen_counties(settings: Settings, county: str | None) -> list[str]:
    from pipelines.warehouse import counties

    codes = counties.county_codes(settings.profiles_dir)
    if county and county not in codes:
        raise CliError(
            f"未知的县代码：{county}（已有 {', '.join(codes)}） / unknown county {county} (known: {', '.join(codes)})"
        )
    return [county] if county else codes


def _files_by_county(settings: Settings, files: list[str], county: str | None) -> dict[str, list[str]]:
    """Chosen files grouped by the county folder they lie in (`<raw>/<county>/…`)."""
    from pipelines.warehouse.counties import county_of

    known = set(_chosen_counties(settings, None))
    raw = settings.raw_dir.resolve()
    out: dict[str, list[str]] = {}
    stray = []
    for p in _raw_paths(settings, files):
        rel = p.relative_to(raw).as_posix()
        code = county_of(rel)
        if code not in known or (county and code != county):
            stray.append(rel)
        else:
            out.setdefault(code, []).append(rel)
    if stray:
        where = f"县 {county} 的文件夹" if county else "任何县的文件夹"
        where_en = f"county {county}'s folder" if county else "any county's folder"
        raise CliError(
            f"文件不在{where}（<报表接收目录>/<县代码>/…）中：{', '.join(stray)} / files outside {where_en} "
            f"(<raw>/<county>/…): {', '.join(stray)}"
        )
    return out


def _ingest_counties(args: argparse.Namespace, settings: Settings) -> int:
    """`wuchuang ingest` with county partitions: each county's working database, one at a time,
    under that county's writer lock, then that county's refresh and publish."""
    from pipelines.resources import WarehouseResource
    from pipelines.warehouse import counties

    county = getattr(args, "county", None)
    if args.files:
        work = _files_by_county(settings, args.files, county)
    elif args.rerun and not args.period:
        raise CliError("--rerun 需要文件或 --period / --rerun needs files or --period")
    else:  # a period of every county (or C), or each county's whole refresh
        work = dict.fromkeys(_chosen_counties(settings, county), [])
    _refuse_if_running(settings, args.force)
    failed, nothing = [], []
    for code, rels in work.items():
        database = counties.county_database(settings.warehouse_dir, code)
        print(f"== 县 county {code} ==", flush=True)
        try:
            with publish.writer_lock(database):
                _check_writer_free(settings, database)
                if not rels and not args.period:
                    ok = _run_job(settings, county=code)
                else:
                    with WarehouseResource.for_county(settings, code) as warehouse:
                        summary = _ingest_chosen(args, settings, warehouse, rels, county=code)
                    if summary is None:
                        nothing.append(code)
                        continue
                    print(
                        "更新校验、专题表并发布 / refreshing validation and marts, publishing …", flush=True
                    )
                    ok = _run_job(settings, True, {"wuchuang/files": str(len(rels))}, county=code)
        except publish.WarehouseBusy as exc:
            raise CliError(str(exc), EXIT_BUSY) from None
        if not ok:
            failed.append(code)
    if args.period and len(nothing) == len(work):
        raise CliError(f"没有报告期 {args.period} 的已登记文件 / no registered file for period {args.period}")
    if failed:
        _err(f"失败的县 / counties that failed: {', '.join(failed)}")
        return EXIT_FAILED
    return EXIT_OK


def _ingest_chosen(args, settings: Settings, warehouse, rels: list[str], county: str | None = None):
    """Ingest (or forget and re-ingest) chosen files or a period into `warehouse`; the summary, or
    None when a county has no registered file of the period (county mode: the caller decides)."""
    from pipelines.assets.returns import ingest_return_files

    if args.rerun or args.period:
        from pipelines.jobs import RerunTargetError, rerun_returns

        try:
            forgotten, summary = rerun_returns(warehouse, rels, args.period)
        except RerunTargetError as exc:
            if county and args.period and not rels and "no registered file" in str(exc):
                return None
            raise CliError(str(exc)) from None
        print(f"重新入库 / re-run: 清除 forgot {forgotten} 个已登记文件 registered file(s)", flush=True)
    else:
        paths = [settings.raw_dir.resolve() / r for r in rels]
        print(f"入库 / ingesting {len(paths)} 个文件 file(s) …", flush=True)
        summary = ingest_return_files(warehouse, paths)
    for line in summary.lines():
        print(f"      {line}", flush=True)
    return summary


def _ensure_dirs(settings: Settings) -> None:
    try:
        settings.ensure_dirs()
    except OSError as exc:
        raise CliError(
            str(publish.os_error(exc, "创建数据文件夹", "creating the data folders")), EXIT_FAILED
        ) from None


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    if _county_mode(settings):
        _ensure_dirs(settings)
        return _ingest_counties(args, settings)
    if getattr(args, "county", None):
        raise CliError("--county 只用于多县部署 / --county is for a deployment with county partitions")
    with _writing(settings, "入库", "ingesting"):
        _ensure_dirs(settings)
        return _ingest(args, settings)


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    _refuse_if_running(settings, args.force)
    _check_writer_free(settings)
    if not args.files and not args.period:
        if args.rerun:
            raise CliError("--rerun 需要文件或 --period / --rerun needs files or --period")
        print(f"入库并发布 / ingesting {settings.raw_dir} and publishing …", flush=True)
        return EXIT_OK if _run_job(settings) else EXIT_FAILED

    from pipelines.resources import WarehouseResource

    warehouse = WarehouseResource.from_settings(settings)
    rels = [p.relative_to(settings.raw_dir.resolve()).as_posix() for p in _raw_paths(settings, args.files)]
    _ingest_chosen(args, settings, warehouse, rels)
    print("更新校验、专题表并发布 / refreshing validation and marts, publishing …", flush=True)
    return EXIT_OK if _run_job(settings, True, {"wuchuang/files": str(len(args.files))}) else EXIT_FAILED


def cmd_templates(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.reporting_calendar import CalendarError
    from pipelines.returns.templates import generate_period_templates

    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    chosen = [p for p in profiles if args.county in (None, p.code)]
    if not chosen:
        raise CliError(f"未找到县档案 / no county profile '{args.county}'")
    out = Path(args.out) if args.out else settings.templates_dir / args.period
    try:
        paths = generate_period_templates(catalog, chosen[0], args.period, out)
    except (CalendarError, ValueError) as exc:
        raise CliError(f"报告期无效 / invalid period '{args.period}': {exc}") from None
    for i, p in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {p.name}", flush=True)
    print(f"已生成 {len(paths)} 份模板 / wrote {len(paths)} forms to {out}")
    return EXIT_OK


def _publish_counties(args: argparse.Namespace, settings: Settings) -> int:
    """`wuchuang publish` with county partitions: each chosen county's snapshot and a new union."""
    from pipelines.warehouse import counties, union

    _refuse_if_running(settings, args.force)
    done = 0
    for code in _chosen_counties(settings, getattr(args, "county", None)):
        database = counties.county_database(settings.warehouse_dir, code)
        if not database.exists():
            print(f"县 county {code}: 尚无工作数据库，跳过 / no working database yet, skipped", flush=True)
            continue
        try:
            with publish.writer_lock(database):
                path = union.publish_county(database, code, settings.published_dir, settings.keep_snapshots)
        except publish.PublishError as exc:
            busy = isinstance(exc, publish.WarehouseBusy)
            raise CliError(str(exc), EXIT_BUSY if busy else EXIT_FAILED) from None
        print(f"已发布 / published county {code}: {path.name}", flush=True)
        done += 1
    if not done:
        raise CliError(
            "没有可发布的县工作数据库，请先运行 wuchuang ingest / no county working database to publish; "
            "run `wuchuang ingest` first",
            EXIT_FAILED,
        )
    return EXIT_OK


def cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    if _county_mode(settings):
        return _publish_counties(args, settings)
    if getattr(args, "county", None):
        raise CliError("--county 只用于多县部署 / --county is for a deployment with county partitions")
    if not settings.warehouse_path.exists():  # nothing to lock or publish: say so plainly
        raise CliError(
            f"工作数据库不存在：{settings.warehouse_path.name}，请先运行 wuchuang ingest / "
            f"the working database does not exist: {settings.warehouse_path.name}; run `wuchuang ingest` first",
            EXIT_FAILED,
        )
    with _writing(settings, "发布", "publishing"):
        return _publish(args, settings)


def _publish(args: argparse.Namespace, settings: Settings) -> int:
    _refuse_if_running(settings, args.force)
    try:
        path = publish.publish(settings.warehouse_path, settings.published_dir, settings.keep_snapshots)
    except publish.PublishError as exc:
        busy = (
            isinstance(exc, publish.WarehouseBusy)
            or "另一个" in str(exc)
            or ("lock" in str(exc).lower() and not isinstance(exc, publish.DiskFullError))
        )
        raise CliError(str(exc), EXIT_BUSY if busy else EXIT_FAILED) from None
    manifest = publish.snapshot_manifest(settings.published_dir)
    rows = sum(manifest.get("tables", {}).values())
    print(f"已发布 / published {path.name}: {len(manifest.get('tables', {}))} 表 tables, {rows:,} 行 rows")
    return EXIT_OK


def pending_files(settings: Settings, registered: dict[str, set[int]]) -> list[str]:
    """Files in the raw folder not yet registered at that path with that size (new or changed)."""
    from pipelines.sensors import scan_raw_folder

    return [
        path
        for path, (size, _) in scan_raw_folder(settings.raw_dir).items()
        if size not in registered.get(path, ())
    ]


def _last_run_line(settings: Settings) -> str | None:
    if not os.environ.get("DAGSTER_HOME") and not (settings.root / ".dagster_home").is_dir():
        return None
    try:
        import dagster as dg

        instance = _instance(settings)
        runs = instance.get_runs(dg.RunsFilter(job_name=JOB), limit=1)
    except Exception:  # status must work without a readable Dagster instance
        return None
    if not runs:
        return "最近运行 / last run: 无 none"
    run = runs[0]
    record = instance.get_run_record_by_id(run.run_id)
    when = record.update_timestamp if record else None
    stamp = when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when else "?"
    trigger = run.tags.get("wuchuang/trigger") or run.tags.get("dagster/sensor_name") or "ui"
    return f"最近运行 / last run: {run.status.value} · {stamp} · {trigger} · {run.run_id[:8]}"


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    line = _last_run_line(settings)
    if line:
        print(line)
    try:
        conn = publish.connect_readonly(settings.published_dir)
    except publish.NoSnapshotError as exc:
        _err(str(exc))
        pending = pending_files(settings, {})
        print(f"待入库文件 / files pending: {len(pending)}")
        return EXIT_FAILED
    try:
        manifest = publish.snapshot_manifest(settings.published_dir)
        snap = publish.latest_snapshot(settings.published_dir)
        when = manifest.get("published_at")
        if when:
            when = dt.datetime.fromisoformat(when).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"已发布快照 / published snapshot: {snap.name}" + (f" · {when}" if when else ""))
        # A county union publishes views over the counties' snapshots (no size estimate: shown as "视图 view").
        rows = conn.execute(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
            "UNION ALL SELECT schema_name, view_name, NULL FROM duckdb_views() WHERE NOT internal "
            "ORDER BY 1, 2"
        ).fetchall()
        for schema, table, n in rows:
            print(f"  {schema}.{table:<28} {'视图 view' if n is None else format(n, ','):>9}")
        has_files = conn.execute(
            "SELECT count(*) FROM (SELECT schema_name, table_name FROM duckdb_tables() "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views()) "
            "WHERE schema_name = 'core' AND table_name = 'source_file'"
        ).fetchone()[0]
        registered: dict[str, set[int]] = {}
        if has_files:
            summary = conn.execute(
                "SELECT status, count(*), sum(values_loaded), sum(values_quarantined) "
                "FROM core.source_file GROUP BY 1 ORDER BY 1"
            ).fetchall()
            if summary:
                print("文件 / files:")
                for status, n, loaded, quarantined in summary:
                    print(
                        f"  {status:<10} {n:>5} 个文件 files, {loaded or 0:>7} 值入库 loaded, "
                        f"{quarantined or 0:>5} 值隔离 quarantined"
                    )
                has_feedback = conn.execute(
                    "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'core' "
                    "AND table_name = 'source_file' AND column_name = 'feedback_path'"
                ).fetchone()[0]
                workbooks, receipts = (
                    (0, 0)
                    if not has_feedback
                    else conn.execute(
                        "SELECT count(feedback_path), "
                        "count(*) FILTER (WHERE status = 'accepted' AND feedback_path IS NULL) "
                        "FROM core.source_file"
                    ).fetchone()
                )
                print(
                    f"  反馈表 {workbooks} 份（有问题的文件），回执 {receipts} 份（无问题的文件） / "
                    f"feedback workbooks {workbooks} (files with problems), receipts {receipts} (clean files)"
                )
            for path, size in conn.execute("SELECT path, size_bytes FROM core.source_file").fetchall():
                registered.setdefault(path, set()).add(size)
            rejects = conn.execute(
                "SELECT path, message_zh, message_en FROM core.source_file WHERE status = 'rejected' "
                "ORDER BY path LIMIT ?",
                [args.limit],
            ).fetchall()
            if rejects:
                print("拒收文件 / rejected files:")
                for path, zh, en in rejects:
                    print(f"  {path}\n      {zh}\n      {en}")
    finally:
        conn.close()
    pending = pending_files(settings, registered)
    print(
        f"待入库文件 / files pending (in {settings.raw_dir}, not in the published snapshot): {len(pending)}"
    )
    for p in pending[: args.limit]:
        print(f"  {p}")
    return EXIT_OK


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _print_table(columns: list[str], rows: list[tuple]) -> None:
    def cell(v) -> str:  # control characters (line breaks, terminal escapes) shown as "?"
        return "NULL" if v is None else _CONTROL.sub("?", str(v).replace("\n", " "))

    body = [[cell(v) for v in r] for r in rows]

    def width(s: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    widths = [max([width(c), *(width(r[i]) for r in body)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return " | ".join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True))

    print(line([cell(c) for c in columns]))
    print("-+-".join("-" * w for w in widths))
    for r in body:
        print(line(r))


def _fallback_query(snapshot: Path, sql: str, max_rows: int) -> tuple[list[str], list[tuple], bool]:
    """Minimal read-only guard when the dashboard's sql_guard is not available."""
    import duckdb

    conn = duckdb.connect(str(snapshot), read_only=True, config={"autoload_known_extensions": False})
    try:
        # A county union reads its counties' Parquet snapshots: allow those folders, then lock down.
        publish.allow_county_snapshots(conn, snapshot)
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
        statements = duckdb.extract_statements(sql)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise CliError("只允许单条 SELECT 查询 / only a single SELECT statement is allowed")
        cur = conn.execute(sql)
        rows = cur.fetchmany(max_rows + 1)
        return [d[0] for d in cur.description or []], rows[:max_rows], len(rows) > max_rows
    except duckdb.Error as exc:
        raise CliError(f"查询失败 / query failed: {exc}") from None
    finally:
        conn.close()


_QUERY_READ_CAP = 1_000_000  # bytes read from stdin; the console's own (smaller) limit applies next


def _read_query(arg: str) -> str:
    """The query text from the argument or stdin (`-`), refused with a message if it is not UTF-8
    (an argument with undecodable bytes arrives with lone surrogates)."""
    if arg == "-":
        data = sys.stdin.buffer.read(_QUERY_READ_CAP + 1)
        if len(data) > _QUERY_READ_CAP:
            raise CliError(
                f"查询过长（超过 {_QUERY_READ_CAP:,} 字节） / the query is too long (over {_QUERY_READ_CAP:,} bytes)"
            )
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            arg = data.decode("utf-8", errors="surrogateescape")
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError(
            "查询文本不是有效的 UTF-8 编码（可能含有无法识别的字节），请检查后重新输入 / "
            "the query is not valid UTF-8 text (undecodable bytes); check it and type it again"
        ) from None
    return arg


def cmd_sql(args: argparse.Namespace, settings: Settings) -> int:
    try:
        snapshot = publish.latest_snapshot(settings.published_dir)
    except publish.NoSnapshotError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    query = _read_query(args.query)
    try:
        from dashboards import sql_guard
    except ImportError:
        sql_guard = None
    if sql_guard is not None:
        try:
            res = sql_guard.run_query(snapshot, query, row_cap=args.max_rows, timeout_s=args.timeout)
        except sql_guard.GuardError as exc:
            raise CliError(str(exc)) from None
        columns = list(res.frame.columns)
        rows = list(res.frame.itertuples(index=False, name=None))
        truncated = res.truncated
    else:
        columns, rows, truncated = _fallback_query(snapshot, query, args.max_rows)
    if args.csv:
        from pipelines.safe_output import write_csv

        # Formula-like text is quoted: the output is meant to be opened in a spreadsheet.
        write_csv(rows, columns, sys.stdout, lineterminator="\n")
    else:
        _print_table(columns, rows)
        print(f"({len(rows)} 行 rows)")
    if truncated:
        _err(f"结果已截断为前 {args.max_rows} 行 / result truncated to the first {args.max_rows} rows")
    return EXIT_OK


# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wuchuang", description="创建工作指标监测 / creation-campaign indicator monitoring"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="立即入库并发布 / ingest now and publish")
    p.add_argument(
        "files", nargs="*", help="只入库这些文件（位于报表接收目录中） / only these files (inside data/raw/)"
    )
    p.add_argument(
        "--rerun", action="store_true", help="即使已入库也重新读取 / re-read even if already registered"
    )
    p.add_argument(
        "--period", help="重新入库某报告期的全部文件 / re-run every file of a period, e.g. 2012-03"
    )
    p.add_argument(
        "--force", action="store_true", help="即使有运行在进行也执行 / even if a run is in progress"
    )
    p.add_argument(
        "--county", help="多县部署：只处理此县 / with county partitions: only this county (default: all)"
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("templates", help="生成某报告期的填报模板 / generate return forms for a period")
    p.add_argument("--period", required=True, help="报告期 / period code: 2013-06, 2013-Q2, 2013")
    p.add_argument("--out", help="输出文件夹 / output folder (default data/templates/<period>)")
    p.add_argument("--county", help="县代码 / county code (default: the first profile)")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("publish", help="发布只读快照 / publish a read-only snapshot")
    p.add_argument(
        "--force", action="store_true", help="即使有运行在进行也发布 / even if a run is in progress"
    )
    p.add_argument(
        "--county", help="多县部署：只发布此县 / with county partitions: only this county (default: all)"
    )
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser(
        "status", help="运行、发布、待入库与拒收文件 / runs, publish, pending and rejected files"
    )
    p.add_argument("--limit", type=int, default=20, help="列出条数上限 / list at most N items")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("sql", help="只读 SQL 查询（已发布快照） / read-only SQL on the published snapshot")
    p.add_argument("query", help="SELECT 语句，- 表示从标准输入读取 / a SELECT statement, - reads stdin")
    p.add_argument("--csv", action="store_true", help="输出 CSV / output CSV")
    p.add_argument("--max-rows", type=int, default=1000, help="最多返回行数 / row cap")
    p.add_argument("--timeout", type=float, default=30.0, help="超时秒数 / time limit in seconds")
    p.set_defaults(func=cmd_sql)

    from pipelines import mappings_cli  # wuchuang mappings list|show|apply|reingest

    mappings_cli.register(sub)
    from pipelines import verdicts_cli  # wuchuang verdicts --campaign C --year Y [--variant terrain=hill]

    verdicts_cli.register(sub)
    from pipelines import users_cli  # wuchuang users add|list|disable|enable|reset|role|audit|demo

    users_cli.register(sub)
    __import__("pipelines.plan_cli").plan_cli.register(sub)  # wuchuang letters --year Y [--unit U] --out DIR
    from pipelines import archive_cli  # wuchuang package --campaign C --out F.zip; wuchuang archive …

    archive_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args, Settings.from_env())
    except CliError as exc:
        _err(str(exc))
        return exc.code
    except KeyboardInterrupt:
        _err("已中断 / interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
