"""How well the checks catch the sample corpus's deliberate defects, and how often they flag clean values.

The sample generator (`pipelines.sample`) writes `manifest.json` next to the raw files, listing for
every file its expected status and reason codes, and for every cell what is expected of it (ok,
missing, or a reason code). After a run of the pipeline on that corpus:

- intentionally bad items = files expected rejected / duplicate, plus cells expected with a
  reason code; an item is *caught* when the warehouse rejected the file with that status, or
  quarantined the cell, or a quality check flagged the value (and *caught with the expected
  reason* when the reason code matches);
- planted outliers (manifest `outliers`, plausible but extreme values) are *flagged* when
  quality.outlier or quality.flag lists them;
- clean values = observations loaded from cells the manifest expects 'ok' (planted outliers
  excluded); *clean values flagged* = those with any quality.flag / quality.outlier row.

    .venv/bin/python -m pipelines.validation.catch_rate <raw dir> <warehouse.duckdb>
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import duckdb


def _rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def catch_rates(conn: duckdb.DuckDBPyConnection, manifest: dict) -> dict:
    files = {
        p: (fid, status, list(reasons or []))
        for p, fid, status, reasons in _rows(
            conn, "SELECT path, file_id, status, reason_codes FROM core.source_file"
        )
    }
    by_sha: dict[str, str] = {fid: p for p, (fid, _, _) in files.items()}
    quarantined = {
        (fid, sheet, cell): reason
        for fid, sheet, cell, reason in _rows(
            conn, "SELECT file_id, sheet, cell, reason_code FROM core.quarantine WHERE cell IS NOT NULL"
        )
    }
    obs_at = {
        (fid, sheet, cell): oid
        for oid, fid, sheet, cell in _rows(
            conn, "SELECT observation_id, file_id, sheet, cell FROM core.observation"
        )
    }
    flags: dict[str, set[str]] = {}
    for oid, check in _rows(
        conn, "SELECT observation_id, check_name FROM quality.flag WHERE observation_id IS NOT NULL"
    ):
        flags.setdefault(oid, set()).add(check)
    for (oid,) in _rows(conn, "SELECT observation_id FROM quality.outlier"):
        flags.setdefault(oid, set()).add("value_outliers")

    def file_id(entry: dict) -> str | None:
        rec = files.get(entry["path"])
        return rec[0] if rec else (entry.get("sha256") if entry.get("sha256") in by_sha else None)

    bad_items, caught, caught_reason, missed = 0, 0, 0, []
    by_reason: Counter = Counter()
    by_reason_caught: Counter = Counter()
    for entry in manifest.get("files", []):
        expected = entry.get("expected") or {}
        if expected.get("status") in ("rejected", "duplicate"):
            bad_items += 1
            reasons = expected.get("reasons") or []
            key = f"file:{','.join(reasons)}"
            by_reason[key] += 1
            rec = files.get(entry["path"])
            if rec and rec[1] in ("rejected", "duplicate"):
                caught += 1
                by_reason_caught[key] += 1
                caught_reason += int(
                    bool(set(reasons) & set(rec[2])) or rec[1] == expected["status"] == "duplicate"
                )
            else:
                missed.append({"path": entry["path"], "expected": reasons, "got": rec[1] if rec else None})
        fid = file_id(entry)
        for c in entry.get("cells", []):
            if c.get("expect") in ("ok", "missing", None):
                continue
            bad_items += 1
            key = f"cell:{c['expect']}"
            by_reason[key] += 1
            where = (fid, c.get("sheet"), c.get("cell"))
            q = quarantined.get(where)
            oid = obs_at.get(where)
            if q or (oid and oid in flags):
                caught += 1
                by_reason_caught[key] += 1
                caught_reason += int(q == c["expect"])
            else:
                missed.append({"path": entry["path"], "cell": c.get("cell"), "expected": c["expect"]})

    outlier_keys = set()
    planted, planted_flagged = 0, 0
    for o in manifest.get("outliers", []):
        fid = files.get(o["path"], (None,))[0]
        where = (fid, o.get("sheet"), o.get("cell"))
        outlier_keys.add(where)
        planted += 1
        oid = obs_at.get(where)
        planted_flagged += int(bool(oid and oid in flags))

    clean, clean_flagged = 0, 0
    flagged_by: Counter = Counter()
    examples = []
    for entry in manifest.get("files", []):
        fid = file_id(entry)
        if fid is None:
            continue
        for c in entry.get("cells", []):
            if c.get("expect") != "ok":
                continue
            where = (fid, c.get("sheet"), c.get("cell"))
            oid = obs_at.get(where)
            if oid is None or where in outlier_keys:
                continue
            clean += 1
            if oid in flags:
                clean_flagged += 1
                for check in flags[oid]:
                    flagged_by[check] += 1
                if len(examples) < 10:
                    examples.append(
                        {
                            "path": entry["path"],
                            "cell": c.get("cell"),
                            "indicator": c.get("indicator"),
                            "checks": sorted(flags[oid]),
                        }
                    )
    return {
        "bad_items": bad_items,
        "bad_caught": caught,
        "bad_caught_rate": caught / bad_items if bad_items else None,
        "bad_caught_with_expected_reason": caught_reason,
        "bad_by_reason": {k: f"{by_reason_caught[k]}/{n}" for k, n in sorted(by_reason.items())},
        "bad_missed": missed,
        "planted_outliers": planted,
        "planted_outliers_flagged": planted_flagged,
        "clean_values": clean,
        "clean_flagged": clean_flagged,
        "clean_flagged_rate": clean_flagged / clean if clean else None,
        "clean_flagged_by_check": dict(flagged_by.most_common()),
        "clean_flagged_examples": examples,
    }


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        sys.stderr.write("usage: python -m pipelines.validation.catch_rate <raw dir> <warehouse.duckdb>\n")
        return 2
    manifest = json.loads((Path(args[0]) / "manifest.json").read_text(encoding="utf-8"))
    conn = duckdb.connect(args[1], read_only=True)
    try:
        result = catch_rates(conn, manifest)
    finally:
        conn.close()
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
