"""A warm run worker and the Dagster run launcher that hands runs to it (issue 18, docs/scaling.md).

Dagster's DefaultRunLauncher asks the code server to start a fresh process per run; that process
starts Python, imports Dagster, the definitions and (in the checks step) Great Expectations before
the run's first step: 5-9 s of every county run. Here a long-lived *zygote*
(`python -m pipelines.run_worker serve --socket PATH`) imports all of that once, holds nothing
stateful (no DuckDB connection, no Dagster instance, no open data files, no threads) and waits on a
Unix socket. For each run it **forks** a child that executes the run with exactly the code of
`dagster api execute_run` (`dagster._cli.api.execute_run_command`: the instance from the run's
instance ref, the cancellation thread, the "Started process for run (pid: …)" engine event,
`core_execute_run`), then leaves with `os._exit`. The child starts with the imports done; its
pages are shared with the zygote copy-on-write.

`WarmRunLauncher` (a `RunLauncher`, configured under `run_launcher:` in dagster.yaml):

- `launch_run`: hands the run to the zygote of this environment, starting it if none answers (one
  zygote per socket folder and environment: the socket's name is a hash of the interpreter, the
  working directory and every WUCHUANG_* variable, so a zygote never runs a run with another
  configuration). If the zygote cannot be started or reached, the run is executed by a spawned
  `python -m dagster api execute_run` process instead (what the code server's run process runs):
  a run is never lost. The worker's pid and start time are recorded in run tags.
- `terminate`: marks the run canceling and sends the worker SIGINT, as the code server does for
  its run processes (Dagster turns it into an interrupt and marks the run canceled).
- `check_run_worker_health`: by the recorded pid (and its start time, so a reused pid does not
  count): a worker killed with SIGKILL is reported as not found and run monitoring fails the run.
- `dispose`: stops the zygote this launcher started.

**Reload rules.** The zygote records a fingerprint when it loads: names and mtimes of the profiles
folder's files (the county partitions), of the expectations folder's top level (standards, rules,
suites) and of every file of the `pipelines` package. Before forking a run it computes the
fingerprint again; when it differs, it answers "reloading" and re-executes itself (same pid,
fresh interpreter, imports again); the launcher waits for it and hands the run over again. So a
new county profile or changed code is never served stale; a change of the environment gives a
different zygote (its own socket).

**Lifetime.** A zygote started by a launcher exits when that process (the daemon, `dagster dev`,
a test) is gone, checked every second; runs already forked go on (each child has its own session)
and are reaped by init. Children are reaped by the zygote.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster._core.launcher.base import (
    CheckRunHealthResult,
    LaunchRunContext,
    RunLauncher,
    WorkerStatus,
)
from dagster._core.run_coordinator.queued_run_coordinator import QueuedRunCoordinator
from dagster._serdes import ConfigurableClass, ConfigurableClassData

PID_TAG = "wuchuang/run_worker_pid"
START_TAG = "wuchuang/run_worker_start"  # the process's start time (/proc/<pid>/stat, clock ticks)
HOST_TAG = "wuchuang/run_worker_host"
KIND_TAG = "wuchuang/run_worker"  # "warm" (forked by the zygote) or "spawned" (fallback)

DEFAULT_PRELOAD = (
    "dagster",
    "pandas",
    "numpy",
    "duckdb",
    "pyarrow",
    "yaml",
    "python_calamine",
    "openpyxl",
    "great_expectations",
    "pipelines.definitions",
)
DEFAULT_DEFINITIONS = "pipelines.definitions:defs"
START_TIMEOUT_S = 240.0  # the zygote's imports: ≈ 8 s quiet, much more on a loaded machine
REQUEST_TIMEOUT_S = 30.0
LOG_MAX_BYTES = 50_000_000  # run_worker.log (the runs' stdout/stderr) rotated when the zygote starts
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux


class WorkerUnavailable(RuntimeError):
    """The zygote could not be started or reached."""


# ---------------------------------------------------------------------------------------------
# Small process helpers
# ---------------------------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a process, None when it does not exist."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], fields[19]


def process_alive(pid: int, start: str | None = None) -> bool:
    """True while `pid` runs (not a zombie) and, if given, still has that start time."""
    stat = _proc_stat(pid)
    if stat is None or stat[0] in ("Z", "X"):
        return False
    return start is None or stat[1] == start


def process_start(pid: int) -> str:
    stat = _proc_stat(pid)
    return stat[1] if stat else ""


def environment_key(env: Mapping[str, str] | None = None) -> str:
    """What a zygote's runs depend on besides code: interpreter, working directory, DAGSTER_HOME
    and every WUCHUANG_* variable. Different keys never share a zygote."""
    env = os.environ if env is None else env
    parts = [sys.executable, os.getcwd(), env.get("DAGSTER_HOME", ""), env.get("PYTHONPATH", "")]
    parts += [f"{k}={v}" for k, v in sorted(env.items()) if k.startswith("WUCHUANG_")]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def socket_path(folder: Path, env: Mapping[str, str] | None = None) -> Path:
    path = Path(folder) / f"w-{environment_key(env)}.sock"
    if len(str(path)) > SOCKET_PATH_MAX:  # a deep DAGSTER_HOME: a short path in the temp folder
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        path = Path("/tmp") / f"wuchuang-rw-{digest}.sock"
    return path


def default_socket_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    home = env.get("DAGSTER_HOME") or os.path.join(os.getcwd(), ".dagster_home")
    return Path(home) / "run_worker"


# ---------------------------------------------------------------------------------------------
# The code fingerprint
# ---------------------------------------------------------------------------------------------


def _stat_entries(folder: Path, recursive: bool, suffixes: tuple[str, ...] | None) -> list[str]:
    out = []
    if not folder.is_dir():
        return [f"{folder}:missing"]
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, dirs, files in walker:
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            if name.startswith(".") or (suffixes and not name.endswith(suffixes)):
                continue
            path = os.path.join(root, name)
            with contextlib.suppress(OSError):
                st = os.stat(path)
                out.append(f"{path}:{st.st_mtime_ns}:{st.st_size}")
    return out


def code_files() -> list[str]:
    """`path:mtime:size` of what the loaded definitions depend on: the profiles folder (the county
    partitions), the expectations folder's top level and every .py/.yaml/.json file of the
    `pipelines` package."""
    from pipelines.settings import Settings

    settings = Settings.from_env()
    package = Path(__file__).resolve().parent
    entries = _stat_entries(Path(settings.profiles_dir), False, None)
    entries += _stat_entries(Path(settings.expectations_dir), False, None)
    entries += _stat_entries(package, True, (".py", ".yaml", ".yml", ".json"))
    return entries


def code_fingerprint() -> str:
    return hashlib.sha256("\n".join(code_files()).encode()).hexdigest()


def _changed(before: list[str], after: list[str]) -> str:
    diff = sorted(set(before) ^ set(after))
    names = sorted({e.rsplit(":", 2)[0] for e in diff})
    return ", ".join(names[:5]) + (f" (+{len(names) - 5})" if len(names) > 5 else "")


# ---------------------------------------------------------------------------------------------
# The zygote
# ---------------------------------------------------------------------------------------------


def _log(msg: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} run_worker[{os.getpid()}] {msg}\n")
    sys.stderr.flush()


def _preload(modules: Sequence[str], definitions: str) -> None:
    import importlib

    for name in modules:
        importlib.import_module(name)
    if definitions:
        module, _, attr = definitions.partition(":")
        defs = getattr(importlib.import_module(module), attr or "defs")
        repo = defs.get_repository_def()  # cached on the Definitions object: the child reuses it
        repo.get_all_jobs()


def _child(listener: socket.socket, payload: str) -> None:
    """In the forked child: undo what the fork inherited, run, leave without Python's exit path."""
    code = 1
    try:
        listener.close()
        os.setsid()  # own session: a signal to the zygote's group does not reach runs
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        import random

        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        code = execute_run(payload)
        with contextlib.suppress(OSError, ValueError):
            cpu_ns, wait_ns, _ = (int(x) for x in Path("/proc/self/schedstat").read_text().split())
            _log(f"run child done: CPU {cpu_ns / 1e9:.2f} s, waited for a CPU {wait_ns / 1e9:.2f} s")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # nothing may escape into the zygote's loop
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def execute_run(payload: str) -> int:
    """Execute a run exactly as `dagster api execute_run <payload>` does (same function body)."""
    from dagster._cli.api import execute_run_command

    try:
        execute_run_command.callback(input_json=payload, compressed_input_json=None)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def _reap(children: dict[int, float], finished: dict[int, dict]) -> None:
    """Collect every exited child (also those forked before a re-exec, which are ours too) and
    keep what it cost: exit code, wall and CPU seconds, peak RSS (from wait4's rusage)."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        began = children.pop(pid, None)
        info = {
            "code": os.waitstatus_to_exitcode(status),
            "wall_s": round(time.monotonic() - began, 3) if began is not None else None,
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "maxrss_mb": round(usage.ru_maxrss / 1024, 1),
        }
        finished[pid] = info
        while len(finished) > 200:
            finished.pop(next(iter(finished)))
        _log(f"run child {pid} exited: {json.dumps(info)}")


def _reply(conn: socket.socket, obj: dict) -> None:
    with contextlib.suppress(OSError):
        conn.sendall((json.dumps(obj) + "\n").encode())


def _read_line(conn: socket.socket) -> bytes:
    """Bytes up to and including the first newline (or all until the peer closed)."""
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def _read_request(conn: socket.socket) -> dict:
    conn.settimeout(REQUEST_TIMEOUT_S)
    return json.loads(_read_line(conn).decode() or "{}")


def serve(sock_path: Path, preload: Sequence[str], definitions: str, parent_pid: int = 0) -> None:
    """The zygote's loop: import, bind, fork a child per run request."""
    t0 = time.perf_counter()
    _preload(preload, definitions)
    loaded = code_files()
    import gc
    import threading

    gc.collect()
    # The imported objects leave the collector's generations: a child's collections neither scan
    # them (measured: CPU of an allocation-heavy workload after these imports ≈ halved) nor write
    # their GC headers (fewer pages copied from the zygote).
    gc.freeze()
    if threading.active_count() > 1:
        _log(f"warning: {threading.active_count()} threads after the imports; forking is unsafe")
    sock_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        sock_path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    listener.listen(16)
    _log(f"ready in {time.perf_counter() - t0:.1f} s on {sock_path}")
    children: dict[int, float] = {}  # pid -> fork time (monotonic)
    finished: dict[int, dict] = {}
    try:
        while True:
            _reap(children, finished)
            if parent_pid and not process_alive(parent_pid):
                _log(f"parent {parent_pid} is gone; stopping")
                return
            ready, _, _ = select.select([listener], [], [], 1.0)
            if not ready:
                continue
            conn, _ = listener.accept()
            with conn:
                try:
                    req = _read_request(conn)
                except (OSError, ValueError) as exc:
                    _reply(conn, {"error": f"bad request: {exc}"})
                    continue
                op = req.get("op")
                if op == "ping":
                    _reply(
                        conn,
                        {"pid": os.getpid(), "start": process_start(os.getpid()), "children": len(children)},
                    )
                elif op == "child":  # what a finished child cost (the benchmark reads it)
                    _reply(conn, finished.get(int(req.get("pid", 0))) or {"running": True})
                elif op == "stop":
                    _reply(conn, {"stopping": True})
                    return
                elif op == "run" and not isinstance(req.get("args"), str):
                    _reply(conn, {"error": "a run request needs its serialised ExecuteRunArgs"})
                elif op == "run":
                    now = code_files()
                    if now != loaded:
                        _reply(conn, {"reload": True})
                        conn.close()
                        _log(
                            f"profiles or code changed ({_changed(loaded, now)}): re-executing with fresh imports"
                        )
                        _reexec(listener, sock_path)
                    try:
                        pid = os.fork()
                    except OSError as exc:  # out of memory or processes: the launcher falls back
                        _reply(conn, {"error": f"fork failed: {exc}"})
                        continue
                    if pid == 0:
                        conn.close()
                        _child(listener, req["args"])
                    children[pid] = time.monotonic()
                    _reply(conn, {"pid": pid, "start": process_start(pid)})
                else:
                    _reply(conn, {"error": f"unknown op {op!r}"})
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            sock_path.unlink()


