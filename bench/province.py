"""Province scale with the real pipeline, county partitions (docs/scaling.md).

1. Full refresh of generated provinces of 2, 4, 8 … counties (`python -m pipelines.sample --counties N`):
   every county partition run as the project's run launcher runs it — the runs are created in the
   instance first (bench/launch_run.py, as the daemon does), then each is handed to the warm run
   worker (`pipelines.run_worker`: a zygote with Dagster, the definitions and Great Expectations
   imported forks one child per run, which executes it as `dagster api execute_run` does; started
   once per province, its start timed apart), as many at a time as the machine has cores
   (`--parallel`; the run queue's concurrency limit in a deployment). `--launcher spawn` times the
   old path instead: each run executed by a freshly spawned `python -m dagster api execute_run`
   process (Dagster's DefaultRunLauncher; interpreter start and imports included). Wall time, peak
   memory of the largest process and of all processes together (summed RSS and summed PSS, the
   latter counting pages the forked children share with the zygote once), the zygote's and the
   largest run child's peak RSS and USS; a least-squares line (seconds = fixed + per-county × N)
   and its 180 / 2,800-county estimates.
2. One file added, end to end, in the largest generated province: the file is put into its county
   folder and the county's partition run (created beforehand, as the daemon does when its sensor
   fires) handed to the already-running warm worker (or spawned, `--launcher spawn`; both, one
   after the other with a file each, `--launcher both`); the clock stops when the run's process
   has exited and a reader of the published snapshot sees the file (a new CURRENT whose union
   lists it). Reported as the wall time and as the run's own time in Dagster.
3. The union at many counties: the last county's real snapshot is cloned under `union_counties`
   codes (its Parquet files rewritten with each code, so county filters select one county), then
   one county is published twice: the first publish finds every county outside a compacted base and
   compacts (timed apart), the second is the steady state (export + a new union of views over the
   base and this county), and dashboard-like queries are timed on the union (p50/p95, one kept
   connection, Parquet metadata cache on).
   The clones stand for counties already published; their own runs are independent of the timed
   one (each county has its own working database), which is why the run part of the "one file with
   180 counties" figure is measured in (2) and only the publishing part depends on the province size.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import Config, median, percentile

QUERIES = {
    "county readiness (one county, all periods)": (
        "SELECT campaign_code, grain, period_code, readiness FROM marts.campaign_readiness "
        "WHERE county_code = $county ORDER BY period_code"
    ),
    "province ranking (latest per county)": (
        "SELECT * FROM province.county_ranking WHERE campaign_code = 'eco_county' ORDER BY rank_in_province"
    ),
    "province readiness summary": "SELECT * FROM province.readiness",
    "county verdicts of one year": (
        "SELECT requirement_code, status, value FROM compliance.verdict WHERE county_code = $county "
        "AND period_code = '2014'"
    ),
    "unit accountability, one county, latest month": (
        "SELECT * FROM marts.unit_accountability WHERE county_code = $county "
        "ORDER BY period_code DESC LIMIT 50"
    ),
    "observations per county (province table)": (
        "SELECT county_code, count(*) FROM core.observation GROUP BY 1 ORDER BY 2 DESC LIMIT 20"
    ),
}


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        WUCHUANG_RAW_DIR=str(root / "raw"),
        WUCHUANG_WAREHOUSE_DIR=str(root / "warehouse"),
        WUCHUANG_FEEDBACK_DIR=str(root / "feedback"),
        WUCHUANG_TEMPLATES_DIR=str(root / "templates"),
        WUCHUANG_PROFILES_DIR=str(root / "profiles"),
        DAGSTER_HOME=str(root / "dagster_home"),
        WUCHUANG_EXECUTOR="in_process",
        WUCHUANG_COUNTY_PARTITIONS="on",  # also for the 1-county province: the same code path
    )
    env.pop("WUCHUANG_GX_DIR", None)
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return env


def _peak_children_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class _RssSampler:
    """Peaks of the resident memory of this process's descendants (the zygote and the county runs
    running at the same time), sampled every 0.2 s from /proc: the summed RSS (pages shared by
    forked children counted once per process), the summed PSS (shared pages divided among their
    sharers: the memory the runs really take together) and every process's own peak RSS and USS
    (its private pages)."""

    def __init__(self, zygote_pid: int = 0) -> None:
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self.zygote_pid = zygote_pid
        self.per_pid: dict[int, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _rollup(pid: int) -> dict[str, int]:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines()[1:]:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0])
        return out

    def _loop(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.2):
            parents, rss = {}, {}
            for d in Path("/proc").iterdir():
                if not d.name.isdigit():
                    continue
                try:
                    status = (d / "status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                parents[int(d.name)] = int(fields.get("PPid", "0").strip() or 0)
                rss[int(d.name)] = int((fields.get("VmRSS", "0 kB").split() or ["0"])[0])
            total = pss_total = 0
            for pid, kb in rss.items():
                p, seen = parents.get(pid), 0
                while p and p != me and seen < 50:
                    p, seen = parents.get(p), seen + 1
                if p != me:
                    continue
                total += kb
                roll = self._rollup(pid)
                pss_total += roll.get("Pss", kb)
                uss = roll.get("Private_Clean", 0) + roll.get("Private_Dirty", 0)
                peak = self.per_pid.setdefault(pid, {"rss_mb": 0.0, "uss_mb": 0.0})
                peak["rss_mb"] = max(peak["rss_mb"], kb / 1024)
                peak["uss_mb"] = max(peak["uss_mb"], uss / 1024)
            self.peak_mb = max(self.peak_mb, total / 1024)
            self.peak_pss_mb = max(self.peak_pss_mb, pss_total / 1024)

    def summary(self) -> dict:
        zygote = self.per_pid.get(self.zygote_pid, {})
        others = [v for pid, v in self.per_pid.items() if pid != self.zygote_pid]
        out = {
            "peak_rss_mb_all_runs": self.peak_mb,
            "peak_pss_mb_all_runs": self.peak_pss_mb,
            "peak_rss_mb_largest_sampled": max((v["rss_mb"] for v in others), default=0.0),
            "peak_uss_mb_largest_sampled": max((v["uss_mb"] for v in others), default=0.0),
        }
        if self.zygote_pid:
            out["zygote_peak_rss_mb"] = zygote.get("rss_mb", 0.0)
            out["zygote_peak_uss_mb"] = zygote.get("uss_mb", 0.0)
        return out


def _prepare_runs(env: dict, codes: list[str]) -> dict[str, list]:
    """One run per county created in the instance, as the daemon creates them (bench/launch_run.py)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.launch_run", *codes], env=env, capture_output=True, text=True,
        cwd=str(Path(__file__).resolve().parent.parent),
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"preparing runs failed:\n{(done.stdout + done.stderr)[-3000:]}")
    out: dict[str, list] = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            out.setdefault(row["code"], []).append(row)
    return out


