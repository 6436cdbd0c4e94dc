"""The SQL console's worker process: one short-lived process per query, never the pages' connection.

Parent side (`run`, called by `dashboards.sql_guard.run_query` in the Streamlit or CLI process):

- at most `sql_guard.MAX_WORKERS` workers run at once per parent process; a query that cannot get a
  slot before its time limit is refused as busy;
- the worker is started with ``python -m dashboards.console_worker`` (a fresh interpreter, not a fork
  of the threaded server), a minimal environment (no secrets, ``HOME`` pointing nowhere,
  ``MALLOC_ARENA_MAX=2``), its request on stdin;
- the wall clock starts when `run` is called: at ``timeout_s`` the worker is killed (SIGKILL to its
  process group), whatever it is doing; the worker interrupts DuckDB itself a little earlier so that
  the usual case ends with DuckDB's clean interrupt;
- the reply is read with a byte cap (`sql_guard.MAX_RESULT_BYTES`) and decoded with a restricted
  unpickler that builds plain values only; the worker's peak RSS (its VmHWM, sampled) is reported.

Worker side (`main`): before importing DuckDB it sets ``RLIMIT_AS`` to the memory cap (so the whole
process, Python included, can never use more), ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` 0 (no file writes)
and ``RLIMIT_CORE`` 0, lowers its priority, then opens the snapshot read-only with DuckDB's
``memory_limit`` (the cap minus what the interpreter already maps) and ``threads``, hardens and locks
the configuration, checks and runs the statement, and replaces absolute paths in every text it
returns.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pickle
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Address space the interpreter, DuckDB and their thread stacks map before any query (measured: about
# 200-450 MB of virtual memory for ~90 MB resident); DuckDB's memory_limit gets the rest, less room
# for the result being serialized.
_BASE_VM_MARGIN_MB = 96
_RESULT_HEADROOM_MB = 96
_KILL_GRACE_S = 0.25  # the worker interrupts DuckDB this long before the parent kills it

_slots = threading.BoundedSemaphore(2)
_slots_size = 2
_slots_lock = threading.Lock()


@dataclass
class WorkerResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool
    elapsed_s: float
    statement: str
    peak_rss_mb: float | None


def _semaphore(size: int) -> threading.BoundedSemaphore:
    global _slots, _slots_size
    with _slots_lock:
        if size != _slots_size:
            _slots, _slots_size = threading.BoundedSemaphore(size), size
        return _slots


# --------------------------------------------------------------------------------------------
# Parent side


class _SafeUnpickler(pickle.Unpickler):
    """Only the value types a query result is made of (the worker converts everything else to text)."""

    ALLOWED = {
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def _child_env() -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "MALLOC_ARENA_MAX": "2",
        "TMPDIR": "/nonexistent",
    }
    return env


def _reap(proc: subprocess.Popen, deadline: float | None = None) -> tuple[float | None, bool]:
    """Wait for the worker (killing it at `deadline`) and return (peak RSS in MB from wait4's
    rusage, whether it had to be killed)."""
    killed = False
    while True:
        flags = 0 if deadline is None or killed else os.WNOHANG
        try:
            pid, status, usage = os.wait4(proc.pid, flags)
        except ChildProcessError:
            proc.wait()
            return None, killed
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024.0, killed  # KiB on Linux
        if time.monotonic() >= deadline:
            _kill(proc)
            killed = True
        else:
            time.sleep(0.005)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


def run(snapshot: Path, sql: str, limits) -> WorkerResult:
    """Run `sql` (already checked by `sql_guard.check_text`) in a worker under `limits`
    (`sql_guard.ConsoleLimits`); raises `sql_guard.GuardError` for every refusal or failure."""
    from dashboards import sql_guard as g

    started = time.monotonic()
    deadline = started + limits.timeout_s
    known = g.known_paths(snapshot)
    slots = _semaphore(g.MAX_WORKERS)
    if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise g.GuardError(
            "busy",
            "查询台正忙（其他查询正在运行），请稍后再试",
            "the console is busy (other queries are running); try again shortly",
        )
    try:
        return _run_worker(g, snapshot, sql, limits, started, deadline, known)
    finally:
        slots.release()


def _run_worker(g, snapshot, sql, limits, started, deadline, known) -> WorkerResult:
    request = pickle.dumps(
        {
            "snapshot": str(snapshot),
            "sql": sql,
            "row_cap": limits.row_cap,
            "timeout_s": max(0.0, deadline - time.monotonic() - _KILL_GRACE_S),
            "memory_mb": limits.memory_mb,
            "threads": limits.threads,
            "max_result_bytes": g.MAX_RESULT_BYTES,
            "known": known,
        }
    )
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboards.console_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(),
            cwd=str(ROOT),
            close_fds=True,
            start_new_session=True,  # its own process group: the kill reaches everything it started
        )
    except OSError as exc:
        raise g.GuardError(
            "worker_failed",
            f"无法启动查询进程：{g.hide_paths(str(exc), known)}",
            f"cannot start the query process: {g.hide_paths(str(exc), known)}",
        ) from None
    out, err, timed_out, too_big = _exchange(proc, request, deadline, g.MAX_RESULT_BYTES + 65536)
    if timed_out or too_big:
        _kill(proc)
    peak, killed = _reap(proc, None if (timed_out or too_big) else deadline)
    if getattr(proc, "peak_rss_mb", None) is not None:
        peak = proc.peak_rss_mb  # sampled VmHWM: the worker's own peak, not its parent's
    timed_out = timed_out or killed
    elapsed = time.monotonic() - started

    def fail(error):
        error.elapsed_s, error.peak_rss_mb = elapsed, peak
        return error

    if timed_out:
        raise fail(g.timeout_error(limits.timeout_s))
    if too_big:
        raise fail(_result_too_large(g))
    reply = None
    if out:
        try:
            reply = _SafeUnpickler(io.BytesIO(out)).load()
        except Exception:
            reply = None
    if not isinstance(reply, dict):
        code = proc.returncode
        if (
            code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGXCPU)
            or b"MemoryError" in err
        ):
            if code == -signal.SIGXCPU:
                raise fail(g.timeout_error(limits.timeout_s))
            raise fail(g.memory_error(limits.memory_mb))
        raise fail(
            g.GuardError(
                "worker_failed",
                f"查询进程意外结束（代码 {code}），请缩小查询范围后重试",
                f"the query process ended unexpectedly (code {code}); narrow the query and try again",
            )
        )
    if not reply.get("ok"):
        if reply.get("code") == "timeout":  # stated with the caller's limit, not the worker's share
            raise fail(g.timeout_error(limits.timeout_s))
        raise fail(g.GuardError(str(reply.get("code")), str(reply.get("zh")), str(reply.get("en"))))
    return WorkerResult(
        list(reply["columns"]),
        [tuple(r) for r in reply["rows"]],
        bool(reply["truncated"]),
        elapsed,
        str(reply["statement"]),
        peak,
    )


def _result_too_large(g):
    mb = g.MAX_RESULT_BYTES // (1024 * 1024)
    return g.GuardError(
        "result_too_large",
        f"查询结果过大（上限 {mb} MB），请减少列或行，或加 LIMIT",
        f"the result is too large (limit {mb} MB); select fewer columns or rows, or add a LIMIT",
    )


def _hwm_mb(pid: int) -> float | None:
    """The worker's own peak RSS (VmHWM of its address space since exec), or None once it is gone.

    wait4's ru_maxrss is not used for the figure: Linux carries the maximum RSS across exec, so a
    worker started from a large process (the dashboard server, a test runner) would report its
    parent's size."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def _exchange(proc: subprocess.Popen, request: bytes, deadline: float, max_bytes: int):
    """Send the request, read stdout (capped) and stderr (tail) until EOF or the deadline, sampling
    the worker's peak RSS. Returns (stdout, stderr, timed_out, too_big); the peak is kept on
    `proc.peak_rss_mb`."""
    try:
        proc.stdin.write(request)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    out, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    open_streams = 2
    proc.peak_rss_mb = None

    def sample() -> None:
        hwm = _hwm_mb(proc.pid)
        if hwm is not None and (proc.peak_rss_mb is None or hwm > proc.peak_rss_mb):
            proc.peak_rss_mb = hwm

    try:
        while open_streams:
            sample()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(out), bytes(err), True, False
            for key, _ in sel.select(timeout=min(remaining, 0.02)):
                chunk = os.read(key.fileobj.fileno(), 1 << 16)
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                elif key.data == "out":
                    out += chunk
                    if len(out) > max_bytes:
                        return bytes(out), bytes(err), False, True
                else:
                    err = (err + chunk)[-8192:]
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    return bytes(out), bytes(err), False, False  # both streams closed: the worker is exiting


