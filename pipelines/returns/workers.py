"""Spreading per-file work (reading returns, writing feedback workbooks) over the machine's cores.

`fork_map(func, items, workers)` runs `func` over `items` in this process and `workers - 1`
forked ones and returns the results in the order of `items`. The items are dealt round-robin;
this process works through its share while the others work through theirs, then collects their
results (one pickled message per process). Forked processes inherit the parent's memory (parser
caches, catalog) instead of receiving it pickled, and only run `func`: they never touch the
parent's DuckDB connection or other threads' state, and multiprocessing ends them with os._exit,
so an open connection in the parent is safe. If a worker dies or its results cannot be sent, its
items are processed again in this process: the outcome never depends on the workers.

Plain functions, no Dagster.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

WORKERS_ENV = "RETURNS_WORKERS"


def default_workers() -> int:
    """Processes for per-file work: the usable cores (at most 8), or $RETURNS_WORKERS."""
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env.isdigit():
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


def _run_share(func: Callable[[T], R], items: Sequence[T], out: Connection) -> None:
    """Worker process: `func` over its share, all results sent back in one message."""
    try:
        out.send([func(item) for item in items])
    finally:
        out.close()


class ForkJob:
    """`func` over `items` in one forked process, started now; `collect()` returns the results
    (or, if the process died, does the work here)."""

    def __init__(self, func: Callable[[T], R], items: Sequence[T]):
        self.func, self.items = func, list(items)
        self.proc = None
        if not self.items:
            return
        ctx = mp.get_context("fork")
        self.recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_run_share, args=(func, self.items, send), daemon=True)
        self.proc.start()
        send.close()

    def __len__(self) -> int:
        return len(self.items)

    def collect(self) -> list[R]:
        if self.proc is None:
            return []
        try:
            got = self.recv.recv()
            if len(got) != len(self.items):
                raise EOFError(f"{len(got)} results for {len(self.items)} items")
        except (EOFError, OSError) as exc:  # the worker died: do its share here
            log.warning("worker process failed (%s); doing its %d items here", exc, len(self.items))
            got = [self.func(item) for item in self.items]
        finally:
            self.recv.close()
            self.proc.join()
            self.proc = None
        return got

    def cancel(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.recv.close()
            self.proc = None


def fork_map(func: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """[func(item) for item in items], spread over `workers` processes (this one included)."""
    items = list(items)
    workers = max(1, min(workers, len(items)))
    if workers == 1 or not can_fork():
        return [func(item) for item in items]
    jobs = [ForkJob(func, items[k::workers]) for k in range(1, workers)]
    results: list[list[R]] = [[func(item) for item in items[0::workers]]]
    results.extend(job.collect() for job in jobs)
    out: list = [None] * len(items)
    for k, got in enumerate(results):
        out[k::workers] = got
    return out


def fork_chunks(
    func: Callable[[T], R], chunks: Sequence[Sequence[T]], workers: int
) -> Iterator[tuple[Sequence[T], list[R]]]:
    """(chunk, [func(item) for item in chunk]) for each chunk in order, the next chunk already
    being worked on by `workers - 1` forked processes while the caller uses the current one.

    This process takes a small share of each chunk (it also does the caller's work between
    chunks) and half of the first, the forked processes the rest (contiguous slices)."""
    if workers <= 1 or not can_fork():
        for chunk in chunks:
            yield chunk, [func(item) for item in chunk]
        return

    def start(chunk: Sequence[T], own: float) -> tuple[list[ForkJob], list[T]]:
        items = list(chunk)
        cut = len(items) - round(len(items) * own)
        n = workers - 1
        bounds = [cut * k // n for k in range(n + 1)]
        return [ForkJob(func, items[bounds[k] : bounds[k + 1]]) for k in range(n)], items[cut:]

    jobs, mine = start(chunks[0], 1 / workers) if chunks else ([], [])
    try:
        for k, chunk in enumerate(chunks):
            own = [func(item) for item in mine]
            got = [r for job in jobs for r in job.collect()]
            jobs = []
            if k + 1 < len(chunks):
                jobs, mine = start(chunks[k + 1], 1 / (4 * workers))
            yield chunk, got + own
    finally:
        for job in jobs:
            job.cancel()
