# Two commands do all the set-up on a fresh machine (see README):
#   make run    install into .venv, build the warehouse from the bundled sample, publish it
#   make test   install into .venv, lint, run the whole test suite (browser tests included)
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: run test lint dev dashboard bench dask-cluster install browser-deps clean

$(STAMP): pyproject.toml
	@$(PY) -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>/dev/null || { echo "需要 Python 3.11+ / Python 3.11+ is required (found: $(PY))"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m pipelines.sample --out data/raw
	$(BIN)/dagster job execute -m pipelines.definitions -j monitoring_job
	$(BIN)/wuchuang users demo
	$(BIN)/wuchuang status

browser-deps:
	@bash scripts/ensure-browser.sh

test: $(STAMP) browser-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

dev: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1

dashboard: $(STAMP)
	$(BIN)/streamlit run dashboards/streamlit_app.py --server.address=127.0.0.1

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# A local dask scheduler and two single-threaded workers for county runs (docs/scaling.md).
dask-cluster: $(STAMP)
	bash scripts/dask-cluster.sh $(or $(WORKERS),2)

clean:
	rm -rf data/warehouse/*.duckdb* data/warehouse/published data/feedback
