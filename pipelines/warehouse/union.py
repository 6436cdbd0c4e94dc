"""Publishing a county partition: a per-county snapshot and a read-only union for the readers.

With county partitions every county writes its own working database
(`pipelines.warehouse.counties`). Publishing county C, under the same `published/.publish.lock`
as `publish.publish`:

1. sweep leftovers of interrupted publishes (`.tmp-*` in `published/` and `published/counties/*/`);
2. open C's working database (waiting while its run holds it), CHECKPOINT, read every table's row
   count, columns, comments, content fingerprint and the views' SQL, and export each table to
   Parquet in `published/counties/C/.tmp-<id>/` while still holding the file; a table whose
   fingerprint equals the one recorded in C's current snapshot is not exported again: its Parquet
   file there is hard-linked into the new folder (the same immutable bytes under a second name; a
   file system without hard links gets an export); fsync every new file;
3. verify the export (every table's Parquet row count equals the database's), then rename the folder
   to `published/counties/C/v-<stamp>-<id>/` (atomic) and fsync: an immutable county snapshot;
4. write a new *union* file `published/.tmp-<id>.duckdb` holding only views: a county table becomes
   `SELECT * FROM read_parquet([every county's current file])`, a catalog table (the same in every
   county, `SHARED_TABLES`) is read from the county published last; the views of the working database
   (e.g. `core.observation_current`) are re-created over them; `province.*` views rank counties;
   comments are copied so `duckdb_columns()` keeps the documentation;
5. verify the union (it opens read-only and every view binds), rename it to
   `published/warehouse-<stamp>-<id>.duckdb` with its manifest (which county snapshot it reads,
   row counts), and swap `CURRENT` exactly like `publish.publish`: readers switch at that rename;
6. prune union files beyond `keep` and county snapshots no kept union file reads.

Only the changed county is exported; the other counties' Parquet files are referenced, never
copied. The union file is a few hundred kilobytes whatever the province size, and it is an ordinary
DuckDB file: `latest_snapshot`, `connect_readonly` and every reader that opens the snapshot path
read-only keep working. Its views hold absolute paths of the county files: move the published
folder only together with a republish. A crash at any point leaves the previous union and every
county snapshot it reads intact (new files are renamed into place before anything points at them;
nothing an existing union reads is deleted except by `prune`, which keeps what kept unions read).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import duckdb

from pipelines.warehouse import publish as single

COUNTIES = "counties"
VERSION_PREFIX = "v-"
# Catalog tables written from the standards catalog alone: identical in every county database, so
# the union reads them from one county instead of repeating them per county.
SHARED_TABLES = frozenset(
    {
        "dim.campaign",
        "dim.edition",
        "dim.indicator",
        "dim.requirement",
        "dim.requirement_variant",
        "dim.reference_value",
        "dim.unit_of_measure",
        "ops.schema_state",
    }
)
# Tables identical across counties except for periods a county's plan adds: one row per key.
DISTINCT_TABLES = {"dim.period": "period_code"}
SCHEMA_FILE = "schema.json"
# Every exported row carries its county (tables such as core.quarantine have no county_code), so
# a compacted base can leave out the counties published since; views exclude the column.
COUNTY_COLUMN = "_snapshot_county"
BASE = "base"
BASE_PREFIX = "b-"
BASE_FILE = "base.json"
# Bumped when the exported Parquet changes form (columns added to the export, options): a snapshot
# written in another form is never reused.
EXPORT_FORM = 1
# Compact when more counties than this are read from their own snapshots instead of the base:
# a query then opens 1 + at most this many files per table instead of one per county.
COMPACT_AFTER = 8


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(key: str) -> str:
    schema, table = key.split(".", 1)
    return f"{_ident(schema)}.{_ident(table)}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def county_root(published_dir: Path, code: str) -> Path:
    return Path(published_dir) / COUNTIES / code


def _describe(conn: duckdb.DuckDBPyConnection) -> dict:
    """Tables (columns, comments) and views (SQL, comment) of a database, for the union."""
    tables: dict[str, dict] = {}
    for schema, name, comment in conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE NOT internal ORDER BY 1, 2"
    ).fetchall():
        tables[f"{schema}.{name}"] = {"comment": comment, "columns": {}}
    for schema, name, column, comment in conn.execute(
        "SELECT c.schema_name, c.table_name, c.column_name, c.comment FROM duckdb_columns() c "
        "JOIN duckdb_tables() t USING (database_name, schema_name, table_name) ORDER BY c.column_index"
    ).fetchall():
        key = f"{schema}.{name}"
        if key in tables:
            tables[key]["columns"][column] = comment
    views = [
        {"name": f"{s}.{v}", "sql": sql, "comment": comment}
        for s, v, sql, comment in conn.execute(
            "SELECT schema_name, view_name, sql, comment FROM duckdb_views() WHERE NOT internal "
            "AND NOT temporary ORDER BY 1, 2"
        ).fetchall()
    ]
    return {"tables": tables, "views": views}


def _fingerprints(conn: duckdb.DuckDBPyConnection, keys: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """Content fingerprint of every table, in one query: its columns and types, its row count and two
    order-independent aggregates (sum and xor) of DuckDB's 64-bit hash of every row; with the DuckDB
    version (the hash function) and EXPORT_FORM. Equal fingerprints: the table's export would be the
    same rows, so the previous snapshot's file is reused. Scanning to hash costs about half of
    exporting (no Parquet encoding, compression or fsync). Also returns every table's row count."""
    if not keys:
        return {}, {}
    types: dict[str, list] = {}
    for schema, name, column, dtype in conn.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() ORDER BY column_index"
    ).fetchall():
        types.setdefault(f"{schema}.{name}", []).append([column, dtype])
    sql = " UNION ALL ".join(
        f"SELECT {_literal(key)}, count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR, "
        f"coalesce(bit_xor(hash(t)), 0)::VARCHAR FROM {_qualified(key)} t"
        for key in keys
    )
    out, counts = {}, {}
    for key, n, total, xor in conn.execute(sql).fetchall():
        text = json.dumps([duckdb.__version__, EXPORT_FORM, types.get(key), n, total, xor])
        out[key] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        counts[key] = n
    return {k: out[k] for k in keys}, {k: counts[k] for k in keys}


