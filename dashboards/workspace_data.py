"""Reads for the department workspace (我的任务), the office's review and the notices pages.

Scoped like `dashboards.data`: every function takes the viewer and a unit (`org_code`), and refuses
a unit the viewer may not see (`viewer.sees_unit`), so a clerk reaches only its own unit's rows
whatever the page asks. Warehouse figures come from the latest published snapshot (the same cached
read-only connection as `dashboards.data`); workflow state (uploads, reviews, locks, answers,
outbox) from the workflow store (`pipelines.workflow.store`), which these pages write.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards import auth, data
from pipelines.workflow import duties, review
from pipelines.workflow.store import Store


class OutOfScope(PermissionError):
    pass


def store() -> Store:
    return Store.default(data.settings())


def _run(sql: str, params: list) -> pd.DataFrame:
    return data._query(data.snapshot_name(), sql, tuple(params)).copy()


def check(viewer: auth.Viewer, county: str, org_code: str | None) -> None:
    if not viewer.sees_county(county) or (org_code is not None and not viewer.sees_unit(org_code)):
        raise OutOfScope("无权查看该单位 / not allowed to see this unit")


def units(viewer: auth.Viewer, county: str) -> pd.DataFrame:
    """Reporting units the viewer may work for (a clerk: its own; the office: all)."""
    check(viewer, county, None)
    df = _run(
        "SELECT DISTINCT a.org_code, ou.short_code, ou.name_zh, ou.name_en FROM dim.assignment a "
        "JOIN dim.org_unit ou ON ou.org_code = a.org_code WHERE a.county_code = ? ORDER BY a.org_code",
        [county],
    )
    return df[[viewer.sees_unit(o) for o in df["org_code"]]].reset_index(drop=True)


def due(viewer: auth.Viewer, county: str, org_code: str, today: dt.date) -> pd.DataFrame:
    check(viewer, county, org_code)
    df = duties.due_returns(_run, county, today, org_code=org_code, lookback_days=400, lookahead_days=45)
    if df.empty:
        return df
    ups = review.uploads(store(), county, org_code.split("-", 1)[-1])
    latest: dict[str, dict] = {}
    for u in ups:  # newest first
        latest.setdefault(u["period_code"], u)
    df["review_state"] = [latest.get(p, {}).get("review_state") for p in df["period_code"]]
    df["review_comment"] = [latest.get(p, {}).get("review_comment") for p in df["period_code"]]
    df["locked"] = [
        review.is_locked(store(), county, org_code.split("-", 1)[-1], p) for p in df["period_code"]
    ]
    return df


def failing_requirements(viewer: auth.Viewer, county: str, org_code: str, today: dt.date) -> pd.DataFrame:
    """The unit's requirements failing in the latest year-to-date verdict up to `today`."""
    check(viewer, county, org_code)
    return _run(
        """
        WITH last AS (
            SELECT max(period_code) AS p FROM compliance.verdict
            WHERE county_code = ? AND grain = 'ytd_month' AND period_end <= ?
        )
        SELECT v.period_code, v.requirement_code, r.name_zh, r.name_en, v.campaign_code, v.status, v.value,
               v.threshold_value, v.margin, v.is_veto, v.explanation_zh, v.explanation_en
        FROM compliance.verdict v JOIN last ON v.period_code = last.p
        LEFT JOIN dim.requirement r ON r.requirement_code = v.requirement_code
        WHERE v.county_code = ? AND v.grain = 'ytd_month' AND v.reporting_org_code = ?
          AND v.subject_org_code = ? AND (v.status = 'fail' OR (v.status = 'near' AND v.margin < 0))
        ORDER BY v.is_veto DESC, v.margin, v.requirement_code
        """,
        [county, today, county, org_code, county],
    )


