"""`python -m pipelines.sample --out data/raw [--seed N] [--counties N --profiles-out DIR]`: write the
sample corpus (idempotent).

With `--counties N` (N > 1) it writes a synthetic province for benchmarks and the county-partition
tests: county 1 is the bundled profile (平昌县, 511923); counties 2..N are copies of it under their own
six-digit code (`synthetic_code`) and name (样例NNN县 / Sample County NNN), each with its own corpus
(seed varied per county) under `<out>/<code>/`. Their profiles are written to `--profiles-out`
(default: a `profiles` folder next to `--out`); point WUCHUANG_PROFILES_DIR at it. The default
(one county) output is unchanged, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.sample.generate import DEFAULT_SEED, MANIFEST, build_corpus, write_corpus
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


BASE_CODE = "511923"
BASE_NAME = "平昌"


def synthetic_code(i: int) -> str:
    """Six-digit code of synthetic county i (i >= 2); county 1 is the bundled 511923."""
    return BASE_CODE if i == 1 else f"{519000 + i - 1:06d}"


def synthetic_profile_text(base_text: str, i: int) -> str:
    """The bundled profile rewritten for synthetic county i: its code and name replaced."""
    code = synthetic_code(i)
    text = base_text.replace(f'"{BASE_CODE}"', f'"{code}"').replace(BASE_NAME, f"样例{i:03d}")
    return text.replace("Pingchang County", f"Sample County {i:03d}").replace("Pingchang", f"Sample{i:03d}")


def write_province(
    settings: Settings, out_dir: Path, profiles_out: Path, n: int, seed: int, years, units
) -> str:
    """Write N counties' profiles and corpora; returns the summary line."""
    from pipelines.warehouse.counties import profile_files

    started = time.perf_counter()
    catalog = load_catalog(settings.standards_dir)
    base = profile_files(settings.profiles_dir)[BASE_CODE]
    base_text = base.read_text(encoding="utf-8")
    profiles_out.mkdir(parents=True, exist_ok=True)
    wanted = {f"{synthetic_code(i)}.yaml" for i in range(1, n + 1)}
    for stale in profiles_out.glob("*.yaml"):
        if stale.name not in wanted:
            stale.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    files = total = 0
    manifests = []
    for i in range(1, n + 1):
        code = synthetic_code(i)
        text = base_text if i == 1 else synthetic_profile_text(base_text, i)
        target = profiles_out / f"{code}.yaml"
        if not (target.is_file() and target.read_text(encoding="utf-8") == text):
            target.write_text(text, encoding="utf-8")
        with tempfile.TemporaryDirectory() as tmp:
            one = Path(tmp) / target.name
            one.write_text(text, encoding="utf-8")
            profile = load_profiles(Path(tmp), catalog)[0]
        corpus = build_corpus(catalog, profile, seed=seed + i - 1, years=years, units=units)
        (out_dir / MANIFEST).unlink(missing_ok=True)  # one manifest per province, written below
        report = write_corpus(corpus, out_dir)
        write_task_ledger(out_dir, profile, seed + i - 1)
        files += len(corpus.files)
        total += report.total_bytes
        manifests.append({"county_code": code, **corpus.manifest()})
    for folder in out_dir.iterdir():  # corpora of counties no longer in the province
        if folder.is_dir() and folder.name.isdigit() and f"{folder.name}.yaml" not in wanted:
            shutil.rmtree(folder)
    (out_dir / MANIFEST).write_text(
        json.dumps({"counties": manifests}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return (
        f"样例省 / synthetic province: {n} 个县 counties, {files} 个文件 files ({total / 1e6:.1f} MB), "
        f"{time.perf_counter() - started:.1f} s → {out_dir}; 县档案 profiles → {profiles_out} "
        f"(WUCHUANG_PROFILES_DIR={profiles_out})\n"
    )


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
    parser.add_argument(
        "--counties", type=int, default=1, help="生成 N 个县的样例省 / a synthetic province of N counties"
    )
    parser.add_argument(
        "--profiles-out",
        type=Path,
        default=None,
        help="N 个县的档案输出文件夹 / where the N county profiles go (default: <out>/../profiles)",
    )
    args = parser.parse_args(argv)
    if args.counties < 1:
        parser.error("--counties 至少为 1 / --counties must be at least 1")
    if args.counties > 1:
        profiles_out = args.profiles_out or Path(args.out).resolve().parent / "profiles"
        sys.stdout.write(
            write_province(
                settings, Path(args.out), profiles_out, args.counties, args.seed, args.years, args.units
            )
        )
        return 0
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
