"""Ingest throughput: the full ingest vs the reading floor vs the naive approach, side by side.

Corpus: copies of the sample corpus (`python -m pipelines.sample --out DIR --seed S`), each copy a
different seed, so the values, late files and bad files differ between copies; the copies hold a
few thousand returns in the sample's mix of layouts and formats. Each copy is one county's drop
folder, so it is ingested into its own warehouse (copies of the same county in one warehouse would
all be resubmissions of each other, which is not the workload being measured).

Contenders, each over the whole corpus, repetitions interleaved in rotating order:
- full:  `pipelines.returns.load.ingest_files` (hash, read, detect, normalise, validate values,
         load into DuckDB with one transaction per file) into a warehouse holding the dimensions;
- floor: python-calamine opening every sheet of every workbook (`to_python()`), the stdlib csv
         module for CSV (UTF-8, else GB18030) — nothing else;
- parse: `pipelines.returns.parse.parse_file` alone (read, detect, normalise, check values; no
         hashing, no database): splits the full ingest's cost between parsing and loading;
- naive: what a user would write: `pandas.read_excel(sheet_name=None, engine="openpyxl")`
         (.xls: pandas' calamine engine, as xlrd is not installed; .ods: odf engine; CSV:
         `pandas.read_csv`), then one INSERT per non-empty cell into a long table in DuckDB
         (no normalisation, no validation: the naive figure is a lower bound of its real cost).
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from bench.common import Config, interleave, median
from pipelines.settings import PROJECT_ROOT, Settings

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
RETURN_SUFFIXES = EXCEL_SUFFIXES | {".csv"}


# --------------------------------------------------------------------------------------------
# Corpus


def sample_available() -> bool:
    return (PROJECT_ROOT / "pipelines" / "sample").exists() or (
        PROJECT_ROOT / "pipelines" / "sample.py"
    ).exists()


def generate_copy(out: Path, seed: int, extra: tuple[str, ...] = ()) -> Path:
    """One copy of the sample corpus from the project's own generator, with the given seed."""
    if out.exists() and any(out.iterdir()):
        return out
    out.mkdir(parents=True, exist_ok=True)
    base = [sys.executable, "-m", "pipelines.sample", "--out", str(out), *extra]
    proc = subprocess.run([*base, "--seed", str(seed)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    if proc.returncode != 0 and "--seed" in proc.stderr:
        proc = subprocess.run(base, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"sample generator failed: {proc.stderr[-2000:]}")
    return out


def return_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in Path(folder).rglob("*")
        if p.is_file() and p.suffix.lower() in RETURN_SUFFIXES and not p.name.startswith((".", "~"))
    )


def build_corpus(cfg: Config) -> list[tuple[Path, list[Path]]]:
    """[(raw_dir, files)] with about `size.ingest_files` files in total (tiny: a subset of one copy)."""
    root = cfg.work_dir / "corpus"
    first = generate_copy(root / "copy-00", cfg.seed, cfg.size.sample_args)
    per_copy = len(return_files(first))
    if per_copy == 0:
        raise RuntimeError("the sample generator wrote no return files")
    target = cfg.size.ingest_files
    if target < per_copy:
        files = return_files(first)
        # a spread of the copy: every k-th file keeps the mix of layouts and formats
        step = max(1, len(files) // target)
        subset_dir = root / f"subset-{target}"
        if not subset_dir.exists():
            for f in files[::step][:target]:
                dst = subset_dir / f.relative_to(first)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dst)
        return [(subset_dir, return_files(subset_dir))]
    copies = math.ceil(target / per_copy)
    out = []
    for k in range(copies):
        d = generate_copy(root / f"copy-{k:02d}", cfg.seed + k, cfg.size.sample_args)
        out.append((d, return_files(d)))
    return out


def corpus_mix(corpus: list[tuple[Path, list[Path]]]) -> dict[str, int]:
    mix: dict[str, int] = {}
    for _, files in corpus:
        for f in files:
            mix[f.suffix.lower()] = mix.get(f.suffix.lower(), 0) + 1
    return dict(sorted(mix.items()))


# --------------------------------------------------------------------------------------------
# Floor


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    return list(csv.reader(io.StringIO(text, newline="")))


def floor_read(files: list[Path]) -> int:
    """Bare reading: every cell of every sheet into Python; returns non-empty cells read."""
    from python_calamine import CalamineWorkbook

    cells = 0
    for f in files:
        try:
            if f.suffix.lower() == ".csv":
                rows = _csv_rows(f)
                cells += sum(1 for r in rows for c in r if c != "")
                continue
            wb = CalamineWorkbook.from_path(str(f))
            for name in wb.sheet_names:
                for row in wb.get_sheet_by_name(name).to_python():
                    cells += sum(1 for c in row if c != "" and c is not None)
        except Exception:  # bad files of the corpus (empty, truncated): the floor just skips them
            continue
    return cells


# --------------------------------------------------------------------------------------------
# Naive


def naive_ingest(files: list[Path], db_path: Path) -> int:
    """pandas.read_excel + one INSERT per cell; returns rows inserted."""
    import pandas as pd

    for p in (db_path, db_path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    conn = duckdb.connect(str(db_path))
    conn.execute(
        "CREATE TABLE cells (file VARCHAR, sheet VARCHAR, row_no INTEGER, col VARCHAR, raw_text VARCHAR)"
    )
    n = 0
    try:
        for f in files:
            suffix = f.suffix.lower()
            try:
                if suffix == ".csv":
                    try:
                        frames = {f.stem: pd.read_csv(f, encoding="utf-8-sig", header=None, dtype=str)}
                    except UnicodeDecodeError:
                        frames = {f.stem: pd.read_csv(f, encoding="gbk", header=None, dtype=str)}
                else:
                    engine = {".xls": "calamine", ".ods": "odf"}.get(suffix, "openpyxl")
                    frames = pd.read_excel(f, sheet_name=None, header=None, engine=engine)
            except Exception:
                continue
            for sheet, df in frames.items():
                for i, row in enumerate(df.itertuples(index=False)):
                    for j, v in enumerate(row):
                        if v is None or (isinstance(v, float) and v != v):
                            continue
                        conn.execute(
                            "INSERT INTO cells VALUES (?, ?, ?, ?, ?)",
                            [f.name, str(sheet), i, str(j), str(v)],
                        )
                        n += 1
    finally:
        conn.close()
    return n


# --------------------------------------------------------------------------------------------
# Full ingest


def dims_template(work_dir: Path) -> Path:
    """A warehouse holding only the dimensions (catalog, profile, calendar), copied per run."""
    from bench.synth import load_dimensions
    from pipelines.warehouse.schema import create_all

    path = work_dir / "dims-template.duckdb"
    if not path.exists():
        conn = duckdb.connect(str(path))
        try:
            conn.execute("BEGIN TRANSACTION")  # one commit instead of one per DDL/COMMENT statement
            create_all(conn)
            conn.execute("COMMIT")
            load_dimensions(conn, Settings.from_env())
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
    return path


def parse_context(raw_dir: Path):
    import datetime as dt

    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.returns.model import ParseContext

    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    profiles = tuple(load_profiles(settings.profiles_dir, catalog))
    return ParseContext(catalog=catalog, profiles=profiles, raw_dir=Path(raw_dir), today=dt.date.today())


def full_ingest(raw_dir: Path, files: list[Path], db_path: Path, template: Path, ctx) -> dict:
    from pipelines.returns.load import ingest_files

    for p in (db_path, db_path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(template, db_path)
    conn = duckdb.connect(str(db_path))
    try:
        summary = ingest_files(conn, ctx, files)
    finally:
        conn.close()
    return summary.as_dict()


# --------------------------------------------------------------------------------------------


def parse_only(files: list[Path], ctx) -> int:
    """Read, detect, normalise and check values (`parse_file`), no hashing and no database."""
    from pipelines.returns.parse import parse_file

    return sum(len(parse_file(f, ctx).values) for f in files)


def _warm_imports() -> None:
    """Import every contender's libraries before timing, so no repetition pays for an import."""
    import odf.opendocument  # noqa: F401
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
    import python_calamine  # noqa: F401

    import pipelines.returns.load
    import pipelines.returns.parse  # noqa: F401


def run(cfg: Config) -> dict:
    _warm_imports()
    corpus = build_corpus(cfg)
    n_files = sum(len(f) for _, f in corpus)
    template = dims_template(cfg.work_dir)
    contexts = [parse_context(d) for d, _ in corpus]
    db_dir = cfg.work_dir / "ingest-db"
    db_dir.mkdir(parents=True, exist_ok=True)
    out: dict = {"files": n_files, "copies": len(corpus), "mix": corpus_mix(corpus)}

    def full(_r: int) -> None:
        totals: dict[str, int] = {}
        for k, ((d, files), ctx) in enumerate(zip(corpus, contexts, strict=True)):
            s = full_ingest(d, files, db_dir / f"full-{k}.duckdb", template, ctx)
            for key, v in s.items():
                totals[key] = totals.get(key, 0) + v
        out["full_summary"] = totals

    def floor(_r: int) -> None:
        out["floor_cells"] = sum(floor_read(files) for _, files in corpus)

    def naive(_r: int) -> None:
        out["naive_rows"] = sum(
            naive_ingest(files, db_dir / f"naive-{k}.duckdb") for k, (_, files) in enumerate(corpus)
        )

    def parse(_r: int) -> None:
        out["parse_values"] = sum(
            parse_only(files, ctx) for (_, files), ctx in zip(corpus, contexts, strict=True)
        )

    times = interleave({"floor": floor, "parse": parse, "full": full, "naive": naive}, cfg.size.ingest_reps)
    out["seconds"] = times
    med = {k: median(v) for k, v in times.items()}
    out["median_s"] = med
    values = out["full_summary"].get("values_loaded", 0)
    out["values_loaded"] = values
    out["files_per_s"] = {k: n_files / v for k, v in med.items()}
    out["values_per_s"] = {k: values / v for k, v in med.items()}
    out["ratio_full_over_floor"] = med["full"] / med["floor"]
    out["ratio_naive_over_full"] = med["naive"] / med["full"]
    out["ratio_parse_over_floor"] = med["parse"] / med["floor"]
    out["ms_per_file"] = {k: 1000 * v / n_files for k, v in med.items()}
    out["targets"] = {
        "full_over_floor_max": 2.0,
        "naive_over_full_min": 5.0,
        "full_over_floor_met": out["ratio_full_over_floor"] <= 2.0,
        "naive_over_full_met": out["ratio_naive_over_full"] >= 5.0,
    }
    return out
