"""Benchmarks: ingest throughput, incremental cost and warehouse scale.

Run with `make bench` (= `.venv/bin/python -m bench`); see docs/benchmarks.md. Each benchmark is
one module exposing `run(config) -> dict`; `bench.__main__` runs them, prints a table of ratios
and writes the figures as JSON under bench/results/ (git-ignored).
"""
