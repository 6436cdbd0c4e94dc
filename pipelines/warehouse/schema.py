"""Table registry: every warehouse table with its columns and their documentation.

Domain modules declare their tables with `table(...)`; `create_all` creates them (with DuckDB
COMMENTs, so `duckdb_columns()` shows the docs to analysts) and `docs/warehouse.md` is generated
from the same registry (`python -m pipelines.warehouse.docs`), so the docs cannot drift.

Schemas: `dim` (catalog, profile, calendar), `core` (files, returns, observations, quarantine),
`quality` (check results, rule violations, outliers), `compliance` (verdicts), `marts`
(readiness, forecasts, accountability, plan, rectification), `ops` (runs, publishing).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

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


def create_all(conn: duckdb.DuckDBPyConnection, tables: list[Table] | None = None) -> None:
    """Create schemas and the given tables (default: all registered), with comments."""
    # Import the modules that declare tables so the registry is complete.
    import pipelines.warehouse.tables  # noqa: F401

    for s in SCHEMAS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    for t in tables or list(REGISTRY.values()):
        conn.execute(t.ddl())
        conn.execute(f"COMMENT ON TABLE {t.qualified} IS '{_escape(t.doc)}'")
        for c in t.columns:
            conn.execute(f"COMMENT ON COLUMN {t.qualified}.\"{c.name}\" IS '{_escape(c.doc)}'")


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    t: Table,
    rows: list[tuple] | list[dict],
    where: str | None = None,
    params: list | None = None,
) -> int:
    """Delete (all rows, or those matching `where`) and insert `rows`. Call inside a transaction."""
    conn.execute(f"DELETE FROM {t.qualified}" + (f" WHERE {where}" if where else ""), params or [])
    if not rows:
        return 0
    names = t.column_names
    if isinstance(rows[0], dict):
        rows = [tuple(r.get(n) for n in names) for r in rows]  # type: ignore[union-attr]
    placeholders = ", ".join("?" for _ in names)
    conn.executemany(f"INSERT INTO {t.qualified} VALUES ({placeholders})", rows)
    return len(rows)
