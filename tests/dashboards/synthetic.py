"""A small, plausible, deterministic published warehouse for the dashboard tests.

Dimensions are the real ones (catalog, 平昌 profile, calendar); returns, observations, quarantine and
verdicts are synthetic for 2015–2016, built with the registry's own `create_all` and published with
`pipelines.warehouse.publish.publish` into a temporary folder. Marts and quality tables are created
empty when their modules are registered (the pages must cope).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from openpyxl import Workbook

from dashboards import analytics
from pipelines import dimensions
from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.settings import Settings
from pipelines.warehouse.publish import publish
from pipelines.warehouse.schema import REGISTRY, create_all
from pipelines.warehouse.tables import dim

COUNTY = "511923"
YEARS = (2015, 2016)
LATE_ORG = "511923-cgj"  # always late: tops the 通报 list
MISSING_ORG = "511923-wjw"  # misses its December 2016 returns


def _h(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _passes(value: float, comparison: str, thr: float, high: float | None) -> bool:
    return {
        ">=": value >= thr,
        ">": value > thr,
        "<=": value <= thr,
        "<": value < thr,
        "==": value == thr,
        "between": high is not None and thr <= value <= high,
    }.get(comparison, False)


def build(settings: Settings, dims_only: bool = False, with_marts: bool = True) -> Path:
    """Create, fill and publish the synthetic warehouse; return the snapshot path."""
    rng = np.random.default_rng(20161231)
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    dim_rows = {
        **dimensions.catalog_rows(catalog),
        **dimensions.profile_rows(catalog, profiles),
        **dimensions.calendar_rows(profiles),
    }
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(settings.warehouse_path))
    try:
        if dims_only:
            create_all(conn, [t for t in REGISTRY.values() if t.schema == "dim"])
        else:
            create_all(conn)
        dimensions.write_rows(conn, dim_rows)
        if not dims_only:
            facts = _facts(conn, rng, catalog, dim_rows, settings)
            if with_marts:
                _marts(conn, facts, dim_rows)
    finally:
        conn.close()
    return publish(settings.warehouse_path, settings.published_dir, keep=settings.keep_snapshots)


def _facts(conn, rng, catalog, dim_rows, settings: Settings) -> None:
    periods = {p[0]: p for p in dim_rows[dim.PERIOD] if p[2] in YEARS}
    deadlines = {d[1]: d[2] for d in dim_rows[dim.REPORTING_DEADLINE] if d[0] == COUNTY}
    resolved = {r[1]: r[2] for r in dim_rows[dim.COUNTY_REQUIREMENT] if r[0] == COUNTY}
    primary = [a for a in dim_rows[dim.ASSIGNMENT] if a[0] == COUNTY and a[3] == "primary"]

    # Target per indicator: the first absolute requirement's resolved threshold and direction.
    target: dict[str, tuple[float, str]] = {}
    for r in catalog.requirements.values():
        thr = resolved.get(r.code)
        if thr is not None and r.comparison in (">=", ">", "<=", "<") and r.indicator not in target:
            target[r.indicator] = (thr, r.comparison)

    files, subs, obs, quar = [], [], [], []
    values: dict[tuple[str, str], tuple[float | None, str | None, dt.date]] = {}  # (indicator, period)
    feedback_dir = settings.feedback_dir
    for a_i, (_c, indicator, org, _role, freq) in enumerate(sorted(primary)):
        ind = catalog.indicators[indicator]
        short = org.split("-", 1)[1]
        never = a_i % 7 == 3  # some indicators never make it
        for pcode, (_p, pfreq, _y, _start, end, _label) in sorted(periods.items(), key=lambda kv: kv[1][4]):
            if pfreq != freq:
                continue
            if org == MISSING_ORG and pcode in ("2016-12", "2016-Q4"):
                continue
            due = deadlines.get(pcode)
            if due is None:
                continue
            late_days = int(rng.integers(3, 9)) if org == LATE_ORG else int(rng.random() < 0.1) * 2
            received = dt.datetime.combine(due, dt.time(10)) + dt.timedelta(days=late_days - 1)
            file_name = f"{pcode}_{short}_{indicator}.xlsx"
            file_id = _h("file", org, pcode, indicator)
            progress = (end - dt.date(2015, 1, 1)).days / 730
            if ind.value_type == "text":
                value, text, raw = None, "达标" if progress > 0.4 else "不达标", None
                raw = text
            else:
                thr, comp = target.get(indicator, (80.0, ">="))
                up = comp in (">=", ">")
                gap = (0.25 if never else 0.12) * (1 - progress) + (0.04 if never else -0.03)
                base = thr * (1 - gap) if up else thr * (1 + gap)
                value = round(float(base * (1 + rng.normal(0, 0.01))), 2)
                if ind.unit == "%":
                    value = min(value, 100.0)
                if indicator == "builtup_green_coverage" and pcode == "2016":
                    value = round(value * 0.55, 2)  # an outlier the page should mark
                text, raw = None, f"{value}"
            status = "accepted"
            sub_id = f"{file_id}:{org}:{pcode}"
            quarantined = 0
            if a_i % 11 == 5 and pcode.endswith("Q2"):
                status, quarantined = "partial", 1
                quar.append(
                    {
                        "quarantine_id": _h("q", file_id),
                        "file_id": file_id,
                        "file_name": file_name,
                        "sheet": "填报表",
                        "cell": "G9",
                        "org_code": org,
                        "period_code": pcode,
                        "indicator_code": None,
                        "raw_text": "135%",
                        "scope": "value",
                        "reason_code": "out_of_range",
                        "message_zh": f"{file_name} 填报表!G9：数值 135% 超出百分比的可能范围",
                        "message_en": f"{file_name} 填报表!G9: 135% is impossible for a percentage",
                        "detected_at": received + dt.timedelta(hours=1),
                    }
                )
            files.append(
                {
                    "file_id": file_id,
                    "path": f"{COUNTY}/{short}/{file_name}",
                    "file_name": file_name,
                    "file_format": "xlsx",
                    "size_bytes": 9000 + a_i,
                    "received_at": received,
                    "processed_at": received + dt.timedelta(hours=1),
                    "county_code": COUNTY,
                    "org_code": org,
                    "org_detected_by": "template",
                    "period_codes": [pcode],
                    "period_detected_by": "template",
                    "template_version": "wuchuang-return/1",
                    "layout": "template",
                    "status": status,
                    "values_loaded": 1,
                    "values_quarantined": quarantined,
                    "reason_codes": [],
                    "message_zh": None,
                    "message_en": None,
                    "feedback_path": f"{short}/{pcode}_{short}_反馈.xlsx" if status == "partial" else None,
                }
            )
            revisions = [(1, value, received)]
            if org == "511923-sthjj" and pcode == "2016-11" and value is not None:
                revisions.append((2, round(value + 1.5, 2), received + dt.timedelta(days=3)))
            for rev, v, rec in revisions:
                rid = sub_id if rev == 1 else f"{sub_id}:r{rev}"
                last = rev == len(revisions)
                subs.append(
                    {
                        "submission_id": rid,
                        "file_id": file_id,
                        "county_code": COUNTY,
                        "org_code": org,
                        "period_code": pcode,
                        "revision_no": rev,
                        "received_at": rec,
                        "due_date": due,
                        "working_days_late": max(0, (rec.date() - due).days),
                        "is_on_time": rec.date() <= due,
                        "is_current": last,
                        "values_loaded": 1,
                        "values_quarantined": quarantined,
                    }
                )
                obs.append(
                    {
                        "observation_id": _h("obs", rid, indicator),
                        "submission_id": rid,
                        "file_id": file_id,
                        "county_code": COUNTY,
                        "org_code": org,
                        "indicator_code": indicator,
                        "period_code": pcode,
                        "value": v,
                        "value_text": text,
                        "raw_text": raw if rev == 1 else f"{v}",
                        "unit": ind.unit,
                        "sheet": "填报表",
                        "cell": f"G{4 + a_i % 20}",
                        "revision_no": rev,
                        "valid_from": rec,
                        "valid_to": revisions[rev][2] if not last else None,
                        "is_current": last,
                    }
                )
                if last:
                    values[(indicator, pcode)] = (v, text, end)

    # Rejected, duplicate and escaping-feedback files (no submissions).
    bad = [
        ("empty_file", "2016-12_sthjj_空文件.xlsx", "文件为空", "the file is empty", "sthjj/empty_反馈.xlsx"),
        (
            "corrupt_archive",
            "2016-11_zjj_损坏.xlsx",
            "文件损坏或不完整",
            "corrupt archive",
            "../outside.xlsx",
        ),
        ("duplicate_file", "2016-10_lyj_副本.xlsx", "与已收到的文件内容完全相同", "duplicate", None),
    ]
    for i, (reason, name, zh, en, fb) in enumerate(bad):
        fid = _h("bad", name)
        status = "duplicate" if reason == "duplicate_file" else "rejected"
        files.append(
            {
                "file_id": fid,
                "path": f"{COUNTY}/{name}",
                "file_name": name,
                "file_format": "xlsx",
                "size_bytes": 0 if reason == "empty_file" else 5000,
                "received_at": dt.datetime(2016, 12, 5 + i, 9),
                "processed_at": dt.datetime(2016, 12, 5 + i, 10),
                "county_code": COUNTY,
                "org_code": None,
                "period_codes": [],
                "layout": None,
                "status": status,
                "values_loaded": 0,
                "values_quarantined": 0,
                "reason_codes": [reason],
                "message_zh": f"{name}：{zh}",
                "message_en": f"{name}: {en}",
                "feedback_path": fb,
            }
        )
        if status == "rejected":
            quar.append(
                {
                    "quarantine_id": _h("qf", fid),
                    "file_id": fid,
                    "file_name": name,
                    "scope": "file",
                    "reason_code": reason,
                    "message_zh": f"{name}：{zh}",
                    "message_en": f"{name}: {en}",
                    "detected_at": dt.datetime(2016, 12, 5 + i, 10),
                }
            )
    # Feedback workbooks on disk (one per recorded path inside the folder).
    for f in files:
        fb = f["feedback_path"]
        if fb and not fb.startswith(".."):
            target_path = settings.feedback_dir / fb
            target_path.parent.mkdir(parents=True, exist_ok=True)
            wb = Workbook()
            wb.active.title = "反馈汇总"
            wb.active["A1"] = f"{f['file_name']} 反馈 / feedback"
            wb.save(target_path)
    (feedback_dir.parent / "outside.xlsx").write_bytes(b"not for download")

    verdicts = _verdicts(catalog, resolved, values, periods, primary)
    insert(conn, "core.source_file", files)
    insert(conn, "core.submission", subs)
    insert(conn, "core.observation", obs)
    insert(conn, "core.quarantine", quar)
    insert(conn, "compliance.verdict", verdicts)
    return {"files": files, "subs": subs, "obs": obs, "verdicts": verdicts}


def insert(conn: duckdb.DuckDBPyConnection, qualified: str, rows: list[dict]) -> int:
    """Bulk insert dict rows into a registered table (unknown keys ignored, missing columns NULL).
    Skipped when the table is not registered (its module not written yet)."""
    t = REGISTRY.get(qualified)
    if t is None or not rows:
        return 0
    names = t.column_names
    frame = pd.DataFrame([{n: r.get(n) for n in names} for r in rows], columns=names)
    conn.register("_rows", frame)
    try:
        conn.execute(f"INSERT INTO {t.qualified} SELECT * FROM _rows")
    finally:
        conn.unregister("_rows")
    return len(rows)


def _verdicts(catalog, resolved, values, periods, primary) -> list[dict]:
    editions = catalog.editions
    reporter = {a[1]: a[2] for a in primary}
    months = sorted(p for p, row in periods.items() if row[1] == "monthly")
    out = []
    for r in catalog.requirements.values():
        ed = editions[r.edition]
        for m in months:
            end = periods[m][4]
            if ed.effective_from > end or (ed.effective_to is not None and ed.effective_to < end):
                continue
            known = [(e, v, t) for (ind, _p), (v, t, e) in values.items() if ind == r.indicator and e <= end]
            thr = resolved.get(r.code)
            value = text = margin = None
            if not known:
                status = "no_data"
            else:
                _e, value, text = max(known, key=lambda k: k[0])
                if r.threshold.kind == "qualitative":
                    status = "pass" if text in r.threshold.pass_values else "fail"
                elif thr is None or value is None:
                    status = "not_assessable"
                else:
                    ok = _passes(value, r.comparison, thr, r.threshold.high)
                    margin = round((value - thr) if r.comparison in (">=", ">") else (thr - value), 3)
                    near = not ok and abs(margin) <= 0.02 * max(abs(thr), 1)
                    status = "pass" if ok else ("near" if near else "fail")
            out.append(
                {
                    "county_code": COUNTY,
                    "requirement_code": r.code,
                    "campaign_code": r.campaign,
                    "edition_code": r.edition,
                    "indicator_code": r.indicator,
                    "subject_org_code": COUNTY,
                    "reporting_org_code": reporter.get(r.indicator) if known else None,
                    "period_code": m,
                    "grain": "ytd_month",
                    "status": status,
                    "value": value,
                    "value_text": text,
                    "comparison": r.comparison,
                    "threshold_value": thr,
                    "threshold_token": r.threshold.token,
                    "margin": margin,
                    "rollup": catalog.indicators[r.indicator].rollup,
                    "n_observations": 1 if known else 0,
                    "observation_ids": [],
                    "is_veto": r.veto,
                    "weight": r.weight,
                    "is_confirmed": r.confirmed,
                    "explanation_zh": f"{r.name_zh}：{status}",
                    "explanation_en": f"{r.name_en}: {status}",
                }
            )
    return out


def _marts(conn: duckdb.DuckDBPyConnection, facts: dict, dim_rows: dict) -> None:
    """Small plausible rows for the marts and quality tables (when their modules are registered)."""
    verdicts = pd.DataFrame(facts["verdicts"])
    ready = analytics.readiness(verdicts)
    accept = {c[1]: c[5] for c in dim_rows[dim.COUNTY_CAMPAIGN] if c[0] == COUNTY}
    insert(
        conn,
        "marts.campaign_readiness",
        [
            {
                **r,
                "county_code": COUNTY,
                "grain": "ytd_month",
                "n_veto_failed": int(r["veto_failed"]),
                "is_capped": bool(r["veto_failed"]),
                "acceptance_date": accept.get(r["campaign_code"]),
            }
            for r in ready.to_dict("records")
        ],
    )
    latest = verdicts[verdicts["period_code"] == "2016-12"]
    req_fc = []
    for v in latest.itertuples(index=False):
        if v.value is None or pd.isna(v.value) or v.threshold_value is None or pd.isna(v.threshold_value):
            continue
        status = {"pass": "achieved", "near": "at_risk", "fail": "off_track"}.get(v.status, "no_data")
        req_fc.append(
            {
                "county_code": COUNTY,
                "campaign_code": v.campaign_code,
                "requirement_code": v.requirement_code,
                "indicator_code": v.indicator_code,
                "subject_org_code": COUNTY,
                "as_of_period_code": "2016-12",
                "as_of_date": dt.date(2016, 12, 31),
                "is_latest": True,
                "target_kind": "consolidation",
                "target_date": dt.date(2017, 12, 31),
                "latest_value": v.value,
                "threshold_value": v.threshold_value,
                "projected_value": v.value * 1.02,
                "projected_low": v.value * 0.97,
                "projected_high": v.value * 1.07,
                "status": status,
                "status_zh": {"achieved": "已达标", "at_risk": "有风险", "off_track": "难以按期达标"}[status],
                "status_reason_zh": "合成测试数据",
                "status_reason_en": "synthetic test data",
                "is_veto": v.is_veto,
                "weight": v.weight,
            }
        )
    insert(conn, "marts.requirement_forecast", req_fc)
    fc = pd.DataFrame(req_fc)
    insert(
        conn,
        "marts.campaign_forecast",
        [
            {
                "county_code": COUNTY,
                "campaign_code": c,
                "as_of_period_code": "2016-12",
                "is_latest": True,
                "target_date": dt.date(2017, 12, 31),
                "n_requirements": len(g),
                "n_achieved": int((g["status"] == "achieved").sum()),
                "n_on_track": 0,
                "n_at_risk": int((g["status"] == "at_risk").sum()),
                "n_off_track": int((g["status"] == "off_track").sum()),
                "n_deteriorating": 0,
                "n_no_data": 0,
                "n_projected_pass": int((g["status"] == "achieved").sum()),
                "projected_readiness": float((g["status"] == "achieved").mean()),
            }
            for c, g in fc.groupby("campaign_code")
        ],
    )
    subs = pd.DataFrame(facts["subs"])
    months = subs[subs["period_code"].str.len() == 7]
    ledger, lagging = [], []
    for (org, per), g in months.groupby(["org_code", "period_code"]):
        first = g[g["revision_no"] == 1]
        on_time = int(first["is_on_time"].sum())
        score = round(100 * (0.35 * on_time / max(len(first), 1) + 0.65), 1)
        ledger.append(
            {
                "county_code": COUNTY,
                "org_code": org,
                "period_code": per,
                "unit_name_zh": org,
                "returns_due": len(first),
                "returns_received": len(first),
                "returns_on_time": on_time,
                "returns_late": len(first) - on_time,
                "returns_missing": 0,
                "score": score,
            }
        )
        if org == LATE_ORG:
            lagging.append(
                {
                    "county_code": COUNTY,
                    "period_code": per,
                    "org_code": org,
                    "unit_name_zh": "县城市管理局",
                    "score": score,
                    "rank": 1,
                    "reason_codes": ["late_return"],
                    "reason_zh": "迟报超过 5 个工作日",
                    "reason_en": "return more than 5 working days late",
                }
            )
    led = pd.DataFrame(ledger)
    led["rank"] = led.groupby("period_code")["score"].rank(ascending=False, method="min").astype(int)
    insert(conn, "marts.unit_accountability", led.to_dict("records"))
    insert(conn, "marts.lagging_unit", lagging)
    schedule = [
        {
            "county_code": COUNTY,
            "item_id": f"phase:{p[1]}",
            "item_kind": "phase",
            "code": p[1],
            "name_zh": p[2],
            "name_en": p[3],
            "start_date": p[4],
            "due_date": p[5],
            "status": "done",
            "source": "profile",
        }
        for p in dim_rows[dim.PLAN_PHASE]
    ] + [
        {
            "county_code": COUNTY,
            "item_id": f"milestone:{m[1]}",
            "item_kind": "milestone",
            "campaign_code": m[2],
            "code": m[1],
            "name_zh": m[3],
            "due_date": m[4],
            "status": "done",
            "source": "profile",
        }
        for m in dim_rows[dim.MILESTONE]
    ]
    tasks = [
        ("T1", "编制创建规划", "511923-sthjj", dt.date(2012, 3, 31), "done"),
        ("T2", "建成区绿地系统建设", "511923-zjj", dt.date(2016, 6, 30), "in_progress"),
        ("T3", "农贸市场规范化改造", "511923-scjgj", dt.date(2016, 10, 31), "not_started"),
    ]
    insert(
        conn,
        "marts.task",
        [
            {
                "task_id": _h("task", c),
                "county_code": COUNTY,
                "source_file": "511923/任务台账.xlsx",
                "sheet": "任务台账",
                "row_no": i + 3,
                "task_code": c,
                "task_name": n,
                "owner_org_code": o,
                "due_date": d,
                "status": st,
                "is_overdue": st != "done" and d < dt.date(2016, 12, 31),
            }
            for i, (c, n, o, d, st) in enumerate(tasks)
        ],
    )
    schedule += [
        {
            "county_code": COUNTY,
            "item_id": f"task:{c}",
            "item_kind": "task",
            "code": c,
            "name_zh": n,
            "owner_org_code": o,
            "start_date": d - dt.timedelta(days=90),
            "due_date": d,
            "status": "overdue" if st != "done" else "done",
            "source": "task_ledger",
        }
        for c, n, o, d, st in tasks
    ]
    insert(conn, "marts.plan_schedule", schedule)
    fails = verdicts[(verdicts["status"] == "fail") & (verdicts["period_code"] == "2016-12")].head(6)
    insert(
        conn,
        "marts.rectification_item",
        [
            {
                "item_id": f"verdict:{COUNTY}:{v.requirement_code}:ytd_month:2016-01",
                "county_code": COUNTY,
                "source_kind": "verdict",
                "campaign_code": v.campaign_code,
                "requirement_code": v.requirement_code,
                "indicator_code": v.indicator_code,
                "subject_org_code": COUNTY,
                "grain": "ytd_month",
                "owner_org_code": v.reporting_org_code,
                "is_veto": v.is_veto,
                "opened_period_code": "2016-01",
                "due_date": dt.date(2016, 4, 30),
                "status": "overdue" if i % 2 else "open",
                "value_at_open": v.value,
                "threshold_at_open": v.threshold_value,
                "description_zh": f"{v.requirement_code} 未达标，需整改",
                "description_en": f"{v.requirement_code} failing: rectify",
            }
            for i, v in enumerate(fails.itertuples(index=False))
        ],
    )
    obs = pd.DataFrame(facts["obs"])
    out = obs[(obs["indicator_code"] == "builtup_green_coverage") & (obs["period_code"] == "2016")]
    insert(
        conn,
        "quality.outlier",
        [
            {
                "observation_id": o.observation_id,
                "method": "modified_z",
                "indicator_code": o.indicator_code,
                "org_code": o.org_code,
                "period_code": o.period_code,
                "value": o.value,
                "score": -6.1,
                "follow_up": True,
                "message_zh": "数值远离该单位历史序列",
                "message_en": "far from the unit's series",
            }
            for o in out.itertuples(index=False)
        ],
    )
    checks = []
    for per in sorted(months["period_code"].unique()):
        for dim_name, rate in (("validity", 0.02), ("completeness", 0.01)):
            checks.append(
                {
                    "check_name": "observation_values",
                    "expectation": f"{dim_name}_synthetic",
                    "dimension": dim_name,
                    "severity": "WARN",
                    "org_code": "511923-sthjj",
                    "period_code": per,
                    "n_checked": 100,
                    "n_failed": int(100 * rate) + (1 if per.endswith("06") else 0),
                    "passed": False,
                }
            )
    insert(conn, "quality.check_result", checks)