_COSTS: dict[str, dict] = {}  # run id -> CPU seconds and peak RSS of its process


def _execute(env: dict, row: dict) -> float:
    """The spawned run process of Dagster's run launcher: `python -m dagster api execute_run`."""
    import tempfile

    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "api", "execute_run", row["args"]],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)  # its own rusage: CPU and peak RSS
        proc.returncode = os.waitstatus_to_exitcode(status)
        took = time.perf_counter() - t0
        out.seek(0)
        text = out.read().decode(errors="replace")
    _COSTS[row["run_id"]] = {
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
    }
    if proc.returncode != 0 or not _run_succeeded(env, row["run_id"]):
        raise RuntimeError(f"county {row['code']} run failed:\n{text[-3000:]}")
    return took


def _run_succeeded(env: dict, run_id: str) -> bool:
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as instance:
        run = instance.get_run_by_id(run_id)
        return run is not None and run.status == dg.DagsterRunStatus.SUCCESS


class _Warm:
    """The warm run worker of one province (pipelines.run_worker): started once, runs handed to it
    as WarmRunLauncher.launch_run hands them (the serialised ExecuteRunArgs of the prepared run)."""

    def __init__(self, env: dict, root: Path) -> None:
        from pipelines.run_worker import WorkerClient

        self.env = env
        self.client = WorkerClient(root / "dagster_home" / "run_worker", env=env)
        t0 = time.perf_counter()
        self.pid = int(self.client.ensure_started()["pid"])
        self.start_s = time.perf_counter() - t0
        self.reloads = 0  # re-executions because code or profiles changed (a shared checkout)

    def execute(self, row: dict) -> float:
        from pipelines.run_worker import process_alive

        t0 = time.perf_counter()
        got = self.client.launch(row["args"])
        pid, start = int(got["pid"]), got["start"]
        self.reloads += got.get("reloads", 0)
        while process_alive(pid, start):
            time.sleep(0.02)
        took = time.perf_counter() - t0
        cost = self.client.child_cost(pid)
        if "cpu_s" in cost:
            _COSTS[row["run_id"]] = {"cpu_s": cost["cpu_s"], "maxrss_mb": cost["maxrss_mb"]}
        if not _run_succeeded(self.env, row["run_id"]):
            log = self.client.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"county {row['code']} run failed (warm worker):\n{log}")
        return took

    def close(self) -> None:
        self.client.stop()


