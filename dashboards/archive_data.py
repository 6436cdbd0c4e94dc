"""Reads and actions of the archive (档案资料), scoped by the viewer like `dashboards.data`.

Evidence requirements come from the catalog files, items, versions and reviews from the workflow store
(written by these pages, so they are fresh), the indicator readiness from the published snapshot. Every
function takes the viewer: a clerk sees and uploads only its own unit's items; leaders and group leads
see the readiness of the campaigns they may see; only the office reviews and builds the package.
"""

from __future__ import annotations

import datetime as dt
import functools
import os

import pandas as pd

from dashboards import auth, data
from pipelines.archive import intake, package
from pipelines.archive import store as es
from pipelines.archive.service import Archive
from pipelines.marts.common import VETO_CAP

OFFICE_UNIT = intake.OFFICE_UNIT


class OutOfScope(PermissionError):
    pass


@functools.lru_cache(maxsize=4)
def _archive(key: tuple) -> Archive:
    return Archive.load(data.settings(), key[0] or None)


def archive(county: str | None) -> Archive:
    """The county's archive (catalog, slots, store), loaded once per county and folder settings."""
    s = data.settings()
    key = (
        county or "",
        str(s.standards_dir),
        str(s.profiles_dir),
        str(s.warehouse_dir),
        os.environ.get("WUCHUANG_WORKFLOW_DIR", ""),
        os.environ.get("WUCHUANG_EVIDENCE_DIR", ""),
        os.environ.get("WUCHUANG_EVIDENCE_STORE", ""),
    )
    return _archive(key)


def _check(viewer: auth.Viewer, county: str, campaign: str | None = None) -> None:
    if not viewer.sees_county(county) or (campaign is not None and not viewer.sees_campaign(campaign)):
        raise OutOfScope("无权查看 / not allowed to see this")


def campaigns(viewer: auth.Viewer, county: str) -> list[str]:
    _check(viewer, county)
    return [p.campaign for p in archive(county).profile.programmes if viewer.sees_campaign(p.campaign)]


def indicator_rows(county: str) -> list[dict]:
    """marts.campaign_readiness rows of the latest snapshot ([] without one)."""
    try:
        df = data._query(
            data.snapshot_name(),
            "SELECT county_code, campaign_code, period_code, grain, period_end, readiness "
            "FROM marts.campaign_readiness WHERE county_code = ?",
            (county,),
        )
    except Exception:  # no snapshot yet, table missing: no indicator readiness, never a made-up one
        return []
    rows = df.to_dict("records")
    for r in rows:
        end = r["period_end"]
        r["period_end"] = None if pd.isna(end) else (end.date() if hasattr(end, "date") else end)
        r["readiness"] = None if pd.isna(r["readiness"]) else float(r["readiness"])
    return [r for r in rows if r["period_end"] is not None]


def campaign_rows(viewer: auth.Viewer, county: str, as_of: dt.date | None = None) -> list[dict]:
    """Archive and overall readiness of each campaign the viewer may see."""
    _check(viewer, county)
    as_of = as_of or dt.date.today()
    rows = archive(county).campaign_rows(None, as_of, indicator_rows(county))
    return [r for r in rows if viewer.sees_campaign(r["campaign_code"])]


def campaign_row(
    viewer: auth.Viewer, county: str, campaign: str, as_of: dt.date | None = None
) -> dict | None:
    _check(viewer, county, campaign)
    as_of = as_of or dt.date.today()
    rows = archive(county).campaign_rows(campaign, as_of, indicator_rows(county))
    return rows[0] if rows else None


def clause_rows(viewer: auth.Viewer, county: str, campaign: str, as_of: dt.date | None = None) -> list[dict]:
    _check(viewer, county, campaign)
    return archive(county).clause_rows(campaign, as_of or dt.date.today())


def slot_rows(
    viewer: auth.Viewer,
    county: str,
    campaign: str | None = None,
    org_code: str | None = None,
    owed_only: bool = False,
    as_of: dt.date | None = None,
) -> list[dict]:
    """Slots (document × period) the viewer may see, optionally of one unit and only those still owed."""
    _check(viewer, county, campaign)
    if org_code is not None and not viewer.sees_unit(org_code):
        raise OutOfScope("无权查看该单位 / not allowed to see this unit")
    rows = archive(county).slot_rows(campaign, as_of or dt.date.today())
    out = []
    for r in rows:
        if not viewer.sees_campaign(r["campaign_code"]) or not viewer.sees_unit(r["provider_org_code"]):
            continue
        if org_code is not None and r["provider_org_code"] != org_code:
            continue
        if owed_only and r["state"] == "accepted":
            continue
        out.append(r)
    return out


