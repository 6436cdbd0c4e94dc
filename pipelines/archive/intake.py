"""Taking evidence in: from the browser and from the evidence drop folder, through the same gate.

`submit(...)` checks that the clause × item × period is one the county owes and that the unit may
provide it (the slot's responsible unit, or the creation office for any), runs the upload gate in
evidence mode (`pipelines.uploads.check_evidence`: name, size, archive bombs, macros, encryption,
type by content), stores the file content-addressed and records the item or its new version.

Drop folder (`WUCHUANG_EVIDENCE_DIR`, default `<data>/evidence/inbox`, never under the raw folder the
return ingest reads):

    <inbox>/<county>/<unit>/<campaign>/<clause>/<item>/<period>/<file>

e.g. `511923/sthjj/eco_county/eco_basic/no_incident/once/无重大环境事件证明.pdf`. `wuchuang archive
folders` creates the tree of a unit's slots. A file already recorded for its slot (same bytes) is
skipped, so a scan is idempotent; a file with the name of an item already in the slot is a new version
of that item; a refused file is recorded once with its reason (shown on 档案资料). Files stay where
they are (the unit's copy); the archive keeps its own content-addressed copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipelines import uploads
from pipelines.archive import store as es
from pipelines.archive.catalog import Slot
from pipelines.workflow.store import Store

OFFICE_UNIT = "cjb"


@dataclass(frozen=True)
class ScanReport:
    added: int
    skipped: int
    refused: int
    messages: tuple[str, ...]


def slot_index(slots: list[Slot]) -> dict[tuple[str, str, str, str], Slot]:
    return {s.key: s for s in slots}


def may_provide(slot: Slot, unit: str) -> bool:
    return unit in (slot.provider_short, OFFICE_UNIT)


def submit(
    store: Store,
    store_root: Path,
    slot: Slot,
    data,
    file_name: str,
    unit: str,
    actor: str,
    channel: str = "browser",
    item_id: str | None = None,
    title: str | None = None,
    at: str | None = None,
) -> dict:
    """Check and record one evidence file for `slot`; raises UploadRefused or ArchiveError."""
    if not may_provide(slot, unit):
        raise es.ArchiveError(
            "wrong_unit",
            f"该资料应由{slot.provider_short}提供，本单位不能上传",
            f"this item is provided by {slot.provider_short}, not by {unit}",
        )
    checked = uploads.check_evidence(data, file_name)
    if item_id is not None:
        owned = store.one("SELECT * FROM evidence_item WHERE item_id = ?", (item_id,))
        if (
            owned is None
            or (
                owned["campaign_code"],
                owned["clause_code"],
                owned["item_code"],
                owned["period_code"],
            )
            != slot.key
        ):
            raise es.ArchiveError(
                "no_item", "该资料不属于所选条款和期别", "the item is not in the chosen slot"
            )
    sha, rel = es.put_blob(store_root, checked.data)
    return es.add_version(
        store,
        county=slot.county_code,
        campaign=slot.campaign_code,
        clause=slot.clause_code,
        item=slot.item_code,
        period=slot.period_code,
        unit=unit,
        title=title or slot.title_zh,
        sha256=sha,
        size=checked.size,
        original_name=checked.name,
        content_type=checked.content_type,
        store_path=rel,
        channel=channel,
        actor=actor,
        item_id=item_id,
        at=at,
    )


def scan_inbox(store: Store, paths: es.EvidencePaths, slots: list[Slot], county: str) -> ScanReport:
    """Record every new file under `<inbox>/<county>/`; idempotent."""
    index = slot_index(slots)
    base = paths.inbox / county
    added = skipped = refused = 0
    messages: list[str] = []
    if not base.is_dir():
        return ScanReport(0, 0, 0, ())
    root = paths.inbox.resolve()
    for path in sorted(base.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.name.startswith((".", "~")):
            continue
        if not path.resolve().is_relative_to(root):
            continue
        rel = path.relative_to(paths.inbox).as_posix()
        parts = path.relative_to(base).parts
        unit = parts[0] if parts else None
        with open(path, "rb") as fh:
            data = fh.read(uploads.MAX_EVIDENCE_BYTES + 1)
        sha = hashlib.sha256(data).hexdigest()

        problem = _scan_one(store, paths, index, county, path, parts, data, sha)
        if problem == "skipped":
            skipped += 1
        elif problem == "added":
            added += 1
        elif es.record_refusal(
            store,
            county=county,
            unit=unit,
            channel="drop_folder",
            name=path.name,
            rel_path=rel,
            sha256=sha,
            reason_code=problem[0],
            zh=problem[1],
            en=problem[2],
        ):
            refused += 1
            messages.append(f"{rel}: {problem[1]} / {problem[2]}")
    return ScanReport(added, skipped, refused, tuple(messages))


def _scan_one(store, paths, index, county, path, parts, data, sha):
    """'added', 'skipped' or (reason code, zh, en) for one file of the drop folder."""
    if len(parts) != 6:
        return (
            "bad_folder",
            "文件应放在 单位/创建项目/条款/资料项/期别/ 文件夹中",
            "put files in unit/campaign/clause/item/period/ folders",
        )
    unit, campaign, clause, item, period, _name = parts
    slot = index.get((campaign, clause, item, period))
    if slot is None:
        return ("bad_folder", "文件夹不对应任何应交资料", "the folders name no evidence item owed")
    known = store.rows(
        "SELECT v.sha256, v.original_name, v.item_id FROM evidence_version v JOIN evidence_item i "
        "USING (item_id) WHERE i.county_code = ? AND i.campaign_code = ? AND i.clause_code = ? "
        "AND i.item_code = ? AND i.period_code = ?",
        (county, campaign, clause, item, period),
    )
    if any(k["sha256"] == sha for k in known):
        return "skipped"
    same_name = [k["item_id"] for k in known if k["original_name"] == path.name]
    try:
        submit(
            store,
            paths.store,
            slot,
            data,
            path.name,
            unit,
            f"drop-folder:{unit}",
            "drop_folder",
            same_name[0] if same_name else None,
        )
    except uploads.UploadRefused as exc:
        return (exc.reason_code, exc.message_zh, exc.message_en)
    except es.ArchiveError as exc:
        return (exc.code, exc.message_zh, exc.message_en)
    return "added"


def make_folders(paths: es.EvidencePaths, slots: list[Slot], unit: str | None = None) -> int:
    """Create the drop-folder tree of the slots a unit provides (all units when None)."""
    n = 0
    for s in slots:
        if unit is not None and s.provider_short != unit:
            continue
        folder = (
            paths.inbox / s.county_code / s.provider_short / s.campaign_code / s.clause_code / s.item_code
        )
        folder = folder / s.period_code
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            n += 1
    return n
