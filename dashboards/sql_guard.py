"""The read-only SQL console's guard: plain functions, no Streamlit import.

It must be impossible to change data or to read anything outside the warehouse from the console:

1. the published snapshot is opened ``read_only`` (writes and DDL fail in DuckDB itself);
2. the connection is hardened before any user SQL runs: external access off (no files, no other
   databases, no extension downloads), extension autoload/autoinstall off, community extensions
   off, a memory limit, no spilling to disk, and finally ``lock_configuration`` so no statement can
   undo any of it;
3. the text is parsed with DuckDB's own parser (``extract_statements``): exactly one statement of
   type SELECT (incl. WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE) or an EXPLAIN of such a
   statement is accepted; everything else is refused with a message in Chinese and English;
4. DuckDB's tokenizer finds function calls: file readers (read_csv*, read_parquet, read_json*,
   read_text, read_blob, glob, sniff_csv, *_scan ...), ``query()``/``query_table()`` (SQL in a
   string) and settings/secrets readers are refused, as is a string literal used as a table;
5. results are capped (``fetchmany``) and a watchdog thread interrupts a query that runs too long.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

DEFAULT_ROW_CAP = 5000
DEFAULT_TIMEOUT_S = 10.0
MEMORY_LIMIT = "1GB"

# Applied in this order; lock_configuration last. Each (setting, SQL literal, expected value).
HARDENING: tuple[tuple[str, str, str], ...] = (
    ("enable_external_access", "false", "false"),
    ("autoload_known_extensions", "false", "false"),
    ("autoinstall_known_extensions", "false", "false"),
    ("allow_community_extensions", "false", "false"),
    ("allow_unsigned_extensions", "false", "false"),
    ("max_temp_directory_size", "'0GiB'", "0 bytes"),
    ("memory_limit", f"'{MEMORY_LIMIT}'", ""),
    ("lock_configuration", "true", "true"),
)

# Function names refused wherever they are called (lower case).
BLOCKED_FUNCTIONS = frozenset(
    {
        # file readers and file system
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "parquet_bloom_probe",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_json_objects_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_text",
        "read_blob",
        "read_xlsx",
        "glob",
        "sniff_csv",
        "st_read",
        "iceberg_scan",
        "delta_scan",
        "sqlite_scan",
        "sqlite_attach",
        "postgres_scan",
        "postgres_attach",
        "mysql_scan",
        # SQL hidden in a string
        "query",
        "query_table",
        # settings, secrets, environment
        "current_setting",
        "duckdb_settings",
        "duckdb_secrets",
        "which_secret",
        "getenv",
    }
)

ALLOWED_TYPES = frozenset({duckdb.StatementType.SELECT})


class GuardError(ValueError):
    """A statement the console refuses; carries the message in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en


class QueryTimeout(GuardError):
    pass


@dataclass
class QueryResult:
    frame: pd.DataFrame
    truncated: bool
    row_cap: int
    elapsed_s: float
    statement: str
    columns: list[str] = field(default_factory=list)