def _run_counties(
    env: dict, codes: list[str], parallel: int, warm: _Warm | None = None, memory: dict | None = None
) -> tuple[list[float], float]:
    """Every county's run, `parallel` at a time (the run queue's concurrency limit = cores), each
    handed to the warm worker or, without one, executed by a spawned run process. Returns the
    per-run times and the peak summed RSS; `memory` receives the sampler's whole summary."""
    rows = _prepare_runs(env, codes)
    todo = [rows[c].pop(0) for c in codes]
    run = warm.execute if warm is not None else (lambda r: _execute(env, r))
    with _RssSampler(warm.pid if warm else 0) as rss, ThreadPoolExecutor(max_workers=parallel) as pool:
        times = list(pool.map(run, todo))
    if memory is not None:
        memory.update(rss.summary())
        costs = [_COSTS.get(r["run_id"], {}) for r in todo]
        memory["per_county_cpu_s"] = [c.get("cpu_s") for c in costs]
        memory["peak_rss_mb_run_processes"] = max((c.get("maxrss_mb") or 0 for c in costs), default=0)
    return times, rss.peak_mb


def _codes(profiles: Path) -> list[str]:
    from pipelines.warehouse.counties import county_codes

    return county_codes(profiles)


def _last_run_seconds(home: Path) -> float | None:
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        records = instance.get_run_records(limit=1)
        if not records or records[0].end_time is None or records[0].start_time is None:
            return None
        return records[0].end_time - records[0].start_time


def _generate(root: Path, n: int, cfg: Config) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipelines.sample", "--out", str(root / "raw"), "--counties", str(n),
         "--profiles-out", str(root / "profiles"), *cfg.size.sample_args],
        check=True, capture_output=True,
    )  # fmt: skip
    if n == 1:  # --counties 1 writes the bundled profile's corpus only; give it its profile too
        from pipelines.settings import Settings

        (root / "profiles").mkdir(exist_ok=True)
        src = sorted(Settings.from_env().profiles_dir.glob("*.yaml"))[0]
        shutil.copyfile(src, root / "profiles" / "511923.yaml")
    return time.perf_counter() - t0


def _linear_fit(xs: list[int], ys: list[float]) -> dict:
    if len(xs) < 2:
        return {}
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    fixed = my - slope * mx
    return {
        "fixed_s": fixed,
        "per_county_s": slope,
        "estimate_180_s": fixed + slope * 180,
        "estimate_2800_s": fixed + slope * 2800,
    }


def _one_file_end_to_end(
    root: Path, env: dict, code: str, held: Path, target: Path, warm: _Warm | None = None
) -> dict:
    from pipelines.warehouse import publish

    published = root / "warehouse" / "published"
    before = publish.latest_snapshot(published).name
    rel = target.relative_to(root / "raw").as_posix()
    row = _prepare_runs(env, [code])[code][0]  # the daemon has the job loaded already
    t0 = time.perf_counter()
    shutil.move(held, target)
    reloads = warm.reloads if warm is not None else 0
    if warm is not None:
        warm.execute(row)
    else:
        _execute(env, row)
    conn = publish.connect_readonly(published)
    try:
        seen = conn.execute("SELECT count(*) FROM core.source_file WHERE path = ?", [rel]).fetchone()[0]
    finally:
        conn.close()
    wall = time.perf_counter() - t0
    if not seen or publish.latest_snapshot(published).name == before:
        raise RuntimeError("the new file is not in the published snapshot")
    cost = _COSTS.get(row["run_id"], {})
    return {
        "wall_s": wall,
        "cpu_s": cost.get("cpu_s"),  # the run process's CPU (load on a shared machine inflates wall)
        "maxrss_mb": cost.get("maxrss_mb"),
        "run_s": _last_run_seconds(root / "dagster_home"),
        "file": rel,
        "launcher": "warm" if warm is not None else "spawn",
        # a warm worker that had to re-import first (code changed meanwhile) is not warm: say so
        "zygote_reloads": (warm.reloads - reloads) if warm is not None else None,
    }