def _previous_export(previous: Path | None) -> dict[str, str]:
    """Table -> fingerprint recorded in a county snapshot folder ({} when none or unreadable)."""
    if previous is None:
        return {}
    try:
        return json.loads((previous / SCHEMA_FILE).read_text(encoding="utf-8")).get("fingerprints") or {}
    except (OSError, ValueError, AttributeError):
        return {}


def _reuse(source: Path, target: Path) -> bool:
    """Hard-link an unchanged table's Parquet file of the previous snapshot into the new folder."""
    try:
        if not source.is_file():
            return False
        os.link(source, target)
        return True
    except OSError:  # no hard links here (another file system, FAT, permissions): export instead
        return False


def _export_county(
    database: Path, code: str, dest: Path, timeout: float, previous: Path | None = None
) -> dict:
    """CHECKPOINT, describe and export every table to Parquet while holding the county database.
    `previous`: the county's current snapshot folder; its files of unchanged tables are reused."""
    conn = single._open_writer(database, timeout)
    written: list[Path] = []
    reused: list[str] = []
    try:
        conn.execute("CHECKPOINT")
        described = _describe(conn)
        # Row counts come with the fingerprints (one scan of every table instead of two).
        fingerprints, counts = _fingerprints(conn, list(described["tables"]))
        before = _previous_export(previous)
        single.check_free_space(dest.parent, database.stat().st_size)
        dest.mkdir(parents=True)
        for key in counts:
            target = dest / f"{key}.parquet"
            same = previous is not None and before.get(key) == fingerprints[key]
            if same and _reuse(previous / f"{key}.parquet", target):
                reused.append(key)
                continue
            conn.execute(
                f"COPY (SELECT *, {_literal(code)} AS {COUNTY_COLUMN} FROM {_qualified(key)}) "
                f"TO {_literal(str(target))} (FORMAT parquet)"
            )
            written.append(target)
    finally:
        conn.close()
    described["counts"] = counts
    described["fingerprints"] = fingerprints
    described["reused"] = reused
    (dest / SCHEMA_FILE).write_text(json.dumps(described, ensure_ascii=False), encoding="utf-8")
    for f in [*written, dest / SCHEMA_FILE]:  # reused files are durable already (same inode)
        single._fsync_file(f)
    single._fsync_dir(dest)
    return described


