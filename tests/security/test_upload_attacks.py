"""Upload attacks (issue 12, item 3): every class with hostile and clean input, built here, small.

The gate and the reader share one sniffer and one reader, so the last test checks over a table of
cases that the gate accepts a file exactly when the reader reads it.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import olefile
import pytest

from pipelines.returns.readers import ReadError, read_bytes
from pipelines.uploads import UploadRefused, save_upload
from tests.returns.test_formats import (
    CSV_TEXT,
    HTML_GBK,
    ODS_ENCRYPTION,
    biff8_stream,
    biff_record,
    cfb_bytes,
    docx_bytes,
    encrypted_ooxml_bytes,
    ods_bytes,
    xls_bytes,
    xlsb_bytes,
    xlsx_bytes,
    zip_bytes,
)

COUNTY, UNIT = "511923", "sthjj"
CT_MACRO = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
OD = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    d = tmp_path / "raw"
    d.mkdir()
    return d


def refuse(raw: Path, data, name: str, county: str = COUNTY, unit: str = UNIT) -> UploadRefused:
    with pytest.raises(UploadRefused) as info:
        save_upload(data, name, county, unit, raw)
    err = info.value
    assert not [p for p in raw.rglob("*") if p.is_file()], "nothing may land after a refusal"
    assert err.message_zh.startswith("文件“") and err.message_en.startswith("file '")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message_zh)
    return err


def accept(raw: Path, data: bytes, name: str) -> Path:
    saved = save_upload(data, name, COUNTY, UNIT, raw)
    assert saved.path.read_bytes() == data and saved.path.is_relative_to(raw.resolve())
    return saved.path


def _base() -> bytes:
    return xlsx_bytes([["指标名称", "本期数值"], ["建成区绿化覆盖率", 38.5]])


# --------------------------------------------------------------------------------------------
# Macros and active content in archives


def _content_types(extra: str = "", pad: int = 0) -> str:
    real = _zip_member(_base(), "[Content_Types].xml").decode()
    return real.replace("<Default ", f"<!--{' ' * pad}-->{extra}<Default ", 1)


def _zip_member(data: bytes, name: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


@pytest.mark.parametrize(
    ("members", "what"),
    [
        (
            {
                "[content_types].xml": _content_types(
                    f'<Override PartName="/xl/workbook.xml" ContentType="{CT_MACRO}"/>'
                )
            },
            "lower-case content types",
        ),
        # macroEnabled straddling the old 64 KiB read boundary
        (
            {
                "[Content_Types].xml": _content_types(
                    f'<Override PartName="/xl/x.xml" ContentType="{CT_MACRO}"/>', pad=65_500
                )
            },
            "split at 64 KiB",
        ),
        ({"xl/macrosheets/sheet1.xml": "<xm:macrosheet/>"}, "Excel 4.0 macro sheet"),
        ({"XL/MacroSheets/Sheet2.xml": "<xm:macrosheet/>"}, "upper-case macro sheet"),
        ({"XL/VBAPROJECT.BIN": b"x" * 100}, "upper-case vbaProject"),
        ({"xl/activeX/activeX1.xml": "<ax:ocx/>"}, "ActiveX"),
        ({"xl/embeddings/oleObject1.bin": b"x" * 100}, "OLE embedding"),
        ({"xl/media/image1.png": cfb_bytes({"VBA/dir": b"x"})}, "compound file disguised as an image"),
        (
            {
                "xl/worksheets/_rels/sheet1.xml.rels": f'<Relationships><Relationship Id="r1" Type="{OD}/oleObject" Target="x"/></Relationships>'
            },
            "oleObject relationship",
        ),
        (
            {
                "xl/externalLinks/externalLink1.xml": '<externalLink><ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>'
            },
            "DDE link",
        ),
    ],
)
def test_macros_and_active_content_anywhere_in_an_xlsx_are_refused(raw, members, what):
    data = zip_bytes(members, base=_base())
    assert refuse(raw, data, "m.xlsx").reason_code == "macro_enabled", what


def test_clean_xlsx_with_an_ordinary_external_link_and_macro_words_in_cells_is_accepted(raw):
    base = xlsx_bytes(
        [["vbaProject.bin", "macroEnabled", "ddeLink", "xl/macrosheets/"], ["森林覆盖率", 65.2]]
    )
    link = '<externalLink><externalBook r:id="rId1"><sheetNames><sheetName val="S"/></sheetNames></externalBook></externalLink>'
    accept(raw, zip_bytes({"xl/externalLinks/externalLink1.xml": link}, base=base), "ok.xlsx")


def test_ods_with_scripts_and_xlsb_with_vba_are_refused(raw):
    assert (
        refuse(raw, ods_bytes(extra={"Scripts/python/x.py": "import os"}), "s.ods").reason_code
        == "macro_enabled"
    )
    vba = xlsb_bytes([["a", 1]], {"xl/vbaProject.bin": cfb_bytes({"VBA/dir": b"x"})})
    assert refuse(raw, vba, "b.xlsx").reason_code == "macro_enabled"


# --------------------------------------------------------------------------------------------
# Macros in .xls compound files: found in the directory and the BOUNDSHEET records, not cell text


def _xls_with_sheet_type(sheet_type: int) -> bytes:
    """A real xlwt workbook stream whose BOUNDSHEET record is patched to another sheet type,
    repacked in a compound file."""
    data = xls_bytes([["指标名称", "数值"], ["森林覆盖率", 65.2]])
    stream = bytearray(olefile.OleFileIO(io.BytesIO(data)).openstream("Workbook").read())
    pos = 0
    while pos + 4 <= len(stream):
        rid, size = struct.unpack_from("<HH", stream, pos)
        if rid == 0x0085:
            stream[pos + 9] = sheet_type
            return cfb_bytes({"Workbook": bytes(stream)})
        pos += 4 + size
    raise AssertionError("no BOUNDSHEET")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (_xls_with_sheet_type(1), "XLM macro sheet in a real workbook"),
        (_xls_with_sheet_type(6), "VBA module sheet"),
        (cfb_bytes({"Workbook": biff8_stream(sheet_type=1)}), "XLM macro sheet"),
        (cfb_bytes({"Workbook": biff8_stream(), "_VBA_PROJECT_CUR/VBA/dir": b"x"}), "VBA storage"),
        (cfb_bytes({"Workbook": biff8_stream(), "Macros/VBA/dir": b"x"}), "Macros storage"),
        (cfb_bytes({"Workbook": biff8_stream(), "MBD0001A2B3/\x01Ole": b"x"}), "embedded OLE object"),
    ],
)
def test_xls_macros_are_refused(raw, data, what):
    assert refuse(raw, data, "m.xls").reason_code == "macro_enabled", what


def test_xls_whose_cell_text_names_a_vba_project_is_accepted(raw):
    data = xls_bytes([["_VBA_PROJECT", "_VBA_PROJECT_CUR", "Macros"], ["森林覆盖率", 65.2, ""]])
    assert "_VBA_PROJECT".encode("utf-16-le") in data or b"_VBA_PROJECT" in data
    accept(raw, data, "ok.xls")
    accept(raw, _xls_with_sheet_type(0), "unchanged.xls")  # the patch helper itself changes nothing at 0


# --------------------------------------------------------------------------------------------
# The real type against the extension


@pytest.mark.parametrize(
    ("data", "name", "reason", "says"),
    [
        (docx_bytes(), "renamed.xlsx", "content_mismatch", "Word"),
        (docx_bytes(), "renamed.csv", "content_mismatch", "Word"),
        (
            zip_bytes({"index.html": "<table><tr><td>1</td></tr></table>"}),
            "site.xlsx",
            "content_mismatch",
            "网页",
        ),
        (zip_bytes({"a.txt": "x"}), "plain.xlsx", "content_mismatch", "zip"),
        (b"<html><body>no table here</body></html>", "page.xls", "content_mismatch", "HTML"),
        (b"%PDF-1.5\n%\xe2\xe3\n", "scan.csv", "content_mismatch", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.xlsx", "content_mismatch", "PNG"),
        (xlsx_bytes(), "workbook.csv", "content_mismatch", ".csv"),
        (encrypted_ooxml_bytes(), "secret.xlsx", "encrypted_file", "密码"),
        (cfb_bytes({"Workbook": biff8_stream(filepass=True)}), "secret.xls", "encrypted_file", "password"),
        (ods_bytes(ODS_ENCRYPTION), "secret.ods", "encrypted_file", "密码"),
        (
            biff_record(0x0409, struct.pack("<HHH", 0, 0x100, 0)) + biff_record(0x000A),
            "excel4.xls",
            "old_format",
            ".xlsx",
        ),
        (
            biff_record(0x0009, struct.pack("<HH", 0, 0x10)) + biff_record(0x000A),
            "excel2.xls",
            "old_format",
            ".xlsx",
        ),
        (xlsx_bytes([]), "blank.xlsx", "empty_upload", "空"),
    ],
)
def test_real_type_decides_with_the_right_reason(raw, data, name, reason, says):
    err = refuse(raw, data, name)
    assert err.reason_code == reason
    assert says in err.message_zh + err.message_en


@pytest.mark.parametrize(
    ("data", "name", "fmt"),
    [
        (HTML_GBK.encode("gbk"), "年鉴导出.xls", "html"),
        (CSV_TEXT.encode("gbk"), "导出.xls", "csv"),
        (CSV_TEXT.encode("utf-16"), "u16.csv", "csv"),
        (CSV_TEXT.replace(",", "\t").encode("utf-16-le"), "u16-nobom.csv", "csv"),
        (xlsb_bytes([["指标名称", "数值"], ["森林覆盖率", 65.2]]), "binary.xlsx", "xlsb"),
        (xls_bytes([["指标名称"], ["森林覆盖率"]]), "really-xls.xlsx", "xls"),
    ],
)
def test_what_the_reader_reads_is_accepted_whatever_the_extension(raw, data, name, fmt):
    saved = save_upload(data, name, COUNTY, UNIT, raw)
    assert saved.file_format == fmt
    assert read_bytes(saved.path.read_bytes(), saved.path.name).file_format == fmt


# --------------------------------------------------------------------------------------------
# Names and folder codes


@pytest.mark.parametrize(
    "name",
    [
        "CON.csv", "nul.csv", "NUL.tar.csv", "LPT1.csv", "com9.xlsx", "aux .csv", "Prn.xls", "COM¹.csv",
        "C:evil.csv", "evil::$DATA.csv", "a:b.csv", "报表：3月.csv",
        "x\u2028.csv", "x\u2029.csv", "x\u0085.csv", "x\nname.csv", "x\r.csv", "tab\t.csv",
        "<img src=x onerror=alert(1)>.csv", 'a"b.csv', "a|b.csv", "a?.csv", "a*.csv", "a>b.csv",
        "trailing.csv.", "zero\u200bwidth.csv",
    ],
)  # fmt: skip
def test_hostile_names_are_refused(raw, name):
    assert refuse(raw, CSV_TEXT.encode(), name).reason_code == "bad_name"


@pytest.mark.parametrize(
    "name",
    ["CONTACTS.csv", "console.csv", "LPT10.csv", "com.csv", "2012年3月 报表(终版).xlsx", "a-b_c.d.csv"],
)
def test_ordinary_names_that_resemble_reserved_ones_are_accepted(raw, name):
    data = _base() if name.endswith(".xlsx") else CSV_TEXT.encode()
    assert accept(raw, data, name).name == name


@pytest.mark.parametrize(
    ("county", "unit"),
    [
        (COUNTY, "slj\n"), (COUNTY + "\n", UNIT), (COUNTY, "slj\r"), (COUNTY, " slj"), (COUNTY, "ＳＬＪ"),
        (COUNTY, "s/j"), ("..", UNIT), (COUNTY, "a" * 33), (COUNTY, None), (511923, UNIT), (COUNTY, "slj\x00"),
    ],
)  # fmt: skip
def test_hostile_folder_codes_are_refused_and_create_nothing(raw, county, unit):
    assert refuse(raw, CSV_TEXT.encode(), "r.csv", county, unit).reason_code == "bad_folder"
    assert not list(raw.iterdir()), "no folder may be created"


def test_symlinked_county_folder_is_refused_before_any_mkdir(raw, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (raw / COUNTY).symlink_to(outside)
    assert refuse(raw, CSV_TEXT.encode(), "r.csv").reason_code == "bad_folder"
    assert not list(outside.iterdir()), "no folder may be created outside raw"


def test_dangling_symlink_is_refused_and_its_target_never_created(raw, tmp_path):
    target = tmp_path / "elsewhere" / "county"
    (raw / COUNTY).symlink_to(target)
    assert refuse(raw, CSV_TEXT.encode(), "r.csv").reason_code == "bad_folder"
    assert not target.exists() and not target.parent.exists()


def test_symlink_that_stays_inside_raw_is_followed(raw):
    (raw / "real-county").mkdir()
    (raw / COUNTY).symlink_to(raw / "real-county")
    path = accept(raw, CSV_TEXT.encode(), "r.csv")
    assert path.parent == (raw / "real-county" / UNIT).resolve()


def test_a_unit_folder_that_is_a_file_is_refused(raw):
    (raw / COUNTY).mkdir()
    (raw / COUNTY / UNIT).write_bytes(b"")
    with pytest.raises(UploadRefused) as info:
        save_upload(CSV_TEXT.encode(), "r.csv", COUNTY, UNIT, raw)
    assert info.value.reason_code == "bad_folder"


# --------------------------------------------------------------------------------------------
# Wrong argument types


@pytest.mark.parametrize("data", [CSV_TEXT, io.StringIO(CSV_TEXT), 12345, None])
def test_non_bytes_data_is_a_clear_type_error(raw, data):
    with pytest.raises(TypeError) as info:
        save_upload(data, "r.csv", COUNTY, UNIT, raw)
    assert "bytes" in str(info.value) or "binary" in str(info.value)
    assert not list(raw.rglob("*"))


# --------------------------------------------------------------------------------------------
# The gate accepts a file exactly when the reader reads it

ROUND_TRIP = [
    ("clean xlsx", _base(), "a.xlsx"),
    ("clean xls", xls_bytes([["指标名称", "数值"], ["森林覆盖率", 65.2]]), "a.xls"),
    ("clean ods", None, "a.ods"),
    ("gbk csv", CSV_TEXT.encode("gbk"), "a.csv"),
    ("utf-16 csv", CSV_TEXT.encode("utf-16"), "a.csv"),
    ("bom-less utf-16-be csv", CSV_TEXT.encode("utf-16-be"), "a.csv"),
    ("csv as xls", CSV_TEXT.encode("utf-8"), "a.xls"),
    ("html as xls", HTML_GBK.encode("gbk"), "a.xls"),
    ("xlsb as xlsx", xlsb_bytes([["指标名称", "数值"], ["森林覆盖率", 65.2]]), "a.xlsx"),
    ("xls as xlsx", xls_bytes([["x", 1]]), "a.xlsx"),
    ("xls with vba words", xls_bytes([["_VBA_PROJECT"], ["x"]]), "a.xls"),
    ("empty xlsx", xlsx_bytes([]), "a.xlsx"),
    ("empty csv", b",,\n,,\n", "a.csv"),
    ("encrypted ooxml", encrypted_ooxml_bytes(), "a.xlsx"),
    ("xls filepass", cfb_bytes({"Workbook": biff8_stream(filepass=True)}), "a.xls"),
    ("encrypted ods", ods_bytes(ODS_ENCRYPTION), "a.ods"),
    ("excel 4", biff_record(0x0409, struct.pack("<HHH", 0, 0x100, 0)) + biff_record(0x000A), "a.xls"),
    ("xlm macro sheet", cfb_bytes({"Workbook": biff8_stream(sheet_type=1)}), "a.xls"),
    ("docx", docx_bytes(), "a.xlsx"),
    ("xlsx as csv", _base(), "a.csv"),
    ("html without table", b"<html><p>x</p></html>", "a.xls"),
    ("truncated xlsx", _base()[:700], "a.xlsx"),
    ("prose under xlsx", b"this is not a workbook at all", "a.xlsx"),
    ("macro sheet in xlsx", zip_bytes({"xl/macrosheets/sheet1.xml": "<x/>"}, base=_base()), "a.xlsx"),
    ("binary under csv", bytes(range(256)) * 4, "a.csv"),
]


@pytest.mark.parametrize(("label", "data", "name"), ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_gate_accepts_exactly_what_the_reader_reads(raw, label, data, name):
    if data is None:  # clean ods, written by pandas/odf
        import pandas as pd

        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="odf") as xw:
            pd.DataFrame({"指标名称": ["森林覆盖率"], "数值": [65.2]}).to_excel(xw, index=False)
        data = buf.getvalue()
    try:
        read_bytes(data, name)
        reads = True
    except ReadError:
        reads = False
    try:
        save_upload(data, name, COUNTY, UNIT, raw)
        accepted = True
    except UploadRefused:
        accepted = False
    assert accepted == reads, label
    assert sum(1 for c in ROUND_TRIP if c[0] == label) == 1


def test_round_trip_table_has_both_outcomes():
    outcomes = set()
    for _label, data, name in ROUND_TRIP:
        if data is None:
            continue
        try:
            read_bytes(data, name)
            outcomes.add(True)
        except ReadError:
            outcomes.add(False)
    assert outcomes == {True, False}


def test_a_clean_duplicate_cannot_hide_a_macro_declaration(raw):
    """Two members named [Content_Types].xml: the macro-enabled one first, a clean one after."""
    import warnings
    import zipfile

    base = _base()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, as it should
        with (
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout,
            zipfile.ZipFile(io.BytesIO(base)) as zin,
        ):
            zout.writestr(
                "[Content_Types].xml", _content_types(f'<Override PartName="/x" ContentType="{CT_MACRO}"/>')
            )
            for item in zin.infolist():
                zout.writestr(item, zin.read(item.filename))
    assert refuse(raw, buf.getvalue(), "dup.xlsx").reason_code == "macro_enabled"


def test_windows_separators_in_part_names_do_not_hide_macro_sheets(raw):
    data = zip_bytes({"xl\\macrosheets\\sheet1.xml": "<x/>"}, base=_base())
    assert refuse(raw, data, "w.xlsx").reason_code == "macro_enabled"


def test_an_unused_default_content_type_is_not_a_macro_but_a_used_one_is(raw):
    unused = (
        '<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/>'
    )
    ct = _content_types(unused)
    accept(raw, zip_bytes({"[Content_Types].xml": ct}, base=_base()), "unused-default.xlsx").unlink()
    used = zip_bytes({"[Content_Types].xml": ct, "xl/printerSettings/x.bin": b"\x00" * 64}, base=_base())
    assert refuse(raw, used, "used-default.xlsx").reason_code == "macro_enabled"