def _clone_union(root: Path, n: int) -> tuple[Path, str, Path]:
    """A published folder whose union lists `n` counties: the real last county and clones of it."""
    import duckdb

    from pipelines.warehouse import publish, union

    src_pub = root / "warehouse" / "published"
    manifest = publish.snapshot_manifest(src_pub)
    code, version = sorted(manifest["counties"].items())[-1]
    src = src_pub / "counties" / code / version
    big = root / f"union-{n}"
    shutil.rmtree(big, ignore_errors=True)
    pub = big / "published"
    counties = {}
    conn = duckdb.connect()
    try:
        for i in range(n - 1):
            clone = f"{700000 + i:06d}"
            dest = pub / "counties" / clone / version
            dest.mkdir(parents=True)
            schema = json.loads((src / union.SCHEMA_FILE).read_text(encoding="utf-8"))
            for key in schema["counts"]:
                f = src / f"{key}.parquet"
                if key in union.SHARED_TABLES:
                    conn.execute(
                        f"COPY (SELECT * FROM read_parquet('{f}')) TO '{dest / f.name}' (FORMAT parquet)"
                    )
                    continue
                # Like a real county: its code in every text (org codes '511923-fgj', paths), ids of
                # its own (suffixed), so joins on ids or org codes match within the county only.
                swap = [f"'{clone}' AS {union.COUNTY_COLUMN}"]
                for col, typ, *_ in conn.execute(f"DESCRIBE SELECT * FROM read_parquet('{f}')").fetchall():
                    if col == union.COUNTY_COLUMN or typ != "VARCHAR":
                        continue
                    q = '"' + col.replace('"', '""') + '"'
                    expr = f"replace({q}, '{code}', '{clone}')"
                    if col.endswith("_id"):
                        expr = f"{q} || '-{clone}'"
                    swap.append(f"{expr} AS {q}")
                sel = f"* REPLACE ({', '.join(swap)})"
                conn.execute(
                    f"COPY (SELECT {sel} FROM read_parquet('{f}')) TO '{dest / f.name}' (FORMAT parquet)"
                )
            shutil.copyfile(src / union.SCHEMA_FILE, dest / union.SCHEMA_FILE)
            counties[clone] = version
    finally:
        conn.close()
    # The starting point: a CURRENT union manifest listing the clones (as if they had been published).
    stub = pub / "warehouse-20000101T000000000000Z-00000000.duckdb"
    union._build_union(stub, pub, counties, sorted(counties)[0])
    stub.with_suffix(".json").write_text(json.dumps({"snapshot": stub.name, "counties": counties}))
    (pub / "CURRENT").write_text(stub.name + "\n")
    county_db = root / "warehouse" / "counties" / code / "warehouse.duckdb"
    return pub, code, county_db


def _query_p95(pub: Path, county: str, reps: int) -> dict:
    from pipelines.warehouse import publish

    conn = publish.connect_readonly(pub)
    out = {}
    try:
        conn.execute("SET parquet_metadata_cache = true")  # footers read once per connection
        for name, sql in QUERIES.items():
            sql = sql.replace("$county", f"'{county}'")
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                conn.execute(sql).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = {"p50_ms": median(times), "p95_ms": percentile(times, 95)}
    finally:
        conn.close()
    return out


