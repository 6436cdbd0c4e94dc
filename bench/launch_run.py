"""Prepare county runs as the run launcher finds them: `python -m bench.launch_run CODE ...`.

The daemon holds the job's snapshot; when a sensor or a backfill asks for a county run it creates
the run in the instance and hands it to the instance's run launcher. This module does that first
half once for every county (loads the definitions, creates one run per partition key in the
instance of DAGSTER_HOME) and prints one JSON line per county: `{"code": …, "run_id": …, "args":
<serialised ExecuteRunArgs>}` — exactly what `pipelines.run_worker.WarmRunLauncher.launch_run`
sends to the warm run worker, and the argument of `python -m dagster api execute_run` (what
Dagster's DefaultRunLauncher has the code server run in a fresh process). `bench/province.py`
then times only what a user waits for per run: the run handed to the already-running warm worker
(or, `--launcher spawn`, the spawned `dagster api execute_run` process from its start), to the end
of the run.
"""

from __future__ import annotations

import json
import sys


def main(codes: list[str]) -> None:
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import serialize_value

    instance = dg.DagsterInstance.get()
    repo = ReconstructableRepository.for_module("pipelines.definitions", "defs")
    recon = repo.get_reconstructable_job("monitoring_job")
    job_def = recon.get_definition()
    origin = recon.get_python_origin()
    ref = instance.get_ref()
    for code in codes:
        run = instance.create_run_for_job(
            job_def=job_def, tags={"dagster/partition": code, "wuchuang/trigger": "bench"},
            job_code_origin=origin,
        )  # fmt: skip
        args = ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=ref)
        print(json.dumps({"code": code, "run_id": run.run_id, "args": serialize_value(args)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
