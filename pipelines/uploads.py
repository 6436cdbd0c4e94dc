"""Accepting a department's upload into the drop folder, safely. Plain functions (no Streamlit).

`save_upload(data, file_name, county, unit, raw_dir)` checks, in order:

- the data is bytes (or a binary stream): a `str` is a `TypeError` with a clear message;
- the file name: NFKC-normalised and validated with `re.fullmatch` as a whole: no folders (`/`,
  `\\`, `..`), not absolute, no drive prefix or alternate data stream (no `:` at all), no control
  characters, no Unicode line/paragraph separators (U+2028, U+2029, U+0085), no HTML
  metacharacters (`<>"`) nor the other characters Windows forbids (`|?*`), not a Windows reserved
  device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with any extension), not hidden, not too long,
  and an allowed extension (.xlsx .xls .ods .csv);
- the folder codes (county, unit): short ASCII codes matched in full (a trailing newline fails);
- size: not empty, at most `MAX_UPLOAD_BYTES`;
- archives: at most `MAX_ZIP_MEMBERS` members; every member is actually decompressed (streamed,
  never trusting the sizes the archive declares) and refused beyond `MAX_UNCOMPRESSED_BYTES` in
  total or a compression ratio above `MAX_RATIO`: a zip bomb stops after reading at most that much;
- the content, by the reader itself: `readers.sniff_format` judges what the bytes really are and
  `readers.read_bytes` reads them, exactly as the ingest will, so the gate accepts a file exactly
  when the reader reads it. HTML tables and CSV text saved as .xls/.xlsx, UTF-16 CSV and xlsb
  content are accepted (the reader reads them); a workbook named .csv, docx/pdf/images renamed,
  encrypted workbooks, Excel 2/3/4 files, empty workbooks and damaged files are refused; macros
  and active content are found over the whole archive (every part name, content types and
  relationships read in full, case-insensitively: vbaProject, macro sheets, ActiveX, OLE objects
  and embeddings, DDE links) and in .xls compound files (VBA storages in the CFB directory, XLM
  macro sheets in the BOUNDSHEET records) — never by searching cell text for a keyword.

It then lands the file atomically in `raw_dir/<county>/<unit>/`. The folders are validated before
anything is created (an existing component that is a symlink must resolve inside `raw_dir`; a
missing one is created one level at a time, never with `parents=True` outside `raw_dir`), and the
file is written through a directory descriptor checked to be that folder: to a hidden temp file
(which the sensor and the loader ignore), fsynced, then hard-linked to its final name, which fails
instead of overwriting, so an existing file is never replaced: a suffix " (2)", " (3)"… is added.
Every refusal is an `UploadRefused` with a reason code and a message in Chinese and English.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import stat
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipelines.returns import readers
from pipelines.returns.model import REASONS as READ_REASONS

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_NAME_BYTES = 200
ALLOWED_EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv")
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb", ".xlam", ".ots", ".xla")
CODE_RE = re.compile(r"[0-9A-Za-z_-]{1,32}")  # always used with fullmatch
# A whole file name: no path separators, drive or stream colons, Windows-forbidden or HTML
# metacharacters, control characters (C0, DEL, C1 incl. U+0085) or line/paragraph separators.
NAME_RE = re.compile(r"[^/\\:*?\"<>|\x00-\x1f\x7f-\x9f\u2028\u2029]+")
RESERVED_RE = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]|CONIN\$|CONOUT\$|CLOCK\$)", re.IGNORECASE)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

REASONS = {
    "empty_upload": ("文件为空", "the file is empty"),
    "too_large": ("文件过大", "the file is too large"),
    "bad_name": ("文件名不合法", "the file name is not acceptable"),
    "bad_extension": ("不接受此文件类型", "this file type is not accepted"),
    "bad_folder": ("单位或县代码不合法", "the county or unit code is not acceptable"),
    "content_mismatch": ("文件内容与扩展名不符", "the content does not match the extension"),
    "archive_bomb": (
        "压缩包异常（成员过多或解压后过大）",
        "suspicious archive (too many members or too large uncompressed)",
    ),
    "corrupt_archive": ("文件损坏或不完整", "the file is corrupt or truncated"),
    "macro_enabled": ("含宏的工作簿不予接收", "macro-enabled workbooks are refused"),
    "active_content": ("含脚本或活动内容的文件不予接收", "files with scripts or active content are refused"),
    "encrypted_file": READ_REASONS["encrypted_file"],
    "old_format": READ_REASONS["old_format"],
}

# The reader's reason for refusing a file -> the gate's reason code.
_FROM_READER = {
    "empty_file": "empty_upload",
    "corrupt_archive": "corrupt_archive",
    "unsupported_format": "content_mismatch",
    "macro_enabled": "macro_enabled",
    "encrypted_file": "encrypted_file",
    "old_format": "old_format",
}


class UploadRefused(ValueError):
    """An upload that was not saved, with a reason code and messages in Chinese and English."""

    def __init__(self, reason_code: str, file_name: str, detail: str = ""):
        zh, en = REASONS[reason_code]
        self.reason_code = reason_code
        self.file_name = file_name
        self.message_zh = f"文件“{file_name}”：{zh}" + (f"（{detail}）" if detail else "")
        self.message_en = f"file '{file_name}': {en}" + (f" ({detail})" if detail else "")
        super().__init__(f"{self.message_zh} / {self.message_en}")


@dataclass(frozen=True)
class SavedUpload:
    path: Path  # absolute
    rel_path: str  # relative to the raw folder, POSIX
    size: int
    sha256: str
    file_format: str = ""  # what the reader read it as: xlsx | xls | xlsb | ods | csv | html


def safe_file_name(name: str, allowed: tuple[str, ...] = ALLOWED_EXTENSIONS) -> str:
    """The normalised name, or UploadRefused. Never strips folders silently: a name with one is refused.
    `allowed`: the accepted extensions (returns: ALLOWED_EXTENSIONS; evidence: EVIDENCE_EXTENSIONS)."""
    if not isinstance(name, str):
        raise UploadRefused("bad_name", "?", "文件名必须是文本 / the name must be text")
    shown = name[:80]
    if not name.strip():
        raise UploadRefused("bad_name", shown or "?", "空文件名 / empty name")
    norm = unicodedata.normalize("NFKC", name).strip()
    if "/" in norm or "\\" in norm or norm in {".", ".."} or norm.startswith("..") or os.path.isabs(norm):
        raise UploadRefused("bad_name", shown, "不得包含路径 / must not contain a path")
    if ":" in norm:
        raise UploadRefused(
            "bad_name", shown, "不得含冒号（盘符或数据流）/ no colon (drive prefix or data stream)"
        )
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in norm):
        raise UploadRefused(
            "bad_name", shown, "含控制字符或换行符 / contains control or line-break characters"
        )
    if not NAME_RE.fullmatch(norm):
        raise UploadRefused("bad_name", shown, '不得含 <>"|?* 等字符 / must not contain <>"|?* and the like')
    if norm.startswith((".", "~")):
        raise UploadRefused("bad_name", shown, "不得以 . 或 ~ 开头 / must not start with . or ~")
    if norm.endswith((".", " ")):
        raise UploadRefused("bad_name", shown, "不得以点或空格结尾 / must not end with a dot or space")
    if RESERVED_RE.fullmatch(norm.split(".", 1)[0].rstrip(" ")):
        raise UploadRefused("bad_name", shown, "Windows 保留名称 / a Windows reserved device name")
    if len(norm.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadRefused("bad_name", shown, f"过长 / longer than {MAX_NAME_BYTES} bytes")
    ext = Path(norm).suffix.lower()
    if ext in MACRO_EXTENSIONS:
        raise UploadRefused("macro_enabled", shown, ext)
    if ext not in allowed:
        raise UploadRefused(
            "bad_extension",
            shown,
            f"{ext or '无扩展名 / no extension'}；允许 / allowed: {' '.join(allowed)}",
        )
    return norm


def _check_code(code: str, what: str) -> str:
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise UploadRefused("bad_folder", repr(code)[:40], what)
    return code


def _read_limited(data: bytes | BinaryIO, name: str, max_bytes: int) -> bytes:
    if isinstance(data, str):
        raise TypeError(
            "save_upload 需要字节数据或二进制流，而不是文本（str）；请以 'rb' 方式打开文件 / "
            "save_upload needs bytes or a binary stream, not str; open the file with 'rb'"
        )
    if isinstance(data, bytes | bytearray | memoryview):
        blob = bytes(data)
    elif hasattr(data, "read"):
        blob = data.read(max_bytes + 1)
        if isinstance(blob, str):
            raise TypeError(
                "save_upload 需要二进制流，而不是文本流 / save_upload needs a binary stream, not a text stream"
            )
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise TypeError(f"the stream's read() returned {type(blob).__name__}, not bytes")
        blob = bytes(blob)
    else:
        raise TypeError(
            f"save_upload 需要字节数据或二进制流 / save_upload needs bytes or a binary stream, "
            f"not {type(data).__name__}"
        )
    if len(blob) > max_bytes:
        raise UploadRefused("too_large", name, f"上限 / limit {max_bytes // (1024 * 1024)} MB")
    if not blob:
        raise UploadRefused("empty_upload", name)
    return blob


def _check_zip(blob: bytes, name: str) -> None:
    """Member count and a streamed, real decompression of every member (the declared sizes are
    not trusted): an archive bomb stops after at most `MAX_UNCOMPRESSED_BYTES`."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRefused("corrupt_archive", name, str(exc)[:100]) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise UploadRefused("archive_bomb", name, f"{len(infos)} 个成员 / members > {MAX_ZIP_MEMBERS}")
        total = 0
        for info in infos:
            member = 0
            if info.flag_bits & 0x1:  # an encrypted member cannot be inflated: the reader refuses it
                continue
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 16):
                        member += len(chunk)
                        total += len(chunk)
                        if total > MAX_UNCOMPRESSED_BYTES:
                            raise UploadRefused(
                                "archive_bomb",
                                name,
                                f"解压后超过 / uncompressed > {MAX_UNCOMPRESSED_BYTES >> 20} MB",
                            )
                        if member > 1 << 20 and member > MAX_RATIO * max(info.compress_size, 1):
                            raise UploadRefused(
                                "archive_bomb", name, f"{info.filename}: 压缩比 / ratio > {MAX_RATIO}"
                            )
            except UploadRefused:
                raise
            except Exception as exc:  # BadZipFile, zlib.error, EOFError…: any failure to inflate
                raise UploadRefused("corrupt_archive", name, type(exc).__name__) from None


