"""Command-line interface for analysts: `wuchuang <command>`.

Commands read the latest published snapshot (never the pipeline's working file) unless they
run the pipeline themselves.
"""

from __future__ import annotations

import argparse
import sys

from pipelines.settings import Settings
from pipelines.warehouse import publish


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    try:
        conn = publish.connect_readonly(settings.published_dir)
    except publish.NoSnapshotError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        snap = publish.latest_snapshot(settings.published_dir)
        print(f"已发布快照 / published snapshot: {snap.name}")
        rows = conn.execute(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
        for schema, table, n in rows:
            print(f"  {schema}.{table:<28} {n:>9,}")
        if conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'source_file'"
        ).fetchone()[0]:
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
    finally:
        conn.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wuchuang", description="创建工作指标监测 / creation-campaign indicator monitoring"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("status", help="显示已发布仓库概况 / show the published warehouse")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args, Settings.from_env())


if __name__ == "__main__":
    raise SystemExit(main())
