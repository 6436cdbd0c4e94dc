"""Fixtures for the operations tests: a small deterministic corpus and isolated folders."""

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.sample import build_corpus, write_corpus

# Columns that record *when* the pipeline ran, not *what* it holds: excluded when comparing two
# warehouses built at different moments.
RUN_TIME_COLUMNS = {"processed_at", "detected_at", "evaluated_at"}


@pytest.fixture(scope="session")
def small_corpus(catalog, profile):
    """Returns of two units for one year (about twenty files, a few planted defects)."""
    return build_corpus(catalog, profile, years=[2012], units=["sthjj", "wjw"])


def folder_env(root: Path) -> dict[str, str]:
    """Environment pointing every data folder of the project at `root` (for subprocesses)."""
    env = dict(os.environ)
    env.update(
        WUCHUANG_RAW_DIR=str(root / "raw"),
        WUCHUANG_WAREHOUSE_DIR=str(root / "warehouse"),
        WUCHUANG_FEEDBACK_DIR=str(root / "feedback"),
        WUCHUANG_TEMPLATES_DIR=str(root / "templates"),
        WUCHUANG_GX_DIR=str(root / "gx"),
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return env


def write_raw(corpus, raw: Path) -> None:
    write_corpus(corpus, raw)


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, copy_function=shutil.copy2, dirs_exist_ok=True)


def table_contents(
    db: Path,
    schemas=("dim", "core", "quality", "compliance", "marts"),
    exclude: frozenset[str] | set[str] = RUN_TIME_COLUMNS,
) -> dict[str, list]:
    """Every table's rows (columns in `exclude` left out), sorted, opened read-only."""
    conn = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ? ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall()
        for schema, name in tables:
            cols = [
                c
                for (c,) in conn.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                    "ORDER BY column_index",
                    [schema, name],
                ).fetchall()
                if c not in exclude
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = conn.execute(f"SELECT {select} FROM {schema}.{name}").fetchall()
            out[f"{schema}.{name}"] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def consistency_problems(conn: duckdb.DuckDBPyConnection, published: bool) -> list[str]:
    """Cross-table invariants a half-finished run would break; [] when the database is consistent."""
    problems = []

    def one(sql: str) -> int:
        return conn.execute(sql).fetchone()[0]

    has_core = one(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'source_file'"
    )
    if has_core:
        loaded = one("SELECT coalesce(sum(values_loaded), 0) FROM core.source_file")
        observed = one("SELECT count(*) FROM core.observation")
        if loaded != observed:
            problems.append(f"source_file says {loaded} values loaded, observation holds {observed}")
        orphans = one(
            "SELECT count(*) FROM core.observation o ANTI JOIN core.submission s USING (submission_id)"
        )
        if orphans:
            problems.append(f"{orphans} observations without their submission")
        lost = one("SELECT count(*) FROM core.submission s ANTI JOIN core.source_file f USING (file_id)")
        if lost:
            problems.append(f"{lost} submissions without their file")
        current = one(
            "SELECT count(*) FROM (SELECT org_code, period_code FROM core.submission "
            "GROUP BY 1, 2 HAVING count(*) FILTER (WHERE is_current) <> 1)"
        )
        if current:
            problems.append(f"{current} unit × period without exactly one current revision")
    if published:
        n = one("SELECT count(*) FROM dim.requirement")
        if n != 178:  # the catalog: 147 researched + 31 completing the 2007/2010 editions
            problems.append(f"published dim.requirement has {n} rows, not 178")
    return problems