def check_content(blob: bytes, name: str) -> str:
    """Refuse archive bombs, then anything the reader would not read (by the reader itself).
    Returns the format the reader read the file as."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise TypeError(f"check_content needs bytes, not {type(blob).__name__}")
    blob = bytes(blob)
    if blob.startswith((ZIP_MAGIC, b"PK\x05\x06")):
        _check_zip(blob, name)
    sniff = readers.sniff_format(blob, name)
    try:
        book = readers.read_bytes(blob, name, sniff=sniff)
    except readers.ReadError as exc:
        if exc.reason == "file_too_large":
            code = "archive_bomb" if sniff.container == "zip" else "too_large"
        else:
            code = _FROM_READER.get(exc.reason, "corrupt_archive")
        raise UploadRefused(code, name, _detail(exc)) from None
    except Exception as exc:  # the reader is bounded and never meant to raise anything else
        raise UploadRefused("corrupt_archive", name, type(exc).__name__) from None
    return book.file_format


def _detail(exc: readers.ReadError) -> str:
    if " / " in exc.detail:  # already "中文 / English"
        return exc.detail[:300]
    zh, en = READ_REASONS.get(exc.reason, ("", ""))
    return f"{zh} / {en}" + (f": {exc.detail[:200]}" if exc.detail else "")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _candidates(name: str):
    stem, ext = Path(name).stem, Path(name).suffix
    yield name
    for i in range(2, 10_000):
        yield f"{stem} ({i}){ext}"


def _outside(county: str, unit: str) -> UploadRefused:
    return UploadRefused("bad_folder", f"{county}/{unit}", "目录指向接收目录之外 / folder leads outside raw")


def unit_folder(raw_dir: Path, county: str, unit: str) -> Path:
    """`raw_dir/<county>/<unit>`, validated before anything is created: codes matched in full, an
    existing component (even a dangling symlink) must resolve to a directory inside `raw_dir`, and a
    missing one is created one level at a time inside an already validated folder."""
    _check_code(county, "县代码 / county code")
    _check_code(unit, "单位代码 / unit code")
    raw = Path(raw_dir)
    raw.mkdir(parents=True, exist_ok=True)  # the configured drop folder itself
    raw = raw.resolve(strict=True)
    folder = raw
    for part in (county, unit):
        nxt = folder / part
        for _ in range(3):  # a concurrent mkdir: look again
            if os.path.lexists(nxt):
                real = nxt.resolve(strict=False)
                if not real.is_relative_to(raw) or not real.is_dir():
                    raise _outside(county, unit)
                folder = real
                break
            try:
                os.mkdir(nxt, 0o755)
                folder = nxt
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - a folder appearing and vanishing in a loop
            raise _outside(county, unit)
    return folder


def save_upload(
    data: bytes | BinaryIO,
    file_name: str,
    county: str,
    unit: str,
    raw_dir: Path,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> SavedUpload:
    """Check an upload and land it atomically in `raw_dir/<county>/<unit>/`; never overwrite."""
    name = safe_file_name(file_name)
    _check_code(county, "县代码 / county code")
    _check_code(unit, "单位代码 / unit code")
    blob = _read_limited(data, name, max_bytes)
    file_format = check_content(blob, name)

    raw = Path(raw_dir)
    folder = unit_folder(raw, county, unit)
    raw = raw.resolve(strict=True)
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # The descriptor pins the folder: it must still be the validated one, inside raw.
        real = Path(os.path.realpath(folder))
        st = os.fstat(dfd)
        if not real.is_relative_to(raw) or (st.st_dev, st.st_ino) != (
            os.stat(real).st_dev,
            os.stat(real).st_ino,
        ):
            raise _outside(county, unit)
        if not stat.S_ISDIR(st.st_mode):
            raise _outside(county, unit)
        tmp = f".upload-{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dfd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            for candidate in _candidates(name):
                try:  # atomic, and fails rather than replace an existing file
                    os.link(tmp, candidate, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover - ten thousand uploads of one name
                raise UploadRefused("bad_name", name, "同名文件过多 / too many files with this name")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dfd)
        os.fsync(dfd)
    finally:
        os.close(dfd)
    final = real / candidate
    return SavedUpload(
        path=final,
        rel_path=final.relative_to(raw).as_posix(),
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        file_format=file_format,
    )


# ---------------------------------------------------------------- evidence mode (档案资料)
# Evidence (minutes, plans, photos, scans) is stored as it is, never parsed into figures: the same
# name, size, archive-bomb, macro and encryption checks as returns, and a type judged by content
# (`readers.sniff_format`) that must agree with the extension. Images are opened (Pillow, with its
# decompression-bomb limit) and PDFs are refused when they carry JavaScript, launch actions or
# embedded files.

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
EVIDENCE_TYPES = {  # extension -> (content type label, MIME type)
    ".pdf": ("pdf", "application/pdf"),
    ".png": ("png", "image/png"),
    ".jpg": ("jpeg", "image/jpeg"),
    ".jpeg": ("jpeg", "image/jpeg"),
    ".docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".doc": ("doc", "application/msword"),
    ".odt": ("odt", "application/vnd.oasis.opendocument.text"),
    ".pptx": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ".xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xls": ("xls", "application/vnd.ms-excel"),
    ".ods": ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ".csv": ("csv", "text/csv"),
}
EVIDENCE_EXTENSIONS = tuple(EVIDENCE_TYPES)
# What the sniffer names a non-spreadsheet (its English real_type) -> the content type it is.
_EVIDENCE_REAL = {
    "a PDF file": "pdf",
    "an image (PNG)": "png",
    "an image (JPEG)": "jpeg",
    "a Word document": "docx",
    "a Word 97-2003 document": "doc",
    "a text document (ODT)": "odt",
    "a PowerPoint presentation": "pptx",
}
_PDF_ACTIVE = (
    (rb"/JavaScript", "JavaScript"),
    (rb"/JS\b", "JavaScript"),
    (rb"/Launch", "Launch"),
    (rb"/EmbeddedFile", "EmbeddedFile"),
    (rb"/RichMedia", "RichMedia"),
    (rb"/XFA", "XFA"),
)


@dataclass(frozen=True)
class CheckedEvidence:
    name: str  # the normalised original name
    data: bytes
    content_type: str  # pdf | png | jpeg | docx | doc | odt | pptx | xlsx | xls | ods | csv
    mime: str
    size: int
    sha256: str


_PDF_STREAM = re.compile(rb">>\s*stream\r?\n")
_PDF_LENGTH = re.compile(rb"/Length\s+(\d{1,10})(\s+\d+\s+R)?")
_PDF_END = re.compile(rb"\s*endstream")


def _pdf_objects(blob: bytes, name: str) -> bytes:
    """The PDF's object text without the data of streams whose length is given directly and checked
    (images, fonts: binary that may hold any bytes), plus the decompressed content of object streams
    (/ObjStm), where dictionaries may be hidden. A stream whose length cannot be checked is kept and
    searched like the rest (safe side)."""
    parts, pos = [], 0
    for m in _PDF_STREAM.finditer(blob):
        if m.start() < pos:
            continue
        head = blob[pos : m.start()]
        lengths = list(_PDF_LENGTH.finditer(head[-400:]))
        if not lengths or lengths[-1].group(2):
            continue  # indirect or missing /Length: keep the stream in the searched text
        end = m.end() + int(lengths[-1].group(1))
        if not _PDF_END.match(blob, end):
            continue
        parts.append(head)
        if b"/ObjStm" in head[-400:]:
            try:
                parts.append(zlib.decompressobj().decompress(blob[m.end() : end], 20 * 1024 * 1024))
            except zlib.error:
                raise UploadRefused(
                    "corrupt_archive", name, "PDF 对象流无法解压 / undecodable object stream"
                ) from None
        pos = end
    parts.append(blob[pos:])
    return b"\n".join(parts)


def _check_pdf(blob: bytes, name: str) -> None:
    if b"%%EOF" not in blob[-2048:]:
        raise UploadRefused("corrupt_archive", name, "PDF 不完整 / truncated PDF")
    # Names may hide letters as #xx escapes (/J#61vaScript): decode them before looking.
    plain = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), _pdf_objects(blob, name))
    if re.search(rb"/Encrypt\b", plain):
        raise UploadRefused("encrypted_file", name, "PDF 已加密 / the PDF is encrypted")
    for pattern, what in _PDF_ACTIVE:
        if re.search(pattern, plain):
            raise UploadRefused("active_content", name, f"PDF {what}")


def _check_image(blob: bytes, name: str, fmt: str) -> None:
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(blob)) as im:
                if (im.format or "").lower() != fmt:
                    raise UploadRefused("content_mismatch", name, im.format or "?")
                if im.width * im.height > 40_000_000:
                    raise UploadRefused("archive_bomb", name, f"{im.width}×{im.height}")
                im.verify()
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused("archive_bomb", name, "图片像素过多 / too many pixels") from None
    except Exception as exc:  # PIL raises assorted errors on damaged images
        raise UploadRefused("corrupt_archive", name, type(exc).__name__) from None


def check_evidence(
    data: bytes | BinaryIO, file_name: str, max_bytes: int = MAX_EVIDENCE_BYTES
) -> CheckedEvidence:
    """Check an evidence file (name, size, archive bombs, macros, encryption, type by content agreeing
    with the extension); return its bytes and content type, or raise UploadRefused."""
    name = safe_file_name(file_name, EVIDENCE_EXTENSIONS)
    blob = _read_limited(data, name, max_bytes)
    ext = Path(name).suffix.lower()
    want, mime = EVIDENCE_TYPES[ext]
    if blob.startswith((ZIP_MAGIC, b"PK\x05\x06")):
        _check_zip(blob, name)
    if want in ("xlsx", "xls", "ods", "csv"):
        got = check_content(blob, name)  # a spreadsheet (a ledger): exactly the returns gate
        if got not in (want, "html") and not (want == "xls" and got in ("xls", "html", "csv")):
            raise UploadRefused("content_mismatch", name, f"{got} ≠ {ext}")
    else:
        sniff = readers.sniff_format(blob, name)
        if sniff.ok:
            raise UploadRefused("content_mismatch", name, f"表格 / a spreadsheet ({sniff.format}) ≠ {ext}")
        if sniff.reason != "unsupported_format":
            raise UploadRefused(
                _FROM_READER.get(sniff.reason or "", "corrupt_archive"), name, sniff.detail[:300]
            )
        got = _EVIDENCE_REAL.get(sniff.real_type[1])
        if got != want:
            real = " / ".join(x for x in sniff.real_type if x) or "?"
            raise UploadRefused("content_mismatch", name, f"{real} ≠ {ext}")
        if want == "pdf":
            _check_pdf(blob, name)
        elif want in ("png", "jpeg"):
            _check_image(blob, name, want)
    return CheckedEvidence(name, blob, want, mime, len(blob), hashlib.sha256(blob).hexdigest())