def _dashboard_calls(pub: Path, reps: int, seed: int) -> dict:
    """Every dashboards.data function the pages call (bench/scale.py's discovery), on the union,
    with one kept read-only connection as the dashboard keeps it; Parquet metadata cache on."""
    import random

    from bench.scale import _args, discover, uncached_data

    wh_dir = pub.parent
    rng = random.Random(seed)
    results = {}
    with uncached_data(wh_dir) as data:
        data._catalog.clear()
        calls, notes = discover(data)
        conn = data._open(data.snapshot_name())
        conn.execute("SET parquet_metadata_cache = true")
        counties = [c for (c,) in conn.execute("SELECT county_code FROM dim.county ORDER BY 1").fetchall()]
        campaigns = [c for (c,) in conn.execute("SELECT campaign_code FROM dim.campaign").fetchall()]
        indicators = [
            i for (i,) in conn.execute("SELECT DISTINCT indicator_code FROM dim.indicator").fetchall()
        ]
        draws = [
            {
                "county": rng.choice(counties),
                "period": f"{rng.randint(2012, 2016)}-{rng.randint(1, 12):02d}",
                "campaign": rng.choice([None, *campaigns]),
                "indicator": rng.choice(indicators),
            }
            for _ in range(reps)
        ]
        data._bench_kept["conn"] = conn
        try:
            for name, spec in calls.items():
                fn = getattr(data, name)
                try:
                    fn(*_args(spec, draws[0]))  # warm-up
                    times = []
                    for d in draws:
                        t0 = time.perf_counter()
                        fn(*_args(spec, d))
                        times.append((time.perf_counter() - t0) * 1000)
                    results[name] = {"p50_ms": median(times), "p95_ms": percentile(times, 95)}
                except Exception as exc:  # a function that fails on the union is a finding
                    results[name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        finally:
            data._bench_kept["conn"] = None
            conn.close()
    return {"calls": results, "notes": notes}


LAUNCHERS = ("warm", "spawn", "both")


def run(cfg: Config) -> dict:
    sizes = cfg.size.province_counties
    launcher = cfg.province_launcher or "warm"
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r} (warm, spawn or both)")
    out: dict = {"counties": list(sizes), "full_refresh": {}, "cores": os.cpu_count(), "launcher": launcher}
    last_root = None
    warm: _Warm | None = None
    try:
        for n in sizes:
            root = cfg.work_dir / f"province-{n}"
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            gen_s = _generate(root, n, cfg)
            env = _env(root)
            codes = _codes(root / "profiles")
            # Hold files of the first county back for the end-to-end figures (one per launcher).
            files = sorted(p for p in (root / "raw" / codes[0]).rglob("*.xlsx") if "台账" not in p.name)
            held = []
            (root / "held").mkdir()
            for target in files[-2:]:
                held.append((root / "held" / target.name, target))
                shutil.move(target, root / "held" / target.name)
            parallel = max(1, min(cfg.province_parallel or (os.cpu_count() or 1), len(codes)))
            if warm is not None:
                warm.close()
                warm = None
            zygote_start_s = None
            if launcher != "spawn":
                warm = _Warm(env, root)
                zygote_start_s = warm.start_s
            t0 = time.perf_counter()
            memory: dict = {}
            per_county, _ = _run_counties(env, codes, parallel, warm, memory)
            out["full_refresh"][n] = {
                "wall_s": time.perf_counter() - t0,
                "per_county_s": per_county,
                "parallel_runs": parallel,
                "launcher": "warm" if warm is not None else "spawn",
                "zygote_start_s": zygote_start_s,
                "zygote_reloads": warm.reloads if warm is not None else None,
                "generate_s": gen_s,
                "peak_rss_mb_largest_process": (
                    memory["peak_rss_mb_largest_sampled"] if warm is not None else _peak_children_mb()
                ),
                **memory,
            }
            last_root = (root, env, codes, held)
        ns = sorted(out["full_refresh"])
        out["fit"] = _linear_fit(ns, [out["full_refresh"][n]["wall_s"] for n in ns])
        if last_root:
            root, env, codes, held = last_root
            ways = {"warm": [warm], "spawn": [None], "both": [None, warm]}[launcher]
            figures = {}
            for way, (h, target) in zip(ways, held, strict=False):
                fig = _one_file_end_to_end(root, env, codes[0], h, target, way)
                figures[fig["launcher"]] = {"counties_in_warehouse": len(codes), **fig}
            main = figures.get("warm") or figures["spawn"]
            out["one_file_added"] = {**main, "by_launcher": figures}
            n_big = cfg.size.union_counties
            if n_big:
                t0 = time.perf_counter()
                pub, code, county_db = _clone_union(root, n_big)
                clone_s = time.perf_counter() - t0
                from pipelines.warehouse import union

                t0 = time.perf_counter()
                union.publish_county(county_db, code, pub)  # 180 counties outside a base: compacts
                compact_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                union.publish_county(county_db, code, pub)  # the steady state: base + this county
                publish_s = time.perf_counter() - t0
                run_s = out["one_file_added"]["run_s"] or 0.0
                out["union"] = {
                    "counties": n_big,
                    "clone_s": clone_s,
                    "publish_one_county_s": publish_s,
                    "first_publish_with_compaction_s": compact_s,
                    "one_file_added_estimate_s": run_s + publish_s,
                    "queries": {},
                    "union_file_bytes": max(p.stat().st_size for p in pub.glob("warehouse-*.duckdb")),
                }
                (root / "partial-results.json").write_text(json.dumps(out, indent=1, default=str))
                out["union"]["queries"] = _query_p95(pub, code, cfg.size.query_reps)
                out["union"]["worst_p95_ms"] = max(q["p95_ms"] for q in out["union"]["queries"].values())
                dash = _dashboard_calls(pub, cfg.size.query_reps, cfg.seed)
                out["union"]["dashboard"] = dash
                timed = [c["p95_ms"] for c in dash["calls"].values() if "p95_ms" in c]
                out["union"]["dashboard_worst_p95_ms"] = max(timed) if timed else None
                out["union"]["dashboard_errors"] = sorted(n for n, c in dash["calls"].items() if "error" in c)
    finally:
        if warm is not None:
            warm.close()
    return out
