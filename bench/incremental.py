"""Incremental cost: adding one file to a warehouse that already holds N files.

The N-file history is bulk-inserted in SQL (synthetic `core.source_file`, `core.submission` and
`core.observation` rows, about 900 files per synthetic county, like the sample's five years), not
ingested file by file. The timed step is what the drop-folder sensor triggers for one new file:
open the writer as `pipelines.warehouse.connection.writer` does (connect + `create_all`),
`ingest_files` with that one file (registry lookup, hash, parse, load with revisions and
timeliness), close; each phase is also timed on its own. Each repetition adds
another real sample return (same kind: a filled platform template), and the N sizes are visited
in rotating order, so drift hits all sizes alike.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb

from bench import ingest
from bench.common import Config, interleave, median
from bench.synth import FIRST_YEAR, LAST_YEAR, county_codes

FILES_PER_COUNTY = 900

HISTORY_SQL = f"""
WITH c AS (
    SELECT unnest($codes) AS code, generate_subscripts($codes, 1) AS k
), u AS (
    SELECT DISTINCT split_part(org_code, '-', 2) AS short FROM dim.assignment
), units AS (
    SELECT short, row_number() OVER (ORDER BY short) - 1 AS j, count(*) OVER () AS nu FROM u
), per AS (
    SELECT period_code, row_number() OVER (ORDER BY period_code) - 1 AS j, count(*) OVER () AS np
    FROM dim.period WHERE frequency = 'monthly' AND year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}
), f AS (
    SELECT i, sha256('history-' || i) AS file_id, c.code AS county_code,
           c.code || '-' || units.short AS org_code, per.period_code
    FROM range($n) t(i)
    JOIN c ON c.k = 1 + i // {FILES_PER_COUNTY}
    JOIN units ON units.j = (i % {FILES_PER_COUNTY}) % units.nu
    JOIN per ON per.j = ((i % {FILES_PER_COUNTY}) // units.nu) % per.np
)
SELECT * FROM f
"""


def build_history(template: Path, path: Path, n: int, seed_code: str) -> float:
    """A warehouse holding the dimensions and n synthetic files of other counties; returns seconds."""
    t0 = time.perf_counter()
    shutil.copyfile(template, path)
    conn = duckdb.connect(str(path))
    try:
        counties = max(1, -(-n // FILES_PER_COUNTY))
        codes = county_codes(counties + 1, seed_code)[1:]
        conn.execute(f"CREATE TEMP TABLE _f AS {HISTORY_SQL}", {"codes": codes, "n": n})
        conn.execute(
            """
            INSERT INTO core.source_file BY NAME
            SELECT file_id, file_id AS content_sha256, county_code || '/' || i || '.xlsx' AS path,
                   i || '.xlsx' AS file_name, 'xlsx' AS file_format, 12000 AS size_bytes,
                   TIMESTAMP '2017-01-01 09:00:00' AS received_at, TIMESTAMP '2017-01-01 10:00:00' AS processed_at,
                   county_code, org_code, 'template' AS org_detected_by, [period_code] AS period_codes,
                   'template' AS period_detected_by, 'wuchuang-return/1' AS template_version,
                   'template' AS layout, 'accepted' AS status, 3 AS values_loaded, 0 AS values_quarantined,
                   [] AS reason_codes
            FROM _f
            """
        )
        conn.execute(
            """
            INSERT INTO core.submission BY NAME
            SELECT file_id || ':' || org_code || ':' || period_code AS submission_id, file_id, county_code,
                   org_code, period_code,
                   row_number() OVER (PARTITION BY org_code, period_code ORDER BY i)::INTEGER AS revision_no,
                   TIMESTAMP '2017-01-01 09:00:00' AS received_at, 0 AS working_days_late, true AS is_on_time,
                   true AS is_current, 3 AS values_loaded, 0 AS values_quarantined
            FROM _f
            """
        )
        conn.execute(
            """
            INSERT INTO core.observation BY NAME
            SELECT md5(file_id || k) AS observation_id, file_id || ':' || org_code || ':' || period_code
                   AS submission_id, file_id, county_code, org_code, 'ind_' || k AS indicator_code, period_code,
                   (i % 97) * 1.0 AS value, CAST(i % 97 AS VARCHAR) AS raw_text, '%' AS unit,
                   '填报表' AS sheet, 'G' || (3 + k) AS cell, 1 AS revision_no,
                   TIMESTAMP '2017-01-01 09:00:00' AS valid_from, true AS is_current
            FROM _f, range(1, 4) r(k)
            """
        )
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return time.perf_counter() - t0


def new_files(corpus_dir: Path, count: int) -> list[Path]:
    """Returns of the sample of one kind (filled platform templates when there are enough, else any
    .xlsx), mid-sized, a different one per repetition."""
    xlsx = [p for p in ingest.return_files(corpus_dir) if p.suffix == ".xlsx"]
    templates = [p for p in xlsx if p.stem[:4].isdigit() and p.stem.count("_") >= 2]
    files = templates if len(templates) >= count else xlsx
    if len(files) < count:
        raise RuntimeError(f"need {count} .xlsx returns in {corpus_dir}, found {len(files)}")
    files.sort(key=lambda p: (p.stat().st_size, p.name))
    start = max(0, min(len(files) // 2, len(files) - count))
    return files[start : start + count]


def add_one(db: Path, ctx, path: Path, phases: dict[str, list[float]]) -> dict:
    """What `pipelines.warehouse.connection.writer` + `ingest_files` do, with each phase timed:
    open (connect + create_all), ingest (registry load, hash, parse, load), close (checkpoint)."""
    from pipelines.returns.load import ingest_files
    from pipelines.warehouse.schema import create_all

    t0 = time.perf_counter()
    conn = duckdb.connect(str(db))
    try:
        create_all(conn)
        t1 = time.perf_counter()
        summary = ingest_files(conn, ctx, [path]).as_dict()
        t2 = time.perf_counter()
    finally:
        conn.close()
    t3 = time.perf_counter()
    phases["open"].append(t1 - t0)
    phases["ingest"].append(t2 - t1)
    phases["close"].append(t3 - t2)
    return summary


def run(cfg: Config) -> dict:
    corpus = cfg.work_dir / "corpus" / "copy-00"
    ingest.generate_copy(corpus, cfg.seed, cfg.size.sample_args)
    template = ingest.dims_template(cfg.work_dir)
    ctx = ingest.parse_context(corpus)
    seed_code = ctx.profiles[0].code
    reps = cfg.size.incremental_reps
    files = new_files(corpus, reps + 1)
    db_dir = cfg.work_dir / "incremental"
    db_dir.mkdir(parents=True, exist_ok=True)
    build_s, dbs = {}, {}
    for n in cfg.size.incremental_n:
        dbs[n] = db_dir / f"history-{n}.duckdb"
        for p in (dbs[n], dbs[n].with_suffix(".duckdb.wal")):
            p.unlink(missing_ok=True)
        build_s[n] = build_history(template, dbs[n], n, seed_code)
    # warm-up (imports, parser caches) on every size with the extra file
    outcomes: dict[int, list] = {n: [] for n in dbs}
    phases = {n: {"open": [], "ingest": [], "close": []} for n in dbs}
    for db in dbs.values():
        add_one(db, ctx, files[-1], {"open": [], "ingest": [], "close": []})

    contenders = {
        str(n): (lambda r, n=n: outcomes[n].append(add_one(dbs[n], ctx, files[r], phases[n])))
        for n in cfg.size.incremental_n
    }
    times = interleave(contenders, reps)
    med = {n: median(times[str(n)]) for n in cfg.size.incremental_n}
    small, big = min(med), max(med)
    ratio = med[big] / med[small]
    loaded = {n: sum(o["values_loaded"] for o in outcomes[n]) for n in outcomes}
    phase_med = {str(n): {k: median(v) for k, v in ph.items()} for n, ph in phases.items()}
    ingest_ratio = phase_med[str(big)]["ingest"] / phase_med[str(small)]["ingest"]
    return {
        "history_sizes": list(cfg.size.incremental_n),
        "history_build_s": {str(n): v for n, v in build_s.items()},
        "seconds": times,
        "median_s": {str(n): v for n, v in med.items()},
        "phase_median_s": phase_med,
        "ratio_ingest_phase_largest_over_smallest": ingest_ratio,
        "values_loaded_per_size": {str(n): v for n, v in loaded.items()},
        "files_added": [f.name for f in files[:reps]],
        f"ratio_n{big}_over_n{small}": ratio,
        "ratio_largest_over_smallest": ratio,
        "targets": {"ratio_max": 2.0, "met": ratio <= 2.0, "ingest_phase_met": ingest_ratio <= 2.0},
    }
