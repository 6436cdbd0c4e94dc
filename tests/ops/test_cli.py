"""The `wuchuang` command line: status, sql (read-only, refusals), publish, ingest, templates."""

from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.warehouse import publish
from tests.ops.conftest import write_raw


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def published(tmp_settings):
    """A tiny working warehouse with a file registry, published once."""
    conn = duckdb.connect(str(tmp_settings.warehouse_path))
    try:
        conn.execute("CREATE SCHEMA core")
        conn.execute(
            "CREATE TABLE core.source_file (file_id VARCHAR, path VARCHAR, size_bytes BIGINT, status VARCHAR, "
            "values_loaded INTEGER, values_quarantined INTEGER, message_zh VARCHAR, message_en VARCHAR)"
        )
        conn.execute(
            "INSERT INTO core.source_file VALUES "
            "('a', '511923/sthjj/ok.xlsx', 3, 'accepted', 12, 0, NULL, NULL), "
            "('b', '511923/wjw/bad.xlsx', 5, 'rejected', 0, 0, '文件“bad.xlsx”：文件为空', 'file ''bad.xlsx'': the file is empty')"
        )
        conn.execute("CREATE SCHEMA dim")
        conn.execute("CREATE TABLE dim.campaign (campaign_code VARCHAR, name_zh VARCHAR)")
        conn.execute(
            "INSERT INTO dim.campaign VALUES ('forest_city', '国家森林城市'), ('eco_county', '省级生态县')"
        )
    finally:
        conn.close()
    publish.publish(tmp_settings.warehouse_path, tmp_settings.published_dir)
    return tmp_settings


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_shows_publish_rejects_and_pending_files(published, capsys, dagster_home):
    raw = published.raw_dir
    (raw / "511923" / "sthjj").mkdir(parents=True)
    (raw / "511923" / "sthjj" / "ok.xlsx").write_bytes(b"abc")  # registered, same size
    (raw / "511923" / "sthjj" / "new.xlsx").write_bytes(b"new file")  # not registered yet
    (raw / "README.md").write_text("not a return")
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert "已发布快照 / published snapshot: warehouse-" in out
    assert "rejected" in out and "文件为空" in out and "the file is empty" in out
    assert "files pending" in out and ": 1\n" in out
    assert "511923/sthjj/new.xlsx" in out
    assert "ok.xlsx\n" not in out.split("files pending")[1]
    assert "last run: 无 none" in out


def test_status_without_a_snapshot_says_so_and_fails(tmp_settings, capsys, dagster_home):
    code, out, err = run(capsys, "status")
    assert code == 1
    assert "尚未发布数据快照" in err and "no published snapshot" in err
    assert "Traceback" not in err


def test_sql_prints_a_table_from_the_snapshot(published, capsys):
    code, out, _ = run(capsys, "sql", "SELECT campaign_code, name_zh FROM dim.campaign ORDER BY 1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split(" | ")[0].strip() == "campaign_code"
    assert "国家森林城市" in out and "(2 行 rows)" in out


def test_sql_csv_output(published, capsys):
    code, out, _ = run(capsys, "sql", "SELECT campaign_code FROM dim.campaign ORDER BY 1", "--csv")
    assert code == 0
    assert out.splitlines() == ["campaign_code", "eco_county", "forest_city"]


def test_sql_row_cap_is_announced(published, capsys):
    code, out, err = run(capsys, "sql", "SELECT * FROM range(50)", "--max-rows", "5", "--csv")
    assert code == 0
    assert len(out.splitlines()) == 6
    assert "truncated" in err


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM dim.campaign",
        "DROP TABLE dim.campaign",
        "CREATE TABLE x AS SELECT 1",
        "ATTACH '/tmp/other.duckdb' AS o",
        "COPY dim.campaign TO '/tmp/out.csv'",
        "SELECT * FROM read_text('/etc/passwd')",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SELECT 1; DELETE FROM dim.campaign",
    ],
)
def test_sql_refuses_anything_but_reading_the_warehouse(published, capsys, statement):
    code, out, err = run(capsys, "sql", statement)
    assert code == 2
    assert "Traceback" not in err and err.strip()
    assert " / " in err  # Chinese / English
    snap = publish.latest_snapshot(published.published_dir)
    conn = duckdb.connect(str(snap), read_only=True)
    assert conn.execute("SELECT count(*) FROM dim.campaign").fetchone()[0] == 2
    conn.close()


def test_sql_on_a_bad_query_is_a_user_error(published, capsys):
    code, _, err = run(capsys, "sql", "SELECT nope FROM dim.campaign")
    assert code == 2 and "Traceback" not in err


