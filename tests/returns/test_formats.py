"""File formats by content: every hostile or unusual file is built here, small and bounded.

Also holds the builders (`cfb_bytes`, `biff8_stream`, `xlsb_bytes`, …) that the upload and security
tests reuse. The public corpus (../shared/corpus, real NBS exports) must be read in full.
"""

from __future__ import annotations

import csv
import hashlib
import io
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwt

from pipelines.returns import readers
from pipelines.returns.model import REASONS
from pipelines.returns.readers import ReadError, read_book, read_bytes, sniff_format

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

# --------------------------------------------------------------------------------------------
# Builders

_END, _FREE, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def cfb_bytes(entries: dict[str, bytes | None]) -> bytes:
    """A minimal compound file (CFB v3, 512-byte sectors). Keys are paths ("A/B/stream"); a value of
    None is an (empty) storage. Streams are padded to 4096 bytes so no mini stream is needed."""
    nodes: list[dict] = [{"name": "Root Entry", "type": 5, "kids": [], "data": b""}]
    index: dict[tuple, int] = {(): 0}
    for path, data in entries.items():
        parts = tuple(path.split("/"))
        for depth in range(1, len(parts) + 1):
            key = parts[:depth]
            if key in index:
                continue
            leaf = depth == len(parts) and data is not None
            nodes.append(
                {"name": key[-1], "type": 2 if leaf else 1, "kids": [], "data": data if leaf else b""}
            )
            index[key] = len(nodes) - 1
            nodes[index[key[:-1]]]["kids"].append(index[key])
    sectors: list[bytes] = []
    fat: list[int] = []
    for node in nodes:
        if node["type"] != 2:
            node["start"], node["size"] = (_END if node["type"] == 5 else 0), 0
            continue
        blob = node["data"].ljust(max(len(node["data"]), 4096), b"\0")
        blob = blob.ljust(-(-len(blob) // 512) * 512, b"\0")
        node["start"], node["size"] = len(sectors), len(node["data"]) if len(node["data"]) >= 4096 else 4096
        n = len(blob) // 512
        for k in range(n):
            sectors.append(blob[k * 512 : (k + 1) * 512])
            fat.append(len(sectors) if k < n - 1 else _END)
    for node in nodes:  # children chained through right siblings
        node["left"] = node["right"] = node["child"] = _NOSTREAM
    for node in nodes:
        kids = node["kids"]
        if kids:
            node["child"] = kids[0]
            for a, b in zip(kids, kids[1:], strict=False):
                nodes[a]["right"] = b
    dir_blob = b""
    for node in nodes:
        name = node["name"].encode("utf-16-le")[:62]
        dir_blob += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name) + 2,
            node["type"],
            1,
            node["left"],
            node["right"],
            node["child"],
            b"\0" * 16,
            0,
            0,
            0,
            node["start"],
            node["size"],
        )
    empty = struct.pack(
        "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, b"\0" * 16, 0, 0, 0, 0, 0
    )
    while len(dir_blob) % 512:
        dir_blob += empty
    first_dir = len(sectors)
    n_dir = len(dir_blob) // 512
    for k in range(n_dir):
        sectors.append(dir_blob[k * 512 : (k + 1) * 512])
        fat.append(len(sectors) if k < n_dir - 1 else _END)
    n_fat = 1
    while len(sectors) + n_fat > 128 * n_fat:
        n_fat += 1
    fat_ids = list(range(len(sectors), len(sectors) + n_fat))
    fat += [_FATSECT] * n_fat
    fat += [_FREE] * (128 * n_fat - len(fat))
    fat_blob = struct.pack(f"<{len(fat)}I", *fat)
    for k in range(n_fat):
        sectors.append(fat_blob[k * 512 : (k + 1) * 512])
    difat = fat_ids + [_FREE] * (109 - len(fat_ids))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        n_fat,
        first_dir,
        0,
        4096,
        _END,
        0,
        _END,
        0,
        *difat,
    )
    return header + b"".join(sectors)


