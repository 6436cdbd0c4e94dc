"""Dagster resources: the project settings and the single-writer warehouse."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import Settings
from pipelines.warehouse import connection, publish


class WarehouseResource(dg.ConfigurableResource):
    """Paths of the working database and the published snapshots.

    Defaults come from `Settings.from_env()`; the pipeline is the only writer and runs assets in
    one process (in_process_executor), so connections are opened per asset and closed after.
    """

    database: str
    published_dir: str
    keep_snapshots: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            database=str(settings.warehouse_path),
            published_dir=str(settings.published_dir),
            keep_snapshots=settings.keep_snapshots,
        )

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connection.writer(Path(self.database)) as conn:
            yield conn

    def publish(self) -> Path:
        return publish.publish(Path(self.database), Path(self.published_dir), self.keep_snapshots)
