"""`python -m bench [--size tiny|default|large|province] [--only ingest,incremental,scale,province]`

Runs the benchmarks, prints a table of ratios against their targets and writes every figure to
bench/results/bench-<size>-<UTC stamp>.json and bench/results/latest-<size>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import RESULTS_DIR, SIZES, Config, cpu_info, fmt_num, fmt_ratio

BENCHMARKS = ("ingest", "incremental", "scale", "province")


def run_all(cfg: Config) -> dict:
    import importlib

    out: dict = {
        "size": cfg.size.name,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), **cpu_info()},
        "benchmarks": {},
        "errors": {},
    }
    for name in BENCHMARKS:
        if cfg.only and name not in cfg.only:
            continue
        empty = {"ingest": not cfg.size.ingest_files, "incremental": not cfg.size.incremental_n}
        if (
            empty.get(name)
            or (name == "scale" and not cfg.size.scales)
            or (name == "province" and not cfg.size.province_counties)
        ):
            continue
        t0 = time.perf_counter()
        print(f"[bench] {name} ({cfg.size.name}) …", file=sys.stderr, flush=True)
        try:
            out["benchmarks"][name] = importlib.import_module(f"bench.{name}").run(cfg)
        except Exception as exc:  # one failing benchmark must not hide the others' figures
            import traceback

            out["errors"][name] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-3000:]}"
        print(f"[bench] {name} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    out["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return out


def summary_rows(res: dict) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, verdict) rows for the printed table."""
    rows = []

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    b = res["benchmarks"]
    if "ingest" in b:
        r = b["ingest"]
        fps, vps = r["files_per_s"], r["values_per_s"]
        rows.append(
            (
                f"ingest: {r['files']} files, {r['values_loaded']} values",
                "files/s full {} · parse {} · floor {} · naive {}".format(
                    *(fmt_num(fps[k]) for k in ("full", "parse", "floor", "naive"))
                ),
                "",
                "",
            )
        )
        rows.append(
            (
                "ingest: values/s",
                "full {} · floor {} · naive {}".format(
                    *(fmt_num(vps[k]) for k in ("full", "floor", "naive"))
                ),
                "",
                "",
            )
        )
        rows.append(
            (
                "ingest: full / floor (time)",
                fmt_ratio(r["ratio_full_over_floor"]),
                "≤ 2×",
                verdict(r["targets"]["full_over_floor_met"]),
            )
        )
        rows.append(("ingest: parse only / floor (time)", fmt_ratio(r["ratio_parse_over_floor"]), "", ""))
        rows.append(
            (
                "ingest: naive / full (time)",
                fmt_ratio(r["ratio_naive_over_full"]),
                "≥ 5×",
                verdict(r["targets"]["naive_over_full_met"]),
            )
        )
    if "incremental" in b:
        r = b["incremental"]
        med = ", ".join(f"N={n}: {fmt_num(v * 1000, ' ms')}" for n, v in r["median_s"].items())
        rows.append(("incremental: add 1 file (median)", med, "", ""))
        n_small, n_big = r["history_sizes"][0], r["history_sizes"][-1]
        rows.append(
            (
                f"incremental: N={n_big} / N={n_small}",
                fmt_ratio(r["ratio_largest_over_smallest"]),
                "≤ 2×",
                verdict(r["targets"]["met"]),
            )
        )
        rows.append(
            (
                "incremental: ingest phase only",
                fmt_ratio(r["ratio_ingest_phase_largest_over_smallest"]),
                "≤ 2×",
                verdict(r["targets"]["ingest_phase_met"]),
            )
        )
    for name, r in b.get("scale", {}).items():
        build = r["build"]
        rows.append(
            (
                f"scale {name} ({r['counties']} counties): build",
                f"{fmt_num(build['build_s'], ' s')}, {fmt_num(build['file_bytes'] / 2**20, ' MiB')}, "
                f"{fmt_num(build['rows'].get('compliance.verdict'))} verdicts, "
                f"{fmt_num(build['rows'].get('core.observation'))} observations",
                "",
                "",
            )
        )
        worst = max(r["queries"].items(), key=lambda kv: kv[1]["duckdb_p95_ms"])
        rows.append(
            (
                f"scale {name}: worst query p95",
                f"{fmt_num(r['worst_p95_ms'], ' ms')} ({worst[0]})",
                "< 200 ms",
                verdict(r["targets"]["p95_met"])
                if name == "nation"
                else verdict(r["targets"]["p95_met"]) + "*",
            )
        )
        rows.append(
            (
                f"scale {name}: worst p95, one kept connection",
                f"{fmt_num(r['worst_kept_conn_p95_ms'], ' ms')} (opening a connection: {fmt_num(r['connect_p50_ms'], ' ms')})",
                "",
                "",
            )
        )
        rows.append(
            (
                f"scale {name}: DuckDB vs pandas (warm, p50)",
                f"min {fmt_ratio(r['min_speedup_vs_pandas'])}, median {fmt_ratio(r['median_speedup_vs_pandas'])}",
                "≥ 10×",
                verdict(r["targets"]["speedup_met"])
                if name == "nation"
                else verdict(r["targets"]["speedup_met"]) + "*",
            )
        )
        rows.append(
            (
                f"scale {name}: DuckDB vs pandas incl. load",
                f"min {fmt_ratio(r.get('min_speedup_incl_load'))}; pandas load {fmt_num(r['pandas_load_s'], ' s')}, "
                f"{fmt_num(r['pandas_frames_bytes'] / 2**20, ' MiB')}",
                "≥ 10×",
                verdict(r["targets"].get("speedup_incl_load_met")),
            )
        )
        mem = r["dashboard_memory"]
        rows.append(
            (
                f"scale {name}: dashboard process peak RSS",
                f"{fmt_num(mem.get('peak_rss_mb'), ' MiB')} (after imports {fmt_num(mem.get('rss_after_import_mb'), ' MiB')})",
                "",
                "" if "error" not in mem else "ERROR",
            )
        )
    if "province" in b:
        rows += province_rows(b["province"], verdict)
    for name, err in res.get("errors", {}).items():
        rows.append((f"{name}: FAILED", err.splitlines()[0][:100], "", "ERROR"))
    return rows


