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

Every query runs in its own worker process (`dashboards.console_worker`), never on the pages' kept
connection: the worker has an OS memory limit (``RLIMIT_AS``) besides DuckDB's ``memory_limit`` and
``threads``, and is killed when the time limit is reached, whatever it is doing. Before a worker is
started, the text is refused if it is not valid Unicode (lone surrogates from undecodable bytes) or
larger than ``MAX_QUERY_BYTES``. The statement check is linear in the length of the query. Limits
asked for by a caller are clamped to the configured maxima (`configured_limits`). Absolute paths in
results and error texts are replaced by a placeholder (`hide_paths`), and the functions and system
views that reveal the file system or the settings are refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # pandas is imported lazily: the console worker process does not need it
    import pandas as pd

DEFAULT_ROW_CAP = 5000
DEFAULT_TIMEOUT_S = 10.0
MEMORY_LIMIT = "1GB"  # the pages' kept connections (dashboards.data) use the same limit

# Console limits: defaults are also the maxima a caller may ask for. An operator may lower or raise
# the maxima with WUCHUANG_CONSOLE_MEMORY_MB / _TIMEOUT_S / _ROW_CAP; a caller never goes above them.
CONSOLE_MEMORY_MB = 1024  # whole worker process (RLIMIT_AS); DuckDB gets what is left after Python
CONSOLE_THREADS = 2
MAX_TIMEOUT_S = 60.0
MAX_ROW_CAP = 50_000
MAX_QUERY_BYTES = 100_000  # checked before anything parses the text
MAX_RESULT_BYTES = 64 * 1024 * 1024  # serialized result handed back by the worker
MAX_WORKERS = 2  # console worker processes running at once in one server process
MIN_MEMORY_MB = 256


@dataclass(frozen=True)
class ConsoleLimits:
    memory_mb: int = CONSOLE_MEMORY_MB
    timeout_s: float = MAX_TIMEOUT_S
    row_cap: int = MAX_ROW_CAP
    threads: int = CONSOLE_THREADS


def _env_number(name: str, default: float, low: float, high: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return min(max(value, low), high) if value == value else default


def configured_limits() -> ConsoleLimits:
    """The maxima in force (environment overrides, themselves bounded)."""
    return ConsoleLimits(
        memory_mb=int(_env_number("WUCHUANG_CONSOLE_MEMORY_MB", CONSOLE_MEMORY_MB, MIN_MEMORY_MB, 65536)),
        timeout_s=_env_number("WUCHUANG_CONSOLE_TIMEOUT_S", MAX_TIMEOUT_S, 0.1, 3600),
        row_cap=int(_env_number("WUCHUANG_CONSOLE_ROW_CAP", MAX_ROW_CAP, 1, 1_000_000)),
    )


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
        # the file system: database paths, extension and temp folders, logs
        "duckdb_databases",
        "pragma_database_list",
        "pragma_database_size",
        "duckdb_extensions",
        "duckdb_extension_repositories",
        "duckdb_temporary_files",
        "duckdb_external_file_cache",
        "duckdb_logs",
        "duckdb_log_contexts",
        "pg_settings",
        # SQL or host objects behind a value: serialized plans, Python/Arrow objects by address
        "json_execute_serialized_sql",
        "pandas_scan",
        "arrow_scan",
        "arrow_scan_dumb",
        "python_arrow_scan",
        "python_map_function",
        # state changes and output files
        "checkpoint",
        "force_checkpoint",
        "enable_logging",
        "disable_logging",
        "truncate_duckdb_logs",
        "enable_profiling",
        "disable_profiling",
        "add_grammar_extension",
        "remove_grammar_extension",
    }
)
# System views refused wherever their name appears (they also work without parentheses).
BLOCKED_RELATIONS = frozenset(
    {"duckdb_databases", "pragma_database_list", "pg_settings", "duckdb_logs", "duckdb_settings"}
)

ALLOWED_TYPES = frozenset({duckdb.StatementType.SELECT})


