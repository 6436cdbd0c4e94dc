"""Scale: synthetic warehouses (one county, a province, the nation) and the dashboard's queries.

For each size: build the warehouse (`bench.synth`) as a published snapshot, then time every data
function of `dashboards/data.py` the pages call, with Streamlit's cache bypassed (each call opens
its short-lived read-only connection and runs its SQL: a cache miss, the worst case a user sees),
against the same answer computed in pandas from frames loaded once (`bench.pandas_equiv`; the
one-time load is reported separately, so the pandas figure is its best case). Repetitions draw a
different county / month / campaign / indicator each time and alternate which side runs first.
Peak memory of the dashboard process: a subprocess (`bench.dashboard_probe`) that imports the
dashboard's data module and calls every function for several counties with its caches on.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench import pandas_equiv
from bench.common import Config, median, percentile
from bench.synth import FIRST_YEAR, LAST_YEAR, build_seed_file, build_warehouse, county_codes

SNAPSHOT_TEMPLATE = "warehouse-20260101T000000000000Z-{token}.duckdb"

ARG_NAMES = {
    "county": "county",
    "period": "period",
    "period_code": "period",
    "upto": "period",
    "campaign": "campaign",
    "indicator": "indicator",
}
# helpers of the data module that are not queries of the pages
NOT_QUERIES = {
    "settings",
    "has_rows",
    "feedback_file",
    "snapshot_path",
    "snapshot_name",
    "tables",
    "has",
    "require",
    "has_columns",
    "query",
}


def reusable(work_dir: Path, name: str, n_counties: int) -> tuple[Path, dict] | None:
    """A warehouse of this size built by an earlier `--keep` run in the same work dir (`--reuse`)."""
    wh_dir = work_dir / f"scale-{name}"
    info_path = wh_dir / "build.json"
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        snap = wh_dir / "published" / (wh_dir / "published" / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, ValueError):
        return None
    if info.get("counties") != n_counties or not snap.is_file():
        return None
    if "rows" not in info:
        conn = duckdb.connect(str(snap), read_only=True)
        try:
            info["rows"] = {
                f"{sch}.{t}": conn.execute(f"SELECT count(*) FROM {sch}.{t}").fetchone()[0]
                for sch, t in conn.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
                ).fetchall()
            }
        finally:
            conn.close()
    info["file_bytes"] = snap.stat().st_size
    return wh_dir, {**info, "reused": True}


def publish_synthetic(
    work_dir: Path, name: str, n_counties: int, seed_file: Path, seed_info: dict
) -> tuple[Path, dict]:
    """Build the warehouse straight into <work>/scale-<name>/published/ and point CURRENT at it."""
    wh_dir = work_dir / f"scale-{name}"
    pub = wh_dir / "published"
    pub.mkdir(parents=True, exist_ok=True)
    (wh_dir / "build.json").unlink(missing_ok=True)
    token = f"{abs(hash((name, n_counties, time.time()))) % 16**8:08x}"
    for old in pub.glob("warehouse-*.duckdb"):
        old.unlink()
    snap = pub / SNAPSHOT_TEMPLATE.format(token=token)
    info = build_warehouse(snap, n_counties, seed_file, seed_info)
    (pub / "CURRENT").write_text(snap.name + "\n", encoding="utf-8")
    (wh_dir / "build.json").write_text(json.dumps(info, indent=1, default=str), encoding="utf-8")
    return wh_dir, info


def _marts_with_county(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE schema_name = 'marts' "
        "AND column_name = 'county_code' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def draws(conn: duckdb.DuckDBPyConnection, n_counties: int, reps: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    codes = [c for (c,) in conn.execute("SELECT county_code FROM dim.county ORDER BY 1").fetchall()]
    seed_code = conn.execute(
        "SELECT min(county_code) FILTER (WHERE county_code LIKE '5119%') FROM dim.county"
    )
    seed_code = seed_code.fetchone()[0] or codes[0]
    codes = county_codes(n_counties, seed_code)
    campaigns = [c for (c,) in conn.execute("SELECT campaign_code FROM dim.campaign ORDER BY 1").fetchall()]
    indicators = [
        i for (i,) in conn.execute("SELECT DISTINCT indicator_code FROM dim.assignment ORDER BY 1").fetchall()
    ]
    out = []
    for _ in range(reps):
        out.append(
            {
                "county": rng.choice(codes),
                "period": f"{rng.randint(FIRST_YEAR, LAST_YEAR)}-{rng.randint(1, 12):02d}",
                "campaign": rng.choice([None, *campaigns]),
                "indicator": rng.choice(indicators),
            }
        )
    return out


def page_calls(dashboards_dir: Path) -> list[str]:
    """Names of the `dashboards.data` functions the pages call (`data.<name>(` in their source)."""
    names: set[str] = set()
    for path in sorted(dashboards_dir.rglob("*.py")):
        if path.name == "data.py":
            continue
        names |= set(re.findall(r"\bdata\.([a-z_][a-z0-9_]*)\(", path.read_text(encoding="utf-8")))
    return sorted(names - NOT_QUERIES)


def discover(data) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The calls to time: every data function the pages call whose required parameters are known
    argument names (county, period/upto, campaign, indicator). Returns (calls, notes)."""
    calls, notes = {}, []
    for name in page_calls(Path(data.__file__).resolve().parent):
        fn = getattr(data, name, None)
        if not callable(fn):
            notes.append(f"pages call dashboards.data.{name}, which does not exist: skipped")
            continue
        params = [
            p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty
        ]
        if all(p.name in ARG_NAMES for p in params):
            calls[name] = tuple(ARG_NAMES[p.name] for p in params)
        else:
            notes.append(f"dashboards.data.{name}: parameters {[p.name for p in params]} unknown, not timed")
    return calls, notes


