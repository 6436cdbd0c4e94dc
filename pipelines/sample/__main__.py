"""`python -m pipelines.sample --out data/raw [--seed N]`: write the sample corpus (idempotent)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.sample.generate import DEFAULT_SEED, build_corpus, write_corpus
from pipelines.sample.task_ledger import write_sample_task_ledger
from pipelines.settings import Settings


def write_task_ledger(out_dir: Path, profile, seed: int) -> Path:
    """The creation office's task ledger (任务台账), rewritten only when its bytes change."""
    target = out_dir / profile.code / "cjb" / "五创联动任务台账.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_sample_task_ledger(Path(tmp) / target.name, profile, seed)
        # openpyxl stamps the archive with the current time: compare cell contents, not bytes.
        if not (target.is_file() and _cells(target) == _cells(fresh)):
            target.write_bytes(fresh.read_bytes())
    return target


def _cells(path: Path) -> list:
    workbook = CalamineWorkbook.from_path(str(path))
    return [workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names]


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.sample",
        description="生成样例报表语料 / write the deterministic sample corpus of returns",
    )
    parser.add_argument("--out", type=Path, default=settings.raw_dir, help="输出文件夹 / output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子 / seed")
    parser.add_argument(
        "--years", type=int, nargs="*", default=None, help="只生成这些年份 / only these years"
    )
    parser.add_argument(
        "--units", nargs="*", default=None, help="只生成这些单位 / only these unit short codes"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    catalog = load_catalog(settings.standards_dir)
    profile = load_profiles(settings.profiles_dir, catalog)[0]
    corpus = build_corpus(catalog, profile, seed=args.seed, years=args.years, units=args.units)
    report = write_corpus(corpus, args.out)
    ledger = write_task_ledger(args.out, profile, args.seed)
    sys.stdout.write(
        f"样例语料 / sample corpus: {len(corpus.files)} 个文件 files "
        f"({report.total_bytes / 1e6:.1f} MB), 写入 written {report.written}, "
        f"未变 unchanged {report.unchanged}, 删除 removed {report.removed}, "
        f"缺报 missing returns {len(corpus.missing)}; 任务台账 task ledger {ledger.name}; "
        f"{time.perf_counter() - started:.1f} s → {args.out}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
