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
from collections.abc import Callable, Sequence
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


def fork_map(func: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """[func(item) for item in items], spread over `workers` processes (this one included)."""
    items = list(items)
    workers = max(1, min(workers, len(items)))
    if workers == 1 or not can_fork():
        return [func(item) for item in items]
    ctx = mp.get_context("fork")
    shares = [items[k::workers] for k in range(workers)]
    procs = []
    for share in shares[1:]:
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_run_share, args=(func, share, send), daemon=True)
        proc.start()
        send.close()
        procs.append((proc, recv, share))
    results: list[list[R]] = [[func(item) for item in shares[0]]]
    for proc, recv, share in procs:
        try:
            got = recv.recv()
            if len(got) != len(share):
                raise EOFError(f"{len(got)} results for {len(share)} items")
        except (EOFError, OSError) as exc:  # the worker died: do its share here
            log.warning("worker process failed (%s); doing its %d items here", exc, len(share))
            got = [func(item) for item in share]
        finally:
            recv.close()
            proc.join()
        results.append(got)
    out: list = [None] * len(items)
    for k, got in enumerate(results):
        out[k::workers] = got
    return out