@contextlib.contextmanager
def uncached_data(wh_dir: Path):
    """dashboards.data pointed at wh_dir, with the query cache bypassed (every call hits DuckDB)."""
    old_env = os.environ.get("WUCHUANG_WAREHOUSE_DIR")
    os.environ["WUCHUANG_WAREHOUSE_DIR"] = str(wh_dir)
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # no "No runtime found" warnings
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    import dashboards.data as data

    original = data._query
    kept: dict = {}  # "conn": one read-only connection kept open (the variant measured as "kept")

    def _uncached(snapshot_name, sql, params):
        if kept.get("conn") is not None:
            cur = kept["conn"].cursor()
            try:
                return cur.execute(sql, list(params)).df()
            finally:
                cur.close()
        conn = data._open(snapshot_name)
        try:
            return conn.execute(sql, list(params)).df()
        finally:
            conn.close()

    from dashboards import auth

    data._query = _uncached
    data._bench_kept = kept
    try:
        with auth.acting_as(auth.EVERYTHING):  # the benchmark times what the office sees (no scope filter)
            yield data
    finally:
        data._query = original
        if kept.get("conn") is not None:
            kept["conn"].close()
        if old_env is None:
            os.environ.pop("WUCHUANG_WAREHOUSE_DIR", None)
        else:
            os.environ["WUCHUANG_WAREHOUSE_DIR"] = old_env


def _nrows(x) -> int:
    """Rows of an answer: a frame, a list, a dict of frames, or one record (a dict of scalars)."""
    if isinstance(x, tuple):  # (frame, flag)
        return _nrows(x[0])
    if isinstance(x, dict):
        if x and all(hasattr(v, "columns") for v in x.values()):
            return sum(len(v) for v in x.values())
        return 1 if x else 0
    return len(x)


def _args(spec: tuple[str, ...], d: dict) -> tuple:
    return tuple(d[a] for a in spec)