def biff_record(rid: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HH", rid, len(payload)) + payload


def biff8_stream(sheet_type: int = 0, filepass: bool = False, version: int = 0x0600) -> bytes:
    """A BIFF8 workbook-globals substream: BOF, [FILEPASS], one BOUNDSHEET of `sheet_type`
    (0 worksheet, 1 XLM macro sheet, 6 VBA module), EOF; then the sheet's own BOF/EOF."""
    bof = biff_record(0x0809, struct.pack("<HHHHII", version, 0x0005, 0x0DBB, 0x07CC, 0, 0x0006))
    body = bof
    if filepass:
        body += biff_record(0x002F, b"\x01\x00\x01\x00\x01\x00" + b"\x11" * 48)
    name = "Macro1".encode("latin-1")
    body += biff_record(0x0085, struct.pack("<IBB", 0, 0, sheet_type) + bytes([len(name), 0]) + name)
    body += biff_record(0x000A)
    body += biff_record(
        0x0809, struct.pack("<HHHHII", version, 0x0040 if sheet_type == 1 else 0x0010, 0, 0, 0, 0)
    )
    return body + biff_record(0x000A)


def xls_bytes(cells: list[list], sheet: str = "表1") -> bytes:
    wb = xlwt.Workbook()
    ws = wb.add_sheet(sheet)
    for r, row in enumerate(cells):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_bytes(cells: list[list] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in cells if cells is not None else [["指标名称", "本期数值"], ["建成区绿化覆盖率", 38.5]]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes | str], base: bytes | None = None) -> bytes:
    """A zip of `members`, after the members of the zip `base` (e.g. a real xlsx)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        if base is not None:
            with zipfile.ZipFile(io.BytesIO(base)) as zin:
                for item in zin.infolist():
                    if item.filename not in members:
                        zout.writestr(item, zin.read(item.filename))
        for name, data in members.items():
            zout.writestr(name, data)
    return buf.getvalue()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _rec12(rid: int, payload: bytes = b"") -> bytes:
    rid_b = bytes([rid]) if rid < 0x80 else bytes([(rid & 0x7F) | 0x80, rid >> 7])
    return rid_b + _varint(len(payload)) + payload


def _wstr(s: str) -> bytes:
    return struct.pack("<I", len(s)) + s.encode("utf-16-le")


XLSB_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/></Types>'
)
_RELS = '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>'
_OD = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsb_bytes(cells: list[list], extra: dict[str, bytes | str] | None = None) -> bytes:
    """A minimal binary workbook (BIFF12 records), as Excel's "Excel Binary Workbook" stores it."""
    book = _rec12(131) + _rec12(143)
    book += _rec12(156, struct.pack("<II", 0, 1) + _wstr("rId1") + _wstr("表1")) + _rec12(144) + _rec12(132)
    sheet = _rec12(129) + _rec12(148, struct.pack("<IIII", 0, len(cells) - 1, 0, 1)) + _rec12(145)
    for r, row in enumerate(cells):
        sheet += _rec12(0, struct.pack("<IIHHBBI", r, 0, 0x120, 0, 0, 0, 1) + struct.pack("<II", 0, len(row)))
        for c, v in enumerate(row):
            if isinstance(v, str):
                sheet += _rec12(6, struct.pack("<II", c, 0) + _wstr(v))
            else:
                sheet += _rec12(5, struct.pack("<II", c, 0) + struct.pack("<d", v))
    sheet += _rec12(146) + _rec12(130)
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": XLSB_CT,
        "_rels/.rels": _RELS.format(
            f'<Relationship Id="rId1" Type="{_OD}/officeDocument" Target="xl/workbook.bin"/>'
        ),
        "xl/workbook.bin": book,
        "xl/_rels/workbook.bin.rels": _RELS.format(
            f'<Relationship Id="rId1" Type="{_OD}/worksheet" Target="worksheets/sheet1.bin"/>'
        ),
        "xl/worksheets/sheet1.bin": sheet,
    }
    members.update(extra or {})
    return zip_bytes(members)


def encrypted_ooxml_bytes() -> bytes:
    """What Excel writes for "Encrypt with password": the package inside a compound file."""
    info = (
        b"\x04\x00\x04\x00\x40\x00\x00\x00"
        + b'<?xml version="1.0"?><encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>'
    )
    return cfb_bytes(
        {
            "\x06DataSpaces/Version": b"\x3c\x00\x00\x00",
            "EncryptionInfo": info,
            "EncryptedPackage": struct.pack("<Q", 5000) + bytes(range(256)) * 20,
        }
    )


