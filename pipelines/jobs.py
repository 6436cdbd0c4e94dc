"""Jobs: the full refresh, and re-running chosen files or one reporting period.

County partitions, not period partitions (pipelines/definitions.py `by_county`, docs/scaling.md):
a run with a county partition key works on that county alone. Periods are not partitions: the
ingest is already incremental by content hash (a file version is
read once; unchanged files cost one stat + hash), and a file's reporting period is only known
after parsing it (a workbook may even hold several months), so period partitions would not map
onto the unit of work (the file). Validation and marts are whole-table rebuilds that read across
periods (trends, forecasts, revisions), so they are not period-local either.

Re-running is "forget, then ingest again" (with county partitions, within one county: the job is
partitioned like the assets, `build_rerun`): `rerun_returns_job` (launch it from the UI with run
config `ops: {rerun_returns: {config: {files: [...], period: "2012-03"}}}`) deletes the chosen
files' rows from `core` in one transaction, re-ingests them from `data/raw/`, and on success
`rerun_followup_sensor` starts `monitoring_job`, which rebuilds validation and marts and
publishes. If the process dies between the two steps, the forgotten files are simply
unregistered: the next ingest of the folder picks them up again, so nothing is lost.
`wuchuang ingest --rerun FILE…` / `--period P` does the same from the command line.
"""

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.resources import WarehouseResource
from pipelines.settings import Settings

monitoring_job = dg.define_asset_job(
    "monitoring_job",
    selection=dg.AssetSelection.all(),
    description="Full refresh: catalog, profiles, calendar, returns, validation, marts, publish.",
)


class RerunTargetError(ValueError):
    """A file or period to re-run that does not exist (message in Chinese and English)."""


def _rel(raw_dir: Path, name: str) -> str:
    p = Path(name)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(raw_dir.resolve()).as_posix()
        except ValueError:
            raise RerunTargetError(
                f"文件不在报表接收目录中：{name} / file is not inside the raw folder {raw_dir}: {name}"
            ) from None
    if ".." in p.parts:
        raise RerunTargetError(f"路径不得包含 .. / path must not contain '..': {name}")
    return p.as_posix()


def rerun_targets(
    conn: duckdb.DuckDBPyConnection, raw_dir: Path, files: list[str], period: str | None
) -> tuple[list[str], list[Path]]:
    """(registered file ids to forget, paths under raw_dir to ingest again) for files and/or a period."""
    rels = [_rel(raw_dir, f) for f in files]
    ids: set[str] = set()
    paths: set[str] = set(rels)
    if rels:
        for fid, path in conn.execute(
            "SELECT file_id, path FROM core.source_file WHERE list_contains(?, path)", [rels]
        ).fetchall():
            ids.add(fid)
            paths.add(path)
    if period:
        rows = conn.execute(
            "SELECT file_id, path FROM core.source_file WHERE list_contains(period_codes, ?) "
            "OR file_id IN (SELECT file_id FROM core.submission WHERE period_code = ?)",
            [period, period],
        ).fetchall()
        if not rows:
            raise RerunTargetError(
                f"没有报告期 {period} 的已登记文件 / no registered file for period {period}"
            )
        for fid, path in rows:
            ids.add(fid)
            paths.add(path)
    missing = [r for r in rels if not (raw_dir / r).is_file()]
    if missing:
        raise RerunTargetError(
            f"报表接收目录中找不到文件：{', '.join(missing)} / not found in the raw folder: {', '.join(missing)}"
        )
    return sorted(ids), sorted(raw_dir / p for p in paths if (raw_dir / p).is_file())


def forget_files(conn: duckdb.DuckDBPyConnection, file_ids: list[str]) -> int:
    """Delete the files' rows from `core` in ONE transaction and renumber the revisions they touched."""
    from pipelines.returns.load import _rechain  # the loader's own revision renumbering

    if not file_ids:
        return 0
    conn.execute("BEGIN TRANSACTION")
    try:
        pairs = conn.execute(
            "SELECT DISTINCT org_code, period_code FROM core.submission WHERE list_contains(?, file_id)",
            [file_ids],
        ).fetchall()
        for t in ("core.observation", "core.submission", "core.quarantine", "core.source_file"):
            conn.execute(f"DELETE FROM {t} WHERE list_contains(?, file_id)", [file_ids])
        for org, period in pairs:
            _rechain(conn, org, period)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(file_ids)


def rerun_returns(
    warehouse: WarehouseResource, files: list[str], period: str | None, log=None
) -> tuple[int, object]:
    """Forget the chosen files and ingest them again. Returns (files forgotten, IngestSummary)."""
    from pipelines.assets.returns import ingest_return_files

    settings = Settings.from_env()
    with warehouse.get_connection() as conn:
        ids, paths = rerun_targets(conn, settings.raw_dir, files, period)
        forgotten = forget_files(conn, ids)
    if log:
        log.info(f"forgot {forgotten} registered file(s); re-ingesting {len(paths)}")
    summary = ingest_return_files(warehouse, paths)
    return forgotten, summary


class RerunConfig(dg.Config):
    files: list[str] = []
    period: str = ""


def _outside_county(files: list[str], county: str) -> list[str]:
    """Files of a county run that lie outside the county's folder `<raw>/<county>/`."""
    from pipelines.warehouse.counties import county_of

    raw = Settings.from_env().raw_dir
    return [f for f in files if county_of(_rel(raw, f)) != county]


@dg.op(
    description="Forget the chosen files (paths relative to data/raw/) or every file of one period, "
    "and ingest them again.",
)
def rerun_returns_op(
    context: dg.OpExecutionContext, config: RerunConfig, warehouse: WarehouseResource
) -> None:
    if not config.files and not config.period:
        raise dg.Failure("请指定 files 或 period / give `files` or `period` in the run config")
    try:
        if warehouse.county and (outside := _outside_county(list(config.files), warehouse.county)):
            raise RerunTargetError(
                f"文件不属于本次运行的县 {warehouse.county}：{', '.join(outside)} / files outside the "
                f"run's county {warehouse.county}: {', '.join(outside)}"
            )
        _, summary = rerun_returns(warehouse, list(config.files), config.period or None, context.log)
    except RerunTargetError as exc:
        raise dg.Failure(str(exc)) from None
    for line in summary.lines():
        context.log.info(line)


def build_rerun(partitions_def: dg.PartitionsDefinition | None = None):
    """`rerun_returns_job` and the sensor that follows it with `monitoring_job`. With county
    partitions the job is partitioned too: a re-run works on one county's working database (the
    files must lie in its folder; a period re-runs that county's files of the period), and the
    follow-up refreshes and publishes the same county."""

    @dg.job(
        name="rerun_returns_job",
        description="Re-run chosen files or one period (then monitoring_job rebuilds and publishes).",
        tags={"wuchuang/trigger": "rerun"},
        partitions_def=partitions_def,
    )
    def rerun_job():
        rerun_returns_op.alias("rerun_returns")()

    @dg.run_status_sensor(
        name="rerun_followup_sensor",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[rerun_job],
        request_job=monitoring_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="After a successful re-run, rebuild validation and marts and publish.",
    )
    def followup(context: dg.RunStatusSensorContext):
        run = context.dagster_run
        return dg.RunRequest(
            run_key=f"after-{run.run_id}",
            partition_key=run.tags.get("dagster/partition") or None,
            tags={"wuchuang/trigger": "rerun_followup", "wuchuang/after_run": run.run_id},
        )

    return rerun_job, followup


rerun_returns_job, rerun_followup_sensor = build_rerun()
jobs = [monitoring_job, rerun_returns_job]
sensors = [rerun_followup_sensor]
