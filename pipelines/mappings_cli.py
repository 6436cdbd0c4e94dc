# ruff: noqa: T201  (a command-line module: it prints)
"""`wuchuang mappings …`: learned layouts (导入映射) from the command line.

wuchuang mappings list                       saved mappings (and broken files, with the field)
wuchuang mappings show FINGERPRINT           one mapping's YAML
wuchuang mappings apply FILE [--mapping FP]  parse a file (with that mapping forced) and print its rows
wuchuang mappings reingest [--dry-run]       re-ingest the files refused for their layout that a
                                             saved mapping now reads (no_header, ambiguous_layout,
                                             no_indicator), then refresh and publish
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.settings import Settings


def _cli():
    from pipelines import cli  # imported late: cli imports this module

    return cli


def _dir(settings: Settings) -> Path:
    from pipelines.returns import mapping_service

    return mapping_service.mappings_dir(settings)


def _find(settings: Settings, fp: str):
    from pipelines.returns.layouts import mapped

    cli = _cli()
    maps = mapped.load_mappings(_dir(settings))
    hits = [m for k, m in maps.items() if k.startswith(fp.strip().lower())] if fp.strip() else []
    if len(hits) != 1:
        raise cli.CliError(
            f"找不到唯一的映射：{fp}（已保存 {len(maps)} 个） / no single mapping matches {fp} ({len(maps)} saved)"
        )
    return hits[0]


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.returns.layouts import mapped

    cli = _cli()
    errors: list[mapped.MappingError] = []
    d = _dir(settings)
    maps = mapped.load_mappings(d, errors)
    rows = []
    for m in sorted(maps.values(), key=lambda m: m.created_at):
        ind = m.indicator
        axis = {"row": f"行 row {ind.get('column', '')}", "column": f"列 column {ind.get('row', '')}"}.get(
            ind["axis"], f"固定 fixed {ind.get('code', '')}"
        )
        rows.append(
            (m.fingerprint, m.name, m.sample_file, axis, m.period["axis"], m.created_by, m.created_at)
        )
    cols = ["fingerprint", "名称 name", "样例文件 sample", "指标 indicator", "报告期 period", "by", "at"]
    cli._print_table(cols, rows)
    print(f"({len(rows)} 个映射 mappings in {d})")
    for e in errors:
        cli._err(f"✗ {e}")
    return cli.EXIT_FAILED if errors else cli.EXIT_OK


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    m = _find(settings, args.fingerprint)
    print(m.path.read_text(encoding="utf-8") if m.path else "", end="")
    return _cli().EXIT_OK


def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.returns import mapping_service
    from pipelines.returns.parse import parse_file

    cli = _cli()
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise cli.CliError(f"找不到文件：{args.file} / file not found: {args.file}")
    ctx = mapping_service.context(settings, _dir(settings))
    if args.mapping:
        result = mapping_service.apply(path, _find(settings, args.mapping), ctx, args.sheet)
    else:
        result = parse_file(path, ctx)
    rows = mapping_service.tidy_rows(result, ctx)
    cli._print_table(
        ["指标 indicator", "单位 unit", "主体 subject", "报告期 period", "数值 value", "单元格 cell"],
        [(r.indicator, r.unit, r.subject, r.period, r.value, f"{r.sheet}!{r.cell}") for r in rows],
    )
    print(f"({len(rows)} 行 rows; 版式 layout: {result.layout or '-'})")
    for zh, en in zip(
        mapping_service.problem_lines(result, "zh"), mapping_service.problem_lines(result, "en"), strict=True
    ):
        cli._err(f"✗ {zh} / {en}")
    return cli.EXIT_FAILED if result.rejected else cli.EXIT_OK


def reingest_targets(settings: Settings) -> list[Path]:
    """Files refused for their layout (published warehouse) that a saved mapping now reads."""
    import duckdb

    from pipelines.returns import mapping_service
    from pipelines.returns.layouts import mapped
    from pipelines.returns.readers import ReadError, read_book
    from pipelines.warehouse import publish

    cli = _cli()
    try:
        snap = publish.latest_snapshot(settings.published_dir)
    except publish.NoSnapshotError as exc:
        raise cli.CliError(str(exc), cli.EXIT_FAILED) from None
    conn = duckdb.connect(str(snap), read_only=True)
    try:
        refused = mapping_service.refused_files(conn)
    finally:
        conn.close()
    maps = mapped.load_mappings(_dir(settings))
    raw = settings.raw_dir.resolve()
    out = []
    for f in refused:
        p = (raw / f["path"]).resolve()
        if not p.is_file() or not p.is_relative_to(raw):
            continue
        try:
            book = read_book(p)
        except ReadError:
            continue
        if any(mapped.lookup(s, maps, book.file_format != "csv") for s in book.sheets if s.is_visible):
            out.append(p)
    return out


def cmd_reingest(args: argparse.Namespace, settings: Settings) -> int:
    cli = _cli()
    targets = reingest_targets(settings)
    raw = settings.raw_dir.resolve()
    for p in targets:
        print(f"  {p.relative_to(raw).as_posix()}")
    if not targets:
        print("没有可由已保存映射读取的拒收文件 / no refused file is read by a saved mapping")
        return cli.EXIT_OK
    if args.dry_run:
        print(f"({len(targets)} 个文件 files; --dry-run: 未入库 not ingested)")
        return cli.EXIT_OK
    ns = argparse.Namespace(files=[str(p) for p in targets], rerun=True, period=None, force=args.force)
    return cli.cmd_ingest(ns, settings)


def register(sub) -> None:
    """Add the `mappings` command group to the CLI's subparsers."""
    p = sub.add_parser("mappings", help="导入映射（已学习的表格版式） / import mappings (learned layouts)")
    msub = p.add_subparsers(dest="mappings_command", required=True)
    q = msub.add_parser("list", help="列出已保存的映射 / list saved mappings")
    q.set_defaults(func=cmd_list)
    q = msub.add_parser("show", help="显示一个映射 / show one mapping")
    q.add_argument("fingerprint", help="版式指纹（可只写开头） / layout fingerprint (a prefix is enough)")
    q.set_defaults(func=cmd_show)
    q = msub.add_parser(
        "apply", help="按映射读取一个文件并列出数值 / parse a file with a mapping, print its rows"
    )
    q.add_argument("file", help="报表文件 / a return file")
    q.add_argument("--mapping", help="强制使用此映射 / force this mapping (fingerprint)")
    q.add_argument("--sheet", help="映射所用工作表 / the sheet the mapping reads")
    q.set_defaults(func=cmd_apply)
    q = msub.add_parser(
        "reingest",
        help="重新入库因版式被拒收、现已有映射的文件 / re-ingest refused files a mapping now reads",
    )
    q.add_argument("--dry-run", action="store_true", help="只列出文件 / only list the files")
    q.add_argument(
        "--force", action="store_true", help="即使有运行在进行也执行 / even if a run is in progress"
    )
    q.set_defaults(func=cmd_reingest)