def rectification(viewer: auth.Viewer, county: str, org_code: str) -> pd.DataFrame:
    """The unit's open rectification items: failing requirements and quality problems
    (`marts.rectification_item`) and problems found at inspections of the points it is responsible
    for (`supervision.problem`, 督查问题, issue 17), overdue first."""
    check(viewer, county, org_code)
    supervision = ""
    if data.has("supervision.problem"):
        supervision = """
        UNION ALL
        SELECT item_id, status, 'supervision' AS source_kind, NULL AS requirement_code,
               NULL AS indicator_code, strftime(opened_date, '%Y-%m') AS opened_period_code, due_date,
               description_zh, description_en, FALSE AS is_veto
        FROM supervision.problem
        WHERE county_code = ? AND owner_org_code = ? AND status IN ('open', 'overdue')
        """
    return _run(
        f"""
        SELECT * FROM (
            SELECT item_id, status, source_kind, requirement_code, indicator_code, opened_period_code,
                   due_date, description_zh, description_en, is_veto
            FROM marts.rectification_item
            WHERE county_code = ? AND owner_org_code = ? AND status IN ('open', 'overdue')
            {supervision}
        )
        ORDER BY CASE status WHEN 'overdue' THEN 0 ELSE 1 END, due_date, item_id
        """,
        [county, org_code] + ([county, org_code] if supervision else []),
    )


def answer_labels(viewer: auth.Viewer, county: str, lang: str) -> dict[str, str]:
    """The latest answer of a unit to each rectification item (整改答复, from 我的任务), as one line
    for the office's tables: date, the note (shortened) and how many evidence files. Only answers
    of units the viewer may see."""
    check(viewer, county, None)
    out: dict[str, str] = {}
    for a in review.rect_responses(store(), county):  # newest first
        if a["item_id"] in out or not viewer.sees_unit(f"{county}-{a['unit_code']}"):
            continue
        note = " ".join(str(a["note"]).split())
        note = note if len(note) <= 40 else note[:39] + "…"
        n = len(a["evidence"])
        files = (
            (f"（佐证 {n} 份）" if lang == "zh" else f" ({n} evidence file{'s' if n != 1 else ''})")
            if n
            else ""
        )
        out[a["item_id"]] = f"{str(a['at'])[:10]} {note}{files}"
    return out


def uploads(viewer: auth.Viewer, county: str, org_code: str | None) -> list[dict]:
    check(viewer, county, org_code)
    rows = review.uploads(store(), county, org_code.split("-", 1)[-1] if org_code else None)
    return [r for r in rows if viewer.sees_unit(r["org_code"])]


def upload(viewer: auth.Viewer, upload_id: str) -> dict | None:
    row = review.upload_row(store(), upload_id)
    if row is None or not viewer.sees_unit(row["org_code"]) or not viewer.sees_county(row["county_code"]):
        return None
    return row


def responses(viewer: auth.Viewer, county: str, org_code: str) -> list[dict]:
    check(viewer, county, org_code)
    return review.rect_responses(store(), county, org_code.split("-", 1)[-1])


def feedback_file(viewer: auth.Viewer, up: dict) -> Path | None:
    """The feedback workbook of an upload, for its unit's clerk and the office only, and only inside
    the feedback folder. Ownership comes from the upload's row in the workflow store (the snapshot
    names the file only after the publish that follows the ingest)."""
    recorded = up.get("feedback_path")
    if not recorded or not viewer.can(f"download_feedback:{up['org_code']}"):
        return None
    base = data.settings().feedback_dir.resolve()
    candidate = Path(recorded)
    candidate = candidate if candidate.is_absolute() else base / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(base) and resolved.is_file() else None


def receipt_line(up: dict, lang: str = "zh") -> str | None:
    """The receipt of a clean upload (accepted, nothing quarantined, no problem cell), which gets no
    feedback workbook; None for any other upload (its feedback workbook says what to fix)."""
    if (up.get("result_status") or "") != "accepted":
        return None
    if (up.get("values_quarantined") or 0) or up.get("problems") or up.get("feedback_path"):
        return None
    from pipelines.returns.feedback import receipt_text

    zh, en = receipt_text(int(up.get("values_loaded") or 0))
    return en if lang == "en" else zh
