"""The pipeline's writes in one process, for the fault-injection and concurrency tests.

`python -m tests.ops.pipeline_child` does what `monitoring_job` does to the warehouse, in the same
order and through the same functions as the assets (dimension rows, `ingest_return_files`,
`publish`), with folders from the WUCHUANG_* environment variables. It prints `stage <name>`
before each step so a test can kill it at a chosen moment.
"""

import sys


def stage(name: str) -> None:
    sys.stdout.write(f"stage {name}\n")
    sys.stdout.flush()


def run_pipeline() -> None:
    from pipelines import dimensions
    from pipelines.assets.returns import ingest_return_files
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.resources import WarehouseResource
    from pipelines.settings import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    warehouse = WarehouseResource.from_settings(settings)
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    stage("dimensions")
    for rows in (
        dimensions.catalog_rows(catalog),
        dimensions.profile_rows(catalog, profiles),
        dimensions.calendar_rows(profiles),
    ):
        with warehouse.get_connection() as conn:
            dimensions.write_rows(conn, rows)
    stage("ingest")
    ingest_return_files(warehouse)
    stage("publish")
    warehouse.publish()
    stage("done")


if __name__ == "__main__":
    run_pipeline()
