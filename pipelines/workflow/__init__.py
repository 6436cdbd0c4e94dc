"""People's workflow around the returns: browser uploads, the office's review and period locks,
rectification answers and the notices outbox. State lives in its own small SQLite store
(`pipelines.workflow.store`), never in the warehouse: the dashboard writes it, the pipeline reads it."""