def mem_available() -> int:
    """MemAvailable from /proc/meminfo, in bytes (0 if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure_queries(wh_dir: Path, snapshot: Path, cfg: Config, n_counties: int) -> dict:
    # the bench's own reader is capped, so DuckDB's buffer pool cannot crowd out the pandas frames
    conn = duckdb.connect(str(snapshot), read_only=True, config={"memory_limit": "3GB", "threads": 2})
    notes_pd = []
    try:
        marts = [f"marts.{m}" for m in _marts_with_county(conn)]
        ds = draws(conn, n_counties, cfg.size.query_reps, cfg.seed)
        estimate = pandas_equiv.estimate_bytes(conn, marts)
        avail = mem_available()
        t0 = time.perf_counter()
        if avail and estimate > avail // 2:
            frames = None
            notes_pd.append(
                f"pandas side skipped: frames estimated at {estimate / 2**30:.1f} GiB, "
                f"more than half of the {avail / 2**30:.1f} GiB available"
            )
        else:
            try:
                frames = pandas_equiv.load_frames(conn, marts, available=mem_available)
            except pandas_equiv.OutOfMemory as exc:
                frames = None
                notes_pd.append(f"pandas side skipped: {exc}")
        pandas_load_s = time.perf_counter() - t0
        pandas_bytes = int(sum(df.memory_usage(deep=True).sum() for df in (frames or {}).values()))
    finally:
        conn.close()
    results: dict[str, dict] = {}
    with uncached_data(wh_dir) as data:
        data._catalog.clear()
        calls, notes = discover(data)
        specs: dict[str, tuple] = {}
        for name, spec in calls.items():
            specs[name] = (
                (lambda d, name=name, spec=spec: getattr(data, name)(*_args(spec, d))),
                (lambda d, name=name, spec=spec: getattr(pandas_equiv, name)(frames, *_args(spec, d)))
                if frames is not None and hasattr(pandas_equiv, name)
                else None,
            )
        # warm-up: first open of the file, OS page cache, imports
        for duck, _pd in specs.values():
            duck(ds[0])
        # Phase A: as the dashboard runs (a fresh connection per query, nothing else open: DuckDB
        # reuses an open database instance, so holding any connection open would hide the cost of
        # opening the file), interleaved with pandas.
        for name, (duck, pdf) in specs.items():
            dt_duck, dt_pd, mismatches = [], [], []
            sides = [("duck", duck, dt_duck), ("pandas", pdf, dt_pd)]
            for i, d in enumerate(ds):
                order = sides[i % 2 :] + sides[: i % 2]
                rows = {}
                for side, fn, sink in order:
                    if fn is None:
                        continue
                    t = time.perf_counter()
                    res = fn(d)
                    sink.append(time.perf_counter() - t)
                    rows[side] = _nrows(res)
                if "pandas" in rows and rows["pandas"] != rows["duck"]:
                    mismatches.append({"args": d, **rows})
            r = {
                "duckdb_p50_ms": median(dt_duck) * 1000,
                "duckdb_p95_ms": percentile(dt_duck, 95) * 1000,
                "duckdb_max_ms": max(dt_duck) * 1000,
                "reps": len(dt_duck),
            }
            if dt_pd:
                r["pandas_p50_ms"] = median(dt_pd) * 1000
                r["pandas_p95_ms"] = percentile(dt_pd, 95) * 1000
                r["speedup_p50"] = r["pandas_p50_ms"] / r["duckdb_p50_ms"]
                r["same_rows"] = not mismatches
                if mismatches:
                    r["mismatches"] = mismatches[:3]
            results[name] = r
        # Phase B: the same calls with one read-only connection kept open (a cursor per query).
        data._bench_kept["conn"] = data._open(data.snapshot_name())
        try:
            for name, (duck, _pdf) in specs.items():
                dt_kept = []
                for d in ds:
                    t = time.perf_counter()
                    duck(d)
                    dt_kept.append(time.perf_counter() - t)
                results[name]["kept_conn_p50_ms"] = median(dt_kept) * 1000
                results[name]["kept_conn_p95_ms"] = percentile(dt_kept, 95) * 1000
        finally:
            data._bench_kept["conn"].close()
            data._bench_kept["conn"] = None
    connect = []
    for _ in range(max(5, len(ds))):
        t = time.perf_counter()
        duckdb.connect(str(snapshot), read_only=True).close()
        connect.append(time.perf_counter() - t)
    return {
        "queries": results,
        "connect_p50_ms": median(connect) * 1000,
        "notes": notes + notes_pd,
        "pandas_estimate_bytes": estimate,
        "pandas_load_s": pandas_load_s,
        "pandas_frames_bytes": pandas_bytes,
        "draws": ds[:5],
    }


def dashboard_memory(
    wh_dir: Path, n_counties: int, seed_code: str, n_probe: int = 5, light: bool = False
) -> dict:
    """Peak RSS of a fresh process running the dashboard's data functions (caches on)."""
    codes = county_codes(n_counties, seed_code)
    rng = random.Random(7)
    probe = [seed_code] + rng.sample(codes[1:], min(n_probe - 1, len(codes) - 1))
    env = {**os.environ, "WUCHUANG_WAREHOUSE_DIR": str(wh_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.dashboard_probe", json.dumps(probe[: 1 if light else n_probe])]
        + (["light"] if light else []),
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=1800,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(cfg: Config) -> dict:
    out: dict = {}
    seed_file = cfg.work_dir / "seed-county.duckdb"
    seed_info = None
    for name, n in cfg.size.scales:
        found = reusable(cfg.work_dir, name, n) if cfg.reuse else None
        if found:
            wh_dir, info = found
        else:
            if seed_info is None:
                seed_info = build_seed_file(seed_file, marts_from_code=cfg.size.marts_from_code)
            wh_dir, info = publish_synthetic(cfg.work_dir, name, n, seed_file, seed_info)
        snapshot = next((wh_dir / "published").glob("warehouse-*.duckdb"))
        q = measure_queries(wh_dir, snapshot, cfg, n)
        mem = dashboard_memory(wh_dir, n, info["seed_county"], light=cfg.size.light_probe)
        queries = q["queries"]
        worst_p95 = max(r["duckdb_p95_ms"] for r in queries.values())
        worst_kept_p95 = max(r["kept_conn_p95_ms"] for r in queries.values())
        speedups = [r["speedup_p50"] for r in queries.values() if "speedup_p50" in r]
        load_ms = q["pandas_load_s"] * 1000
        for r in queries.values():
            if "pandas_p50_ms" in r:
                r["speedup_incl_load"] = (load_ms + r["pandas_p50_ms"]) / r["duckdb_p50_ms"]
        cold = [r["speedup_incl_load"] for r in queries.values() if "speedup_incl_load" in r]
        out[name] = {
            "counties": n,
            "build": info,
            **q,
            "dashboard_memory": mem,
            "worst_p95_ms": worst_p95,
            "worst_kept_conn_p95_ms": worst_kept_p95,
            "min_speedup_vs_pandas": min(speedups) if speedups else None,
            "median_speedup_vs_pandas": median(speedups) if speedups else None,
            "min_speedup_incl_load": min(cold) if cold else None,
            "all_same_rows": all(r.get("same_rows", True) for r in queries.values()),
            "targets": {
                "p95_max_ms": 200,
                "speedup_min": 10,
                "p95_met": worst_p95 < 200,
                "speedup_met": min(speedups) >= 10 if speedups else None,
                "speedup_incl_load_met": min(cold) >= 10 if cold else None,
            },
        }
        if not cfg.keep:
            snapshot.unlink(missing_ok=True)
    return out
