"""The read-only SQL console's attack list: every way to change data or read outside the warehouse
is refused (or bounded) with a clear message in Chinese and English; honest queries still work."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from dashboards import sql_guard
from pipelines.warehouse.publish import latest_snapshot


@pytest.fixture
def snap(full) -> Path:
    return latest_snapshot(full.published_dir)


def _refused(snap: Path, sql: str, code: str | None = None, **kw) -> sql_guard.GuardError:
    with pytest.raises(sql_guard.GuardError) as info:
        sql_guard.run_query(snap, sql, **kw)
    err = info.value
    assert err.zh and err.en, "message must be in Chinese and English"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.zh)
    if code:
        assert err.code == code, (sql, err.code, str(err))
    return err


def test_select_runs_and_returns_a_frame(snap):
    r = sql_guard.run_query(snap, "SELECT campaign_code, name_zh FROM dim.campaign ORDER BY 1")
    assert len(r.frame) == 5 and list(r.frame.columns) == ["campaign_code", "name_zh"]
    assert not r.truncated


@pytest.mark.parametrize(
    "sql",
    [
        "WITH c AS (SELECT * FROM dim.campaign) SELECT count(*) FROM c",
        "DESCRIBE dim.campaign",
        "SHOW ALL TABLES",
        "SUMMARIZE dim.campaign",
        "EXPLAIN SELECT * FROM dim.campaign",
        "FROM dim.campaign LIMIT 2",
        "SELECT 'read_csv(''/etc/passwd'')' AS harmless_text -- read_text( in a comment",
    ],
)
def test_read_only_query_forms_are_accepted(snap, sql):
    assert len(sql_guard.run_query(snap, sql).frame) >= 1


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO dim.campaign VALUES ('x', 'x', 'x')",
        "UPDATE dim.campaign SET name_zh = 'x'",
        "DELETE FROM dim.campaign",
        "CREATE TABLE dim.x (a INT)",
        "CREATE VIEW v AS SELECT 1",
        "CREATE MACRO m(a) AS a",
        "DROP TABLE dim.campaign",
        "ALTER TABLE dim.campaign ADD COLUMN x INT",
        "ATTACH '/tmp/other.duckdb' AS other",
        "ATTACH ':memory:' AS m",
        "DETACH other",
        "COPY dim.campaign TO '/tmp/leak.csv'",
        "COPY dim.campaign FROM '/etc/passwd'",
        "EXPORT DATABASE '/tmp/leak'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA version",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET memory_limit",
        "SET VARIABLE x = 1",
        "USE dim",
        "CALL pragma_version()",
        "CHECKPOINT",
        "BEGIN TRANSACTION",
        "EXPLAIN ANALYZE COPY dim.campaign TO '/tmp/leak.csv'",
        "VACUUM",
    ],
)
def test_writes_ddl_attach_copy_extensions_and_settings_are_refused(snap, sql):
    _refused(snap, sql, "statement_type")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM read_blob('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_parquet('/tmp/x.parquet')",
        "SELECT * FROM parquet_scan('/tmp/x.parquet')",
        "SELECT * FROM read_json_auto('/tmp/x.json')",
        "SELECT * FROM sniff_csv('/etc/passwd')",
        "SELECT * FROM \"read_csv\"('/etc/passwd')",
        "SELECT * FROM main.read_text ('/etc/hostname')",
        "SELECT * FROM sqlite_scan('/tmp/x.db', 't')",
        "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
        "SELECT current_setting('temp_directory')",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM duckdb_secrets()",
        "SELECT getenv('HOME')",
    ],
)
def test_reading_files_other_databases_or_settings_is_refused(snap, sql):
    _refused(snap, sql, "blocked_function")


@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM '/etc/passwd'", "SELECT * FROM dim.campaign, '/etc/hostname'", "FROM '/etc/passwd'"],
)
def test_a_file_path_used_as_a_table_is_refused(snap, sql):
    _refused(snap, sql, "file_as_table")


def test_several_statements_are_refused(snap):
    _refused(snap, "SELECT 1; DROP TABLE dim.campaign", "multiple_statements")
    _refused(snap, "SELECT 1; SELECT 2", "multiple_statements")


def test_empty_and_malformed_sql_get_a_message(snap):
    _refused(snap, "   ;  ", "empty")
    _refused(snap, "SELEC * FORM x", "syntax")


def test_hardened_connection_cannot_read_files_even_without_the_text_checks(snap):
    """Defence in depth: the settings alone block file access and cannot be undone."""
    conn = sql_guard.connect_hardened(snap)
    try:
        with pytest.raises(duckdb.Error):
            conn.execute("SELECT * FROM read_text('/etc/hostname')").fetchall()
        with pytest.raises(duckdb.Error):
            conn.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error):
            conn.execute("COPY (SELECT 1) TO '/tmp/wuchuang_leak.csv'")
        with pytest.raises(duckdb.Error):
            conn.execute("CREATE TABLE dim.x (a INT)")
        settings = dict(conn.execute("SELECT name, value FROM duckdb_settings()").fetchall())
        assert settings["enable_external_access"] == "false"
        assert settings["lock_configuration"] == "true"
        assert settings["autoload_known_extensions"] == "false"
        assert settings["autoinstall_known_extensions"] == "false"
    finally:
        conn.close()
    assert not Path("/tmp/wuchuang_leak.csv").exists()


def test_hardening_settings_exist_in_this_duckdb():
    conn = duckdb.connect()
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM duckdb_settings()").fetchall()}
    finally:
        conn.close()
    assert {h[0] for h in sql_guard.HARDENING} <= names


def test_data_is_unchanged_after_the_attacks(snap):
    before = sql_guard.run_query(snap, "SELECT count(*) AS n FROM dim.campaign").frame["n"][0]
    for sql in (
        "DELETE FROM dim.campaign",
        "DROP TABLE dim.campaign",
        "UPDATE dim.campaign SET name_zh = ''",
    ):
        with pytest.raises(sql_guard.GuardError):
            sql_guard.run_query(snap, sql)
    assert sql_guard.run_query(snap, "SELECT count(*) AS n FROM dim.campaign").frame["n"][0] == before == 5


def test_row_cap_truncates_large_results(snap):
    r = sql_guard.run_query(snap, "SELECT * FROM range(100000)", row_cap=1000)
    assert len(r.frame) == 1000 and r.truncated


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM range(10000000) a, range(10000000) b",  # fits in memory, runs for ever
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT max(n) FROM t",
    ],
)
def test_runaway_queries_are_interrupted_at_the_time_limit(snap, sql):
    started = time.monotonic()
    err = _refused(snap, sql, timeout_s=1.0)
    assert isinstance(err, sql_guard.QueryTimeout)
    assert time.monotonic() - started < 10


def test_schema_browser_lists_column_docs(snap):
    cols = sql_guard.schema_columns(snap)
    row = cols[(cols["table_name"] == "verdict") & (cols["column_name"] == "margin")].iloc[0]
    assert "threshold" in row["comment"]
    assert {"dim", "core", "compliance"} <= set(cols["schema_name"])


def test_every_example_query_passes_the_guard_and_runs(snap):
    for _zh, _en, sql in sql_guard.EXAMPLE_QUERIES:
        assert sql_guard.run_query(snap, sql).frame is not None


def test_a_second_console_connection_sharing_the_locked_instance_is_still_hardened(snap):
    first = sql_guard.connect_hardened(snap)
    try:
        second = sql_guard.connect_hardened(snap)  # SET fails (locked); verification passes
        try:
            with pytest.raises(duckdb.Error):
                second.execute("SELECT * FROM read_text('/etc/hostname')").fetchall()
        finally:
            second.close()
        assert sql_guard.run_query(snap, "SELECT 1 AS one").frame["one"][0] == 1
    finally:
        first.close()


def test_an_interrupt_landing_before_execution_starts_still_stops_the_query(snap):
    """With a near-zero limit the first interrupt can come before DuckDB runs anything; the watchdog
    keeps interrupting, so the runaway query is still stopped."""
    started = time.monotonic()
    for _ in range(5):
        err = _refused(
            snap,
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT max(n) FROM t",
            timeout_s=0.001,
        )
        assert isinstance(err, sql_guard.QueryTimeout)
    assert time.monotonic() - started < 20