def _verify_export(dest: Path, counts: dict[str, int], reused: list[str] = ()) -> None:
    """Every exported file holds its table's row count (files `reused` were verified when written)."""
    check = duckdb.connect()
    try:
        bad = []
        for key, n in counts.items():
            if key in reused:
                continue
            got = check.execute(
                f"SELECT count(*) FROM read_parquet({_literal(str(dest / (key + '.parquet')))})"
            ).fetchone()[0]
            if got != n:
                bad.append(key)
    finally:
        check.close()
    if bad:
        raise single.PublishError(
            f"县快照导出不一致：{', '.join(bad[:5])} / county snapshot export differs: {', '.join(bad[:5])}"
        )


def _previous_counties(published_dir: Path) -> dict[str, str]:
    """County code -> snapshot folder name the current union reads ({} for none or a single-file snapshot)."""
    try:
        manifest = single.snapshot_manifest(published_dir)
    except single.NoSnapshotError:
        return {}
    counties = manifest.get("counties") or {}
    root = Path(published_dir) / COUNTIES
    return {c: v for c, v in counties.items() if (root / c / v / SCHEMA_FILE).is_file()}


def _schema(published_dir: Path, code: str, version: str) -> dict:
    return json.loads((county_root(published_dir, code) / version / SCHEMA_FILE).read_text(encoding="utf-8"))


def _base_counties(published_dir: Path, base: str | None) -> dict[str, str]:
    if not base:
        return {}
    try:
        return json.loads((Path(published_dir) / BASE / base / BASE_FILE).read_text(encoding="utf-8"))[
            "counties"
        ]
    except (OSError, ValueError, KeyError):
        return {}


def _build_union(
    path: Path, published_dir: Path, counties: dict[str, str], latest: str, base: str | None = None
) -> dict[str, int]:
    """Write the union file of views; returns the row count of every view (from the county manifests).
    With a compacted `base`, counties whose snapshot is the one in the base are read from it."""
    in_base = _base_counties(published_dir, base)
    schemas = {c: _schema(published_dir, c, v) for c, v in counties.items()}
    order = [latest, *sorted(c for c in counties if c != latest)]
    keys: list[str] = []
    for c in order:
        keys += [k for k in schemas[c]["tables"] if k not in keys]
    totals: dict[str, int] = {}
    conn = duckdb.connect(str(path))
    try:
        # One transaction: hundreds of CREATE VIEW / COMMENT statements, one commit (autocommit wrote
        # and synced the log once per statement: most of the publish's wall time).
        conn.execute("BEGIN TRANSACTION")
        for key in keys:
            schema = key.split(".", 1)[0]
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
            having = [c for c in order if key in schemas[c]["tables"]]
            source = _source(published_dir, key, counties, having, in_base, base)
            if key in DISTINCT_TABLES:
                col = _ident(DISTINCT_TABLES[key])
                body = f"SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY {col} ORDER BY {col}) = 1"
                totals[key] = -1  # counted below
            else:
                body = f"SELECT * FROM {source}"
                totals[key] = sum(
                    schemas[c]["counts"].get(key, 0) for c in (having[:1] if key in SHARED_TABLES else having)
                )
            conn.execute(f"CREATE VIEW {_qualified(key)} AS {body}")
            meta = schemas[having[0]]["tables"][key]
            if meta.get("comment"):
                conn.execute(f"COMMENT ON VIEW {_qualified(key)} IS {_literal(meta['comment'])}")
            for column, comment in meta["columns"].items():
                if comment:
                    conn.execute(
                        f"COMMENT ON COLUMN {_qualified(key)}.{_ident(column)} IS {_literal(comment)}"
                    )
        for key in [k for k, v in totals.items() if v < 0]:
            totals[key] = conn.execute(f"SELECT count(*) FROM {_qualified(key)}").fetchone()[0]
        for view in schemas[latest]["views"]:
            conn.execute(view["sql"])
            if view.get("comment"):
                conn.execute(f"COMMENT ON VIEW {_qualified(view['name'])} IS {_literal(view['comment'])}")
        _province_views(conn, keys)
        conn.execute("COMMIT")
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return totals


