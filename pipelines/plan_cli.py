"""`wuchuang letters`: the target responsibility letters (目标责任书) of a year as Word documents.

    wuchuang letters --year 2013 --out DIR            # one .docx per responsible unit
    wuchuang letters --year 2013 --unit cgj --out DIR

Targets follow `pipelines.plan_process.letters` (threshold in force, or the interim target on the
linear path from the baseline to the acceptance date). Baselines, tasks and points come from the
latest published snapshot when there is one (without it every pre-acceptance target is the threshold,
marked 无基期数据). Prints one line per letter and a count.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.catalog import load_catalog
from pipelines.plan_process import letters
from pipelines.plan_process import points as pts
from pipelines.profile import load_profiles
from pipelines.settings import Settings


def _snapshot_rows(settings: Settings, sql: str, params: list) -> list[dict]:
    try:
        from pipelines.warehouse.publish import connect_readonly

        conn = connect_readonly(settings.published_dir)
    except Exception:  # no snapshot yet
        return []
    try:
        cur = conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    except Exception:
        return []
    finally:
        conn.close()


def build_letters(settings: Settings, year: int, unit: str | None = None, county: str | None = None) -> dict:
    """(org, year) → (unit name, docx bytes), and the target rows used."""
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    profile = next((p for p in profiles if p.code == county), profiles[0]) if county else profiles[0]
    org = profile.unit_code(unit) if unit and "-" not in unit else unit
    baselines = {}
    for p in profile.programmes:
        y0 = p.start.year - 1
        for r in _snapshot_rows(
            settings,
            "SELECT requirement_code, value FROM compliance.verdict WHERE county_code = ? AND grain = 'year' "
            "AND period_code = ? AND subject_org_code = county_code AND campaign_code = ? AND value IS NOT NULL",
            [profile.code, str(y0), p.campaign],
        ):
            baselines[r["requirement_code"]] = (y0, float(r["value"]))
    targets = letters.letter_targets(catalog, profile, year, baselines, org)
    names = {c.code: c.name_zh for c in catalog.campaigns.values()}
    tasks = _snapshot_rows(
        settings,
        "SELECT owner_org_code, task_name, due_date FROM marts.task WHERE county_code = ? AND year(due_date) = ? "
        "ORDER BY due_date",
        [profile.code, year],
    )
    checklists = pts.load_checklists(settings.standards_dir, set(catalog.campaigns))
    points = pts.load_points(settings.expectations_dir, profile, checklists)
    units = sorted({t["org_code"] for t in targets} | ({org} if org else set()))
    freq = {i.code: (i.name_zh, i.frequency) for i in catalog.indicators.values()}
    unit_names = {u.code: u.name_zh for u in profile.org_units}
    docs = {}
    for u in units:
        mine = [t for t in targets if t["org_code"] == u]
        duties = sorted({freq[t["indicator_code"]] for t in mine if t["indicator_code"] in freq})
        data = letters.letter_document(
            profile,
            u,
            year,
            mine,
            names,
            [t for t in tasks if t["owner_org_code"] == u],
            duties,
            [p.name_zh for p in points if p.unit == u],
        )
        docs[(u, year)] = (unit_names.get(u, u), data)
    return {"docs": docs, "targets": targets}


def cmd_letters(args: argparse.Namespace, settings: Settings) -> int:
    got = build_letters(settings, args.year, args.unit, args.county)
    if not got["docs"]:
        sys.stderr.write(f"{args.year} 年没有需签订目标责任书的单位 / no unit has targets in {args.year}\n")
        return 1
    for path in letters.write_letters(Path(args.out), got["docs"]):
        sys.stdout.write(f"{path.name}\n")
    sys.stdout.write(
        f"共 {len(got['docs'])} 份目标责任书，{len(got['targets'])} 项目标 / {len(got['docs'])} letters, "
        f"{len(got['targets'])} targets → {args.out}\n"
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "letters", help="生成年度目标责任书（Word） / write the year's target responsibility letters (docx)"
    )
    p.add_argument("--year", type=int, required=True, help="年度 / year, e.g. 2013")
    p.add_argument("--unit", help="只生成此单位（简码，如 cgj） / only this unit (short code, e.g. cgj)")
    p.add_argument("--county", help="县代码 / county code (default: the first profile)")
    p.add_argument("--out", required=True, help="输出文件夹 / output folder")
    p.set_defaults(func=cmd_letters)
