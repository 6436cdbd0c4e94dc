"""Rows of the plan-process tables from the warehouse, the files and the workflow store (plain
functions; the Dagster assets in `pipelines.assets.plan_process` only call these and write)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from pipelines.catalog.model import Catalog
from pipelines.marts import accountability, rectification
from pipelines.marts.common import county_verdicts, fetch_dicts, table_exists
from pipelines.plan_process import acceptance, letters, supervision
from pipelines.plan_process import points as pts
from pipelines.plan_process import store as pstore
from pipelines.plan_process import tables as t
from pipelines.profile import CountyProfile
from pipelines.settings import Settings
from pipelines.workflow.store import Store, workflow_dir


def existing_store(settings: Settings | None = None) -> Store | None:
    """The workflow store when its file exists (the pipeline never creates it)."""
    path = workflow_dir(settings) / "workflow.sqlite"
    return Store(path) if path.is_file() else None


def horizon(conn: duckdb.DuckDBPyConnection) -> dt.date | None:
    got = accountability.data_horizon(conn) if table_exists(conn, "core", "submission") else None
    if got is None and table_exists(conn, "compliance", "verdict"):
        row = conn.execute(
            "SELECT max(p.end_date) FROM compliance.verdict v JOIN dim.period p USING (period_code)"
        ).fetchone()
        got = row[0] if row else None
    return got


def supervision_rows(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    catalog: Catalog,
    profiles: list[CountyProfile],
    store: Store | None,
) -> tuple[dict, dict]:
    """Points, checklists, inspections (spreadsheets and forms), scores, file outcomes and issues,
    rectification items and their events; feedback workbooks written for files with problems."""
    checklists = pts.load_checklists(settings.standards_dir, set(catalog.campaigns))
    folder = supervision.supervision_dir(settings)
    out = {
        k: []
        for k in (
            t.POINT,
            t.CHECKLIST_ITEM,
            t.INSPECTION,
            t.SCORE,
            t.FILE,
            t.ISSUE,
            t.PROBLEM,
            t.PROBLEM_EVENT,
        )
    }
    stats = {"files": 0, "issues": 0}
    as_of = horizon(conn)
    for prof in profiles:
        points = pts.load_points(settings.expectations_dir, prof, checklists)
        pmap = {p.code: p for p in points}
        for p in points:
            cl = checklists[p.type]
            out[t.POINT].append(
                {
                    "county_code": prof.code,
                    "point_code": p.code,
                    "point_type": p.type,
                    "type_name_zh": cl.name_zh,
                    "type_name_en": cl.name_en,
                    "name_zh": p.name_zh,
                    "town_code": p.town,
                    "address": p.address,
                    "unit_code": p.unit,
                    "campaigns": list(p.campaigns),
                    "lon": p.lon,
                    "lat": p.lat,
                    "coords_approx": p.approx,
                }
            )
        for cl in checklists.values():
            for it in cl.items:
                out[t.CHECKLIST_ITEM].append(
                    {
                        "county_code": prof.code,
                        "point_type": cl.type,
                        "item_code": it.code,
                        "name_zh": it.name_zh,
                        "name_en": it.name_en,
                        "max_score": it.max_score,
                        "score_assumed": it.assumed,
                        "source": it.source,
                    }
                )
        results = supervision.read_folder(folder, prof.code, points, checklists)
        fb = supervision.write_feedback(folder, settings.feedback_dir, results)
        fb_rel = {p.relative_to(settings.feedback_dir).as_posix() for p in fb}
        inspections, scores = [], []
        for res in results:
            stats["files"] += 1
            stats["issues"] += len(res.issues)
            fpath = supervision.feedback.feedback_path_for(
                Path(settings.feedback_dir) / "supervision", res.rel_path
            )
            rel = fpath.relative_to(settings.feedback_dir).as_posix()
            out[t.FILE].append(
                {
                    "county_code": prof.code,
                    "rel_path": res.rel_path,
                    "status": res.status,
                    "n_inspections": len(res.inspections),
                    "n_scores": len(res.scores),
                    "n_issues": len(res.issues),
                    "feedback_path": rel if rel in fb_rel else None,
                }
            )
            out[t.ISSUE] += [{"county_code": prof.code} | i for i in res.issues]
            inspections += res.inspections
            scores += res.scores
        if store is not None:
            f_insp, f_scores = pstore.form_inspections(store, prof.code)
            for i in f_insp:
                if i["point_code"] not in pmap:
                    continue
                inspections.append(
                    {
                        "inspection_id": i["inspection_id"],
                        "county_code": prof.code,
                        "point_code": i["point_code"],
                        "checklist_type": pmap[i["point_code"]].type,
                        "inspected_on": dt.date.fromisoformat(i["inspected_on"]),
                        "round_kind": i["round_kind"],
                        "round_name": i["round_name"] or "表单录入",
                        "team": i["team"],
                        "source": "form",
                        "source_file": None,
                        "sheet": None,
                        "row_cell": None,
                        "problem_text": i["note"],
                        "photo_ref": ",".join(x.get("name", "") for x in json.loads(i["photos_json"] or "[]"))
                        or None,
                    }
                )
            for s in f_scores:
                p = pmap.get(
                    next((i["point_code"] for i in f_insp if i["inspection_id"] == s["inspection_id"]), "")
                )
                it = checklists[p.type].item(s["item_code"]) if p else None
                if it is None:
                    continue
                scores.append(
                    {
                        "inspection_id": s["inspection_id"],
                        "item_code": s["item_code"],
                        "score": s["score"],
                        "max_score": it.max_score,
                        "problem": s["problem"],
                        "photo_ref": s["photo_ref"],
                        "sheet": None,
                        "cell": None,
                    }
                )
        per = {}
        for s in scores:
            a = per.setdefault(s["inspection_id"], [0.0, 0.0, 0, 0])
            a[0] += s["score"]
            a[1] += s["max_score"]
            a[2] += 1
            a[3] += s["score"] < s["max_score"] - 1e-9
        for i in inspections:
            p = pmap[i["point_code"]]
            got, mx, n, nd = per.get(i["inspection_id"], [0.0, 0.0, 0, 0])
            out[t.INSPECTION].append(
                {
                    "county_code": prof.code,
                    "inspection_id": i["inspection_id"],
                    "point_code": p.code,
                    "point_type": p.type,
                    "town_code": p.town,
                    "unit_code": p.unit,
                    "inspected_on": i["inspected_on"],
                    "round_kind": i["round_kind"],
                    "round_name": i["round_name"],
                    "team": i["team"],
                    "score": got,
                    "max_score": mx,
                    "score_pct": 100 * got / mx if mx else None,
                    "n_items": n,
                    "n_items_checklist": len(checklists[p.type].items),
                    "n_deductions": nd,
                    "problem_text": i["problem_text"],
                    "photo_ref": i["photo_ref"],
                    "source": i["source"],
                    "source_file": i["source_file"],
                    "sheet": i["sheet"],
                    "row_cell": i["row_cell"],
                }
            )
        out[t.SCORE] += [
            {
                "county_code": prof.code,
                "inspection_id": s["inspection_id"],
                "item_code": s["item_code"],
                "score": s["score"],
                "max_score": s["max_score"],
                "deduction": s["max_score"] - s["score"],
                "problem": s["problem"],
                "photo_ref": s["photo_ref"],
                "sheet": s["sheet"],
                "cell": s["cell"],
            }
            for s in scores
        ]
        point_meta = {
            p.code: {"name_zh": p.name_zh, "point_type": p.type, "town_code": p.town, "unit_code": p.unit}
            for p in points
        }
        item_meta = {
            (cl.type, it.code): {"name_zh": it.name_zh, "name_en": it.name_en}
            for cl in checklists.values()
            for it in cl.items
        }
        items, events = rectification.supervision_items(inspections, scores, point_meta, item_meta, as_of)
        out[t.PROBLEM] += items
        out[t.PROBLEM_EVENT] += events
        if store is not None:  # findings of acceptances and re-reviews: items of the campaign's lead unit
            leads = {g.code: g.lead_unit for g in prof.working_groups}
            owners = {(prof.code, p.campaign): leads.get(p.working_group) for p in prof.programmes}
            names = {c.code: c.name_zh for c in catalog.campaigns.values()}
            records = pstore.acceptance_records(store, prof.code)
            f_items, f_events = rectification.acceptance_finding_items(
                records, owners, names, as_of, {c.code: c.name_en for c in catalog.campaigns.values()}
            )
            out[t.PROBLEM] += f_items
            out[t.PROBLEM_EVENT] += f_events
    return out, stats


def plan_rows(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    catalog: Catalog,
    profiles: list[CountyProfile],
    store: Store | None,
) -> dict:
    """Letters with their targets and performance, acceptance records, campaign status, regression
    alerts and the supervision component of the unit ranking."""
    as_of = horizon(conn) or dt.date.today()
    verdicts = county_verdicts(conn, True) if table_exists(conn, "compliance", "verdict") else []
    year_v = {
        (v["county_code"], v["requirement_code"], v["period_code"]): v
        for v in verdicts
        if v["grain"] == "year"
    }
    records = pstore.acceptance_records(store) if store is not None else []
    signings = {
        (s["county_code"], s["org_code"], s["year"]): s for s in (pstore.signings(store) if store else [])
    }
    rules = acceptance.consolidation_rules(settings.standards_dir)
    names = {r.code: r.name_zh for r in catalog.requirements.values()}
    names_en = {r.code: r.name_en for r in catalog.requirements.values()}
    out = {
        k: []
        for k in (t.LETTER, t.LETTER_TARGET, t.ACCEPTANCE, t.CAMPAIGN_STATUS, t.REGRESSION, t.UNIT_SCORE)
    }
    points_per_unit: dict[str, int] = {}
    if table_exists(conn, "supervision", "point"):
        for r in fetch_dicts(conn, "SELECT unit_code, count(*) AS n FROM supervision.point GROUP BY ALL"):
            points_per_unit[r["unit_code"]] = r["n"]
    for prof in profiles:
        first = min(p.start.year for p in prof.programmes)
        last = max(as_of.year, max(p.acceptance.year for p in prof.programmes))
        last = min(last, as_of.year) if as_of else last
        baselines = {}
        for p in prof.programmes:
            for req in catalog.requirements.values():
                if req.campaign == p.campaign:
                    v = year_v.get((prof.code, req.code, str(p.start.year - 1)))
                    if v and v.get("value") is not None:
                        baselines[req.code] = (p.start.year - 1, float(v["value"]))
        actuals = {
            (req, int(period)): v
            for (county, req, period), v in year_v.items()
            if county == prof.code and period.isdigit()
        }
        targets = []
        for year in range(first, last + 1):
            targets += letters.evaluate(letters.letter_targets(catalog, prof, year, baselines), actuals)
        out[t.LETTER_TARGET] += targets
        unit_names = {u.code: u.name_zh for u in prof.org_units}
        out[t.LETTER] += accountability.letter_rows(targets, signings, unit_names, points_per_unit)
        recs = [r for r in records if r["county_code"] == prof.code]
        out[t.ACCEPTANCE] += [{c.name: r.get(c.name) for c in t.ACCEPTANCE.columns} for r in recs]
        passes = {}
        for r in recs:
            if (
                r["kind"] == "acceptance"
                and (r.get("milestone") or "acceptance") == "acceptance"
                and r["result"] in acceptance.PASSING
                and r["result_on"]
                and dt.date.fromisoformat(r["result_on"]) <= as_of
            ):
                passes[(prof.code, r["campaign_code"])] = dt.date.fromisoformat(r["result_on"])
        alerts = acceptance.regression_alerts(
            [v for v in verdicts if v["county_code"] == prof.code], passes, names, names_en
        )
        out[t.REGRESSION] += alerts
        out[t.CAMPAIGN_STATUS] += acceptance.campaign_status(
            prof.code, [p.campaign for p in prof.programmes], recs, alerts, rules, as_of
        )
    if table_exists(conn, "supervision", "inspection"):
        insp = fetch_dicts(
            conn, "SELECT county_code, unit_code, inspected_on, score_pct FROM supervision.inspection"
        )
        probs = fetch_dicts(
            conn,
            "SELECT county_code, owner_org_code, opened_date, status, is_repeat FROM supervision.problem",
        )
    else:
        insp, probs = [], []
    ledger = (
        fetch_dicts(
            conn,
            "SELECT county_code, org_code, period_code, score, rank_group, is_ranked FROM marts.unit_accountability",
        )
        if table_exists(conn, "marts", "unit_accountability")
        else []
    )
    levels = {u.code: u.level for p in profiles for u in p.org_units}
    out[t.UNIT_SCORE] = accountability.supervision_unit_scores(insp, probs, ledger, levels=levels)
    return out