def _files(published_dir: Path, key: str, counties: dict[str, str], codes: list[str]) -> str:
    return (
        "["
        + ", ".join(
            _literal(str(county_root(published_dir, c) / counties[c] / f"{key}.parquet")) for c in codes
        )
        + "]"
    )


def _source(
    published_dir: Path,
    key: str,
    counties: dict[str, str],
    having: list[str],
    in_base: dict,
    base: str | None,
) -> str:
    """The FROM clause of a table's view: the base for counties still as compacted, their own
    snapshots for the others (`having`: counties that have the table, the latest first)."""
    if key in SHARED_TABLES:
        return f"(SELECT * EXCLUDE ({COUNTY_COLUMN}) FROM read_parquet({_files(published_dir, key, counties, having[:1])}))"
    base_file = Path(published_dir) / BASE / base / f"{key}.parquet" if base else None
    from_base = (
        [c for c in having if in_base.get(c) == counties[c]] if base_file and base_file.is_file() else []
    )
    own = [c for c in having if c not in from_base]
    parts = []
    if from_base:
        stale = sorted(set(in_base) - set(from_base))
        where = f" WHERE {COUNTY_COLUMN} NOT IN ({', '.join(_literal(c) for c in stale)})" if stale else ""
        parts.append(
            f"SELECT * EXCLUDE ({COUNTY_COLUMN}) FROM read_parquet({_literal(str(base_file))}){where}"
        )
    if own:
        parts.append(
            f"SELECT * EXCLUDE ({COUNTY_COLUMN}) FROM "
            f"read_parquet({_files(published_dir, key, counties, own)}, union_by_name = true)"
        )
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def _compact(published_dir: Path, counties: dict[str, str], token: str, stamp: str) -> str:
    """Write a base: every county-level table of every county in one Parquet file, verified; returns
    its folder name. Runs after the county's union is already current (readers do not wait for it)."""
    root = Path(published_dir) / BASE
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"{single.TMP_PREFIX}{token}"
    schemas = {c: _schema(published_dir, c, v) for c, v in counties.items()}
    keys = sorted({k for s in schemas.values() for k in s["counts"] if k not in SHARED_TABLES})
    conn = duckdb.connect()
    try:
        tmp.mkdir()
        for key in keys:
            having = sorted(c for c in counties if key in schemas[c]["counts"])
            target = tmp / f"{key}.parquet"
            conn.execute(
                f"COPY (SELECT * FROM read_parquet({_files(published_dir, key, counties, having)}, "
                f"union_by_name = true)) TO {_literal(str(target))} (FORMAT parquet)"
            )
            got = conn.execute(f"SELECT count(*) FROM read_parquet({_literal(str(target))})").fetchone()[0]
            if got != sum(schemas[c]["counts"][key] for c in having):
                raise single.PublishError(f"合并快照不一致：{key} / the compacted base differs: {key}")
        (tmp / BASE_FILE).write_text(json.dumps({"counties": counties}, ensure_ascii=False), encoding="utf-8")
        for f in tmp.iterdir():
            single._fsync_file(f)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        conn.close()
    name = f"{BASE_PREFIX}{stamp}-{token}"
    os.replace(tmp, root / name)
    single._fsync_dir(root)
    return name