class GuardError(ValueError):
    """A statement the console refuses; carries the message in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en
        # Set when a worker ran: its wall time (s) and peak resident memory (MB).
        self.elapsed_s: float | None = None
        self.peak_rss_mb: float | None = None


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
    peak_rss_mb: float | None = None  # the worker process's peak resident memory


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


def _blocked(name: str) -> GuardError:
    return GuardError(
        "blocked_function",
        f"不允许调用 {name}()：查询台不能读取文件、其他数据库、系统设置或服务器路径",
        f"{name}() is refused: the console cannot read files, other databases, settings or server paths",
    )


# Keywords that end a FROM list at their parenthesis depth; FROM and JOIN start one.
_FROM_ENDS = frozenset(
    {
        "select",
        "where",
        "group",
        "having",
        "order",
        "limit",
        "offset",
        "qualify",
        "window",
        "union",
        "except",
        "intersect",
        "values",
        "set",
        "returning",
        "pivot",
        "unpivot",
        "using",
    }
)


def _file_as_table() -> GuardError:
    return GuardError(
        "file_as_table",
        "不允许把字符串当作表（读取文件）",
        "a string used as a table (reading a file) is refused",
    )


def _check_tokens(sql: str) -> None:
    """One pass over the tokens (linear in the query's length): blocked functions and system views,
    and a string literal (or a quoted name that looks like a file) used as a table in a FROM list."""
    toks = [t for t in _tokens(sql) if t[1] != "comment"]
    in_from = [False]  # per open parenthesis depth: inside a FROM list?
    for i, (text, kind) in enumerate(toks):
        nxt = toks[i + 1][0] if i + 1 < len(toks) else ""
        prev = toks[i - 1][0].lower() if i else ""
        if kind in ("identifier", "keyword"):
            name = text.strip('"').lower()
            if name in BLOCKED_RELATIONS:
                raise _blocked(name)
            if nxt.startswith("(") and (
                name in BLOCKED_FUNCTIONS or name.startswith("read_") or name.endswith("_scan")
            ):
                raise _blocked(name)
            quoted_file = text.startswith('"') and any(ch in name for ch in "/\\.")
            if quoted_file and in_from[-1] and prev in ("from", "join", ","):
                raise _file_as_table()
        if kind == "string_const" and (prev in ("from", "join") or (prev == "," and in_from[-1])):
            raise _file_as_table()
        if kind == "keyword":
            word = text.lower()
            if word in ("from", "join"):
                in_from[-1] = True
            elif word in _FROM_ENDS:
                in_from[-1] = False
        elif kind == "operator":
            for ch in text:
                if ch == "(":
                    in_from.append(False)
                elif ch == ")" and len(in_from) > 1:
                    in_from.pop()


def check_text(sql: object, max_bytes: int = MAX_QUERY_BYTES) -> str:
    """Refuse what must not reach any parser: not text, undecodable bytes (lone surrogates), NUL,
    or more than `max_bytes` bytes of UTF-8. Cheap: runs before a worker is started."""
    if isinstance(sql, bytes | bytearray):
        try:
            sql = bytes(sql).decode("utf-8")
        except UnicodeDecodeError:
            raise _encoding_error() from None
    if not isinstance(sql, str):
        raise GuardError("empty", "请输入一条查询语句", "enter a query")
    if len(sql) > max_bytes:  # a character is at least one byte: no need to encode to know
        raise _too_long(max_bytes)
    try:
        size = len(sql.encode("utf-8"))
    except UnicodeEncodeError:
        raise _encoding_error() from None
    if size > max_bytes:
        raise _too_long(max_bytes)
    if "\x00" in sql:
        raise GuardError(
            "encoding", "查询中含有空字符（NUL），已拒绝", "the query contains a NUL character; refused"
        )
    return sql


def _encoding_error() -> GuardError:
    return GuardError(
        "encoding",
        "查询文本不是有效的 UTF-8 编码（可能含有无法识别的字节），请检查后重新输入",
        "the query is not valid UTF-8 text (undecodable bytes); check it and type it again",
    )


def _too_long(max_bytes: int) -> GuardError:
    return GuardError(
        "too_long",
        f"查询过长（上限 {max_bytes:,} 字节），请缩短查询，例如用表连接代替很长的 IN 列表",
        f"the query is too long (limit {max_bytes:,} bytes); shorten it, e.g. join a table instead of a long IN list",
    )


# --------------------------------------------------------------------------------------------
# Hiding server paths

PATH_PLACEHOLDER = "<路径/path>"
# An absolute POSIX path of two or more parts, or a Windows drive path; not part of a URL or word.
_ABS_PATH = re.compile(
    r"(?<![\w/.:~%-])/(?:[^\s/'\"`<>|,;()\[\]{}]+/)+[^\s/'\"`<>|,;()\[\]{}]*"
    r"|\b[A-Za-z]:\\[^\s'\"`<>|,;()]*"
)


def known_paths(*extra: Path | str | None) -> list[str]:
    """Folders whose names reveal the server (home, working folder, temp, Python, the project and
    the given paths with their parents), longest first."""
    import sys
    import tempfile

    out: set[str] = set()
    candidates = [
        Path.home(),
        Path.cwd(),
        Path(tempfile.gettempdir()),
        Path(sys.prefix),
        Path(__file__).parents[1],
    ]
    for p in [*candidates, *(Path(e) for e in extra if e)]:
        with contextlib.suppress(OSError, RuntimeError):
            for q in (p, p.resolve()):
                for part in (q, *q.parents):
                    if len(part.parts) > 1:
                        out.add(str(part))
    return sorted(out, key=len, reverse=True)


def hide_paths(text: str, known: list[str] | None = None) -> str:
    """`text` with every absolute path (the known ones first, then anything shaped like one)
    replaced by a placeholder."""
    if not isinstance(text, str) or ("/" not in text and ":\\" not in text):
        return text
    for k in known or ():
        if k in text:
            text = text.replace(k, PATH_PLACEHOLDER)
    return _ABS_PATH.sub(PATH_PLACEHOLDER, text)


def check_statement(conn: duckdb.DuckDBPyConnection, sql: str) -> str:
    """Return the single accepted statement's text, or raise GuardError (zh + en)."""
    sql = check_text(sql)
    if not sql or not sql.strip().strip(";").strip():
        raise GuardError("empty", "请输入一条查询语句", "enter a query")
    try:
        statements = conn.extract_statements(sql)
    except duckdb.Error as e:
        msg = hide_paths(str(e))
        raise GuardError("syntax", f"SQL 语法错误：{msg}", f"SQL syntax error: {msg}") from None
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
            msg = hide_paths(str(e))
            raise GuardError("syntax", f"SQL 语法错误：{msg}", f"SQL syntax error: {msg}") from None
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


def _hardening(memory_limit: str = MEMORY_LIMIT, threads: int | None = None) -> list[tuple[str, str, str]]:
    steps = [h for h in HARDENING if h[0] not in ("memory_limit", "lock_configuration")]
    steps.append(("memory_limit", f"'{memory_limit}'", ""))
    if threads:
        steps.append(("threads", str(int(threads)), str(int(threads))))
    steps.append(("lock_configuration", "true", "true"))
    return steps


def harden(
    conn: duckdb.DuckDBPyConnection, memory_limit: str = MEMORY_LIMIT, threads: int | None = None
) -> None:
    """Apply HARDENING (with this memory limit and thread count); if the configuration is already
    locked, verify it is hardened instead."""
    steps = _hardening(memory_limit, threads)
    for name, literal, _expected in steps:
        # Fails when an earlier console connection sharing this database instance already locked it.
        with contextlib.suppress(duckdb.InvalidInputException):
            conn.execute(f"SET {name} = {literal}")
    check = dict(
        conn.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ?",
            [[h[0] for h in steps]],
        ).fetchall()
    )
    for name, _literal, expected in steps:
        if expected and str(check.get(name, "")).lower() != expected:
            raise GuardError(
                "not_hardened",
                f"无法加固只读连接（{name}={check.get(name)}），已拒绝执行",
                f"could not harden the read-only connection ({name}={check.get(name)}); refused",
            )


