"""The plan's own process (issue 17): target responsibility letters (目标责任书), inspection points and
their checklists, 督查 / self-inspection results, application and acceptance records and the
consolidation (长效机制) of passed campaigns. Plain functions; Dagster assets in
`pipelines.assets.plan_process`, pages in `dashboards/app_pages/plan.py` and `supervision.py`."""