def versions(viewer: auth.Viewer, county: str, campaign: str) -> list[dict]:
    """Every version of the campaign's items the viewer may see (newest version first per item)."""
    _check(viewer, county, campaign)
    a = archive(county)
    return [
        v
        for v in es.versions(a.store, a.county, campaign)
        if viewer.sees_unit(a.profile.unit_code(v["unit_code"]))
    ]


def upload_slots(viewer: auth.Viewer, county: str, campaign: str) -> list:
    """Slots the viewer may upload for: the office any, a clerk those its unit provides."""
    _check(viewer, county, campaign)
    if not viewer.can("upload"):
        return []
    a = archive(county)
    if viewer.role == "office":
        return a.slots_of(campaign)
    return [s for s in a.slots_of(campaign) if s.provider_org_code == viewer.org_code]


def _uploader_unit(viewer: auth.Viewer) -> str:
    if viewer.role == "office":
        return OFFICE_UNIT
    return (viewer.org_code or "").split("-", 1)[-1]


def submit(
    viewer: auth.Viewer, county: str, slot_key: tuple, data_bytes, file_name: str, item_id: str | None
) -> dict:
    """Upload one file for a slot (gate, content-addressed store, version); audited."""
    campaign = slot_key[0]
    allowed = {s.key: s for s in upload_slots(viewer, county, campaign)}
    slot = allowed.get(tuple(slot_key))
    if slot is None:
        raise OutOfScope("本单位不能上传该资料 / this unit may not upload this item")
    a = archive(county)
    made = intake.submit(
        a.store,
        a.paths.store,
        slot,
        data_bytes,
        file_name,
        _uploader_unit(viewer),
        viewer.username,
        "browser",
        item_id,
    )
    auth.audit("evidence_upload", {"campaign": campaign, "clause": slot.clause_code, "item": slot.item_code,
                                   "period": slot.period_code, "version": made["version"]})  # fmt: skip
    return made


def pending(viewer: auth.Viewer, county: str, campaign: str) -> list[dict]:
    """Latest versions awaiting the office's review (office only)."""
    _check(viewer, county, campaign)
    if not viewer.can("approve"):
        return []
    a = archive(county)
    out = [v for v in a.latest(campaign) if v["review_state"] == "submitted"]
    return sorted(out, key=lambda v: (v["uploaded_at"], v["version_id"]), reverse=True)  # newest first


def review(viewer: auth.Viewer, county: str, version_id: str, action: str, comment: str) -> None:
    if not viewer.can("approve"):
        raise OutOfScope("只有创建办可以审核 / only the office reviews")
    _check(viewer, county)
    a = archive(county)
    es.review(a.store, version_id, action, viewer.username, comment)
    auth.audit("evidence_review", {"version_id": version_id, "action": action, "comment": comment})


def may_download(viewer: auth.Viewer, county: str, unit_code: str) -> bool:
    """The office, and the providing unit's own clerk, may download an evidence file."""
    org = archive(county).profile.unit_code(unit_code)
    return viewer.role == "office" or bool(viewer.org_code and viewer.org_code == org)


def file_bytes(viewer: auth.Viewer, county: str, version_id: str) -> tuple[str, bytes] | None:
    """(original name, bytes) of a version, for the office and the providing unit only."""
    _check(viewer, county)
    a = archive(county)
    row = a.store.one(
        "SELECT v.*, i.unit_code, i.county_code, i.campaign_code FROM evidence_version v JOIN evidence_item i "
        "USING (item_id) WHERE v.version_id = ?",
        (version_id,),
    )
    if row is None or row["county_code"] != a.county or not viewer.sees_campaign(row["campaign_code"]):
        return None
    if not may_download(viewer, county, row["unit_code"]):
        return None
    return row["original_name"], es.read_blob(a.paths.store, row["store_path"], row["sha256"])


def build_package(
    viewer: auth.Viewer, county: str, campaign: str, as_of: dt.date | None = None
) -> tuple[bytes, dict]:
    """The inspection package (office only), with the indicator sheets from the latest snapshot."""
    if not viewer.can("approve"):
        raise OutOfScope("只有创建办可以下载迎检资料包 / only the office downloads the package")
    _check(viewer, county, campaign)
    from pipelines.warehouse.publish import connect_readonly

    try:
        conn = connect_readonly(data.settings().published_dir)
    except Exception:
        conn = None
    try:
        out = package.build(archive(county), campaign, conn, as_of or dt.date.today())
    finally:
        if conn is not None:
            conn.close()
    auth.audit("download", {"file": f"package_{campaign}.zip", "files": out[1]["n_files"]})
    return out


def refusals(viewer: auth.Viewer, county: str) -> list[dict]:
    _check(viewer, county)
    a = archive(county)
    return [
        r
        for r in es.refusals(a.store, a.county)
        if viewer.sees_unit(a.profile.unit_code(r["unit_code"] or ""))
    ]


def cap() -> float:
    return VETO_CAP