def connect_hardened(
    snapshot: Path, memory_limit: str = MEMORY_LIMIT, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the published snapshot read-only and harden the connection."""
    config = {"threads": int(threads)} if threads else {}
    conn = duckdb.connect(str(snapshot), read_only=True, config=config)
    try:
        # A county union's views read the counties' Parquet snapshots: allow exactly those folders
        # before harden() turns external access off (a no-op for a single-file snapshot).
        from pipelines.warehouse.publish import allow_county_snapshots

        allow_county_snapshots(conn, snapshot)
        harden(conn, memory_limit, threads)
    except Exception:
        conn.close()
        raise
    return conn


def _positive(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not v > 0 or v == float("inf"):
        raise GuardError(
            "bad_limit",
            f"查询限制 {name} 必须是正数：{value!r}",
            f"the limit {name} must be a positive number: {value!r}",
        )
    return v


def clamp_limits(
    row_cap: int = DEFAULT_ROW_CAP,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: float | None = None,
    maxima: ConsoleLimits | None = None,
) -> ConsoleLimits:
    """The limits a query runs under: the caller's, never above the configured maxima."""
    top = maxima or configured_limits()
    mem = top.memory_mb if memory_mb is None else _positive(memory_mb, "memory_mb")
    return ConsoleLimits(
        memory_mb=int(max(MIN_MEMORY_MB, min(mem, top.memory_mb))),
        timeout_s=min(_positive(timeout_s, "timeout_s"), top.timeout_s),
        row_cap=int(max(1, min(_positive(row_cap, "row_cap"), top.row_cap))),
        threads=max(1, min(top.threads, CONSOLE_THREADS)),
    )


def run_query(
    snapshot: Path,
    sql: str,
    row_cap: int = DEFAULT_ROW_CAP,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: float | None = None,
) -> QueryResult:
    """Check and run one read-only query in a console worker process (see module docstring).
    Raises GuardError (zh + en) for every refusal, limit or failure."""
    import pandas as pd

    from dashboards import console_worker

    sql = check_text(sql)
    if not sql.strip().strip(";").strip():
        raise GuardError("empty", "请输入一条查询语句", "enter a query")
    limits = clamp_limits(row_cap, timeout_s, memory_mb)
    out = console_worker.run(Path(snapshot), sql, limits)
    frame = pd.DataFrame.from_records(out.rows, columns=_unique(out.columns))
    return QueryResult(
        frame, out.truncated, limits.row_cap, out.elapsed_s, out.statement, out.columns, out.peak_rss_mb
    )


def execute_checked(
    conn: duckdb.DuckDBPyConnection, sql: str, row_cap: int, timeout_s: float, memory_mb: float | None = None
) -> tuple[list[str], list[tuple], bool, float, str]:
    """Check `sql` and run it on a hardened connection with a watchdog that interrupts it after
    `timeout_s`; returns (columns, rows up to row_cap, truncated, elapsed s, statement). Runs inside
    the console worker process."""
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
        raise timeout_error(timeout_s) from None
    except duckdb.Error as e:
        if timed_out.is_set():
            raise timeout_error(timeout_s) from None
        raise db_error(e, memory_mb=memory_mb) from None
    finally:
        done.set()
        watchdog.join()
    if timed_out.is_set():
        raise timeout_error(timeout_s)
    elapsed = time.monotonic() - started
    return columns, rows[:row_cap], len(rows) > row_cap, elapsed, statement


def _unique(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        n = seen.get(c, 0)
        seen[c] = n + 1
        out.append(c if n == 0 else f"{c}_{n}")
    return out


def timeout_error(timeout_s: float) -> QueryTimeout:
    return QueryTimeout(
        "timeout",
        f"查询超过 {timeout_s:g} 秒已被中止，请缩小范围或加 LIMIT",
        f"query stopped after {timeout_s:g} s; narrow it or add a LIMIT",
    )


def memory_error(memory_mb: float | None = None) -> GuardError:
    cap = f"{memory_mb:g} MB" if memory_mb else MEMORY_LIMIT
    return GuardError(
        "memory",
        f"查询超出内存上限 {cap}，请缩小范围",
        f"query exceeded the {cap} memory limit; narrow it",
    )


def db_error(e: BaseException, known: list[str] | None = None, memory_mb: float | None = None) -> GuardError:
    msg = hide_paths(str(e).splitlines()[0][:300] if str(e) else type(e).__name__, known)
    if isinstance(e, duckdb.PermissionException | PermissionError):
        return GuardError(
            "permission",
            f"查询台不能访问仓库以外的内容：{msg}",
            f"the console cannot access anything outside the warehouse: {msg}",
        )
    if isinstance(e, duckdb.OutOfMemoryException | MemoryError) or "could not allocate" in msg.lower():
        return memory_error(memory_mb)
    return GuardError("query_error", f"查询出错：{msg}", f"query failed: {msg}")


# Kept for callers of the previous names.
_timeout = timeout_error
_db_error = db_error


def schema_columns(snapshot: Path) -> pd.DataFrame:
    """Every warehouse column with its documentation (DuckDB comments), for the schema browser."""
    conn = duckdb.connect(str(snapshot), read_only=True)
    try:
        return conn.execute(
            """
            SELECT c.schema_name, c.table_name, t.comment AS table_comment, c.column_name,
                   c.data_type, c.comment
            FROM duckdb_columns() c
            JOIN (
                SELECT database_name, schema_name, table_name, comment FROM duckdb_tables()
                UNION ALL  -- a county union publishes views over the counties' snapshots
                SELECT database_name, schema_name, view_name, comment FROM duckdb_views() WHERE NOT internal
            ) t USING (database_name, schema_name, table_name)
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
        "WHERE schema_name IN ('dim','core','quality','compliance','marts','archive','plan_process','supervision')\nORDER BY ALL",
    ),
)


def now_stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")
