"""Each piece of validation work once per run and observation state (issue 18).

The five asset checks on `departmental_returns` and the `quality_results` asset evaluate the same
checks on the same observations. Here each *unit* of work (`quality.UNITS`: the structural GX
suite, the values GX suite, the rules file with its triangulations, the outliers) is evaluated at
most once per Dagster run and *observation state*, and reused by every step that needs it:

- the state is a content hash of exactly the rows `frame.read_observations` returns
  (`observation_state`: count and sum of DuckDB row hashes, a few milliseconds), read in the same
  connection as the frame, so a result is never paired with other data: a structural check that
  quarantines values changes the state, and the steps after it evaluate again on what is left
  (as before);
- a unit's result is written to `<gx_dir>/evaluations/<run id>/<state>-<config>-<unit>.pkl`
  (atomic rename) and kept in memory, so the in-process executor reuses it without reading the
  file and the multiprocess / dask executors (a process per step) reuse it from the file; a file
  lock per unit makes two steps that need the same unit at the same time evaluate it once;
- `<config>` is a digest of the files that decide the results (the county's GX suites, the rules
  file, the catalog and the profiles), so a result never outlives a change of configuration;
- the enriched observation frame is read once per process and state (`observations`);
- `quality_results` discards its run's folder after writing the quality tables; folders of runs
  that ended without it are removed after a day.

A crash leaves at most a `.tmp` file (ignored, swept with its run's folder); a run never reads
another run's results.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile
from pipelines.validation import frame as frame_mod
from pipelines.validation import quality, suites

FOLDER = "evaluations"
STALE_AFTER_S = 24 * 3600
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")

_STATE_SQL = """
SELECT count(*), coalesce(sum(hash(o, f.file_name, f.path)), 0)
FROM core.observation o LEFT JOIN core.source_file f ON f.file_id = o.file_id
"""


def observation_state(conn: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """(rows, content hash) of the rows `frame.read_observations(conn)` returns."""
    n, h = conn.execute(_STATE_SQL).fetchone()
    return int(n), f"{int(n)}x{int(h) & (2**128 - 1):032x}"


# ---------------------------------------------------------------------------------------------
# The observation frame, once per process and state

_FRAMES: dict[tuple[str, str], pd.DataFrame] = {}


def observations(
    conn: duckdb.DuckDBPyConnection, catalog: Catalog, database: str, state: str
) -> pd.DataFrame:
    """The enriched observation frame of `state` (read with `conn`, which must be the connection
    `state` was read with); read and enriched once per process, database and state.

    Callers must not modify the frame (it is shared by the steps of a run in one process)."""
    key = (str(database), state)
    hit = _FRAMES.get(key)
    if hit is None:
        hit = frame_mod.enrich(frame_mod.read_observations(conn), catalog)
        _FRAMES.clear()  # one state at a time: the previous one is not read again
        _FRAMES[key] = hit
    return hit


# ---------------------------------------------------------------------------------------------
# Unit results, once per run and state

_RESULTS: dict[Path, quality.UnitResult] = {}
_KEEP_IN_MEMORY = 8


def config_digest(expectations_dir: Path, standards_dir: Path, profiles_dir: Path) -> str:
    """Digest of the files that decide the checks' results."""
    h = hashlib.sha256()
    files = [
        *sorted(suites.suites_dir(expectations_dir).glob("*.json")),
        quality.rules_path(expectations_dir),
        *sorted(Path(standards_dir).rglob("*.yaml")),
        *sorted(Path(profiles_dir).glob("*.yaml")),
    ]
    for path in files:
        h.update(str(path.name).encode() + b"\0")
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def run_folder(gx_dir: Path, run_id: str) -> Path:
    return Path(gx_dir) / FOLDER / _SAFE.sub("_", str(run_id))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remember(path: Path, result: quality.UnitResult) -> quality.UnitResult:
    _RESULTS[path] = result
    while len(_RESULTS) > _KEEP_IN_MEMORY:
        _RESULTS.pop(next(iter(_RESULTS)))
    return result


def _load(path: Path) -> quality.UnitResult | None:
    if path in _RESULTS:
        return _RESULTS[path]
    try:
        with open(path, "rb") as fh:
            return _remember(path, pickle.load(fh))
    except (OSError, EOFError, pickle.UnpicklingError):
        return None


def _store(path: Path, result: quality.UnitResult) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def unit_result(path: Path, compute: Callable[[], quality.UnitResult]) -> quality.UnitResult:
    """The unit's result stored at `path`, computed (once, under a lock) if absent."""
    hit = _load(path)
    if hit is not None:
        return hit
    with _locked(path):
        hit = _load(path)  # evaluated by another step while this one waited
        if hit is not None:
            return hit
        result = compute()
        _store(path, result)
    return _remember(path, result)


def evaluate(
    run_id: str,
    conn_factory: Callable[[], contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]],
    database: str,
    catalog: Catalog,
    profiles: list[CountyProfile],
    expectations_dir: Path,
    gx_dir: Path,
    standards_dir: Path,
    profiles_dir: Path,
    checks: tuple[str, ...],
) -> tuple[quality.QualityRun, int, pd.DataFrame | None]:
    """The selected checks on the warehouse's current observations, each unit evaluated once per
    run and state. Returns the run, the number of observations it was evaluated on, and the frame
    when this call read it (None when every unit came from an earlier step)."""
    config = config_digest(expectations_dir, standards_dir, profiles_dir)
    folder = run_folder(gx_dir, run_id)
    frame = None
    with conn_factory() as conn:
        n, state = observation_state(conn)
        paths = {unit: folder / f"{state}-{config}-{unit}.pkl" for unit in quality.units_for(checks)}
        if any(p not in _RESULTS and not p.exists() for p in paths.values()):
            frame = observations(conn, catalog, database, state)

    def frame_of_state() -> pd.DataFrame:
        # A unit found at the check above but gone since (its run folder discarded): read again,
        # only if the observations are still in the same state.
        with conn_factory() as conn:
            if observation_state(conn)[1] != state:
                raise RuntimeError(
                    "观测数据在校验期间发生变化，请重新运行 / the observations changed during validation; run again"
                )
            return observations(conn, catalog, database, state)

    units = {}
    for unit, path in paths.items():
        units[unit] = unit_result(
            path,
            lambda unit=unit: quality.evaluate_unit(
                unit,
                frame if frame is not None else frame_of_state(),
                catalog,
                profiles,
                expectations_dir,
                gx_dir,
            ),
        )
    _sweep(Path(gx_dir) / FOLDER, keep=folder)
    return quality.assemble(checks, units), n, frame


def discard_run(gx_dir: Path, run_id: str) -> None:
    """Remove a run's stored unit results (its last consumer, `quality_results`, has written)."""
    folder = run_folder(gx_dir, run_id)
    for path in list(_RESULTS):
        if path.parent == folder:
            del _RESULTS[path]
    shutil.rmtree(folder, ignore_errors=True)


def _sweep(base: Path, keep: Path, max_age_s: float = STALE_AFTER_S) -> None:
    """Remove run folders untouched for `max_age_s` (runs that ended before `quality_results`)."""
    if not base.exists():
        return
    now = time.time()
    for folder in base.iterdir():
        if folder == keep or not folder.is_dir():
            continue
        with contextlib.suppress(OSError):
            if now - folder.stat().st_mtime > max_age_s:
                shutil.rmtree(folder, ignore_errors=True)
