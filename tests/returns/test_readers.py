"""Reading files into cell grids: every format, hidden sheets, encodings, and every bad-file kind."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt

from pipelines.returns import readers
from pipelines.returns.readers import ReadError, read_book

CSV_TEXT = "指标名称,数值,计量单位\n建成区绿化覆盖率,38.5,%\n集中式饮用水水源地水质达标率,—,%\n"


def _xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报表"
    ws["B2"] = "平昌县环境保护局2012年3月报表"
    ws.merge_cells("B2:E2")
    ws["C4"] = "建成区绿化覆盖率"
    ws["D4"] = 38.5
    ws["E4"] = dt.datetime(2012, 3, 1)
    meta = wb.create_sheet("_meta")
    meta["A1"], meta["B1"] = "template_version", "wuchuang-return/1"
    meta.sheet_state = "hidden"
    wb.save(path)
    return path


def _reason(path: Path, **kw) -> str:
    with pytest.raises(ReadError) as err:
        read_book(path, **kw)
    return err.value.reason


def test_xlsx_grid_is_anchored_at_a1_with_hidden_sheets_and_merges(tmp_path):
    book = read_book(_xlsx(tmp_path / "a.xlsx"))
    assert book.file_format == "xlsx" and book.reader == "calamine"
    sheet = book.sheet("填报表")
    assert sheet.is_visible
    assert sheet.cell(1, 1) == "平昌县环境保护局2012年3月报表"  # B2, though A1 and row 1 are empty
    assert sheet.cell(3, 2) == "建成区绿化覆盖率" and sheet.cell(3, 3) == 38.5  # C4, D4
    assert sheet.cell(3, 4) in (dt.datetime(2012, 3, 1), dt.date(2012, 3, 1))
    assert ((1, 1), (1, 4)) in sheet.merged
    meta = book.sheet("_meta")
    assert meta is not None and meta.visible == "hidden" and not meta.is_visible
    assert meta.cell(0, 1) == "wuchuang-return/1"


def test_xls_written_by_xlwt_is_read(tmp_path):
    wb = xlwt.Workbook()
    ws = wb.add_sheet("2012年1月")
    ws.write_merge(0, 0, 0, 2, "平昌县林业局报表")
    ws.write(2, 0, "森林覆盖率")
    ws.write(2, 1, "６５．２")
    ws.write(3, 1, 12.5)
    path = tmp_path / "b.xls"
    wb.save(str(path))
    book = read_book(path)
    assert book.file_format == "xls"
    sheet = book.sheets[0]
    assert sheet.name == "2012年1月"
    assert sheet.cell(2, 0) == "森林覆盖率" and sheet.cell(2, 1) == "６５．２" and sheet.cell(3, 1) == 12.5
    assert ((0, 0), (0, 2)) in sheet.merged


def test_ods_written_by_pandas_odf_is_read(tmp_path):
    path = tmp_path / "c.ods"
    with pd.ExcelWriter(path, engine="odf") as xw:
        pd.DataFrame({"指标名称": ["森林覆盖率"], "数值": ["65.2%"]}).to_excel(
            xw, sheet_name="S1", index=False, startrow=2
        )
    book = read_book(path)
    assert book.file_format == "ods"
    assert book.sheets[0].cell(2, 0) == "指标名称"  # A3: the grid keeps absolute positions
    assert book.sheets[0].cell(3, 1) == "65.2%"


@pytest.mark.parametrize(
    ("encoding", "expected"), [("gbk", "gb"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")]
)
def test_csv_encodings_are_detected(tmp_path, encoding, expected):
    path = tmp_path / "d.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    book = read_book(path)
    assert book.file_format == "csv" and expected in book.encoding.lower()
    rows = book.sheets[0].rows
    assert rows[0] == ["指标名称", "数值", "计量单位"]  # no BOM left in the first header
    assert rows[1] == ["建成区绿化覆盖率", "38.5", "%"]
    assert rows[2][1] == "—"


def test_csv_with_semicolons_or_tabs(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("指标名称;数值\n森林覆盖率;65.2\n", encoding="utf-8")
    assert read_book(path).sheets[0].rows[1] == ["森林覆盖率", "65.2"]
    path.write_text("指标名称\t数值\n森林覆盖率\t65.2\n", encoding="utf-8")
    assert read_book(path).sheets[0].rows[1] == ["森林覆盖率", "65.2"]


def test_empty_file_is_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert _reason(path) == "empty_file"


def test_truncated_xlsx_is_corrupt_archive(tmp_path):
    data = _xlsx(tmp_path / "full.xlsx").read_bytes()
    path = tmp_path / "half.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert _reason(path) == "corrupt_archive"


def test_garbage_with_a_workbook_extension_is_corrupt(tmp_path):
    path = tmp_path / "junk.xlsx"
    path.write_bytes(b"this is not a workbook at all")
    assert _reason(path) == "corrupt_archive"
    xls = tmp_path / "junk.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)  # OLE header, no body
    assert _reason(xls) == "corrupt_archive"


def test_unknown_extensions_and_foreign_zips_are_unsupported(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    assert _reason(pdf) == "unsupported_format"
    docx = tmp_path / "report.xlsx"
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w/>")
    assert _reason(docx) == "unsupported_format"


def test_macro_enabled_workbook_is_refused(tmp_path):
    src = _xlsx(tmp_path / "m.xlsx")
    path = tmp_path / "m.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert _reason(path) == "macro_enabled"


def test_zip_bomb_member_ratio_is_refused_before_opening(tmp_path):
    src = _xlsx(tmp_path / "z.xlsx")
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/media/padding.bin", b"\x00" * (4 * 1024 * 1024))  # compresses > 1000:1
    assert path.stat().st_size < 100_000
    assert _reason(path) == "file_too_large"


def test_zip_member_count_and_total_size_limits(tmp_path, monkeypatch):
    path = _xlsx(tmp_path / "n.xlsx")
    monkeypatch.setattr(readers, "MAX_ZIP_MEMBERS", 3)
    assert _reason(path) == "file_too_large"
    monkeypatch.setattr(readers, "MAX_ZIP_MEMBERS", 2000)
    monkeypatch.setattr(readers, "MAX_UNCOMPRESSED_BYTES", 1000)
    assert _reason(path) == "file_too_large"


def test_file_size_limit(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(CSV_TEXT * 10, encoding="utf-8")
    assert _reason(path, max_bytes=100) == "file_too_large"


def test_sparse_sheet_cannot_exhaust_memory(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "指标名称"
    ws.cell(row=50_000, column=3, value=1)
    path = tmp_path / "sparse.xlsx"
    wb.save(path)
    monkeypatch.setattr(readers, "MAX_CELLS", 3_000)
    sheet = read_book(path).sheets[0]
    assert sheet.truncated
    assert sum(len(r) for r in sheet.rows) <= 3_000
    assert sheet.cell(0, 0) == "指标名称"


def test_too_many_columns_is_refused(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    wb.active.cell(row=1, column=60, value="x")
    path = tmp_path / "wide.xlsx"
    wb.save(path)
    monkeypatch.setattr(readers, "MAX_COLUMNS", 50)
    assert _reason(path) == "file_too_large"


def test_zipfile_fallback_gives_the_same_answers(tmp_path, monkeypatch):
    """Archives the fast central-directory scan declines (zip64, prefixed data) go through zipfile."""
    monkeypatch.setattr(readers, "_central_directory", lambda data: None)
    assert read_book(_xlsx(tmp_path / "a.xlsx")).file_format == "xlsx"
    src = _xlsx(tmp_path / "m.xlsx")
    path = tmp_path / "m.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert _reason(path) == "macro_enabled"
    half = tmp_path / "half.xlsx"
    half.write_bytes(src.read_bytes()[:800])
    assert _reason(half) == "corrupt_archive"


def test_openpyxl_fallback_when_calamine_cannot_open_an_xlsx(tmp_path, monkeypatch):
    from python_calamine import CalamineWorkbook

    def refuse(*args, **kwargs):
        raise ValueError("calamine says no")

    monkeypatch.setattr(CalamineWorkbook, "from_filelike", refuse)
    book = read_book(_xlsx(tmp_path / "a.xlsx"))
    assert book.reader == "openpyxl"
    assert book.sheet("填报表").cell(3, 3) == 38.5
    assert book.sheet("_meta").visible == "hidden"


def test_book_carries_the_files_modification_time(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    os.utime(path, (1_334_000_000, 1_334_000_000))
    assert read_book(path).mtime == 1_334_000_000


def test_a_rust_panic_in_calamine_is_a_corrupt_archive_not_a_crash(tmp_path, monkeypatch):
    """pyo3 turns a Rust panic into PanicException, a BaseException: it must still be caught."""
    from python_calamine import CalamineWorkbook

    class PanicLike(BaseException):
        pass

    def panic(*args, **kwargs):
        raise PanicLike("assertion `left == right` failed")

    wb = xlwt.Workbook()
    wb.add_sheet("S").write(0, 0, "x")
    path = tmp_path / "p.xls"
    wb.save(str(path))
    monkeypatch.setattr(CalamineWorkbook, "from_filelike", panic)
    assert _reason(path) == "corrupt_archive"


def test_xlsm_without_macros_is_an_ordinary_workbook_and_very_hidden_is_reported(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "指标名称"
    meta = wb.create_sheet("_meta")
    meta["A1"] = "template_version"
    meta.sheet_state = "veryHidden"
    path = tmp_path / "plain.xlsm"
    wb.save(path)
    book = read_book(path)
    assert book.file_format == "xlsm"
    assert book.sheet("_meta").visible == "very_hidden"
    assert book.sheets[0].cell(0, 0) == "指标名称"


def test_xlsx_extent_bound_is_the_same_as_trying_every_length_longest_first():
    """The bounding-box scan first decides which half of the reference lengths to try (issue 18);
    the bound must equal the plain longest-first search it replaced, on any reference soup."""
    import random

    from pipelines.returns import readers as rd

    def reference(buf: bytes, max_row: int, max_col: int) -> tuple[int, int]:
        buf = buf.translate(rd._NORMALISE)
        digits = next((d for d in range(7, 0, -1) if rd._REF_DIGITS[d].search(buf)), 0)
        letters = next((n for n in (3, 2, 1) if rd._REF_LETTERS[n].search(buf)), 0)
        if not digits:
            return max_row, max_col
        row_bound, col_bound = 10**digits - 2, (26, 702, 16384)[letters - 1] - 1 if letters else 0
        if (max(max_row, row_bound) + 1) * (max(max_col, col_bound) + 1) > rd.MAX_AREA:
            row_bound = max(map(int, set(rd._REF_DIGITS[digits].findall(buf)))) - 1
            if letters:
                col_bound = max(rd._col_number(a) for a in set(rd._REF_LETTERS[letters].findall(buf))) - 1
        return max(max_row, row_bound), max(max_col, col_bound)

    rng = random.Random(18)
    for _ in range(3000):
        cells = []
        for _ in range(rng.randint(0, 6)):
            col = "".join(rng.choice("ABCXYZ") for _ in range(rng.randint(0, 4)))
            row = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 9)))
            sep = rng.choice([' r="', '\tr="', " r='", ' r= "', 'r="'])
            cells.append("<c" + sep + col + row + rng.choice(['"', "", "x"]) + "/>")
        buf = "".join(cells).encode()
        for bounds in ((-1, -1), (5, 3), (2000, 40)):
            assert rd._xlsx_extent(buf, *bounds) == reference(buf, *bounds), buf
