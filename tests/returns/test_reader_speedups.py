"""The parse-speed work (issue 11's speed target) changes no outcome.

Each shortcut in the reader and the table engine is checked against the slower path it replaces, on
clean and on damaged input, and each cache is shown not to serve a stale answer for a changed input.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile

import openpyxl
import pytest
import xlwt

from pipelines.returns import readers
from pipelines.returns.layouts import table
from pipelines.returns.matching import name_key
from tests.returns import xls_reference
from tests.returns.test_formats import biff8_stream, biff_record, cfb_bytes


def _xls(cells: list[list], percent_cols: tuple[int, ...] = (), sheets: int = 1) -> bytes:
    wb = xlwt.Workbook()
    pct = xlwt.easyxf(num_format_str="0.0%")
    for k in range(sheets):
        ws = wb.add_sheet(f"表{k + 1}")
        for r, row in enumerate(cells):
            for c, v in enumerate(row):
                if c in percent_cols and isinstance(v, float):
                    ws.write(r, c, v, pct)
                else:
                    ws.write(r, c, v)
        ws.write(len(cells), 0, xlwt.Formula("1/0"))  # a FORMULA record (xlwt stores no cached error)
        ws.row(len(cells)).set_cell_error(1, 0x07)  # a BOOLERR record holding #DIV/0!
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _stream(data: bytes) -> bytes:
    s = readers.sniff_format(data, "a.xls")
    assert s.ok and s.stream is not None
    return s.stream


def _two_walks(stream: bytes):
    """The old path (tests/returns/xls_reference.py): the bounding-box walk, then the cell formats."""
    data = cfb_bytes({"Workbook": stream})
    try:
        return xls_reference.two_walks(data)  # opens the compound file again
    except readers.ReadError as exc:
        return ("ReadError", exc.reason, exc.detail)


def _one_walk(stream: bytes):
    """The new path on the same compound file: the stream as the sniffer reads it, walked once."""
    import olefile

    with olefile.OleFileIO(io.BytesIO(cfb_bytes({"Workbook": stream}))) as ole:
        sniffed = ole.openstream("Workbook").read()
    try:
        return readers._xls_scan(sniffed)
    except readers.ReadError as exc:
        return ("ReadError", exc.reason, exc.detail)


CELLS = [["指标名称", "计量单位", "本期数"], ["森林覆盖率", "%", 0.652], ["城市污水处理率", "%", 0.95]]


def test_fused_xls_walk_equals_the_two_walks_on_clean_files():
    for data in (_xls(CELLS), _xls(CELLS, percent_cols=(2,)), _xls(CELLS, (2,), sheets=3)):
        stream = _stream(data)
        assert _one_walk(stream) == _two_walks(stream)
    percent, errors = readers._xls_scan(_stream(_xls(CELLS, (2,))))
    assert percent == {"表1": {"C2", "C3"}} and errors == {"表1": {"B4": "#DIV/0!"}}


def test_fused_xls_walk_equals_the_two_walks_on_damaged_streams():
    base = _stream(_xls(CELLS, (2,), sheets=2))
    rng = random.Random(11)
    variants = [base[:n] for n in range(0, len(base), 37)]  # truncated anywhere
    for _ in range(300):  # bytes flipped anywhere
        b = bytearray(base)
        for _k in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        variants.append(bytes(b))
    # a cell far away (the bounding-box refusal) in the first and in the last sheet
    far = biff_record(0x0203, struct.pack("<HHHd", 0xFFFF, 0xFFFF, 0, 1.0))
    g = biff8_stream()
    variants += [g[:-4] + far + g[-4:], base[:-4] + far + base[-4:]]
    for v in variants:
        assert _one_walk(v) == _two_walks(v)


def test_reading_an_xls_uses_the_sniffed_stream_and_keeps_percent_and_error_cells():
    book = readers.read_bytes(_xls(CELLS, (2,)), "a.xls")
    assert book.percent_cells == {"表1": {"C2", "C3"}}
    assert book.sheets[0].rows[3][1] == "#DIV/0!"


def _xlsx(rows: list[list], styles_pct: bool = False, extra: dict[str, bytes] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if styles_pct:
        ws["C2"].number_format = "0.0%"
    buf = io.BytesIO()
    wb.save(buf)
    if not extra:
        return buf.getvalue()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, extra.get(info.filename, src.read(info)))
    return out.getvalue()


def test_zip_shortcuts_keep_every_refusal():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    clean = _xlsx(CELLS)
    assert readers.sniff_format(clean, "a.xlsx").format == "xlsx"
    # an OLE object hidden as a worksheet or as the styles part (both pre-inflated now)
    for part in ("xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/theme/theme1.xml"):
        s = readers.sniff_format(_xlsx(CELLS, extra={part: ole}), "a.xlsx")
        assert s.reason == "macro_enabled" and part in s.detail
    # macro part names, each rule (the name shortcut must not skip them)
    for name in ("xl/vbaProject.bin", "xl/macrosheets/sheet1.xml", "customXml/xl/activex/a.xml",
                 "xl/embeddings/oleObject1.bin", "Basic/Standard/Module1.xml", "x/activex/y.xml"):  # fmt: skip
        buf = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(clean)) as src, zipfile.ZipFile(buf, "w") as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info))
            dst.writestr(name, b"<x/>")
        assert readers.sniff_format(buf.getvalue(), "a.xlsx").reason == "macro_enabled", name


def test_a_worksheet_that_does_not_inflate_is_still_corrupt():
    data = bytearray(_xlsx(CELLS))
    mem = readers._MemZip.from_data(bytes(data))
    info = mem.getinfo("xl/worksheets/sheet1.xml")
    nlen, elen = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + nlen + elen
    data[start + 40 : start + 60] = b"\xff" * 20  # damaged deflate data after the first bytes
    assert readers.sniff_format(bytes(data), "a.xlsx").reason == "corrupt_archive"


def test_percent_styles_are_read_per_workbook():
    plain = readers.read_bytes(_xlsx(CELLS), "a.xlsx")
    pct = readers.read_bytes(_xlsx(CELLS, styles_pct=True), "b.xlsx")
    again = readers.read_bytes(_xlsx(CELLS), "c.xlsx")
    assert plain.percent_cells == {} and again.percent_cells == {}
    assert pct.percent_cells == {"Sheet": {"C2"}}


@pytest.mark.parametrize(
    "text, expected",
    [("12.5", True), ("约90", True), ("85.2*", True), ("#DIV/0!", True), ("森林覆盖率", False), ("", False)],
)
def test_number_text_memo_answers_each_text_afresh(text, expected):
    assert table._is_number_cell(text) is expected
    assert table._is_number_cell(text + "x") is False  # a different text is not served the cached answer
    assert table._is_number_cell(text) is expected


def test_pure_text_memos_follow_their_input():
    assert table.strip_name("（一）森林覆盖率") == "森林覆盖率"
    assert table.strip_name("（一）林木绿化率") == "林木绿化率"
    assert name_key("建成区绿地率(%)") != name_key("建成区绿化覆盖率(%)")
    assert name_key("森林 覆盖率") == name_key("森林覆盖率")


def _replace_part(data: bytes, name: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, body if info.filename == name else src.read(info))
    return out.getvalue()


def test_kept_template_parts_never_serve_a_changed_part():
    readers.clear_shared_parts()
    clean = _xlsx(CELLS)
    assert readers.sniff_format(clean, "a.xlsx").ok  # its content types, rels, styles, theme are kept
    assert readers._SHARED_INFLATED  # (the cache is in use)
    with zipfile.ZipFile(io.BytesIO(clean)) as zf:
        ct = zf.read("[Content_Types].xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    # the same part names with other content: each decided on its own bytes
    vba_ct = ct.replace(b"</Types>", b'<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')  # fmt: skip
    s = readers.sniff_format(_replace_part(clean, "[Content_Types].xml", vba_ct), "a.xlsx")
    assert s.reason == "macro_enabled"
    ole_rel = rels.replace(b"</Relationships>", b'<Relationship Id="rX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="embeddings/x.bin"/></Relationships>')  # fmt: skip
    s = readers.sniff_format(_replace_part(clean, "xl/_rels/workbook.xml.rels", ole_rel), "a.xlsx")
    assert s.reason == "macro_enabled"
    # and the clean file again, after them: still clean
    assert readers.sniff_format(clean, "a.xlsx").ok
    # a cold cache and a warm one decide every file alike
    cases = [clean, _xlsx(CELLS, styles_pct=True), _replace_part(clean, "[Content_Types].xml", vba_ct)]
    warm = [readers.sniff_format(d, "a.xlsx") for d in cases]
    cold = []
    for d in cases:
        readers.clear_shared_parts()
        cold.append(readers.sniff_format(d, "a.xlsx"))
    assert [(s.format, s.reason, s.detail, s.cells) for s in warm] == [
        (s.format, s.reason, s.detail, s.cells) for s in cold
    ]


def test_kept_template_parts_are_bounded(monkeypatch):
    readers.clear_shared_parts()
    monkeypatch.setattr(readers, "SHARED_CACHE_BYTES", 4000)
    for k in range(5):
        readers.sniff_format(_xlsx([[f"指标{k}", "数值"], ["森林覆盖率", k]]), "a.xlsx")
        assert readers._shared_bytes <= 4000 + readers.SHARED_PART_MAX * 2


def test_small_box_shortcut_agrees_with_the_full_walk():
    """Worksheets whose references stay inside A1:Z999 skip the bounds walk; any other reference
    (4+ digits, 2+ letters) takes the full walk, and a far cell is still refused."""
    near = _xlsx([["a"] * 5] * 30)
    assert readers.sniff_format(near, "a.xlsx").ok
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.active["Z999"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    assert readers.sniff_format(buf.getvalue(), "a.xlsx").ok
    wb.active["XFD1048576"] = 2
    buf = io.BytesIO()
    wb.save(buf)
    assert readers.sniff_format(buf.getvalue(), "a.xlsx").reason == "file_too_large"
    xml = b'<worksheet><sheetData><row r="1"><c r="A1"/><c r="Z999"/></row></sheetData></worksheet>'
    assert readers._REF_SMALL_BOX_BREAKER.search(xml) is None
    assert readers._REF_SMALL_BOX_BREAKER.search(xml.replace(b"Z999", b"AA1")) is not None
    assert readers._REF_SMALL_BOX_BREAKER.search(xml.replace(b"Z999", b"A1000")) is not None


def test_kept_declaration_verdicts_follow_the_part_bytes():
    """The verdict on a relationships or content-types part is kept per process by its bytes: a
    clean template's parts are decided once, a changed part is decided on its own bytes, and a
    content-types part that needs parsing (its verdict depends on the package's parts) is not kept."""
    readers.clear_shared_parts()
    clean = _xlsx(CELLS)
    assert readers.sniff_format(clean, "a.xlsx").ok
    kept = dict(readers._DECLARATION_VERDICTS)
    assert kept and all(v is None for v in kept.values())  # (the memo is in use)
    with zipfile.ZipFile(io.BytesIO(clean)) as zf:
        rels = zf.read("_rels/.rels")
        ct = zf.read("[Content_Types].xml")
    vba_rel = rels.replace(b"</Relationships>", b'<Relationship Id="rV" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="xl/x.bin"/></Relationships>')  # fmt: skip
    for _ in range(2):  # decided, then served from the memo: refused both times
        s = readers.sniff_format(_replace_part(clean, "_rels/.rels", vba_rel), "a.xlsx")
        assert s.reason == "macro_enabled" and "_rels/.rels" in s.detail
    assert readers.sniff_format(clean, "a.xlsx").ok
    # a character reference could spell a declaration: parsed with the package's extensions, not kept
    spelled = ct.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vba&#80;roject"/></Types>')  # fmt: skip
    before = len(readers._DECLARATION_VERDICTS)
    readers.sniff_format(_replace_part(clean, "[Content_Types].xml", spelled), "a.xlsx")
    assert len(readers._DECLARATION_VERDICTS) == before
    assert not any(spelled == k[1] for k in readers._DECLARATION_VERDICTS)


def test_kept_styles_answers_follow_the_styles_bytes():
    from pipelines.returns import numfmt

    readers.clear_shared_parts()
    assert not numfmt._STYLES_MEMO
    for _ in range(2):  # the second round is served from the memo
        plain = readers.read_bytes(_xlsx(CELLS), "a.xlsx")
        pct = readers.read_bytes(_xlsx(CELLS, styles_pct=True), "b.xlsx")
        assert plain.percent_cells == {} and pct.percent_cells == {"Sheet": {"C2"}}
    assert len(numfmt._STYLES_MEMO) == 2


def _all_files() -> list:
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "files"
    files = sorted(p for p in corpus.iterdir() if p.is_file()) if corpus.is_dir() else []
    return files


def test_kept_verdicts_decide_every_file_as_a_cold_reader_does(tmp_path):
    """Zoo and corpus files: sniffed and read with every per-process memo warm (in sequence) and
    cold (cleared before each file): the same format, refusal, detail, cells, sheets and grids."""
    from tests.returns.zoo.build import build_zoo

    build_zoo(tmp_path)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file()) + _all_files()
    assert len(files) > 50

    def outcome(p):
        data = p.read_bytes()
        s = readers.sniff_format(data, p.name)
        try:
            book = readers.read_bytes(data, p.name)
            sheets = [(sh.name, sh.rows, sh.merged) for sh in book.sheets]
            extra = (book.percent_cells, book.error_cells)
        except readers.ReadError as exc:
            sheets, extra = exc.reason, exc.detail
        return (s.format, s.reason, s.detail, s.cells, sheets, extra)

    readers.clear_shared_parts()
    warm = [outcome(p) for p in files]
    cold = []
    for p in files:
        readers.clear_shared_parts()
        cold.append(outcome(p))
    for p, a, b in zip(files, warm, cold, strict=True):
        assert a == b, p
