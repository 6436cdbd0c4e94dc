"""Shared helpers: sizes, interleaved timing, percentiles, the results table."""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


@dataclass(frozen=True)
class Size:
    """How big each benchmark runs. `tiny` is for the test suite, `default` for `make bench`."""

    name: str
    ingest_files: int  # returns in the ingest corpus (copies of the sample with other seeds)
    ingest_reps: int  # interleaved repetitions of floor / parse / full / naive
    incremental_n: tuple[int, ...]  # files already in the warehouse
    incremental_reps: int
    scales: tuple[tuple[str, int], ...]  # (name, counties) of the synthetic warehouses
    query_reps: int  # calls of each dashboard data function per warehouse (different arguments)
    marts_from_code: bool = True  # run the marts code on the seed county (tiny: generic fill, faster)
    sample_args: tuple[str, ...] = ()  # extra arguments of `python -m pipelines.sample` (tiny: fewer files)
    light_probe: bool = False  # dashboard memory probe: fewer calls (tiny)
    # bench/province.py: generated provinces refreshed by the real pipeline (county partitions), and
    # the number of counties of the union on which one county's publish and the queries are timed.
    province_counties: tuple[int, ...] = ()
    union_counties: int = 0


_DEFAULT_SCALES = (("county", 1), ("province", 180))
SIZES = {
    "tiny": Size(
        "tiny",
        12,
        1,
        (10, 100),
        2,
        (("county", 1), ("two_counties", 2)),
        2,
        marts_from_code=False,
        sample_args=("--years", "2012", "--units", "sthjj", "wjw", "zjj"),
        light_probe=True,
    ),
    "default": Size(
        "default",
        2500,
        3,
        (100, 1_000, 10_000),
        9,
        _DEFAULT_SCALES,
        30,
        province_counties=(2, 4, 8),
        union_counties=180,
    ),  # fmt: skip
    "large": Size(
        "large",
        2500,
        3,
        (100, 1_000, 10_000),
        9,
        (*_DEFAULT_SCALES, ("nation", 2_800)),
        30,
        province_counties=(2, 4, 8, 16),
        union_counties=180,
    ),  # fmt: skip
    # Only the province benchmark (python -m bench --size province): about 15 min on 2 cores.
    "province": Size("province", 0, 0, (), 0, (), 30, province_counties=(2, 4, 8), union_counties=180),
    "nation": Size("nation", 0, 0, (), 0, (("nation", 2_800),), 30),
}


@dataclass
class Config:
    size: Size
    work_dir: Path
    only: tuple[str, ...] = ()
    seed: int = 20120301
    keep: bool = False
    reuse: bool = False
    notes: list[str] = field(default_factory=list)
    province_parallel: int = 0  # county runs at the same time in bench/province.py; 0 = the cores
    province_launcher: str = "warm"  # bench/province.py: warm (the run worker), spawn, or both


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def percentile(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def interleave(contenders: dict[str, Callable[[int], object]], reps: int) -> dict[str, list[float]]:
    """Run every contender `reps` times, rotating the order each round so that drift on a noisy
    machine (thermal, page cache, neighbours) hits all of them alike. Returns seconds per run."""
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for n in order:
            dt, _ = timed(lambda n=n, r=r: contenders[n](r))
            times[n].append(dt)
    return times


def dir_size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fmt_ratio(x: float | None) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:.2f}×"


def fmt_num(x: float | None, unit: str = "") -> str:
    if x is None or x != x:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}{unit}"
    if abs(x) >= 1:
        return f"{x:.2f}{unit}"
    return f"{x:.3g}{unit}"


def cpu_info() -> dict:
    return {"cpus": os.cpu_count(), "load_avg": list(os.getloadavg())}
