"""Indicator monitoring for city creation campaigns (创建工作).

Domain logic lives in plain modules (catalog, profile, reporting_calendar, returns, validation,
marts); Dagster definitions are thin wrappers in `pipelines.assets` and `pipelines.definitions`.
"""
