"""Validation: data-quality suites (Great Expectations), cross-indicator rules, outliers, compliance.

Plain functions, no Dagster import; `pipelines.assets.validation` wraps them as assets and checks.
"""
