#!/usr/bin/env bash
# A local dask.distributed cluster for county runs on the dask executor (docs/scaling.md):
# one scheduler and N single-threaded worker processes on this machine.
#
#   scripts/dask-cluster.sh [WORKERS] [PORT]      (defaults: 2 workers, port 8786)
#
# then, in another shell with the same WUCHUANG_* settings and DAGSTER_HOME:
#   WUCHUANG_EXECUTOR=dask WUCHUANG_DASK_SCHEDULER=tcp://127.0.0.1:8786 \
#     .venv/bin/dagster job execute -m pipelines.definitions -j monitoring_job \
#     --tags '{"dagster/partition": "511923"}'
#
# Workers execute pipeline steps in their own process, so they must see the same folders (shared
# storage) and environment as the Dagster instance. One thread per worker: a step scopes its
# process to one county (pipelines/warehouse/counties.py). On several machines, start the scheduler
# on one and `dask worker tcp://<scheduler>:<port> --nthreads 1` on each of the others.
# Ctrl-C (or SIGTERM) stops the scheduler and the workers.
set -euo pipefail
WORKERS="${1:-2}"
PORT="${2:-8786}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${WUCHUANG_VENV_BIN:-$HERE/.venv/bin}"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$BIN/dask" scheduler --host 127.0.0.1 --port "$PORT" --no-dashboard &
pids+=($!)
"$BIN/dask" worker "tcp://127.0.0.1:$PORT" --nworkers "$WORKERS" --nthreads 1 --no-dashboard \
  --name wuchuang-worker &
pids+=($!)
echo "dask scheduler tcp://127.0.0.1:$PORT, $WORKERS worker process(es); Ctrl-C stops them"
wait
