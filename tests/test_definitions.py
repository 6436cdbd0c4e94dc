"""The Dagster code location loads, and the dimension assets build a warehouse."""

from __future__ import annotations

import dagster as dg
import duckdb

from pipelines.assets import dimensions
from pipelines.assets.publishing import build_published_warehouse
from pipelines.resources import WarehouseResource
from pipelines.warehouse import publish


def test_definitions_are_loadable():
    from pipelines.definitions import defs

    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("monitoring_job") is not None


def test_dimension_assets_build_and_publish_the_warehouse(tmp_settings):
    wh = WarehouseResource.from_settings(tmp_settings)
    result = dg.materialize(
        [*dimensions.assets, build_published_warehouse(dimensions.assets)], resources={"warehouse": wh}
    )
    assert result.success
    conn = publish.connect_readonly(tmp_settings.published_dir)
    try:
        n = dict(conn.execute("SELECT campaign_code, count(*) FROM dim.requirement GROUP BY 1").fetchall())
        assert (
            sum(n.values()) == 178
        )  # 147 researched + 31 completing the 2007/2010 editions (docs/standards.md)
        assert conn.execute("SELECT count(*) FROM dim.org_unit WHERE level = 'county'").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM dim.period WHERE frequency = 'monthly'").fetchone()[0] == 61
        due = conn.execute(
            "SELECT due_date FROM dim.reporting_deadline WHERE period_code = '2012-09'"
        ).fetchone()[0]
        assert str(due) == "2012-10-12"
        comment = conn.execute(
            "SELECT comment FROM duckdb_columns() WHERE schema_name='dim' AND table_name='requirement' "
            "AND column_name='is_veto'"
        ).fetchone()[0]
        assert "Veto" in comment
    finally:
        conn.close()


def test_rebuilding_dimensions_is_idempotent(tmp_settings):
    wh = WarehouseResource.from_settings(tmp_settings)
    dg.materialize(dimensions.assets, resources={"warehouse": wh})
    dg.materialize(dimensions.assets, resources={"warehouse": wh})
    conn = duckdb.connect(str(tmp_settings.warehouse_path), read_only=True)
    try:
        assert conn.execute("SELECT count(*) FROM dim.requirement").fetchone()[0] == 178
        assert (
            conn.execute("SELECT count(*) FROM dim.assignment").fetchone()[0]
            == conn.execute(
                "SELECT count(DISTINCT (indicator_code, org_code)) FROM dim.assignment"
            ).fetchone()[0]
        )
    finally:
        conn.close()


def test_opening_an_up_to_date_warehouse_skips_schema_work(tmp_path):
    from pipelines.warehouse.schema import create_all

    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        create_all(conn)
        conn.execute("COMMENT ON TABLE dim.campaign IS 'changed by hand'")
        create_all(conn)  # fingerprint unchanged: nothing is redone
        assert (
            conn.execute(
                "SELECT comment FROM duckdb_tables() WHERE schema_name='dim' AND table_name='campaign'"
            ).fetchone()[0]
            == "changed by hand"
        )
    finally:
        conn.close()


def test_changed_table_layouts_are_migrated(tmp_path):
    from pipelines.warehouse.schema import create_all

    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        create_all(conn)
        conn.execute(
            "INSERT INTO core.quarantine (quarantine_id, file_id, scope, reason_code, message_zh, "
            "message_en) VALUES ('q1', 'f1', 'file', 'empty_file', '空', 'empty')"
        )
        conn.execute("ALTER TABLE core.quarantine DROP COLUMN raw_text")  # an older layout
        conn.execute("ALTER TABLE dim.campaign ADD COLUMN obsolete INTEGER")
        conn.execute("DELETE FROM ops.schema_state")
        create_all(conn)
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name='core' AND table_name='quarantine'"
            ).fetchall()
        ]
        assert "raw_text" in cols
        assert conn.execute("SELECT count(*) FROM core.quarantine").fetchone()[0] == 1  # history kept
        dim_cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name='dim' AND table_name='campaign'"
            ).fetchall()
        ]
        assert "obsolete" not in dim_cols  # derived table rebuilt to its declaration
    finally:
        conn.close()


def test_transaction_rolls_back_everything_on_error(tmp_path):
    import pytest

    from pipelines.warehouse.schema import transaction

    conn = duckdb.connect(str(tmp_path / "t.duckdb"))
    try:
        conn.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(ZeroDivisionError), transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            _ = 1 / 0
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES (2)")
        assert conn.execute("SELECT x FROM t").fetchall() == [(2,)]
    finally:
        conn.close()
