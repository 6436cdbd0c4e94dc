"""Dagster: `notices_job` fills the outbox for today (Asia/Shanghai) from the published snapshot and
sends it (dry-run unless WUCHUANG_NOTICES_SEND=1); `notices_schedule` runs it at 08:30 on every
Chinese working day (the cron fires daily, the function skips other days, as the monthly refresh)."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.schedules import TIMEZONE, _working
from pipelines.settings import Settings
from pipelines.workflow import duties, notices
from pipelines.workflow.store import Store


@dg.op(description="通知：生成并发送 / notices: fill the outbox for today and send it")
def fill_and_send_notices(context) -> None:
    settings = Settings.from_env()
    store = Store.default(settings)
    today = (
        duties.today()
        if duties.os.environ.get("WUCHUANG_TODAY")
        else dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    )
    run = notices.snapshot_runner(settings)
    catalog = load_catalog(settings.standards_dir)
    for profile in load_profiles(settings.profiles_dir, catalog):
        n = notices.fill_outbox(store, profile.code, today, run, settings)
        context.log.info(f"{profile.code}: {n} new notice(s) for {today}")
    rep = notices.send_outbox(store)
    context.log.info(
        f"sent {rep.sent}, failed {rep.failed}, given up {rep.dead}, uncertain {rep.uncertain}, "
        f"dry-run would send {len(rep.would_send)}"
    )


@dg.job(description="通知发件箱 / the notices outbox: fill and send")
def notices_job() -> None:
    fill_and_send_notices()


@dg.schedule(
    cron_schedule="30 8 * * *",
    execution_timezone=TIMEZONE,
    job=notices_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="工作日08:30生成并发送通知 / notices at 08:30 on Chinese working days (fires daily, skips others)",
)
def notices_schedule(context: dg.ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    day = when.astimezone(dt.timezone(dt.timedelta(hours=8))).date() if when else dt.date.today()
    working, _ = _working(day)
    if not working:
        return dg.SkipReason(f"{day.isoformat()} 非工作日 / not a working day")
    return dg.RunRequest(run_key=f"notices-{day.isoformat()}", tags={"wuchuang/trigger": "notices_schedule"})


jobs = [notices_job]
schedules = [notices_schedule]