def _reexec(listener: socket.socket, sock_path: Path) -> None:
    listener.close()
    with contextlib.suppress(FileNotFoundError):
        sock_path.unlink()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "pipelines.run_worker", *sys.argv[1:]])


# ---------------------------------------------------------------------------------------------
# The client side (the launcher and the benchmark)
# ---------------------------------------------------------------------------------------------


class WorkerClient:
    """Talks to the zygote of one socket folder and environment; starts it when none answers."""

    def __init__(
        self,
        folder: Path | None = None,
        env: Mapping[str, str] | None = None,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        definitions: str = DEFAULT_DEFINITIONS,
        start_timeout: float = START_TIMEOUT_S,
        watch_parent: bool = True,
    ):
        self.env = dict(os.environ if env is None else env)
        self.folder = Path(folder) if folder else default_socket_dir(self.env)
        self.path = socket_path(self.folder, self.env)
        self.preload = list(preload)
        self.definitions = definitions
        self.start_timeout = start_timeout
        self.watch_parent = watch_parent
        self.proc: subprocess.Popen | None = None  # the zygote, when this client started it

    def request(self, obj: dict, timeout: float = REQUEST_TIMEOUT_S) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.path))
            s.sendall((json.dumps(obj) + "\n").encode())
            buf = _read_line(s)
        if not buf:
            raise OSError("the run worker closed the connection without an answer")
        return json.loads(buf.decode())

    def ping(self) -> dict | None:
        try:
            return self.request({"op": "ping"}, timeout=5)
        except (OSError, ValueError):
            return None

    def _wait_ready(self, deadline: float) -> dict:
        while time.monotonic() < deadline:
            got = self.ping()
            if got:
                return got
            if self.proc is not None and self.proc.poll() is not None:
                raise WorkerUnavailable(
                    f"the run worker exited with {self.proc.returncode}; see {self.log_path}"
                )
            time.sleep(0.1)
        raise WorkerUnavailable(f"the run worker did not answer within {self.start_timeout:.0f} s")

    @property
    def log_path(self) -> Path:
        return self.folder / "run_worker.log"

    def ensure_started(self) -> dict:
        """The zygote's ping answer, starting it first if none answers (one starter at a time)."""
        got = self.ping()
        if got:
            return got
        self.folder.mkdir(parents=True, exist_ok=True)
        lock_path = self.folder / f"{self.path.stem}.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            got = self.ping()
            if got:
                return got
            cmd = [sys.executable, "-m", "pipelines.run_worker", "serve", "--socket", str(self.path)]
            cmd += ["--definitions", self.definitions, "--preload", ",".join(self.preload)]
            if self.watch_parent:
                cmd += ["--parent-pid", str(os.getpid())]
            if self.log_path.is_file() and self.log_path.stat().st_size > LOG_MAX_BYTES:
                os.replace(self.log_path, self.log_path.with_suffix(".log.1"))  # one old log kept
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=True, close_fds=True,
                )  # fmt: skip
            return self._wait_ready(time.monotonic() + self.start_timeout)

    def launch(self, payload: str) -> dict:
        """Hand a serialised ExecuteRunArgs to the zygote; {"pid", "start"} of the run's child."""
        for reloads in range(3):
            self.ensure_started()
            try:
                got = self.request({"op": "run", "args": payload})
            except (OSError, ValueError) as exc:
                raise WorkerUnavailable(f"the run worker did not take the run: {exc}") from exc
            if got.get("reload"):  # code or profiles changed: it re-executes itself; wait for it
                time.sleep(0.2)
                self._wait_ready(time.monotonic() + self.start_timeout)
                continue
            if "pid" in got:
                return {**got, "reloads": reloads}
            raise WorkerUnavailable(f"the run worker refused the run: {got.get('error')}")
        raise WorkerUnavailable("the run worker kept reloading")

    def child_cost(self, pid: int, timeout: float = 5.0) -> dict:
        """Exit code, wall and CPU seconds and peak RSS of a finished run child (once reaped)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.request({"op": "child", "pid": pid}, timeout=5)
            if not got.get("running") or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the zygote (whoever started it); kill it if it does not stop in time."""
        pid = (self.ping() or {}).get("pid")
        with contextlib.suppress(OSError, ValueError):
            self.request({"op": "stop"}, timeout=5)
        deadline = time.monotonic() + timeout
        while pid and process_alive(pid) and time.monotonic() < deadline:
            if self.proc is not None:
                self.proc.poll()
            time.sleep(0.05)
        if pid and process_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
            self.proc = None