def _province_views(conn: duckdb.DuckDBPyConnection, keys: list[str]) -> None:
    """Province-level views over the per-county marts: cheap, recomputed by every query."""
    if "marts.campaign_readiness" not in keys:
        return
    cols = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
            "AND table_name = 'campaign_readiness'"
        ).fetchall()
    }
    if not {"county_code", "campaign_code", "period_code", "readiness", "grain"} <= cols:
        return
    status = "readiness_status" if "readiness_status" in cols else "NULL"
    conn.execute("CREATE SCHEMA IF NOT EXISTS province")
    conn.execute(
        f"""
        CREATE VIEW province.county_ranking AS
        WITH latest AS (
            SELECT county_code, campaign_code, grain, period_code, readiness, {status} AS readiness_status
            FROM marts.campaign_readiness
            QUALIFY row_number() OVER (
                PARTITION BY county_code, campaign_code, grain ORDER BY period_code DESC) = 1
        )
        SELECT *, rank() OVER (PARTITION BY campaign_code, grain ORDER BY readiness DESC NULLS LAST) AS rank_in_province,
               count(*) OVER (PARTITION BY campaign_code, grain) AS n_counties
        FROM latest
        """
    )
    conn.execute(
        "COMMENT ON VIEW province.county_ranking IS '各县最新一期创建准备度及全省排名 / each county''s latest "
        "readiness per campaign and grain, ranked across the province'"
    )
    conn.execute(
        """
        CREATE VIEW province.readiness AS
        SELECT campaign_code, grain, count(*) AS n_counties,
               avg(readiness) AS mean_readiness, min(readiness) AS min_readiness,
               max(readiness) AS max_readiness,
               count(*) FILTER (WHERE readiness_status = 'ready') AS n_ready
        FROM province.county_ranking GROUP BY campaign_code, grain
        """
    )
    conn.execute(
        "COMMENT ON VIEW province.readiness IS '全省创建准备度汇总（按各县最新一期） / province readiness "
        "summary over each county''s latest period'"
    )


def _verify_union(path: Path) -> None:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        for schema, view in conn.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall():
            conn.execute(f"SELECT * FROM {_ident(schema)}.{_ident(view)} LIMIT 0").fetchall()
    except duckdb.Error as exc:
        raise single.PublishError(
            f"汇总快照校验失败：{exc} / the union snapshot does not verify: {exc}"
        ) from exc
    finally:
        conn.close()


