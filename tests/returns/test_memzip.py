"""The sniffer's in-memory zip reader agrees with zipfile, and refuses what zipfile would."""

from __future__ import annotations

import io
import struct
import zipfile

import openpyxl
import pytest

from pipelines.returns.readers import _MemZip, sniff_format


def _xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["指标", "数值"], ["森林覆盖率", 61.5]):
        ws.append(row)
    bio = io.BytesIO()
    wb.save(bio)
    return bio.getvalue()


def test_every_member_reads_the_same_as_with_zipfile():
    data = _xlsx_bytes()
    mem = _MemZip.from_data(data)
    assert mem is not None
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert mem.namelist() == zf.namelist()
        for name in zf.namelist():
            assert mem.read(name) == zf.read(name)
            assert mem.getinfo(name).file_size == zf.getinfo(name).file_size


def test_unusual_archives_fall_back_to_zipfile():
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("a.txt", "x" * 100)
    assert _MemZip.from_data(bio.getvalue()) is None
    assert _MemZip.from_data(b"not a zip at all") is None


def test_a_member_inflating_beyond_its_declared_size_is_refused():
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", "<a>" + "x" * 10_000 + "</a>")
    data = bytearray(bio.getvalue())
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<L", data, cd + 24, 10)  # declared uncompressed size: 10 bytes
    mem = _MemZip.from_data(bytes(data))
    with pytest.raises(zipfile.BadZipFile):
        mem.read("xl/worksheets/sheet1.xml")


def test_a_truncated_workbook_is_still_corrupt():
    data = _xlsx_bytes()
    s = sniff_format(data[: len(data) // 2], "a.xlsx")
    assert s.reason == "corrupt_archive"
