"""The DuckDB warehouse: table registry with column docs, writer connection, published snapshots."""