def ods_bytes(manifest_extra: str = "", extra: dict[str, bytes | str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED
        )
        zf.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            f'<manifest:file-entry manifest:full-path="content.xml">{manifest_extra}</manifest:file-entry>'
            "</manifest:manifest>",
        )
        zf.writestr("content.xml", b"\x8f\x13garbled-ciphertext" * 10)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


ODS_ENCRYPTION = (
    '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
    '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/>'
    "</manifest:encryption-data>"
)

HTML_GBK = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>中国知网 年鉴导出</title></head><body>
<table border="1"><caption>表2-3 主要指标</caption>
<tr><th rowspan="2">指标</th><th colspan="2">2012年</th></tr>
<tr><th>全县</th><th>县城</th></tr>
<tr><td>&nbsp;&nbsp;建成区绿化覆盖率</td><td>38.5</td><td>40.1</td></tr>
<tr><td>森林覆盖率</td><td>65.2</td><td></td></tr>
</table>
<p>注：数据来源于县统计局</p>
<table><tr><td>单位</td><td>%</td></tr></table>
</body></html>"""


def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("平昌县 2012 年工作总结")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


CSV_TEXT = "指标名称,数值,计量单位\n建成区绿化覆盖率,38.5,%\n森林覆盖率,65.2,%\n"


def _reason(data: bytes, name: str) -> str:
    with pytest.raises(ReadError) as err:
        read_bytes(data, name)
    return err.value.reason


# --------------------------------------------------------------------------------------------
# The builders make what they claim (so a refusal below is about the file, not the builder)


def test_cfb_builder_is_read_by_olefile():
    import olefile

    ole = olefile.OleFileIO(
        io.BytesIO(cfb_bytes({"Workbook": biff8_stream(), "_VBA_PROJECT_CUR/VBA/dir": b"x"}))
    )
    assert ["Workbook"] in ole.listdir() and ["_VBA_PROJECT_CUR", "VBA", "dir"] in ole.listdir()
    assert ole.openstream("Workbook").read()[:2] == b"\x09\x08"


def test_xlsb_builder_is_read_by_calamine():
    book = read_bytes(xlsb_bytes([["指标名称", "数值"], ["森林覆盖率", 65.2]]), "b.xlsb")
    assert book.file_format == "xlsb"
    assert book.sheets[0].rows == [["指标名称", "数值"], ["森林覆盖率", 65.2]]


# --------------------------------------------------------------------------------------------
# Readable by content, whatever the extension


def test_html_saved_as_xls_becomes_sheets_with_merges_and_meta_charset():
    data = HTML_GBK.encode("gbk")
    sniff = sniff_format(data, "年鉴.xls")
    assert sniff.format == "html" and sniff.ok
    book = read_bytes(data, "年鉴.xls")
    assert book.file_format == "html" and book.encoding == "gb18030" and book.reader == "html"
    assert [s.name for s in book.sheets] == ["表2-3 主要指标", "表2"]
    s = book.sheets[0]
    assert s.rows[0] == ["指标", "2012年"]  # rows may be shorter than the widest row
    assert s.rows[1] == ["", "全县", "县城"]
    assert s.cell(2, 0) == "\xa0\xa0建成区绿化覆盖率"  # NBSP indentation kept for yearbook layouts
    assert s.cell(2, 1) == "38.5" and s.cell(3, 1) == "65.2"
    assert ((0, 0), (1, 0)) in s.merged and ((0, 1), (0, 2)) in s.merged
    assert book.sheets[1].rows == [["单位", "%"]]


def test_html_charset_from_meta_charset_and_utf8_and_nested_layout_tables():
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><table><tr><td>'
        "<table><tr><td>指标</td><td>数值</td></tr><tr><td>森林覆盖率</td><td>65.2</td></tr></table>"
        "</td></tr></table></body></html>"
    )
    book = read_bytes(page.encode("utf-8"), "portal.xls")
    assert len(book.sheets) == 1  # the outer layout table is not a sheet
    assert book.sheets[0].rows == [["指标", "数值"], ["森林覆盖率", "65.2"]]


def test_html_without_a_meta_tag_uses_charset_detection():
    page = "<html><body><table><tr><td>指标名称</td><td>数值</td></tr><tr><td>集中式饮用水水源地水质达标率</td><td>100</td></tr></table></body></html>"
    book = read_bytes(page.encode("gb18030"), "x.xls")
    assert book.sheets[0].cell(1, 0) == "集中式饮用水水源地水质达标率"


def test_hostile_html_spans_are_bounded(monkeypatch):
    monkeypatch.setattr(readers, "MAX_COLUMNS", 50)
    huge_col = '<table><tr><td colspan="100000">x</td></tr><tr><td>y</td></tr></table>'
    assert _reason(huge_col.encode(), "a.xls") == "file_too_large"
    huge_row = '<table><tr><td rowspan="1000000000">x</td><td>1</td></tr><tr><td>2</td></tr></table>'
    s = read_bytes(huge_row.encode(), "b.xls").sheets[0]
    assert s.rows == [["x", "1"], ["", "2"]] and s.merged == [((0, 0), (1, 0))]  # clamped to the table
    bad = '<table><tr><td colspan="-3" rowspan="abc">x</td><td>1</td></tr></table>'
    assert read_bytes(bad.encode(), "c.xls").sheets[0].rows == [["x", "1"]]


def test_html_without_a_table_is_not_a_spreadsheet():
    assert _reason(b"<html><body><p>hello</p></body></html>", "page.xls") == "unsupported_format"


@pytest.mark.parametrize("name", ["data.xls", "data.xlsx", "data.csv"])
def test_csv_text_under_any_extension_is_read_as_csv(name):
    book = read_bytes(CSV_TEXT.encode("gbk"), name)
    assert book.file_format == "csv" and book.sheets[0].rows[1] == ["建成区绿化覆盖率", "38.5", "%"]


def test_tsv_saved_as_xls_is_read():
    book = read_bytes(CSV_TEXT.replace(",", "\t").encode("utf-8"), "导出.xls")
    assert book.file_format == "csv" and book.sheets[0].rows[2] == ["森林覆盖率", "65.2", "%"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (CSV_TEXT.encode("utf-16"), "utf-16"),  # with BOM (LE on this machine)
        (b"\xfe\xff" + CSV_TEXT.encode("utf-16-be"), "utf-16"),
        (CSV_TEXT.replace(",", "\t").encode("utf-16-le"), "utf-16-le"),  # no BOM
        (CSV_TEXT.encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_utf16_csv_with_and_without_bom(raw, expected):
    book = read_bytes(raw, "u16.csv")
    assert book.encoding == expected
    assert book.sheets[0].rows[0] == ["指标名称", "数值", "计量单位"]
    assert book.sheets[0].rows[1][1] == "38.5"


def test_binary_that_merely_has_zero_bytes_is_not_taken_for_utf16():
    assert _reason(bytes(range(256)) * 8, "x.csv") == "unsupported_format"


def test_xlsb_content_is_read_under_xlsx_name_and_xlsb_with_vba_is_refused():
    data = xlsb_bytes([["指标名称", "数值"], ["森林覆盖率", 65.2]])
    assert read_bytes(data, "renamed.xlsx").file_format == "xlsb"
    vba = xlsb_bytes([["a"]], {"xl/vbaProject.bin": cfb_bytes({"VBA/dir": b"x"})})
    assert _reason(vba, "m.xlsb") == "macro_enabled"


def test_xls_content_under_xlsx_name_is_read():
    assert read_bytes(xls_bytes([["指标名称"], ["森林覆盖率"]]), "wrong.xlsx").file_format == "xls"


def test_xls_cell_text_naming_a_vba_project_is_not_a_macro():
    data = xls_bytes([["_VBA_PROJECT", "_VBA_PROJECT_CUR"], ["vbaProject.bin", 1]])
    assert "_VBA_PROJECT".encode("utf-16-le") in data or b"_VBA_PROJECT" in data
    assert read_bytes(data, "ok.xls").sheets[0].cell(0, 0) == "_VBA_PROJECT"


def test_xlsx_cell_text_naming_macro_parts_is_not_a_macro():
    data = xlsx_bytes([["vbaProject.bin", "xl/macrosheets/sheet1.xml", "macroEnabled", "ddeLink"], ["x", 1]])
    assert read_bytes(data, "ok.xlsx").sheets[0].cell(0, 2) == "macroEnabled"


# --------------------------------------------------------------------------------------------
# Refused by content, with the right reason


def test_encrypted_ooxml_is_encrypted_file():
    assert _reason(encrypted_ooxml_bytes(), "secret.xlsx") == "encrypted_file"


def test_xls_with_filepass_is_encrypted_file():
    assert _reason(cfb_bytes({"Workbook": biff8_stream(filepass=True)}), "secret.xls") == "encrypted_file"
    assert sniff_format(cfb_bytes({"Workbook": biff8_stream()}), "plain.xls").ok  # same file, no FILEPASS


def test_encrypted_ods_is_encrypted_file():
    assert _reason(ods_bytes(ODS_ENCRYPTION), "secret.ods") == "encrypted_file"
    assert sniff_format(ods_bytes(), "plain.ods").format == "ods"


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (biff_record(0x0009, struct.pack("<HH", 0, 0x10)) + biff_record(0x000A), "BIFF2"),
        (biff_record(0x0209, struct.pack("<HHH", 0, 0x10, 0)) + biff_record(0x000A), "BIFF3"),
        (biff_record(0x0409, struct.pack("<HHH", 0, 0x10, 0)) + biff_record(0x000A), "BIFF4 worksheet"),
        (biff_record(0x0409, struct.pack("<HHH", 0, 0x100, 0)) + biff_record(0x000A), "Excel 4 workbook"),
        (b"\x00\x00\x02\x00\x06\x04\x06\x00" + b"\x00" * 40, "Lotus 1-2-3"),
        (b'ID;PWXL;N;E\r\nC;Y1;X1;K"x"\r\nE\r\n', "SYLK"),
        (
            b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
            "SpreadsheetML 2003",
        ),
        (cfb_bytes({"Workbook": biff8_stream(version=0x0400)}), "BIFF4 in a compound file"),
    ],
)
def test_old_formats_are_old_format(data, label):
    assert _reason(data, "old.xls") == "old_format", label


@pytest.mark.parametrize(
    ("builder", "name", "real"),
    [
        (docx_bytes, "report.xlsx", "Word"),
        (lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "report.xlsx", "PDF"),
        (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "chart.csv", "PNG"),
        (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "scan.xls", "JPEG"),
        (lambda: cfb_bytes({"WordDocument": b"x"}), "old.xls", "Word 97-2003"),
        (lambda: cfb_bytes({"PowerPoint Document": b"x"}), "old.xls", "PowerPoint"),
        (
            lambda: zip_bytes({"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"}),
            "s.xlsx",
            "PowerPoint",
        ),
        (lambda: zip_bytes({"index.html": "<table></table>"}), "z.xlsx", "web pages"),
        (lambda: b"MZ\x90\x00\x03\x00\x00\x00", "x.xlsx", "executable"),
    ],
)
def test_other_documents_are_unsupported_naming_the_real_type(builder, name, real):
    with pytest.raises(ReadError) as err:
        read_bytes(builder(), name)
    assert err.value.reason == "unsupported_format"
    assert real in err.value.detail and "不是表格" in err.value.detail


def test_workbook_named_csv_is_refused():
    with pytest.raises(ReadError) as err:
        read_bytes(xlsx_bytes(), "book.csv")
    assert err.value.reason == "unsupported_format" and ".csv" in err.value.detail


def test_empty_workbooks_are_empty_file(tmp_path):
    wb = openpyxl.Workbook()
    wb.create_sheet("空")
    buf = io.BytesIO()
    wb.save(buf)
    assert _reason(buf.getvalue(), "blank.xlsx") == "empty_file"
    hidden_only = openpyxl.Workbook()
    hidden_only.active["A1"] = "x"
    hidden_only.active.sheet_state = "hidden"
    hidden_only.create_sheet("visible")
    buf = io.BytesIO()
    hidden_only.save(buf)
    assert _reason(buf.getvalue(), "h.xlsx") == "empty_file"
    assert _reason(xls_bytes([]), "blank.xls") == "empty_file"
    assert _reason(b",,,\r\n,,\r\n", "blank.csv") == "empty_file"
    assert _reason(b"<table><tr><td> </td></tr></table>", "blank.xls") == "empty_file"
    p = tmp_path / "zero.xlsx"
    p.write_bytes(b"")
    with pytest.raises(ReadError) as err:
        read_book(p)
    assert err.value.reason == "empty_file"


def test_damaged_files_stay_corrupt_archive():
    good = xlsx_bytes()
    assert _reason(good[: len(good) // 2], "cut.xlsx") == "corrupt_archive"
    xls = xls_bytes([["a"]])
    assert _reason(xls[:1024], "cut.xls") == "corrupt_archive"
    assert _reason(cfb_bytes({"Workbook": b"\x01\x02garbage"}), "bad.xls") == "corrupt_archive"


def test_new_reasons_have_chinese_and_english():
    assert REASONS["encrypted_file"] == (
        "文件已加密，请取消密码后重新报送",
        "the workbook is password-protected; send it without a password",
    )
    zh, en = REASONS["old_format"]
    assert "另存为 .xlsx" in zh and "re-save as .xlsx" in en


def test_str_is_a_clear_type_error():
    with pytest.raises(TypeError, match="bytes"):
        read_bytes("指标名称,数值\n", "x.csv")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes"):
        sniff_format("x", "x.csv")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# The public corpus: real NBS exports, read where they lie (never copied into the repository)


def _manifest() -> list[dict[str, str]]:
    with open(CORPUS / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason="../shared/corpus is not present")
def test_every_corpus_file_passes_the_gate_and_is_read_in_its_real_format(tmp_path):
    from pipelines.uploads import save_upload

    rows = _manifest()
    assert len(rows) >= 30
    for row in rows:
        path = CORPUS / row["file"]
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
        really = row["format_really"].lower()
        expected = "xlsx" if "xlsx" in really else "xls" if ".xls" in really or "biff" in really else "csv"
        book = read_book(path)
        assert book.file_format == expected, (row["file"], book.file_format, really)
        assert any(s.has_cells() for s in book.sheets)
        if expected == "csv":
            want = "utf-8" if "utf-8" in really else "gb"
            assert want in book.encoding.lower(), (row["file"], book.encoding)
        name = path.name.replace("(", "").replace(")", "")
        saved = save_upload(data, name, "511923", "tjj", tmp_path / "raw")
        assert saved.file_format == expected and saved.path.read_bytes() == data


def mht_bytes(html: str, charset: str = "gb2312") -> bytes:
    """Excel's "single file web page": a MIME archive whose first part is the HTML table."""
    import base64

    body = base64.encodebytes(html.encode("gbk")).decode("ascii")
    return (
        "MIME-Version: 1.0\r\nX-Document-Type: Workbook\r\n"
        'Content-Type: multipart/related; boundary="----=_NextPart_01"\r\n\r\n'
        "------=_NextPart_01\r\nContent-Location: file:///C:/x/sheet.htm\r\n"
        f'Content-Transfer-Encoding: base64\r\nContent-Type: text/html; charset="{charset}"\r\n\r\n'
        f"{body}\r\n------=_NextPart_01--\r\n"
    ).encode("ascii")


