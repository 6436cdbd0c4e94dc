"""Accepting a department's upload into the drop folder, safely. Plain functions (no Streamlit).

`save_upload(data, file_name, county, unit, raw_dir)` checks, in order:

- size: not empty, at most `MAX_UPLOAD_BYTES`;
- the file name: NFKC-normalised, no folders (`/`, `\\`, `..`), not absolute, no control
  characters, not hidden, not too long, and an allowed extension (.xlsx .xls .ods .csv);
- the folder codes (county, unit): short ASCII codes only, so they cannot climb out of `raw_dir`;
- the content matches the extension (xlsx/ods are zip archives, xls an OLE2 compound file, CSV is
  not a binary container);
- archives (xlsx/ods): at most `MAX_ZIP_MEMBERS` members; every member is actually decompressed
  (streamed, never trusting the sizes the archive declares) and refused beyond
  `MAX_UNCOMPRESSED_BYTES` in total or a compression ratio above `MAX_RATIO`: a zip bomb stops
  after reading at most that much;
- macros: `.xlsm` refused by extension; an xlsx holding `vbaProject.bin` or a macro-enabled content
  type, an ods with Basic/script members, an xls with a VBA storage are refused.

It then lands the file atomically in `raw_dir/<county>/<unit>/`: written to a hidden temp file in
that folder (which the sensor and the loader ignore), fsynced, then hard-linked to its final name,
which fails instead of overwriting, so an existing file is never replaced: a suffix " (2)",
" (3)"… is added. Every refusal is an `UploadRefused` with a reason code and a message in Chinese
and English.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_NAME_BYTES = 200
ALLOWED_EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv")
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb", ".xlam", ".ots", ".xla")
CODE_RE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
VBA_MARKERS = ("_VBA_PROJECT".encode("utf-16-le"), b"_VBA_PROJECT", "VBA".encode("utf-16-le") + b"\x00\x00")

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


def safe_file_name(name: str) -> str:
    """The normalised name, or UploadRefused. Never strips folders silently: a name with one is refused."""
    shown = (name or "")[:80]
    if not name or not name.strip():
        raise UploadRefused("bad_name", shown or "?", "空文件名 / empty name")
    norm = unicodedata.normalize("NFKC", name).strip()
    if "/" in norm or "\\" in norm or norm in {".", ".."} or norm.startswith("..") or os.path.isabs(norm):
        raise UploadRefused("bad_name", shown, "不得包含路径 / must not contain a path")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in norm):
        raise UploadRefused("bad_name", shown, "含控制字符 / contains control characters")
    if norm.startswith((".", "~")):
        raise UploadRefused("bad_name", shown, "不得以 . 或 ~ 开头 / must not start with . or ~")
    if len(norm.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadRefused("bad_name", shown, f"过长 / longer than {MAX_NAME_BYTES} bytes")
    ext = Path(norm).suffix.lower()
    if ext in MACRO_EXTENSIONS:
        raise UploadRefused("macro_enabled", shown, ext)
    if ext not in ALLOWED_EXTENSIONS:
        raise UploadRefused(
            "bad_extension",
            shown,
            f"{ext or '无扩展名 / no extension'}；允许 / allowed: {' '.join(ALLOWED_EXTENSIONS)}",
        )
    return norm


def _check_code(code: str, what: str) -> str:
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise UploadRefused("bad_folder", str(code)[:40], what)
    return code


def _read_limited(data: bytes | BinaryIO, name: str, max_bytes: int) -> bytes:
    blob = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.read(max_bytes + 1)
    if len(blob) > max_bytes:
        raise UploadRefused("too_large", name, f"上限 / limit {max_bytes // (1024 * 1024)} MB")
    if not blob:
        raise UploadRefused("empty_upload", name)
    return blob


def _check_zip(blob: bytes, name: str, ext: str) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRefused("corrupt_archive", name, str(exc)[:100]) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise UploadRefused("archive_bomb", name, f"{len(infos)} 个成员 / members > {MAX_ZIP_MEMBERS}")
        names = {i.filename.lower() for i in infos}
        if ext == ".xlsx":
            if any(n.endswith("vbaproject.bin") for n in names):
                raise UploadRefused("macro_enabled", name, "vbaProject.bin")
            if "[content_types].xml" not in names:
                raise UploadRefused("content_mismatch", name, "不是 Excel 工作簿 / not an Excel workbook")
        if ext == ".ods":
            if any(n.startswith(("basic/", "scripts/")) for n in names):
                raise UploadRefused("macro_enabled", name, "Basic/Scripts")
            if "content.xml" not in names:
                raise UploadRefused("content_mismatch", name, "不是 ODS 表格 / not an ODS spreadsheet")
        total = 0
        for info in infos:
            member = 0
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
                        if (
                            ext == ".xlsx"
                            and info.filename == "[Content_Types].xml"
                            and b"macroEnabled" in chunk
                        ):
                            raise UploadRefused("macro_enabled", name, "macroEnabled content type")
            except UploadRefused:
                raise
            except Exception as exc:  # BadZipFile, zlib.error, EOFError…: any failure to inflate
                raise UploadRefused("corrupt_archive", name, type(exc).__name__) from None


def check_content(blob: bytes, name: str) -> None:
    """Refuse content that does not match its extension, archive bombs and macros."""
    ext = Path(name).suffix.lower()
    if ext in (".xlsx", ".ods"):
        if not blob.startswith(ZIP_MAGIC):
            raise UploadRefused("content_mismatch", name, "不是压缩包格式 / not a zip container")
        _check_zip(blob, name, ext)
    elif ext == ".xls":
        if not blob.startswith(OLE_MAGIC):
            raise UploadRefused("content_mismatch", name, "不是 Excel 97-2003 文件 / not an OLE2 file")
        if any(marker in blob for marker in VBA_MARKERS):
            raise UploadRefused("macro_enabled", name, "VBA")
    elif ext == ".csv" and (blob.startswith((ZIP_MAGIC, OLE_MAGIC)) or b"\x00" in blob[:4096]):
        raise UploadRefused("content_mismatch", name, "二进制内容 / binary content")


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
    check_content(blob, name)

    raw_dir = Path(raw_dir).resolve()
    folder = raw_dir / county / unit
    folder.mkdir(parents=True, exist_ok=True)
    if not folder.resolve().is_relative_to(raw_dir):  # a symlinked folder pointing elsewhere
        raise UploadRefused(
            "bad_folder", f"{county}/{unit}", "目录指向接收目录之外 / folder leads outside raw"
        )
    tmp = folder / f".upload-{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "xb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        for candidate in _candidates(name):
            final = folder / candidate
            try:
                os.link(tmp, final)  # atomic, and fails rather than replace an existing file
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - ten thousand uploads of one name
            raise UploadRefused("bad_name", name, "同名文件过多 / too many files with this name")
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(folder)
    return SavedUpload(
        path=final,
        rel_path=final.relative_to(raw_dir).as_posix(),
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
    )