def _at_a_time(n: int) -> str:
    return "1 run at a time" if n == 1 else f"{n} runs at a time"


def province_rows(r: dict, verdict) -> list[tuple[str, str, str, str]]:
    """Rows of bench/province.py: full refresh by county partitions, one file end to end, the union."""
    rows = []
    par = 1
    for n, f in sorted(r["full_refresh"].items(), key=lambda kv: int(kv[0])):
        par = f.get("parallel_runs", 1)
        peak = f.get("peak_rss_mb_all_runs")
        rows.append(
            (
                f"province: full refresh, {n} counties (real pipeline, {_at_a_time(par)})",
                f"{fmt_num(f['wall_s'], ' s')}"
                + (
                    f" ({f.get('launcher')}; CPU {fmt_num(sum(c for c in f['per_county_cpu_s'] if c) / len(f['per_county_cpu_s']), ' s')}/run)"
                    if f.get("per_county_cpu_s") and any(f["per_county_cpu_s"])
                    else ""
                )
                + f", peak {fmt_num(f['peak_rss_mb_largest_process'], ' MiB')}"
                f"/run" + (f", {fmt_num(peak, ' MiB')} all runs" if peak else ""),
                "peak ≤ 8 GB",
                verdict((peak or f["peak_rss_mb_largest_process"]) <= 8 * 1024),
            )
        )
    fit = r.get("fit") or {}
    if fit:
        rows.append(
            (
                f"province: linear fit ({_at_a_time(par)})",
                f"{fmt_num(fit['fixed_s'], ' s')} + {fmt_num(fit['per_county_s'], ' s')}/county; "
                f"180 → {fmt_num(fit['estimate_180_s'] / 60, ' min')}, 2,800 → {fmt_num(fit['estimate_2800_s'] / 3600, ' h')}",
                "180 ≤ 15 min",
                verdict(fit["estimate_180_s"] <= 15 * 60) + " (estimate)",
            )
        )
    last = r["full_refresh"][max(r["full_refresh"], key=int)] if r.get("full_refresh") else {}
    if last.get("zygote_peak_rss_mb"):
        rows.append(
            (
                "province: warm run worker memory (peak)",
                f"zygote RSS {fmt_num(last['zygote_peak_rss_mb'], ' MiB')} (USS "
                f"{fmt_num(last.get('zygote_peak_uss_mb'), ' MiB')}); largest run child RSS "
                f"{fmt_num(last.get('peak_rss_mb_largest_sampled'), ' MiB')} (USS "
                f"{fmt_num(last.get('peak_uss_mb_largest_sampled'), ' MiB')}); all together PSS "
                f"{fmt_num(last.get('peak_pss_mb_all_runs'), ' MiB')}; zygote start "
                f"{fmt_num(last.get('zygote_start_s'), ' s')}",
                "",
                "",
            )
        )
    one = r.get("one_file_added")
    if one:
        for way, fig in sorted(
            (one.get("by_launcher") or {"": one}).items(), key=lambda kv: kv[0] != "spawn"
        ):
            how = {"warm": "warm worker", "spawn": "spawned process: start + import incl."}.get(way, "")
            rows.append(
                (
                    f"province: one file → readable ({fig['counties_in_warehouse']} counties"
                    + (f", {how})" if how else ")"),
                    f"{fmt_num(fig['wall_s'], ' s')} wall, run {fmt_num(fig['run_s'], ' s')}"
                    + (f", process CPU {fmt_num(fig['cpu_s'], ' s')}" if fig.get("cpu_s") else ""),
                    "≤ 5 s (1 county)",
                    verdict(fig["wall_s"] <= 5),
                )
            )
    u = r.get("union")
    if u:
        rows.append(
            (
                f"province: publish one county, union of {u['counties']}",
                f"{fmt_num(u['publish_one_county_s'], ' s')}; run + publish ≈ "
                f"{fmt_num(u['one_file_added_estimate_s'], ' s')}",
                "≤ 10 s",
                verdict(u["one_file_added_estimate_s"] <= 10) + " (composite)",
            )
        )
        if u.get("dashboard_worst_p95_ms") is not None:
            rows.append(
                (
                    f"province: dashboards.data calls on the union of {u['counties']}, worst p95",
                    fmt_num(u["dashboard_worst_p95_ms"], " ms")
                    + (f"; failed: {', '.join(u['dashboard_errors'])}" if u.get("dashboard_errors") else ""),
                    "< 200 ms",
                    verdict(u["dashboard_worst_p95_ms"] < 200 and not u.get("dashboard_errors")),
                )
            )
        rows.append(
            (
                f"province: dashboard queries on the union of {u['counties']}, worst p95",
                fmt_num(u["worst_p95_ms"], " ms"),
                "< 200 ms",
                verdict(u["worst_p95_ms"] < 200),
            )
        )
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows + [("figure", "measured", "target", "")]) for i in range(4)]
    header = ("figure", "measured", "target", "")
    line = "  ".join("-" * w for w in widths)
    for r in (header, None, *rows):
        print(line if r is None else "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--size", choices=sorted(SIZES), default="default", help="benchmark size (default: default)"
    )
    ap.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    ap.add_argument("--work-dir", type=Path, default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the JSON results")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder and synthetic warehouses")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="reuse synthetic warehouses kept by an earlier --keep run in --work-dir",
    )
    ap.add_argument(
        "--parallel",
        type=int,
        default=0,
        help="county runs at the same time in the province benchmark (default: the number of cores)",
    )
    ap.add_argument(
        "--launcher",
        choices=("warm", "spawn", "both"),
        default="warm",
        help="province benchmark: runs handed to the warm run worker (default), spawned run processes "
        "(the old path), or both for the one-file figure",
    )
    args = ap.parse_args(argv)
    only = tuple(x.strip() for x in args.only.split(",") if x.strip())
    unknown = [x for x in only if x not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="wuchuang-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = Config(
        size=SIZES[args.size],
        work_dir=work,
        only=only,
        keep=args.keep or args.reuse,
        reuse=args.reuse,
        province_parallel=args.parallel,
    )
    cfg.province_launcher = args.launcher
    try:
        res = run_all(cfg)
    finally:
        if not args.keep and args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(res, ensure_ascii=False, indent=1, default=str)
    (args.out / f"bench-{args.size}-{stamp}.json").write_text(text, encoding="utf-8")
    (args.out / f"latest-{args.size}.json").write_text(text, encoding="utf-8")
    print_table(summary_rows(res))
    print(f"\n* target stated for the national scale. JSON: {args.out / f'latest-{args.size}.json'}")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