def sweep_county_leftovers(published_dir: Path) -> None:
    root = Path(published_dir) / COUNTIES
    if root.is_dir():
        for stale in root.glob(f"*/{single.TMP_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    for stale in (Path(published_dir) / BASE).glob(f"{single.TMP_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


def publish_county(
    database: Path, code: str, published_dir: Path, keep: int = 3, lock_timeout: float = 900.0
) -> Path:
    """Publish county `code` from its working database and point CURRENT at a new union file.
    `lock_timeout`: how long to wait for the publish lock (another county's publish, possibly
    compacting the base) and for the county's own database."""
    database, published_dir = Path(database), Path(published_dir)
    if not database.exists():
        raise single.PublishError(
            f"县工作数据库不存在：{code} / the working database of county {code} does not exist"
        )
    try:
        with single.publish_lock(published_dir, lock_timeout):
            return _publish_county(database, code, published_dir, keep, lock_timeout)
    except single.PublishError:
        raise
    except OSError as exc:
        raise single.os_error(exc, "发布县快照", "publishing the county") from None


def _publish_county(database: Path, code: str, published_dir: Path, keep: int, timeout: float) -> Path:
    single.sweep_leftovers(published_dir)
    sweep_county_leftovers(published_dir)
    token = uuid.uuid4().hex[:8]
    now = dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    root = county_root(published_dir, code)
    root.mkdir(parents=True, exist_ok=True)
    tmp_dir = root / f"{single.TMP_PREFIX}{token}"
    current = _previous_counties(published_dir).get(code)
    try:
        described = _export_county(database, code, tmp_dir, timeout, root / current if current else None)
        _verify_export(tmp_dir, described["counts"], described["reused"])
    except Exception:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    version = f"{VERSION_PREFIX}{stamp}-{token}"
    os.replace(tmp_dir, root / version)
    single._fsync_dir(root)

    counties = {**_previous_counties(published_dir), code: version}
    base = _previous_base(published_dir)
    final = _swap_union(published_dir, counties, code, base, token, stamp, now)
    in_base = _base_counties(published_dir, base)
    if sum(1 for c, v in counties.items() if in_base.get(c) != v) > COMPACT_AFTER:
        token2 = uuid.uuid4().hex[:8]
        now2 = dt.datetime.now(dt.UTC)
        stamp2 = now2.strftime("%Y%m%dT%H%M%S%fZ")
        base = _compact(published_dir, counties, token2, stamp2)
        final = _swap_union(published_dir, counties, code, base, token2, stamp2, now2)
    single.prune(published_dir, keep)
    prune_counties(published_dir)
    return final


def _previous_base(published_dir: Path) -> str | None:
    try:
        base = single.snapshot_manifest(published_dir).get("base")
    except single.NoSnapshotError:
        return None
    return base if base and (Path(published_dir) / BASE / base / BASE_FILE).is_file() else None


def _swap_union(
    published_dir: Path,
    counties: dict[str, str],
    code: str,
    base: str | None,
    token: str,
    stamp: str,
    now: dt.datetime,
) -> Path:
    """Build, verify and rename a union file, write its manifest and point CURRENT at it."""
    tmp_union = published_dir / f"{single.TMP_PREFIX}{token}.duckdb"
    try:
        totals = _build_union(tmp_union, published_dir, counties, code, base)
        single._fsync_file(tmp_union)
        _verify_union(tmp_union)
    except Exception:
        tmp_union.unlink(missing_ok=True)
        raise
    final = published_dir / f"warehouse-{stamp}-{token}.duckdb"
    os.replace(tmp_union, final)
    manifest = {
        "snapshot": final.name,
        "published_at": now.isoformat(),
        "size_bytes": final.stat().st_size,
        "kind": "county_union",
        "published_county": code,
        "counties": dict(sorted(counties.items())),
        "base": base,
        "tables": totals,
    }
    manifest_tmp = published_dir / f"{single.TMP_PREFIX}{token}.json"
    single._write_durably(manifest_tmp, json.dumps(manifest, ensure_ascii=False, indent=1))
    os.replace(manifest_tmp, final.with_suffix(".json"))
    single._fsync_dir(published_dir)
    pointer_tmp = published_dir / f"{single.TMP_PREFIX}{token}.{single.POINTER}"
    single._write_durably(pointer_tmp, final.name + "\n")
    os.replace(pointer_tmp, published_dir / single.POINTER)
    single._fsync_dir(published_dir)
    return final


def _referenced(published_dir: Path) -> dict[str, set[str]]:
    """County snapshot folders (and, under the key BASE, compacted bases) read by any union file still present."""
    used: dict[str, set[str]] = {BASE: set()}
    for manifest in Path(published_dir).glob("warehouse-*.json"):
        if not single.SNAPSHOT_RE.match(manifest.with_suffix(".duckdb").name):
            continue
        if not manifest.with_suffix(".duckdb").is_file():
            continue
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # unreadable manifest: keep everything this time
        for c, v in (data.get("counties") or {}).items():
            used.setdefault(c, set()).add(v)
        if data.get("base"):
            used[BASE].add(data["base"])
    return used


def prune_counties(published_dir: Path) -> list[Path]:
    """Delete county snapshot folders that no remaining union file reads. Hold the publish lock."""
    used = _referenced(published_dir)
    if not used:
        return []
    removed = []
    for folder in sorted((Path(published_dir) / COUNTIES).glob(f"*/{VERSION_PREFIX}*")):
        if folder.name not in used.get(folder.parent.name, set()):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for folder in sorted((Path(published_dir) / BASE).glob(f"{BASE_PREFIX}*")):
        if folder.name not in used[BASE]:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
