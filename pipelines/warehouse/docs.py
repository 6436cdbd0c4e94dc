"""Render the warehouse documentation (docs/warehouse.md) from the table registry.

python -m pipelines.warehouse.docs > docs/warehouse.md
"""

from __future__ import annotations

import sys

import pipelines.warehouse.tables  # noqa: F401
from pipelines.warehouse.schema import REGISTRY, SCHEMAS

HEADER = """# Warehouse tables / 数据仓库表

Generated from `pipelines/warehouse/tables/` (and, for the schemas `archive`, `supervision` and
`plan_process`, from `pipelines/archive/tables.py` and `pipelines/plan_process/tables.py`) by
`python -m pipelines.warehouse.docs`; a test
fails when this file is out of date. The same text is stored as DuckDB comments, so in SQL:

```sql
SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'dim';
```

Dashboards and ad-hoc SQL read the latest **published snapshot** (`data/warehouse/published/`),
never the pipeline's working file.
"""


def _domain_tables() -> list:
    """Tables declared by a domain module beside the registry (their own schemas, created by their
    own assets): the archive (issue 16) and the plan's process (issue 17)."""
    from pipelines.archive import tables as archive_tables
    from pipelines.plan_process import tables as plan_tables

    return [*archive_tables.TABLES, *plan_tables.TABLES]


def render() -> str:
    out = [HEADER]
    domain = _domain_tables()
    extra = [s for s in dict.fromkeys(t.schema for t in domain) if s not in SCHEMAS]
    for schema in (*SCHEMAS, *extra):
        tables = [t for t in (*REGISTRY.values(), *domain) if t.schema == schema]
        if not tables:
            continue
        out.append(f"\n## Schema `{schema}`\n")
        for t in sorted(tables, key=lambda t: t.name):
            out.append(f"\n### `{t.qualified}`\n\n{t.doc}\n")
            if t.primary_key:
                out.append(f"\nKey: `{', '.join(t.primary_key)}`\n")
            out.append("\n| column | type | description |\n|---|---|---|\n")
            for c in t.columns:
                out.append(f"| `{c.name}` | {c.type} | {c.doc.replace('|', '/')} |\n")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