def test_single_file_web_page_saved_as_xls_is_read():
    html = "<html><body><table><tr><td>指标名称</td><td>数值</td></tr><tr><td>森林覆盖率</td><td>65.2</td></tr></table></body></html>"
    book = read_bytes(mht_bytes(html), "导出.xls")
    assert book.file_format == "html" and book.sheets[0].rows[1] == ["森林覆盖率", "65.2"]
    assert _reason(mht_bytes("<html><body><p>说明</p></body></html>"), "x.xls") == "unsupported_format"


def test_cells_spanning_a_huge_box_are_refused_before_calamine_allocates_it():
    """calamine materialises a sheet's whole bounding box; A1 + XFD1048576 would need ~500 GB and
    abort the process (a Rust allocation failure is not an exception). Refused first."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "指标名称"
    wb.active["XFD1048576"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    assert _reason(buf.getvalue(), "far.xlsx") == "file_too_large"
    # the same in an .xls: a LABELSST/NUMBER record at row 65535, column 65535
    stream = bytearray(biff8_stream())
    sheet_eof = len(stream) - 4
    cell = biff_record(0x0203, struct.pack("<HHHd", 0xFFFF, 0xFFFF, 0, 1.0))
    far = (
        bytes(stream[:sheet_eof])
        + biff_record(0x0203, struct.pack("<HHHd", 0, 0, 0, 1.0))
        + cell
        + bytes(stream[sheet_eof:])
    )
    assert _reason(cfb_bytes({"Workbook": far}), "far.xls") == "file_too_large"
    # a separator other than a space, and single quotes, do not hide the reference
    xml = b'<worksheet><sheetData><row r="1"><c r="A1" t="n"><v>1</v></c><c\nr=\'XFD9\' t="n"><v>2</v></c></row></sheetData></worksheet>'
    assert readers._xlsx_extent(xml, -1, -1) == (8, 16383)
