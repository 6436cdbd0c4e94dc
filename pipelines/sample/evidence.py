"""Sample evidence (档案资料) for the demo: small generated files for a share of the clauses, some
accepted, some awaiting review, some returned with a comment (a few of those re-uploaded as version 2
and accepted), so `make run` shows partial archive readiness.

Files: "scanned" PDFs (the Chinese text drawn into an image with the system CJK font, so no font is
embedded and a page costs milliseconds), PNG photos and Word minutes. They go through the same gate and
store as real uploads (`pipelines.archive.intake.submit`, channel `sample`).

Deterministic: the choice of slots and outcomes comes from the seed; file bytes and the recorded times
are fixed (derived from the due dates). Idempotent: a slot that already holds any item is left alone,
so re-running the sample (or the office's own work since) is never overwritten.

Only a corpus written to the configured raw folder (`Settings.raw_dir`, e.g. `make run`) seeds the
configured workflow store; a corpus written anywhere else (tests, benchmarks) seeds nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import random
from pathlib import Path

from pipelines.archive import intake
from pipelines.archive import store as es
from pipelines.archive.catalog import Slot
from pipelines.archive.service import Archive
from pipelines.settings import Settings

SAMPLE_ACTOR = "样例数据"
OFFICE_ACTOR = "cjb-sample"
# Share of slots with evidence, by category; outcome shares among them.
SHARE = {
    "organisation": 0.8,
    "planning": 0.85,
    "publicity": 0.6,
    "basic": 0.6,
    "mechanism": 0.5,
    "indicator": 0.35,
}
# One campaign whose prerequisite clauses are all accepted (its readiness is not capped), for contrast.
COMPLETE_PREREQUISITES = "hygienic_county"
RETURN_COMMENTS = (
    "照片未标注拍摄时间和地点，请补充后重新上传 / the photos lack date and place: add them and upload again",
    "缺少主要领导签字和单位公章 / the leader's signature and the unit's seal are missing",
    "报告期与条款要求不符，请上传对应年度的资料 / wrong period: upload the document of the required year",
)


@functools.cache
def _font():
    from dashboards.exports import find_cjk_font

    return find_cjk_font()


@functools.cache
def _face(size: int):
    """The CJK font at `size` points, loaded once (None without a CJK font)."""
    from PIL import ImageFont

    font = _font()
    if font is None:
        return None
    try:
        return ImageFont.truetype(str(font.path), size, index=font.index)
    except OSError:
        return None


def _text_image(lines: list[str], size=(1240, 1754), photo: bool = False, n_big: int = 1):
    """A page (grey) or photo (colour) image with the lines drawn in the CJK font (plain shapes when
    none is installed)."""
    from PIL import Image, ImageDraw

    bg = (236, 242, 232) if photo else (255, 255, 255)
    im = Image.new("RGB", size, bg) if photo else Image.new("L", size, 255)
    d = ImageDraw.Draw(im)
    if photo:
        seed = int(hashlib.sha256("".join(lines).encode()).hexdigest()[:8], 16)
        r = random.Random(seed)
        for _ in range(12):
            x, y = r.randrange(size[0]), r.randrange(size[1] // 2, size[1])
            d.ellipse(
                [x, y, x + r.randrange(40, 160), y + r.randrange(30, 120)],
                fill=(60 + r.randrange(80), 120 + r.randrange(80), 60),
            )
    big, small = _face(44 if not photo else 28), _face(30 if not photo else 22)
    y = 120 if not photo else 30
    for i, line in enumerate(lines):
        f = big if i < n_big else small
        if f is None:
            d.rectangle([100, y, 100 + 20 * min(len(line), 50), y + 24], fill=(40, 40, 40) if photo else 40)
        else:
            d.text((100 if not photo else 30, y), line, fill=(20, 20, 20) if photo else 20, font=f)
        y += 64 if i < n_big else 52
    return im


def _png(im) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _pdf(lines: list[str], when: dt.date, n_big: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC))
    pdf.set_producer("wuchuang sample")
    pdf.add_page()
    pdf.image(_text_image(lines, size=(900, 650), n_big=n_big), x=0, y=0, w=210)
    return bytes(pdf.output())


def _docx(lines: list[str], when: dt.date) -> bytes:
    from docx import Document

    from pipelines.archive.package import _repack

    doc = Document()
    stamp = dt.datetime(when.year, when.month, when.day)
    doc.core_properties.created = stamp
    doc.core_properties.modified = stamp
    doc.core_properties.author = "样例"
    doc.add_heading(lines[0], level=1)
    for line in lines[1:]:
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return _repack(buf.getvalue(), when)


def sample_file(archive: Archive, slot: Slot, n: int, version: int = 1) -> tuple[str, bytes]:
    """(file name, bytes) of one sample evidence file for `slot`."""
    unit = archive.unit_name(slot.provider_short)
    from pipelines.archive.package import period_label

    title = slot.title_zh
    heading = [title[i : i + 18] for i in range(0, min(len(title), 54), 18)]
    lines = [
        *heading,
        f"{archive.profile.name_zh} · {unit}",
        f"期别：{period_label(slot.period_code)}　第{n}份"
        + (f"　（修改稿 v{version}）" if version > 1 else ""),
        f"条款：{slot.clause_name_zh[:30]}",
        "（样例资料，仅供演示）",
    ]
    when = slot.due_date
    short = title.split("：")[0].split("（")[0][:24]
    stem = f"{short}_{slot.period_code}_{n}" + (f"_修改稿{version}" if version > 1 else "")
    stem = stem.replace("/", "_").replace(":", "_").replace("：", "_")
    if slot.kind == "photo":
        return f"{stem}.png", _png(_text_image(lines, size=(640, 448), photo=True, n_big=len(heading)))
    if slot.kind == "minutes":
        return f"{stem}.docx", _docx(lines, when)
    return f"{stem}.pdf", _pdf(lines, when, len(heading))


def _at(day: dt.date, hour: int) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=dt.UTC).isoformat(timespec="seconds")


def seed(archive: Archive, seed_value: int, campaigns: set[str] | None = None) -> dict[str, int]:
    """Seed the archive's store with sample evidence (of `campaigns`, default all); counts by outcome."""
    counts = {"accepted": 0, "submitted": 0, "returned": 0, "resubmitted": 0, "skipped": 0}
    for slot in archive.slots:
        if campaigns is not None and slot.campaign_code not in campaigns:
            continue
        r = random.Random(f"{seed_value}:{slot.county_code}:{':'.join(slot.key)}")
        complete = slot.prerequisite and slot.campaign_code == COMPLETE_PREREQUISITES
        if r.random() >= SHARE.get(slot.category, 0.4) and not complete:
            continue
        if es.slot_items(archive.store, slot.county_code, *slot.key):
            counts["skipped"] += 1
            continue
        up_day = slot.due_date - dt.timedelta(days=r.randrange(3, 20))
        review_day = slot.due_date + dt.timedelta(days=r.randrange(1, 10))
        for n in range(1, slot.count + 1):
            name, data = sample_file(archive, slot, n)
            made = intake.submit(
                archive.store,
                archive.paths.store,
                slot,
                data,
                name,
                slot.provider_short,
                SAMPLE_ACTOR,
                channel="sample",
                at=_at(up_day, 9),
            )
            roll = 0.0 if complete else r.random()
            if roll < 0.72:
                es.review(
                    archive.store, made["version_id"], "accepted", OFFICE_ACTOR, "", at=_at(review_day, 10)
                )
                counts["accepted"] += 1
            elif roll < 0.86:
                es.review(
                    archive.store,
                    made["version_id"],
                    "returned",
                    OFFICE_ACTOR,
                    RETURN_COMMENTS[r.randrange(len(RETURN_COMMENTS))],
                    at=_at(review_day, 10),
                )
                if r.random() < 0.4:  # fixed and sent again: version 2, accepted
                    name2, data2 = sample_file(archive, slot, n, version=2)
                    again = intake.submit(
                        archive.store,
                        archive.paths.store,
                        slot,
                        data2,
                        name2,
                        slot.provider_short,
                        SAMPLE_ACTOR,
                        channel="sample",
                        item_id=made["item_id"],
                        at=_at(review_day + dt.timedelta(days=5), 9),
                    )
                    es.review(
                        archive.store,
                        again["version_id"],
                        "accepted",
                        OFFICE_ACTOR,
                        "",
                        at=_at(review_day + dt.timedelta(days=8), 10),
                    )
                    counts["resubmitted"] += 1
                else:
                    counts["returned"] += 1
            else:
                counts["submitted"] += 1
    return counts


def write_sample_evidence(out_dir: Path, seed_value: int) -> dict[str, int] | None:
    """The sample generator's hook: seed the configured archive when the corpus went to the configured
    raw folder; otherwise nothing (None)."""
    settings = Settings.from_env()
    if Path(out_dir).resolve() != settings.raw_dir.resolve():
        return None
    return seed(Archive.load(settings), seed_value)
