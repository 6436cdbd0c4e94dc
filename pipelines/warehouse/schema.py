"""Table registry: every warehouse table with its columns and their documentation.

Domain modules declare their tables with `table(...)`; `create_all` creates them (with DuckDB
COMMENTs, so `duckdb_columns()` shows the docs to analysts) and `docs/warehouse.md` is generated
from the same registry (`python -m pipelines.warehouse.docs`), so the docs cannot drift.

Schemas: `dim` (catalog, profile, calendar), `core` (files, returns, observations, quarantine),
`quality` (check results, rule violations, outliers), `compliance` (verdicts), `marts`
(readiness, forecasts, accountability, plan, rectification), `ops` (runs, publishing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

SCHEMAS = ("dim", "core", "quality", "compliance", "marts", "ops")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def ddl(self) -> str:
        cols = [f'"{c.name}" {c.type}{"" if c.nullable else " NOT NULL"}' for c in self.columns]
        if self.primary_key:
            cols.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        return f"CREATE TABLE IF NOT EXISTS {self.qualified} (\n  " + ",\n  ".join(cols) + "\n)"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


REGISTRY: dict[str, Table] = {}


def table(schema: str, name: str, doc: str, columns: list[tuple], primary_key: tuple[str, ...] = ()) -> Table:
    """Declare a table. Each column is (name, type, doc) or (name, type, doc, nullable)."""
    if schema not in SCHEMAS:
        raise ValueError(f"unknown schema {schema}")
    t = Table(schema, name, doc, tuple(Column(*c) for c in columns), primary_key)
    REGISTRY[t.qualified] = t
    return t


def _escape(text: str) -> str:
    return text.replace("'", "''")


# Schemas whose tables hold history that no run can rebuild: migrated in place, never dropped.
DURABLE_SCHEMAS = ("core",)


def fingerprint(tables: list[Table]) -> str:
    """A hash of the declared tables, columns and docs: equal fingerprints need no schema work."""
    text = "\n".join(
        t.ddl() + t.doc + "".join(c.doc for c in t.columns) for t in sorted(tables, key=lambda t: t.qualified)
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create_all(conn: duckdb.DuckDBPyConnection, tables: list[Table] | None = None) -> None:
    """Create schemas and tables (default: all registered) with comments, migrating old layouts.

    With the default (all tables), a fingerprint of the registry is stored in `ops.schema_state`, so
    opening an up-to-date warehouse costs one query. A table whose columns differ from its declaration
    is migrated: in `core` (history) missing columns are added; elsewhere (rebuilt by every run) the
    table is dropped and recreated.
    """
    # Import the modules that declare tables so the registry is complete.
    import pipelines.warehouse.tables  # noqa: F401

    full = tables is None
    todo = list(REGISTRY.values()) if tables is None else tables
    fp = fingerprint(todo)
    if full:
        exists = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'schema_state'"
        ).fetchone()[0]
        if exists and conn.execute("SELECT max(fingerprint) FROM ops.schema_state").fetchone()[0] == fp:
            return
    for s in SCHEMAS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    existing: dict[str, list[str]] = {}
    for schema, name, column in conn.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() ORDER BY column_index"
    ).fetchall():
        existing.setdefault(f"{schema}.{name}", []).append(column)
    for t in todo:
        have = existing.get(t.qualified)
        if have is not None and have != t.column_names:
            if t.schema in DURABLE_SCHEMAS:
                for c in t.columns:
                    if c.name not in have:
                        conn.execute(f'ALTER TABLE {t.qualified} ADD COLUMN "{c.name}" {c.type}')
            else:
                conn.execute(f"DROP TABLE {t.qualified} CASCADE")
        conn.execute(t.ddl())
        conn.execute(f"COMMENT ON TABLE {t.qualified} IS '{_escape(t.doc)}'")
        for c in t.columns:
            conn.execute(f"COMMENT ON COLUMN {t.qualified}.\"{c.name}\" IS '{_escape(c.doc)}'")
    if full:
        conn.execute("CREATE TABLE IF NOT EXISTS ops.schema_state (fingerprint VARCHAR)")
        conn.execute("DELETE FROM ops.schema_state")
        conn.execute("INSERT INTO ops.schema_state VALUES (?)", [fp])


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, or ROLLBACK and re-raise on any error: nothing is half-written."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    t: Table,
    rows: list[tuple] | list[dict],
    where: str | None = None,
    params: list | None = None,
) -> int:
    """Delete (all rows, or those matching `where`) and insert `rows`. Call inside a transaction.

    Rows go in as one Arrow table (NULLs stay NULL, unlike a pandas float column), which is orders of
    magnitude faster than executemany.
    """
    conn.execute(f"DELETE FROM {t.qualified}" + (f" WHERE {where}" if where else ""), params or [])
    if not rows:
        return 0
    names = t.column_names
    if isinstance(rows[0], dict):
        rows = [tuple(r.get(n) for n in names) for r in rows]  # type: ignore[union-attr]
    cols = ", ".join(f'"{n}"' for n in names)
    try:
        columns = list(zip(*rows, strict=True))
        arrow = pa.table({n: pa.array(list(values)) for n, values in zip(names, columns, strict=True)})
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        placeholders = ", ".join("?" for _ in names)
        conn.executemany(f"INSERT INTO {t.qualified} ({cols}) VALUES ({placeholders})", rows)
        return len(rows)
    conn.register("_replace_rows", arrow)
    try:
        conn.execute(f"INSERT INTO {t.qualified} ({cols}) SELECT {cols} FROM _replace_rows")
    finally:
        conn.unregister("_replace_rows")
    return len(rows)
