"""Fixtures of the archive tests: an Archive on temporary folders and small evidence files."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from pipelines.archive.service import Archive
from tests.dashboards.conftest import (  # noqa: F401  (the dashboards' warehouse fixtures, for the AppTest)
    dims_only,
    dims_only_env,
    empty_env,
    full,
    no_marts,
    no_marts_env,
    nothing,
    warehouse_env,
)


def pdf_bytes(text: str = "minutes", extra: bytes = b"") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2013, 1, 1, tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    data = bytes(pdf.output())
    if extra:
        data = data.replace(b"/Type /Catalog", b"/Type /Catalog " + extra, 1)
    return data


def png_bytes(color: str = "red", size=(24, 24)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def docx_bytes(text: str = "会议纪要", extra_members: dict | None = None) -> bytes:
    import zipfile

    import docx

    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    if not extra_members:
        return buf.getvalue()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, data in extra_members.items():
            dst.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def arch(tmp_settings, monkeypatch) -> Archive:
    monkeypatch.delenv("WUCHUANG_EVIDENCE_DIR", raising=False)
    monkeypatch.delenv("WUCHUANG_EVIDENCE_STORE", raising=False)
    monkeypatch.delenv("WUCHUANG_WORKFLOW_DIR", raising=False)
    return Archive.load(tmp_settings)


def slot_of(arch: Archive, campaign: str, clause: str, item: str, period: str):
    s = arch.slot(campaign, clause, item, period)
    assert s is not None, (campaign, clause, item, period)
    return s