# --------------------------------------------------------------------------------------------
# Worker side


def _vm_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def _limit_process(memory_mb: int, timeout_s: float, threads: int) -> None:
    cap = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = max(1, math.ceil(timeout_s * max(threads, 1)) + 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write to a file fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError):
        os.nice(5)  # the pages' queries come first


def _plain(value, known):
    """A value the parent's restricted unpickler accepts, paths hidden in text."""
    import datetime as dt
    import decimal

    from dashboards.sql_guard import hide_paths

    if value is None or isinstance(value, bool | int | float | bytes):
        return value
    if isinstance(value, str):
        return hide_paths(value, known)
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, dt.datetime | dt.time):
        if value.tzinfo is not None and not isinstance(value.tzinfo, dt.timezone):
            offset = value.utcoffset()
            value = value.replace(tzinfo=dt.timezone(offset) if offset is not None else None)
        return value
    if isinstance(value, dt.date | dt.timedelta):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, known) for v in value]
    if isinstance(value, dict):
        return {str(_plain(k, known)): _plain(v, known) for k, v in value.items()}
    return hide_paths(str(value), known)


def _reply(obj: dict, max_bytes: int) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > max_bytes:
        from dashboards import sql_guard as g

        e = _result_too_large(g)
        data = pickle.dumps(_error_reply(e.code, e.zh, e.en))
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def _error_reply(code: str, zh: str, en: str) -> dict:
    return {"ok": False, "code": code, "zh": zh, "en": en}