_TYPE_MESSAGES = {
    "INSERT": ("写入", "writes"),
    "UPDATE": ("写入", "writes"),
    "DELETE": ("写入", "writes"),
    "MERGE_INTO": ("写入", "writes"),
    "CREATE": ("建表等结构变更（DDL）", "DDL (CREATE)"),
    "CREATE_FUNC": ("建表等结构变更（DDL）", "DDL (CREATE FUNCTION/MACRO)"),
    "ALTER": ("结构变更（DDL）", "DDL (ALTER)"),
    "DROP": ("删除对象（DDL）", "DDL (DROP)"),
    "ATTACH": ("附加其他数据库（ATTACH）", "ATTACH of other databases"),
    "DETACH": ("分离数据库（DETACH）", "DETACH"),
    "COPY": ("COPY 导入导出文件", "COPY to or from files"),
    "COPY_DATABASE": ("COPY 导入导出文件", "COPY DATABASE"),
    "EXPORT": ("EXPORT 导出数据库", "EXPORT DATABASE"),
    "LOAD": ("安装或加载扩展（INSTALL/LOAD）", "INSTALL/LOAD of extensions"),
    "EXTENSION": ("安装或加载扩展（INSTALL/LOAD）", "INSTALL/LOAD of extensions"),
    "PRAGMA": ("PRAGMA 设置", "PRAGMA"),
    "SET": ("修改设置（SET/RESET/USE）", "settings changes (SET/RESET/USE)"),
    "VARIABLE_SET": ("修改设置（SET VARIABLE）", "settings changes (SET VARIABLE)"),
    "CALL": ("CALL 调用", "CALL"),
    "TRANSACTION": ("事务控制", "transaction control"),
    "PREPARE": ("预编译语句", "PREPARE"),
    "EXECUTE": ("执行预编译语句", "EXECUTE"),
    "VACUUM": ("VACUUM", "VACUUM"),
    "ANALYZE": ("ANALYZE", "ANALYZE"),
    "MULTI": ("多语句（如 PIVOT 语句形式）", "multi-statement forms (e.g. the PIVOT statement)"),
}


def _refuse_type(type_name: str) -> GuardError:
    zh, en = _TYPE_MESSAGES.get(type_name, (type_name, type_name))
    return GuardError(
        "statement_type",
        f"只读查询台只接受一条 SELECT / WITH / DESCRIBE / SHOW / EXPLAIN 查询，不允许执行：{zh}",
        f"the read-only console accepts a single SELECT / WITH / DESCRIBE / SHOW / EXPLAIN query; {en} refused",
    )


def _tokens(sql: str) -> list[tuple[str, str]]:
    """(text, kind) for each token, using DuckDB's tokenizer (strings and comments stay whole)."""
    raw = duckdb.tokenize(sql)
    out = []
    for i, (pos, kind) in enumerate(raw):
        end = raw[i + 1][0] if i + 1 < len(raw) else len(sql)
        out.append((sql[pos:end].strip(), kind.name if hasattr(kind, "name") else str(kind)))
    return out


def _check_tokens(sql: str) -> None:
    toks = [t for t in _tokens(sql) if t[1] != "comment"]
    for i, (text, kind) in enumerate(toks):
        nxt = toks[i + 1][0] if i + 1 < len(toks) else ""
        if kind in ("identifier", "keyword") and nxt.startswith("("):
            name = text.strip('"').lower()
            if name in BLOCKED_FUNCTIONS or name.startswith("read_") or name.endswith("_scan"):
                raise GuardError(
                    "blocked_function",
                    f"不允许调用 {name}()：查询台不能读取文件、其他数据库或系统设置",
                    f"{name}() is refused: the console cannot read files, other databases or settings",
                )
        if kind == "string_const" and i > 0 and toks[i - 1][0].lower() in ("from", "join", ","):
            prev_kw = toks[i - 1][0].lower()
            if prev_kw in ("from", "join") or _in_from_clause(toks, i):
                raise GuardError(
                    "file_as_table",
                    "不允许把字符串当作表（读取文件）",
                    "a string used as a table (reading a file) is refused",
                )


def _in_from_clause(toks: list[tuple[str, str]], i: int) -> bool:
    """True if token i sits in a FROM list (after FROM, before WHERE/GROUP/…) at the same depth."""
    depth = 0
    for j in range(i - 1, -1, -1):
        text = toks[j][0].lower()
        if text.startswith(")"):
            depth += 1
        elif text.startswith("("):
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and toks[j][1] == "keyword":
            return text in ("from", "join")
    return False


