"""Uploads: good files land atomically without overwriting; every attack is refused with a reason."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipelines import uploads
from pipelines.uploads import UploadRefused, save_upload
from tests.returns.test_formats import biff8_stream, cfb_bytes


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["指标名称", "本期数值"])
    ws.append(["建成区绿化覆盖率", 38.5])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    d = tmp_path / "raw"
    d.mkdir()
    return d


def refused(raw: Path, data, name: str, county: str = "511923", unit: str = "sthjj", **kw) -> UploadRefused:
    with pytest.raises(UploadRefused) as info:
        save_upload(data, name, county, unit, raw, **kw)
    assert not [p for p in raw.rglob("*") if p.is_file()], "nothing may land after a refusal"
    assert info.value.message_zh and info.value.message_en
    return info.value


def test_good_xlsx_lands_in_the_unit_folder(raw):
    data = xlsx_bytes()
    saved = save_upload(data, "2012年3月环境质量月报.xlsx", "511923", "sthjj", raw)
    assert saved.rel_path == "511923/sthjj/2012年3月环境质量月报.xlsx"
    assert saved.path.read_bytes() == data
    assert not list(saved.path.parent.glob(".upload-*")), "no temp file left behind"


def test_csv_from_a_stream_lands(raw):
    data = "指标名称,数值,计量单位\n森林覆盖率,62.1,%\n".encode("utf-8-sig")
    saved = save_upload(io.BytesIO(data), "2012-03_lyj.csv", "511923", "lyj", raw)
    assert saved.path.read_bytes() == data


def test_same_name_never_overwrites_it_gets_a_suffix(raw):
    first = save_upload(b"a,b\n1,2\n", "r.csv", "511923", "wjw", raw)
    second = save_upload(b"a,b\n3,4\n", "r.csv", "511923", "wjw", raw)
    third = save_upload(b"a,b\n5,6\n", "r.csv", "511923", "wjw", raw)
    assert [first.path.name, second.path.name, third.path.name] == ["r.csv", "r (2).csv", "r (3).csv"]
    assert first.path.read_bytes() == b"a,b\n1,2\n"


def test_names_are_unicode_normalised(raw):
    saved = save_upload(b"a\n1\n", "２０１２年３月.csv", "511923", "wjw", raw)  # full-width digits
    assert saved.path.name == "2012年3月.csv"


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.csv",
        "..\\..\\evil.csv",
        "/etc/cron.d/x.csv",
        "sub/dir.csv",
        "..",
        ".hidden.csv",
        "~$lock.xlsx",
        "nul\x00byte.csv",
        "rtl\u202eexe.csv",
        "x" * 300 + ".csv",
        "",
        "．．／escape.csv",  # full-width dots and slash normalise to ../
    ],
)
def test_path_traversal_and_bad_names_are_refused(raw, name):
    assert refused(raw, b"a\n1\n", name).reason_code == "bad_name"


@pytest.mark.parametrize("name", ["report.exe", "report.html", "report", "report.xlsx.exe", "report.zip"])
def test_bad_extensions_are_refused(raw, name):
    assert refused(raw, b"a\n1\n", name).reason_code == "bad_extension"


@pytest.mark.parametrize(
    ("county", "unit"), [("..", "sthjj"), ("511923", "../x"), ("/tmp", "a"), ("511923", "")]
)
def test_bad_folder_codes_are_refused(raw, county, unit):
    assert refused(raw, b"a\n1\n", "r.csv", county=county, unit=unit).reason_code == "bad_folder"


def test_symlinked_unit_folder_leading_outside_is_refused(raw, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (raw / "511923").mkdir()
    (raw / "511923" / "sthjj").symlink_to(outside)
    with pytest.raises(UploadRefused) as info:
        save_upload(b"a\n1\n", "r.csv", "511923", "sthjj", raw)
    assert info.value.reason_code == "bad_folder"
    assert not list(outside.iterdir())


def test_oversize_is_refused(raw):
    assert refused(raw, b"a,b\n" * 1000, "big.csv", max_bytes=1000).reason_code == "too_large"


def test_oversize_stream_is_not_read_whole(raw):
    class Endless(io.RawIOBase):
        read_total = 0

        def read(self, n=-1):
            n = 1 << 16 if n is None or n < 0 else n
            Endless.read_total += n
            return b"a" * n

    assert refused(raw, Endless(), "big.csv", max_bytes=10_000).reason_code == "too_large"
    assert Endless.read_total <= 10_001


def test_empty_upload_is_refused(raw):
    assert refused(raw, b"", "empty.csv").reason_code == "empty_upload"


def test_zip_bomb_is_refused(raw, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNCOMPRESSED_BYTES", 5 * 1024 * 1024)
    bomb = zip_bytes(
        {"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"\0" * (8 * 1024 * 1024)}
    )
    assert len(bomb) < 100_000
    err = refused(raw, bomb, "bomb.xlsx")
    assert err.reason_code == "archive_bomb"


def test_high_ratio_member_is_refused_before_the_total_limit(raw):
    bomb = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/sharedStrings.xml": b"A" * (30 * 1024 * 1024)})
    err = refused(raw, bomb, "ratio.xlsx")
    assert err.reason_code == "archive_bomb" and "ratio" in err.message_en


def test_archive_with_too_many_members_is_refused(raw, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ZIP_MEMBERS", 50)
    members = {"[Content_Types].xml": b"<Types/>", **{f"xl/m{i}.xml": b"<a/>" for i in range(60)}}
    assert refused(raw, zip_bytes(members), "many.xlsx").reason_code == "archive_bomb"


def test_archive_whose_headers_lie_about_sizes_is_still_bounded(raw, monkeypatch):
    """The declared uncompressed size is not trusted: members are inflated and counted."""
    monkeypatch.setattr(uploads, "MAX_UNCOMPRESSED_BYTES", 2 * 1024 * 1024)
    data = bytearray(zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/big.xml": b"B" * (3 * 1024 * 1024)}))
    # patch the central directory's uncompressed size of xl/big.xml to a tiny lie
    idx = data.rfind(b"PK\x01\x02")
    data[idx + 24 : idx + 28] = (100).to_bytes(4, "little")
    err = refused(raw, bytes(data), "liar.xlsx")
    assert err.reason_code in {"archive_bomb", "corrupt_archive"}


@pytest.mark.parametrize("name", ["m.xlsm", "m.xltm", "m.xlsb"])
def test_macro_extensions_are_refused(raw, name):
    assert refused(raw, xlsx_bytes(), name).reason_code == "macro_enabled"


def test_xlsx_with_a_vba_project_is_refused(raw):
    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    assert refused(raw, data, "renamed.xlsx").reason_code == "macro_enabled"


def test_xlsx_with_a_macro_enabled_content_type_is_refused(raw):
    ct = b'<Types><Override ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>'
    assert refused(raw, zip_bytes({"[Content_Types].xml": ct}), "ct.xlsx").reason_code == "macro_enabled"


def test_ods_with_basic_macros_is_refused(raw):
    data = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>",
                      "Basic/Standard/Module1.xml": b"<script/>"})  # fmt: skip
    assert refused(raw, data, "m.ods").reason_code == "macro_enabled"


def test_xls_with_a_vba_storage_is_refused(raw):
    """The VBA storage is found in the compound file's directory (not by searching the bytes)."""
    data = cfb_bytes({"Workbook": biff8_stream(), "_VBA_PROJECT_CUR/VBA/dir": b"\x01" * 64})
    assert refused(raw, data, "old.xls").reason_code == "macro_enabled"
    clean = cfb_bytes({"Workbook": biff8_stream()})
    assert uploads.readers.sniff_format(clean, "old.xls").ok  # the same file without the storage


def test_plain_xls_is_accepted(raw):
    import xlwt

    wb = xlwt.Workbook()
    wb.add_sheet("表1").write(0, 0, "指标名称")
    buf = io.BytesIO()
    wb.save(buf)
    assert save_upload(buf.getvalue(), "old.xls", "511923", "zjj", raw).path.is_file()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00 an executable", "fake.xlsx"),
        (b"<html>not a workbook</html>", "fake.xls"),
        (b"PK\x03\x04garbage that is not a zip", "broken.xlsx"),
        (xlsx_bytes(), "workbook.csv"),
    ],
)
def test_content_that_does_not_match_its_extension_is_refused(raw, data, name):
    assert refused(raw, data, name).reason_code in {"content_mismatch", "corrupt_archive"}


def test_truncated_xlsx_is_refused(raw):
    data = xlsx_bytes()
    assert refused(raw, data[: len(data) // 2], "cut.xlsx").reason_code in {
        "corrupt_archive",
        "content_mismatch",
    }