# ---------------------------------------------------------------------------------------------
# The run launcher
# ---------------------------------------------------------------------------------------------


class WarmRunLauncher(RunLauncher, ConfigurableClass):
    """Runs forked from a warm zygote (module docstring); a spawned run process as the fallback.

    dagster.yaml:

        run_launcher:
          module: pipelines.run_worker
          class: WarmRunLauncher
          config:            # all optional
            socket_dir: ...  # default: <DAGSTER_HOME>/run_worker
            start_timeout: 240
    """

    def __init__(
        self,
        inst_data: ConfigurableClassData | None = None,
        socket_dir: str | None = None,
        preload: Sequence[str] | None = None,
        definitions: str = DEFAULT_DEFINITIONS,
        start_timeout: float = START_TIMEOUT_S,
    ):
        self._inst_data = inst_data
        self._socket_dir = socket_dir
        self._preload = list(preload) if preload else list(DEFAULT_PRELOAD)
        self._definitions = definitions
        self._start_timeout = float(start_timeout)
        self._client: WorkerClient | None = None
        self._spawned: dict[str, subprocess.Popen] = {}
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict:
        from dagster import Array, Field, IntSource, StringSource

        return {
            "socket_dir": Field(StringSource, is_required=False),
            "preload": Field(Array(str), is_required=False),
            "definitions": Field(StringSource, is_required=False, default_value=DEFAULT_DEFINITIONS),
            "start_timeout": Field(IntSource, is_required=False, default_value=int(START_TIMEOUT_S)),
        }

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]):
        return cls(inst_data=inst_data, **config_value)

    def client(self) -> WorkerClient:
        """The client of the current environment's zygote (a new one if the environment changed)."""
        folder = Path(self._socket_dir) if self._socket_dir else default_socket_dir()
        if self._client is None or self._client.path != socket_path(folder):
            self._client = WorkerClient(
                folder, None, self._preload, self._definitions, self._start_timeout
            )  # fmt: skip
        return self._client

    def launch_run(self, context: LaunchRunContext) -> None:
        from dagster._core.events import EngineEventData
        from dagster._grpc.types import ExecuteRunArgs
        from dagster._serdes import serialize_value

        run = context.dagster_run
        origin = run.job_code_origin
        if origin is None:
            raise ValueError(f"run {run.run_id} has no job code origin; cannot launch it")
        payload = serialize_value(
            ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref())
        )
        try:
            got = self.client().launch(payload)
            pid, start, kind = int(got["pid"]), str(got["start"]), "warm"
        except WorkerUnavailable as exc:
            self._instance.report_engine_event(
                f"温启动的运行进程不可用，改为新起进程执行 / warm run worker unavailable ({exc}); "
                "running the run in a spawned process",
                run,
                EngineEventData(),
                cls=self.__class__,
            )
            proc = subprocess.Popen(
                [sys.executable, "-m", "dagster", "api", "execute_run", payload],
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            self._spawned[run.run_id] = proc
            pid, start, kind = proc.pid, process_start(proc.pid), "spawned"
        self._instance.add_run_tags(
            run.run_id,
            {PID_TAG: str(pid), START_TAG: start, HOST_TAG: socket.gethostname(), KIND_TAG: kind},
        )
        self._reap_spawned()

    def _reap_spawned(self) -> None:
        for run_id, proc in list(self._spawned.items()):
            if proc.poll() is not None:
                del self._spawned[run_id]

    def _worker(self, run) -> tuple[int, str] | None:
        tags = run.tags
        if PID_TAG not in tags:
            return None
        return int(tags[PID_TAG]), tags.get(START_TAG) or None

    def terminate(self, run_id: str) -> bool:
        if not self.has_instance:
            return False
        run = self._instance.get_run_by_id(run_id)
        if not run or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        worker = self._worker(run)
        if worker is None or not process_alive(*worker):
            self._instance.report_engine_event(
                "运行进程已不存在，无法发送终止信号 / the run worker process is gone; nothing to interrupt",
                run,
                cls=self.__class__,
            )
            return False
        os.kill(worker[0], signal.SIGINT)  # as the code server interrupts its run processes
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        self._reap_spawned()
        worker = self._worker(run)
        if worker is None:
            # Not launched by this launcher (`dagster job execute`, `wuchuang ingest`, a run from
            # before the launcher was configured) or being launched this moment (the tags follow
            # the fork): not ours to judge. UNKNOWN would make run monitoring fail a live run.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker pid recorded: not checked")
        if run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
            return CheckRunHealthResult(WorkerStatus.RUNNING, "run worker on another machine: not checked")
        pid, start = worker
        if process_alive(pid, start):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(
            WorkerStatus.NOT_FOUND, f"run worker process {pid} is gone", run_worker_id=str(pid)
        )

    def dispose(self) -> None:
        if self._client is not None and self._client.proc is not None:
            self._client.stop()
        self._client = None


# ---------------------------------------------------------------------------------------------
# The run queue: one run at a time per working database
# ---------------------------------------------------------------------------------------------

WRITES_TAG = "wuchuang/writes"  # the working database a run writes: a county code or "warehouse"


class WriterQueuedRunCoordinator(QueuedRunCoordinator):
    """Dagster's QueuedRunCoordinator, which first tags each run with the working database it
    writes (`wuchuang/writes`: its county partition, or `warehouse` for a run without a partition:
    the single warehouse, the notices). With the tag limit `wuchuang/writes`, one per unique
    value, in dagster.yaml, runs of different counties go side by side and two runs of one county,
    or two unpartitioned runs, never do (DuckDB: one writer per file)."""

    def submit_run(self, context):
        from dagster._core.run_coordinator.base import SubmitRunContext

        run = context.dagster_run
        target = run.tags.get("dagster/partition") or "warehouse"
        if run.tags.get(WRITES_TAG) != target:
            self._instance.add_run_tags(run.run_id, {WRITES_TAG: target})
            run = self._instance.get_run_by_id(run.run_id) or run
            context = SubmitRunContext(run, context.workspace)
        return super().submit_run(context)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m pipelines.run_worker", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the warm zygote on a Unix socket")
    s.add_argument("--socket", help="socket path (default: <DAGSTER_HOME>/run_worker/w-<env>.sock)")
    s.add_argument("--preload", default=",".join(DEFAULT_PRELOAD), help="modules to import, comma-separated")
    s.add_argument("--definitions", default=DEFAULT_DEFINITIONS, help="module:attribute of the Definitions")
    s.add_argument("--parent-pid", type=int, default=0, help="stop when this process is gone")
    st = sub.add_parser("stop", help="stop the zygote of this environment")
    st.add_argument("--socket")
    args = parser.parse_args(argv)
    path = Path(args.socket) if args.socket else socket_path(default_socket_dir())
    if args.command == "serve":
        preload = [m for m in args.preload.split(",") if m]
        serve(path, preload, args.definitions, args.parent_pid)
    else:
        client = WorkerClient(path.parent)
        client.path = path
        client.stop()


if __name__ == "__main__":
    main()