def check_statement(conn: duckdb.DuckDBPyConnection, sql: str) -> str:
    """Return the single accepted statement's text, or raise GuardError (zh + en)."""
    if not sql or not sql.strip().strip(";").strip():
        raise GuardError("empty", "请输入一条查询语句", "enter a query")
    try:
        statements = conn.extract_statements(sql)
    except duckdb.Error as e:
        raise GuardError("syntax", f"SQL 语法错误：{e}", f"SQL syntax error: {e}") from None
    if len(statements) != 1:
        raise GuardError(
            "multiple_statements",
            f"一次只能执行一条语句（收到 {len(statements)} 条）",
            f"one statement at a time ({len(statements)} given)",
        )
    stmt = statements[0]
    text = stmt.query.strip().rstrip(";").strip()
    kind = stmt.type
    if kind == duckdb.StatementType.EXPLAIN:
        inner = _explained(text)
        try:
            inner_statements = conn.extract_statements(inner)
        except duckdb.Error as e:
            raise GuardError("syntax", f"SQL 语法错误：{e}", f"SQL syntax error: {e}") from None
        if len(inner_statements) != 1 or inner_statements[0].type not in ALLOWED_TYPES:
            raise _refuse_type(inner_statements[0].type.name if inner_statements else "EXPLAIN")
    elif kind not in ALLOWED_TYPES:
        raise _refuse_type(kind.name)
    _check_tokens(text)
    return text


def _explained(text: str) -> str:
    """The statement inside EXPLAIN [ANALYZE] (EXPLAIN ANALYZE runs it, so it is checked too)."""
    raw = duckdb.tokenize(text)
    for i, (pos, _kind) in enumerate(raw):
        end = raw[i + 1][0] if i + 1 < len(raw) else len(text)
        if text[pos:end].strip().lower() not in ("explain", "analyze", "analyse"):
            return text[pos:]
    return ""


def harden(conn: duckdb.DuckDBPyConnection) -> None:
    """Apply HARDENING; if the configuration is already locked, verify it is hardened instead."""
    for name, literal, _expected in HARDENING:
        # Fails when an earlier console connection sharing this database instance already locked it.
        with contextlib.suppress(duckdb.InvalidInputException):
            conn.execute(f"SET {name} = {literal}")
    check = dict(
        conn.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ?",
            [[h[0] for h in HARDENING]],
        ).fetchall()
    )
    for name, _literal, expected in HARDENING:
        if expected and str(check.get(name, "")).lower() != expected:
            raise GuardError(
                "not_hardened",
                f"无法加固只读连接（{name}={check.get(name)}），已拒绝执行",
                f"could not harden the read-only connection ({name}={check.get(name)}); refused",
            )


def connect_hardened(snapshot: Path) -> duckdb.DuckDBPyConnection:
    """Open the published snapshot read-only and harden the connection."""
    conn = duckdb.connect(str(snapshot), read_only=True)
    try:
        harden(conn)
    except Exception:
        conn.close()
        raise
    return conn


