"""Dagster resources: the project settings and the single-writer warehouse."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pipelines.settings import Settings
from pipelines.warehouse import connection, counties, publish, union


class WarehouseResource(dg.ConfigurableResource):
    """Paths of the working database and the published snapshots.

    Defaults come from `Settings.from_env()`. Inside a Dagster run the working database is opened
    once for the run (`_anchor`, at the first `get_connection`) and every step gets its own
    connection to that open database (`cursor()`: a separate DuckDB connection with its own
    transactions and registrations, closed after the step); the anchor is closed, and the database
    checkpointed, when the run's resources are torn down. Opening the file, reading its catalog and
    checking the schema once per run instead of once per step saves ~1.3 s of a county run (25
    opens). With the multiprocess or dask executor each step process tears its resources down after
    its step, as before. Outside a run (the CLI, tests) every `get_connection` opens and closes the
    file as before.

    Two modes, decided per run:
    - no partition (`make run`, the CLI, tests): the single working database `database`, published
      as one verified copy (`publish.publish`);
    - a county partition run (tag `dagster/partition` = county code): the county's own working
      database under `<warehouse>/counties/<code>/`, the step scoped to that county
      (`counties.county_scope`: its profile alone, its GX folder), and publishing that county's
      snapshot plus a new union file for the readers (`union.publish_county`). Counties are
      separate files, so county runs can write at the same time.
    """

    database: str
    published_dir: str
    keep_snapshots: int = 3
    _county: str = PrivateAttr(default="")
    _county_database: str = PrivateAttr(default="")
    _scope: ExitStack | None = PrivateAttr(default=None)
    _in_run: bool = PrivateAttr(default=False)
    _anchor: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = True
        run = context.run
        code = (run.tags.get(counties.PARTITION_TAG) or "") if run is not None else ""
        if not code:
            return
        self._scope = ExitStack()
        self._county_database = str(self._scope.enter_context(counties.county_scope(code)))
        self._county = code

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = False
        anchor, self._anchor = self._anchor, None
        if anchor is not None:
            anchor.close()
        if self._scope is not None:
            self._scope.close()
            self._scope = None

    @property
    def county(self) -> str:
        """The county of this run ('' when the run is not partitioned)."""
        return self._county

    @property
    def database_path(self) -> Path:
        return Path(self._county_database or self.database)

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            database=str(settings.warehouse_path),
            published_dir=str(settings.published_dir),
            keep_snapshots=settings.keep_snapshots,
        )

    @classmethod
    @contextmanager
    def for_county(cls, settings: Settings, code: str) -> Iterator["WarehouseResource"]:
        """The resource as a county run sees it, for work outside a Dagster run (the CLI's ingest
        and re-run of chosen files): the county's working database, the process scoped to the
        county (`counties.county_scope`) until the block ends."""
        res = cls.from_settings(settings)
        with counties.county_scope(code) as database:
            res._county, res._county_database = code, str(database)
            yield res

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self._in_run:
            with connection.writer(self.database_path) as conn:
                yield conn
            return
        if self._anchor is None:
            self._anchor = connection.open_writer(self.database_path)
        conn = self._anchor.cursor()
        try:
            yield conn
        finally:
            conn.close()  # a transaction the step left open is rolled back with its connection

    def publish(self) -> Path:
        if self._county:
            return union.publish_county(
                self.database_path, self._county, Path(self.published_dir), self.keep_snapshots
            )
        return publish.publish(Path(self.database), Path(self.published_dir), self.keep_snapshots)