def main() -> int:
    req = pickle.loads(sys.stdin.buffer.read())  # from our parent only (stdin is its pipe)
    known = list(req.get("known") or [])
    try:
        _limit_process(req["memory_mb"], req["timeout_s"], req["threads"])
        reply = _work(req, known)
    except MemoryError:
        reply = _error_reply(
            "memory",
            f"查询超出内存上限 {req['memory_mb']} MB，请缩小范围",
            f"query exceeded the {req['memory_mb']} MB memory limit; narrow it",
        )
    except Exception as exc:  # never a traceback: a message without paths
        from dashboards.sql_guard import GuardError, db_error

        e = exc if isinstance(exc, GuardError) else db_error(exc, known)
        reply = _error_reply(e.code, e.zh, e.en)
    limit = int(req.get("max_result_bytes") or 0)
    try:
        _reply(reply, limit)
    except MemoryError:
        reply = None
        _reply(_error_reply("memory", "查询结果超出内存上限", "the result exceeded the memory limit"), limit)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown (DuckDB's threads, buffers): the parent has the reply


def _work(req: dict, known: list[str]) -> dict:
    import duckdb

    from dashboards import sql_guard as g

    duck_mb = int(req["memory_mb"] - _vm_mb() - _BASE_VM_MARGIN_MB - _RESULT_HEADROOM_MB)
    if duck_mb < 64:
        raise g.memory_error(req["memory_mb"])
    try:
        conn = g.connect_hardened(Path(req["snapshot"]), f"{duck_mb}MB", req["threads"])
    except g.GuardError:
        raise
    except (duckdb.Error, OSError) as exc:
        raise g.db_error(exc, known) from None
    try:
        columns, rows, truncated, elapsed, statement = g.execute_checked(
            conn, req["sql"], req["row_cap"], req["timeout_s"], req["memory_mb"]
        )
    except duckdb.OutOfMemoryException:
        raise g.memory_error(req["memory_mb"]) from None
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    return {
        "ok": True,
        "columns": [_plain(c, known) for c in columns],
        "rows": [tuple(_plain(v, known) for v in r) for r in rows],
        "truncated": truncated,
        "elapsed_s": elapsed,
        "statement": statement,
    }


if __name__ == "__main__":
    raise SystemExit(main())