def run_query(
    snapshot: Path,
    sql: str,
    row_cap: int = DEFAULT_ROW_CAP,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> QueryResult:
    """Check and run one read-only query on a fresh hardened connection; always closes it."""
    conn = connect_hardened(snapshot)
    try:
        statement = check_statement(conn, sql)
        timed_out, done = threading.Event(), threading.Event()

        def _watchdog() -> None:
            # Keep interrupting until the query returns: one interrupt can land before DuckDB
            # starts executing (then it is a no-op), so a single call is not enough.
            if done.wait(timeout_s):
                return
            timed_out.set()
            while not done.is_set():
                conn.interrupt()
                done.wait(0.05)

        watchdog = threading.Thread(target=_watchdog, name="sql-console-watchdog", daemon=True)
        started = time.monotonic()
        watchdog.start()
        try:
            cur = conn.execute(statement)
            rows = cur.fetchmany(row_cap + 1)
            columns = [d[0] for d in (cur.description or [])]
        except duckdb.InterruptException:
            raise _timeout(timeout_s) from None
        except duckdb.Error as e:
            if timed_out.is_set():
                raise _timeout(timeout_s) from None
            raise _db_error(e) from None
        finally:
            done.set()
            watchdog.join()
        if timed_out.is_set():
            raise _timeout(timeout_s)
        elapsed = time.monotonic() - started
    finally:
        conn.close()
    truncated = len(rows) > row_cap
    rows = rows[:row_cap]
    frame = pd.DataFrame.from_records(rows, columns=_unique(columns))
    return QueryResult(frame, truncated, row_cap, elapsed, statement, columns)


def _unique(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        n = seen.get(c, 0)
        seen[c] = n + 1
        out.append(c if n == 0 else f"{c}_{n}")
    return out


def _timeout(timeout_s: float) -> QueryTimeout:
    return QueryTimeout(
        "timeout",
        f"查询超过 {timeout_s:g} 秒已被中止，请缩小范围或加 LIMIT",
        f"query stopped after {timeout_s:g} s; narrow it or add a LIMIT",
    )


def _db_error(e: duckdb.Error) -> GuardError:
    msg = str(e).splitlines()[0][:300]
    if isinstance(e, duckdb.PermissionException):
        return GuardError(
            "permission",
            f"查询台不能访问仓库以外的内容：{msg}",
            f"the console cannot access anything outside the warehouse: {msg}",
        )
    if isinstance(e, duckdb.OutOfMemoryException):
        return GuardError(
            "memory",
            f"查询超出内存上限 {MEMORY_LIMIT}，请缩小范围",
            f"query exceeded the {MEMORY_LIMIT} memory limit; narrow it",
        )
    return GuardError("query_error", f"查询出错：{msg}", f"query failed: {msg}")


def schema_columns(snapshot: Path) -> pd.DataFrame:
    """Every warehouse column with its documentation (DuckDB comments), for the schema browser."""
    conn = duckdb.connect(str(snapshot), read_only=True)
    try:
        return conn.execute(
            """
            SELECT c.schema_name, c.table_name, t.comment AS table_comment, c.column_name,
                   c.data_type, c.comment
            FROM duckdb_columns() c
            JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
            WHERE c.database_name = current_database() AND NOT c.internal
            ORDER BY c.schema_name, c.table_name, c.column_index
            """
        ).df()
    finally:
        conn.close()


EXAMPLE_QUERIES: tuple[tuple[str, str, str], ...] = (
    (
        "各创建项目的要求条数",
        "Requirements per campaign",
        "SELECT c.name_zh, count(*) AS requirements, count(*) FILTER (WHERE r.is_veto) AS veto_items\n"
        "FROM dim.requirement r JOIN dim.campaign c USING (campaign_code)\nGROUP BY ALL ORDER BY 2 DESC",
    ),
    (
        "最新评价结果分布",
        "Latest verdicts by status",
        "SELECT campaign_code, status, count(*) AS n\nFROM compliance.verdict\n"
        "WHERE grain = 'year' AND period_code = (SELECT max(period_code) FROM compliance.verdict WHERE grain = 'year')\n"
        "GROUP BY ALL ORDER BY 1, 2",
    ),
    (
        "迟报最多的单位",
        "Units with most late returns",
        "SELECT o.name_zh, count(*) FILTER (WHERE NOT s.is_on_time) AS late, count(*) AS returns\n"
        "FROM core.submission s JOIN dim.org_unit o USING (org_code)\nGROUP BY ALL ORDER BY late DESC LIMIT 20",
    ),
    (
        "某指标的数据来源（到单元格）",
        "Lineage of an indicator's values (to the cell)",
        "SELECT o.period_code, o.org_code, o.value, f.file_name, o.sheet, o.cell, o.revision_no\n"
        "FROM core.observation o JOIN core.source_file f USING (file_id)\n"
        "WHERE o.indicator_code = 'builtup_green_coverage' ORDER BY o.period_code LIMIT 100",
    ),
    (
        "表和列的说明",
        "Tables and column docs",
        "SELECT schema_name, table_name, column_name, comment\nFROM duckdb_columns()\n"
        "WHERE schema_name IN ('dim','core','quality','compliance','marts')\nORDER BY ALL",
    ),
)


def now_stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")