def test_sql_fallback_guard_is_read_only(published):
    snap = publish.latest_snapshot(published.published_dir)
    cols, rows, truncated = cli._fallback_query(snap, "SELECT count(*) AS n FROM dim.campaign", 10)
    assert cols == ["n"] and rows == [(2,)] and not truncated
    for bad in ("DELETE FROM dim.campaign", "SELECT * FROM read_text('/etc/passwd')", "SELECT 1; SELECT 2"):
        with pytest.raises(cli.CliError):
            cli._fallback_query(snap, bad, 10)


def test_publish_command_publishes_a_new_snapshot(published, capsys):
    before = publish.latest_snapshot(published.published_dir)
    code, out, _ = run(capsys, "publish")
    assert code == 0
    after = publish.latest_snapshot(published.published_dir)
    assert after != before and after.name in out
    assert "2 表 tables" in out


def test_publish_and_ingest_refuse_while_a_run_is_in_progress(published, capsys, dagster_home):
    import dagster as dg

    from pipelines.jobs import rerun_returns_job

    instance = dg.DagsterInstance.get()
    busy = instance.create_run_for_job(rerun_returns_job)  # started by the daemon: no wuchuang/pid tag
    instance.handle_run_event(
        busy.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name=busy.job_name, message="start"
        ),
    )
    before = publish.latest_snapshot(published.published_dir)
    for command in ("publish", "ingest"):
        code, _, err = run(capsys, command)
        assert code == 3 and "a run is in progress" in err and busy.run_id[:8] in err
    assert publish.latest_snapshot(published.published_dir) == before
    code, _, _ = run(capsys, "publish", "--force")
    assert code == 0


def test_publish_without_a_warehouse_is_a_clear_failure(tmp_settings, capsys):
    code, _, err = run(capsys, "publish")
    assert code == 1
    assert "工作数据库不存在" in err and "does not exist" in err and "Traceback" not in err


def test_ingest_refuses_a_file_outside_the_raw_folder(tmp_settings, capsys, dagster_home, tmp_path):
    stray = tmp_path / "elsewhere.xlsx"
    stray.write_bytes(b"x")
    code, _, err = run(capsys, "ingest", str(stray))
    assert code == 2 and "不在报表接收目录" in err and "not inside the raw folder" in err


def test_ingest_of_a_missing_file_is_a_user_error(tmp_settings, capsys, dagster_home):
    code, _, err = run(capsys, "ingest", "no/such/file.xlsx")
    assert code == 2 and "找不到文件" in err


def test_ingest_when_the_warehouse_is_locked_exits_busy(tmp_settings, capsys, dagster_home):
    import subprocess
    import sys

    duckdb.connect(str(tmp_settings.warehouse_path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({str(tmp_settings.warehouse_path)!r}); print('held', flush=True); "
            "sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = run(capsys, "ingest")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert code == 3 and "another process" in err


@pytest.mark.slow
def test_ingest_runs_the_job_publishes_and_reruns_a_period(tmp_settings, capsys, dagster_home, small_corpus):
    write_raw(small_corpus, tmp_settings.raw_dir)
    code, out, err = run(capsys, "ingest")
    assert code == 0, err
    assert "▶ departmental_returns" in out and "✓ published_warehouse" in out and "成功 succeeded" in out
    conn = publish.connect_readonly(tmp_settings.published_dir)
    files, values = conn.execute("SELECT count(*), sum(values_loaded) FROM core.source_file").fetchone()
    period = conn.execute("SELECT min(period_code) FROM core.submission").fetchone()[0]
    conn.close()
    assert files == len(small_corpus.files) and values > 0

    code, out, _ = run(capsys, "status")
    assert "last run: SUCCESS" in out and "files pending (in" in out and ": 0\n" in out

    code, out, err = run(capsys, "ingest", "--period", period)
    assert code == 0, err
    assert "re-run" in out and "✓ published_warehouse" in out
    conn = publish.connect_readonly(tmp_settings.published_dir)
    assert conn.execute("SELECT count(*), sum(values_loaded) FROM core.source_file").fetchone() == (
        files,
        values,
    )
    conn.close()


def test_templates_command_writes_forms(tmp_settings, capsys, tmp_path):
    code, out, err = run(capsys, "templates", "--period", "2013-06", "--out", str(tmp_path / "forms"))
    assert code == 0, err
    forms = list((tmp_path / "forms").glob("*.xlsx"))
    assert forms and f"wrote {len(forms)} forms" in out


def test_templates_with_a_bad_period_is_a_user_error(tmp_settings, capsys, tmp_path):
    code, _, err = run(capsys, "templates", "--period", "2013-13", "--out", str(tmp_path / "forms"))
    assert code == 2 and "报告期无效" in err and "Traceback" not in err
