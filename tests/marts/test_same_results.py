"""The verdicts, marts and dimension tables of the bundled sample are exactly what they were before
issue 18's speed-ups (forecast trends fitted in one batch, marts rows inserted as Arrow tables,
dimension rewrites skipped when unchanged).

`fixtures/sample_results_digest.json` holds a digest of every table of the `dim`, `compliance` and
`marts` schemas of the bundled sample built like `make run`, computed with the code before those
changes (commit 9ffead8). A change that alters any row of these tables fails here, naming the
tables. When a change of results is intended (a new rule, a fixed bug), regenerate the digest from
a sample warehouse built with the new code and say so in the commit:

    python -m tests.marts.test_same_results data/warehouse/warehouse.duckdb > tests/marts/fixtures/sample_results_digest.json

The second test needs no fixture: it rebuilds the marts on the same warehouse through the slow
paths kept as fallbacks (one Theil–Sen fit per row, pandas inserts) and compares row by row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DIGEST = Path(__file__).parent / "fixtures" / "sample_results_digest.json"
SCHEMAS = ("dim", "compliance", "marts")
# Columns stamped with the clock of the run, and the content hash of a generated workbook (the
# generator's xlsx files carry their creation time, so their bytes differ from one generation to the next).
RUN_TIME_COLUMNS = {"processed_at", "detected_at", "evaluated_at", "file_id"}


def _canonical(v):
    """A value in a form that does not depend on the last bit of a float (10 significant digits)."""
    if isinstance(v, float):
        return "nan" if math.isnan(v) else format(v, ".10g")
    if isinstance(v, dt.date | dt.datetime | dt.time):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [_canonical(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _canonical(x) for k, x in sorted(v.items())}
    return v


def table_rows(db: Path, schemas=SCHEMAS) -> dict[str, list[str]]:
    """Every table's rows as sorted canonical JSON lines (run-time columns left out)."""
    conn = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for schema, name in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ? ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall():
            cols = [
                c
                for (c,) in conn.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                    "ORDER BY column_index",
                    [schema, name],
                ).fetchall()
                if c not in RUN_TIME_COLUMNS
            ]
            rows = conn.execute(
                f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)} FROM {schema}.{name}"
            ).fetchall()
            out[f"{schema}.{name}"] = sorted(
                json.dumps([cols, _canonical(list(r))], ensure_ascii=False, default=str) for r in rows
            )
        return out
    finally:
        conn.close()


def digest(db: Path) -> dict[str, list]:
    """Table -> [row count, sha256 of its sorted canonical rows]."""
    return {
        key: [len(lines), hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()]
        for key, lines in table_rows(db).items()
    }


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory) -> Path:
    """The bundled sample built like `make run` (generator + monitoring_job) in a temporary folder."""
    root = tmp_path_factory.mktemp("same_results")
    env = os.environ | {
        "WUCHUANG_RAW_DIR": str(root / "raw"),
        "WUCHUANG_WAREHOUSE_DIR": str(root / "warehouse"),
        "WUCHUANG_FEEDBACK_DIR": str(root / "feedback"),
        "WUCHUANG_TEMPLATES_DIR": str(root / "templates"),
        "WUCHUANG_GX_DIR": str(root / "gx"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    for var in ("WUCHUANG_PROFILES_DIR", "WUCHUANG_COUNTY_PARTITIONS", "WUCHUANG_EXECUTOR"):
        env.pop(var, None)
    (root / "dagster_home").mkdir()
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    subprocess.run(
        [sys.executable, "-m", "pipelines.sample", "--out", str(root / "raw")],
        env=env,
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
    )
    job = "from pipelines.definitions import defs; assert defs.get_job_def('monitoring_job').execute_in_process().success"
    subprocess.run([sys.executable, "-c", job], env=env, check=True, cwd=PROJECT_ROOT, capture_output=True)
    return root / "warehouse" / "warehouse.duckdb"


@pytest.mark.slow
def test_verdicts_marts_and_dimensions_equal_the_results_before_the_speed_ups(sample_warehouse):
    want = json.loads(DIGEST.read_text(encoding="utf-8"))
    got = digest(sample_warehouse)
    assert set(got) == set(want), sorted(set(got) ^ set(want))
    differ = sorted(k for k in want if got[k] != want[k])
    assert not differ, f"tables whose rows changed: {differ}"
    assert got["compliance.verdict"][0] > 5000 and got["marts.requirement_forecast"][0] > 1000


@pytest.mark.slow
def test_the_fast_paths_build_the_same_marts_as_the_slow_paths(sample_warehouse, tmp_path, monkeypatch):
    """Forecasts, readiness, accountability and rectification rebuilt through the fallbacks (one
    Theil–Sen fit per row, pandas inserts) equal the pipeline's tables row for row."""
    from pipelines.assets.marts import _horizon
    from pipelines.marts import accountability, common, forecast, readiness, rectification

    db = tmp_path / "slow.duckdb"
    shutil.copy(sample_warehouse, db)
    monkeypatch.setattr(forecast, "_trends", lambda series: [None] * len(series))
    monkeypatch.setattr(common, "_arrow_table", lambda names, rows: None)
    conn = duckdb.connect(str(db))
    try:
        horizon = _horizon(conn)
        for rows in (
            forecast.build(conn),
            readiness.build(conn),
            accountability.build(conn),
            rectification.build(conn, horizon),
        ):
            common.write_table(conn, rows)
    finally:
        conn.close()
    fast = table_rows(sample_warehouse, ("marts",))
    slow = table_rows(db, ("marts",))
    for key in (
        "marts.requirement_forecast",
        "marts.campaign_forecast",
        "marts.campaign_readiness",
        "marts.unit_accountability",
        "marts.rectification_item",
    ):
        assert slow[key] == fast[key], key
        assert fast[key], key


if __name__ == "__main__":
    sys.stdout.write(json.dumps(digest(Path(sys.argv[1])), indent=1, sort_keys=True) + "\n")
