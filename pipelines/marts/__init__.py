"""Progress and accountability marts: plain functions (no Dagster import) that turn verdicts,
returns and plans into what leaders manage. Thin Dagster wrappers live in `pipelines.assets.marts`."""
