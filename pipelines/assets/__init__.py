"""Dagster assets, one module per domain. Each module exposes `assets` (and optionally `checks`)."""
