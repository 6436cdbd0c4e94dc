"""`wuchuang package` and `wuchuang archive …`: the inspection package and the evidence archive.

    wuchuang package --campaign eco_county --out 迎检资料包.zip [--as-of 2014-12-31] [--county 511923]
    wuchuang archive status [--campaign C]        readiness per campaign (and per clause with --campaign)
    wuchuang archive scan                         take in new files from the evidence drop folder
    wuchuang archive folders [--unit sthjj]       create the drop-folder tree of the slots a unit owes

The package reads the workflow store, the evidence store, the catalog and the latest published
snapshot (read-only; without one the indicator sheets are left out and the cover says so).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from pipelines.archive import intake, package
from pipelines.archive import store as es
from pipelines.archive.service import Archive
from pipelines.settings import Settings


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _archive(args, settings: Settings) -> Archive:
    return Archive.load(settings, getattr(args, "county", None))


def _snapshot(settings: Settings):
    from pipelines.warehouse.publish import NoSnapshotError, latest_snapshot

    try:
        import duckdb

        return duckdb.connect(str(latest_snapshot(settings.published_dir)), read_only=True)
    except (NoSnapshotError, OSError, Exception):  # no snapshot yet: the package still builds
        return None


def _campaign(archive: Archive, code: str) -> str:
    if code not in archive.evidence or code not in {p.campaign for p in archive.profile.programmes}:
        known = ", ".join(sorted(archive.evidence))
        raise es.ArchiveError(
            "no_campaign", f"未知的创建项目 {code}（可选：{known}）", f"unknown campaign {code} ({known})"
        )
    return code


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _package(args, settings) -> int:
    archive = _archive(args, settings)
    campaign = _campaign(archive, args.campaign)
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    conn = _snapshot(settings)
    try:
        cover = package.write(archive, campaign, Path(args.out), conn, as_of)
    finally:
        if conn is not None:
            conn.close()
    _out(
        f"迎检资料包 / inspection package: {args.out} — {cover['campaign']}，应交 required {cover['required']}，"
        f"通过 accepted {cover['accepted']}，缺 missing {cover['missing']}，档案准备度 archive readiness "
        f"{_pct(cover['archive_readiness'])}{'（封顶 capped）' if cover['is_capped'] else ''}，文件 files {cover['n_files']}"
        + (
            ""
            if conn is not None
            else "；无已发布快照，未含指标表 / no published snapshot: no indicator sheets"
        )
    )
    return 0


def _status(args, settings) -> int:
    archive = _archive(args, settings)
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    if args.campaign:
        _campaign(archive, args.campaign)
        for c in archive.clause_rows(args.campaign, as_of):
            flag = "前提 prerequisite " if c["prerequisite"] else ""
            _out(
                f"{c['clause_order']:>3} {c['clause_name_zh']}: {flag}应交 {c['required']} 提交 {c['provided']} "
                f"通过 {c['accepted']} 退回 {c['n_returned']} 逾期 {c['n_overdue']}"
                + (" ⚠ 缺前提资料 / prerequisite missing" if c["prerequisite_missing"] else "")
            )
        return 0
    for r in archive.campaign_rows(None, as_of):
        _out(
            f"{r['campaign_code']}: 应交 required {r['required']} 提交 provided {r['provided']} 通过 accepted "
            f"{r['accepted']} 退回 returned {r['n_returned']} — 档案准备度 {_pct(r['archive_readiness'])}"
            + (f"（封顶 capped: {', '.join(r['prerequisite_missing_codes'])}）" if r["is_capped"] else "")
        )
    return 0


def _scan(args, settings) -> int:
    archive = _archive(args, settings)
    report = intake.scan_inbox(archive.store, archive.paths, archive.slots, archive.county)
    for m in report.messages:
        _err(m)
    _out(
        f"证据收件箱 / evidence inbox {archive.paths.inbox}: 新增 added {report.added}，已有 skipped "
        f"{report.skipped}，拒收 refused {report.refused}"
    )
    return 0


def _folders(args, settings) -> int:
    archive = _archive(args, settings)
    n = intake.make_folders(archive.paths, archive.slots, args.unit)
    _out(f"已创建 created {n} 个文件夹 folders under {archive.paths.inbox}")
    return 0


def _guard(func):
    def run(args, settings) -> int:
        try:
            return func(args, settings)
        except es.ArchiveError as exc:
            _err(str(exc))
            return 2
        except package.NoFont as exc:
            _err(str(exc))
            return 3

    return run


def register(sub) -> None:
    p = sub.add_parser("package", help="迎检资料包（zip） / the inspection package of a campaign (zip)")
    p.add_argument("--campaign", required=True, help="创建项目代码，如 eco_county / campaign code")
    p.add_argument("--out", required=True, help="输出 zip 文件 / output zip file")
    p.add_argument(
        "--as-of", default=None, help="统计截至日期 YYYY-MM-DD（默认今天） / as-of date (default today)"
    )
    p.add_argument("--county", default=None, help="县代码（默认第一个县情配置） / county code")
    p.set_defaults(func=_guard(_package))

    arch = sub.add_parser("archive", help="档案资料 / the evidence archive")
    a = arch.add_subparsers(dest="archive_command", required=True)
    p = a.add_parser("status", help="档案准备度 / archive readiness")
    p.add_argument("--campaign", default=None)
    p.add_argument("--as-of", default=None)
    p.add_argument("--county", default=None)
    p.set_defaults(func=_guard(_status))
    p = a.add_parser("scan", help="收取证据收件箱中的新文件 / take in the evidence drop folder")
    p.add_argument("--county", default=None)
    p.set_defaults(func=_guard(_scan))
    p = a.add_parser("folders", help="创建证据收件箱文件夹 / create the drop-folder tree")
    p.add_argument("--unit", default=None, help="单位简码，如 sthjj / unit short code")
    p.add_argument("--county", default=None)
    p.set_defaults(func=_guard(_folders))
