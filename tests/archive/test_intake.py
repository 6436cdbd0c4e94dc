"""Evidence uploads face the same hostile inputs as returns (tests/security): oversized files, a type
that differs from the extension, macros, traversal and reserved names, zip bombs, active PDF content,
image bombs; the unit must be the one that owes the item; the drop folder is idempotent."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pytest

from pipelines import uploads
from pipelines.archive import intake
from pipelines.archive import store as es
from pipelines.uploads import UploadRefused, check_evidence
from tests.archive.conftest import docx_bytes, pdf_bytes, png_bytes, slot_of
from tests.returns.test_formats import cfb_bytes

SLOT = ("eco_county", "eco_basic", "no_incident", "once")  # provided by sthjj


def _submit(arch, data, name, unit="sthjj", slot=SLOT, **kw):
    return intake.submit(arch.store, arch.paths.store, slot_of(arch, *slot), data, name, unit, "tester", **kw)


@pytest.mark.parametrize(
    ("data", "name", "ctype"),
    [
        (pdf_bytes(), "证明.pdf", "pdf"),
        (png_bytes(), "照片.png", "png"),
        (docx_bytes(), "纪要.docx", "docx"),
        (b"\xef\xbb\xbf\xe5\x8d\x95\xe4\xbd\x8d,\xe6\x95\xb0\n1,2\n", "台账.csv", "csv"),
    ],
)
def test_ordinary_evidence_is_accepted_and_stored_content_addressed(arch, data, name, ctype):
    made = _submit(arch, data, name)
    v = arch.store.one("SELECT * FROM evidence_version WHERE version_id = ?", (made["version_id"],))
    assert v["content_type"] == ctype and v["original_name"] == name and v["size_bytes"] == len(data)
    path = arch.paths.store / v["store_path"]
    assert path.read_bytes() == data
    assert v["store_path"] == f"{v['sha256'][:2]}/{v['sha256'][2:]}"
    assert es.read_blob(arch.paths.store, v["store_path"], v["sha256"]) == data


def _zip_bomb_docx() -> bytes:
    return docx_bytes(extra_members={"word/media/bomb.bin": b"\0" * (60 * 1024 * 1024)})


def _png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = zlib.compress(b"\0" * 10)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
        + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    )  # fmt: skip


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"", "空.pdf", "empty_upload"),
        (b"%PDF-1.4\n" + b"0" * (uploads.MAX_EVIDENCE_BYTES + 10), "大.pdf", "too_large"),
        (png_bytes(), "伪装.pdf", "content_mismatch"),
        (pdf_bytes(), "伪装.docx", "content_mismatch"),
        (docx_bytes(), "伪装.pdf", "content_mismatch"),
        (b"MZ\x90\x00" + b"\0" * 200, "程序.pdf", "content_mismatch"),
        (pdf_bytes(), "程序.exe", "bad_extension"),
        (pdf_bytes(), "宏.docm", "bad_extension"),
        (docx_bytes(extra_members={"word/vbaProject.bin": b"x" * 100}), "宏.docx", "macro_enabled"),
        (
            docx_bytes(extra_members={"word/embeddings/oleObject1.bin": cfb_bytes({"VBA/dir": b"x"})}),
            "ole.docx",
            "macro_enabled",
        ),
        (cfb_bytes({"WordDocument": b"x" * 600, "Macros/VBA/dir": b"x"}), "宏.doc", "macro_enabled"),
        (_zip_bomb_docx(), "炸弹.docx", "archive_bomb"),
        (
            pdf_bytes(extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
            "脚本.pdf",
            "active_content",
        ),
        (pdf_bytes(extra=b"/OpenAction << /S /J#61vaScript /JS (x) >>"), "转义.pdf", "active_content"),
        (pdf_bytes(extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "启动.pdf", "active_content"),
        (pdf_bytes(extra=b"/Names << /EmbeddedFiles 5 0 R >>"), "附件.pdf", "active_content"),
        (pdf_bytes(extra=b"/Encrypt 9 0 R"), "加密.pdf", "encrypted_file"),
        (pdf_bytes()[:300], "截断.pdf", "corrupt_archive"),
        (_png_claiming(90_000, 90_000), "像素炸弹.png", "archive_bomb"),
        (png_bytes()[:40], "截断.png", "corrupt_archive"),
    ],
)
def test_hostile_evidence_is_refused_with_its_reason(arch, data, name, reason):
    with pytest.raises(UploadRefused) as err:
        _submit(arch, data, name)
    assert err.value.reason_code == reason, err.value
    assert err.value.message_zh and err.value.message_en
    assert arch.store.rows("SELECT * FROM evidence_version") == []
    assert not any(arch.paths.store.rglob("*")) if arch.paths.store.exists() else True


@pytest.mark.parametrize(
    "name",
    [
        "../逃逸.pdf", "a/b.pdf", "..\\x.pdf", "/etc/passwd.pdf", "C:evil.pdf", "CON.pdf", "nul.png",
        "x\n.pdf", "x\u2028.pdf", '<img src=x onerror=alert(1)>.pdf', 'a"b.pdf', "a|b.pdf", ".hidden.pdf",
        "trailing.pdf.", "zero\u200bwidth.pdf", '=HYPERLINK("http://evil.example").pdf', "=cmd|' /C calc'!A0.pdf",
    ],
)  # fmt: skip
def test_hostile_names_are_refused(arch, name):
    with pytest.raises(UploadRefused) as err:
        _submit(arch, pdf_bytes(), name)
    assert err.value.reason_code == "bad_name"


def test_returns_gate_is_unchanged_by_the_evidence_mode():
    assert uploads.ALLOWED_EXTENSIONS == (".xlsx", ".xls", ".ods", ".csv")
    with pytest.raises(UploadRefused) as err:
        uploads.safe_file_name("会议纪要.pdf")
    assert err.value.reason_code == "bad_extension"
    assert uploads.safe_file_name("会议纪要.pdf", uploads.EVIDENCE_EXTENSIONS) == "会议纪要.pdf"


def test_a_spreadsheet_ledger_goes_through_the_returns_reader():
    assert check_evidence(b"a,b\n1,2\n", "台账.csv").content_type == "csv"
    with pytest.raises(UploadRefused):
        check_evidence(b"\x00\x01binary", "台账.csv")


def test_only_the_responsible_unit_or_the_office_may_provide_an_item(arch):
    with pytest.raises(es.ArchiveError) as err:
        _submit(arch, pdf_bytes(), "证明.pdf", unit="wjw")
    assert err.value.code == "wrong_unit"
    assert _submit(arch, pdf_bytes(), "证明.pdf", unit="cjb")["version"] == 1


def test_an_item_id_from_another_slot_is_refused(arch):
    other = _submit(arch, pdf_bytes("a"), "a.pdf", slot=("eco_county", "eco_basic", "epb_notice", "once"))
    with pytest.raises(es.ArchiveError):
        _submit(arch, pdf_bytes("b"), "b.pdf", item_id=other["item_id"])


def test_the_evidence_drop_folder_is_not_under_the_raw_folder(arch, tmp_settings):
    assert not arch.paths.inbox.resolve().is_relative_to(tmp_settings.raw_dir.resolve())
    assert not arch.paths.store.resolve().is_relative_to(tmp_settings.raw_dir.resolve())


def _drop(arch, rel: str, data: bytes):
    path = arch.paths.inbox / arch.county / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_drop_folder_scan_takes_in_new_files_once_and_records_refusals_once(arch, tmp_path):
    _drop(arch, "sthjj/eco_county/eco_basic/no_incident/once/证明.pdf", pdf_bytes())
    _drop(arch, "sthjj/eco_county/eco_basic/no_incident/once/伪装.pdf", png_bytes())
    _drop(arch, "sthjj/eco_county/eco_basic/证明.pdf", pdf_bytes("shallow"))
    _drop(arch, "wjw/eco_county/eco_basic/no_incident/once/别人的.pdf", pdf_bytes("not mine"))
    _drop(arch, "sthjj/eco_county/eco_basic/no_such_item/once/x.pdf", pdf_bytes("x"))
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(pdf_bytes("secret"))
    link = arch.paths.inbox / arch.county / "sthjj/eco_county/eco_basic/no_incident/once/link.pdf"
    os.symlink(outside, link)
    first = intake.scan_inbox(arch.store, arch.paths, arch.slots, arch.county)
    assert (first.added, first.refused) == (1, 4)
    again = intake.scan_inbox(arch.store, arch.paths, arch.slots, arch.county)
    assert (again.added, again.skipped, again.refused) == (0, 1, 0)
    reasons = sorted(r["reason_code"] for r in es.refusals(arch.store, arch.county))
    assert reasons == ["bad_folder", "bad_folder", "content_mismatch", "wrong_unit"]
    names = {v["original_name"] for v in es.versions(arch.store, arch.county)}
    assert names == {"证明.pdf"}  # the symlink pointing outside the inbox is never read


def test_a_changed_file_with_the_same_name_is_a_new_version(arch):
    _drop(arch, "sthjj/eco_county/eco_basic/no_incident/once/证明.pdf", pdf_bytes("v1"))
    intake.scan_inbox(arch.store, arch.paths, arch.slots, arch.county)
    _drop(arch, "sthjj/eco_county/eco_basic/no_incident/once/证明.pdf", pdf_bytes("v2"))
    intake.scan_inbox(arch.store, arch.paths, arch.slots, arch.county)
    vs = es.versions(arch.store, arch.county)
    assert [(v["version"], v["review_state"]) for v in vs] == [(2, "submitted"), (1, "superseded")]
    assert len({v["item_id"] for v in vs}) == 1


def test_make_folders_builds_the_units_tree(arch):
    n = intake.make_folders(arch.paths, arch.slots, "sthjj")
    assert n > 0
    assert (arch.paths.inbox / arch.county / "sthjj/eco_county/eco_basic/no_incident/once").is_dir()
    assert not (arch.paths.inbox / arch.county / "wjw").exists()


def test_zip_bomb_stops_early(arch):
    data = _zip_bomb_docx()
    assert len(data) < 1_000_000
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("word/media/bomb.bin").file_size > 50_000_000


def _objstm_pdf(payload: bytes) -> bytes:
    import zlib

    data = zlib.compress(payload)
    obj = b"9 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(data)
    return pdf_bytes().replace(b"%%EOF", obj + data + b"\nendstream\nendobj\n%%EOF")


def test_script_hidden_in_an_object_stream_is_refused_but_script_words_in_page_text_are_not():
    with pytest.raises(UploadRefused) as err:
        check_evidence(_objstm_pdf(b"1 0 << /S /JavaScript /JS (app.alert(1)) >>"), "对象流.pdf")
    assert err.value.reason_code == "active_content"
    assert check_evidence(_objstm_pdf(b"1 0 << /Type /Annot >>"), "干净.pdf").content_type == "pdf"
    # Binary stream data (page text, images) may hold any bytes: the words alone are not active content.
    assert (
        check_evidence(pdf_bytes("/JavaScript /JS /Launch /EmbeddedFile"), "文字.pdf").content_type == "pdf"
    )
