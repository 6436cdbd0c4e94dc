"""Read a return file into sheets of cell grids, once, with guards against hangs and bombs.

The format comes from the file's CONTENT (`sniff_format`), never from its extension alone. The
upload gate (`pipelines.uploads`) calls the same sniffer and the same reader (`read_bytes`), so the
gate accepts a file exactly when the reader can read it.

- xlsx / xlsm / xlsb / xls / ods: python-calamine (fast, reads hidden sheets and their visibility,
  merged ranges for xlsx/xls). openpyxl is used only as a fallback when calamine cannot open an
  OOXML archive that passed the sanity checks.
- HTML tables saved as .xls (CNKI / government portal exports, Excel "web page" files): parsed with
  lxml; the charset comes from the `<meta charset>` / `http-equiv` tag, else charset-normalizer;
  colspan/rowspan become merged ranges; every table that holds no other table is one sheet.
- CSV / TSV text, whatever the extension (.csv, or text saved as .xls/.xlsx): UTF-8 (with or
  without BOM), UTF-16 LE/BE (with BOM, or without when the byte pattern is clear), else
  charset-normalizer (GBK/GB18030 and others); the delimiter is sniffed among , ; tab |.
- Refused by content, each with its reason code: encrypted workbooks (`encrypted_file`: OOXML
  EncryptedPackage in a compound file, an .xls with a FILEPASS record, an ODS whose manifest holds
  encryption data), Excel 2/3/4 and other legacy spreadsheets (`old_format`), macros and active
  content (`macro_enabled`: vbaProject, XLM macro sheets in xlsx and xls, ActiveX, OLE objects and
  embeddings, DDE external links), another document type renamed (`unsupported_format`, naming
  the real type: Word, PowerPoint, PDF, image…), a workbook without any cell in a visible sheet
  (`empty_file`), and truly damaged files (`corrupt_archive`).
- Before opening a zip: size limit, member count, total uncompressed size and compression ratio.
- Sheets are bounded: at most `MAX_CELLS` cells per sheet are materialised, so a sparse sheet with a
  cell at XFD1048576 cannot exhaust memory.

Problems raise `ReadError(reason_code, detail)`; the parser turns them into file-level problems.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.returns.cells import a1, rc
from pipelines.returns.numfmt import cells_from_zip
from pipelines.returns.numfmt import clear_memo as numfmt_clear_memo

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200.0  # per member, for members larger than RATIO_MIN_BYTES uncompressed
RATIO_MIN_BYTES = 1024 * 1024
MAX_CELLS = 2_000_000  # per sheet
MAX_COLUMNS = 1_000
MAX_PART_BYTES = 16 * 1024 * 1024  # a structural part (content types, relationships) read in full
MAX_TABLES = 500  # HTML tables turned into sheets

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".xltx", ".et")
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")


class ReadError(Exception):
    """A file-level reading problem with a REASONS code."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Sheet:
    """One sheet as a grid of raw values; `rows[r][c]` is the cell at row r+1, column c+1 (A1-based).

    Empty cells are "" (calamine's convention); rows may be shorter than the widest row.
    """

    name: str
    rows: list[list]
    visible: str = "visible"  # visible | hidden | very_hidden
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based
    truncated: bool = False  # more rows than MAX_CELLS allowed were present

    @property
    def is_visible(self) -> bool:
        return self.visible == "visible"

    def cell(self, r: int, c: int):
        if 0 <= r < len(self.rows):
            row = self.rows[r]
            if 0 <= c < len(row):
                return row[c]
        return ""

    def has_cells(self) -> bool:
        return any(v not in ("", None) for row in self.rows for v in row)


@dataclass
class Book:
    path: Path
    file_format: str  # xlsx | xlsm | xlsb | xls | ods | csv | html
    sheets: list[Sheet]
    encoding: str | None = None  # csv and html only
    reader: str = "calamine"  # calamine | openpyxl | csv | html
    mtime: float | None = None  # the file's modification time (received time), from the one stat
    # xlsx only: cells shown as percentages (stored as fractions) and formula-error cells (which
    # calamine reads as empty), by sheet name; see numfmt.py
    percent_cells: dict[str, set[str]] = field(default_factory=dict)
    error_cells: dict[str, dict[str, str]] = field(default_factory=dict)

    def sheet(self, name: str) -> Sheet | None:
        return next((s for s in self.sheets if s.name == name), None)


# --------------------------------------------------------------------------------------------
# Sniffing: what the bytes really are


@dataclass(frozen=True)
class Sniff:
    """What a file's bytes really are.

    `format` is the reader route (xlsx | xlsm | xlsb | xls | ods | csv | html) when the file can be
    read; otherwise `reason` is a REASONS code (encrypted_file, old_format, macro_enabled,
    unsupported_format, corrupt_archive, file_too_large, empty_file) and `detail` says why, in
    Chinese then English. `container` is zip | cfb | text | raw; `real_type` names the content
    (zh, en), e.g. ("Word 文档", "a Word document").
    """

    format: str | None
    reason: str | None = None
    detail: str = ""
    container: str = "raw"
    real_type: tuple[str, str] = ("", "")
    encoding: str | None = None  # text formats: the encoding to decode with (None: detect)
    biff: int | None = None  # xls: BIFF version (5 or 8)
    # xlsx: (percent cells, error cells) found while the archive was open for sniffing; the bounding
    # box of every worksheet was checked then too (None: not inspected yet)
    cells: tuple | None = field(default=None, repr=False, compare=False)
    # xls: the workbook stream read from the compound file while sniffing (the reader walks it
    # again for bounds and cell formats instead of opening the compound file a second time)
    stream: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.reason is None


def _refuse(reason: str, zh: str, en: str, container: str = "raw", real: tuple[str, str] = ("", "")) -> Sniff:
    return Sniff(None, reason, f"{zh} / {en}", container, real)


def _not_a_spreadsheet(real: tuple[str, str], container: str = "raw") -> Sniff:
    zh, en = real
    return _refuse(
        "unsupported_format", f"这是{zh}，不是表格", f"this is {en}, not a spreadsheet", container, real
    )


WORD = ("Word 文档", "a Word document")
POWERPOINT = ("PowerPoint 演示文稿", "a PowerPoint presentation")
ENCRYPTED = (
    "文件已加密，请取消密码后重新报送",
    "the workbook is password-protected; send it without a password",
)

# Strong signatures of non-spreadsheet files (checked only on binary content or at offset 0).
_MAGICS: tuple[tuple[bytes, tuple[str, str]], ...] = (
    (b"%PDF-", ("PDF 文件", "a PDF file")),
    (b"\x89PNG\r\n\x1a\n", ("图片（PNG）", "an image (PNG)")),
    (b"\xff\xd8\xff", ("图片（JPEG）", "an image (JPEG)")),
    (b"GIF87a", ("图片（GIF）", "an image (GIF)")),
    (b"GIF89a", ("图片（GIF）", "an image (GIF)")),
    (b"II*\x00", ("图片（TIFF）", "an image (TIFF)")),
    (b"MM\x00*", ("图片（TIFF）", "an image (TIFF)")),
    (b"{\\rtf", ("Word 文档（RTF）", "a Word document (RTF)")),
    (b"\x7fELF", ("程序文件", "an executable program")),
    (b"\x1f\x8b", ("压缩文件（gzip）", "a compressed file (gzip)")),
    (b"7z\xbc\xaf\x27\x1c", ("压缩包（7z）", "an archive (7z)")),
    (b"Rar!\x1a\x07", ("压缩包（RAR）", "an archive (RAR)")),
)
_WEAK_MAGICS: tuple[tuple[bytes, tuple[str, str]], ...] = (  # only when the content is binary
    (b"MZ", ("程序文件", "an executable program")),
    (b"BM", ("图片（BMP）", "an image (BMP)")),
)
# Lotus 1-2-3 and Quattro: BOF record 0x0000 of length 2 with the file version.
_LOTUS = (b"\x00\x00\x02\x00\x04\x04", b"\x00\x00\x02\x00\x05\x04", b"\x00\x00\x02\x00\x06\x04",
          b"\x00\x00\x1a\x00")  # fmt: skip


def sniff_format(data: bytes, name: str = "") -> Sniff:
    """What `data` (a whole file) really is, judged by content; `name` only decides whether
    workbook content may stand under a text extension (.csv) and whether text under a workbook
    extension must look like a table. Never raises (a damaged file is `corrupt_archive`)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"sniff_format expects bytes, not {type(data).__name__}")
    data = bytes(data) if not isinstance(data, bytes) else data
    ext = Path(name).suffix.lower() if name else ""
    if not data:
        return _refuse("empty_file", "文件为空", "the file is empty")
    try:
        if data.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
            sniff = _sniff_zip(data)
        elif data.startswith(_OLE_MAGIC):
            sniff = _sniff_cfb(data)
        else:
            sniff = _sniff_flat(data, ext)
    except ReadError as exc:
        return Sniff(None, exc.reason, exc.detail)
    if sniff.ok and sniff.format not in ("csv", "html") and ext in TEXT_EXTENSIONS:
        return _refuse(
            "unsupported_format",
            f"这是 Excel 工作簿（{sniff.format}），扩展名却是 {ext}，请使用正确的扩展名",
            f"this is an Excel workbook ({sniff.format}) named {ext}; use the right extension",
            sniff.container,
            ("Excel 工作簿", "an Excel workbook"),
        )
    return sniff


# ---- zip containers: OOXML, OpenDocument, plain zip


# Parts and declarations that carry macros or active content, searched in lower case.
_MACRO_PART_PREFIXES = (
    ("xl/macrosheets/", ("Excel 4.0 宏表", "an Excel 4.0 macro sheet")),
    ("xl/dialogsheets/", ("Excel 5.0 对话框表", "an Excel 5.0 dialog sheet")),
    ("xl/activex/", ("ActiveX 控件", "an ActiveX control")),
    ("xl/embeddings/", ("嵌入的 OLE 对象", "an embedded OLE object")),
    ("basic/", ("宏（Basic）", "Basic macros")),
    ("scripts/", ("脚本", "scripts")),
)
_MACRO_PART_MATCH = tuple((prefix, f"/{prefix}", what) for prefix, what in _MACRO_PART_PREFIXES)
_MACRO_DECLARATIONS = (
    (b"macroenabled", ("启用宏的内容类型", "a macro-enabled content type")),
    (b"vbaproject", ("VBA 宏工程", "a VBA project")),
    (b"macrosheet", ("Excel 4.0 宏表", "an Excel 4.0 macro sheet")),
    (b"activex", ("ActiveX 控件", "an ActiveX control")),
    (b"oleobject", ("嵌入的 OLE 对象", "an embedded OLE object")),
    (b"relationships/package", ("嵌入的文档", "an embedded document")),
)
_EXTERNAL_LINK_ACTIVE = (
    (b"ddelink", ("DDE 外部链接", "a DDE external link")),
    (b"olelink", ("OLE 外部链接", "an OLE external link")),
)


def _members(data: bytes) -> tuple[list[tuple[str, int, int]], zipfile.ZipFile | None]:
    fast = _central_directory(data)
    if fast is not None:
        return fast, None
    zf = zipfile.ZipFile(io.BytesIO(data))
    return [(i.filename, i.compress_size, i.file_size) for i in zf.infolist()], zf


def _central_directory(data: bytes) -> list[tuple[str, int, int]] | None:
    """(name, compressed, uncompressed) of every member, read straight from the zip's central
    directory (a few struct unpacks instead of zipfile's ZipInfo objects). None when the archive is
    anything but a plain single-disk, non-zip64 zip: the caller then asks `zipfile`, which also
    produces the proper error for truncated archives."""
    size = len(data)
    start = max(0, size - 22 - 65535)
    i = data.rfind(b"PK\x05\x06", start)
    if i < 0 or size - i < 22:
        return None
    _sig, disk, disk_cd, n_disk, n_total, cd_size, cd_off, _clen = struct.unpack_from("<4s4H2LH", data, i)
    if disk or disk_cd or n_disk != n_total or n_total == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_off):
        return None
    if n_total > MAX_ZIP_MEMBERS:
        raise ReadError("file_too_large", f"{n_total} zip members (limit {MAX_ZIP_MEMBERS})")
    if cd_off + cd_size > i:
        return None
    cd = memoryview(data)[cd_off : cd_off + cd_size]
    out = []
    pos = 0
    for _ in range(n_total):
        if pos + 46 > len(cd) or cd[pos : pos + 4] != b"PK\x01\x02":
            return None
        comp, uncomp = struct.unpack_from("<LL", cd, pos + 20)
        nlen, elen, clen = struct.unpack_from("<HHH", cd, pos + 28)
        if 0xFFFFFFFF in (comp, uncomp):
            return None
        name = bytes(cd[pos + 46 : pos + 46 + nlen]).decode("utf-8", "replace")
        out.append((name, comp, uncomp))
        pos += 46 + nlen + elen + clen
    return out


class _MemInfo:
    """A member of an in-memory archive (the fields of zipfile.ZipInfo that the sniffer uses)."""

    __slots__ = ("filename", "compress_type", "compress_size", "file_size", "header_offset", "flag_bits")

    def __init__(self, filename, compress_type, compress_size, file_size, header_offset, flag_bits):
        self.filename = filename
        self.compress_type = compress_type
        self.compress_size = compress_size
        self.file_size = file_size
        self.header_offset = header_offset
        self.flag_bits = flag_bits

    def is_dir(self) -> bool:
        return self.filename.endswith("/")


# A central-directory entry, the fields the sniffer uses: signature, flags, method, compressed and
# uncompressed size, name/extra/comment lengths, local header offset (version, time, crc, disk and
# attributes skipped as pad bytes).
_CD_ENTRY = struct.Struct("<4s4xHH8xLLHHH8xL")


# Parts of an OOXML package that a template fixes (content types, relationships, styles, theme,
# workbook and application properties): the same template arrives hundreds of times with these
# parts byte for byte the same. Their inflated bytes are kept per process, keyed by the part's
# compressed bytes themselves (and its declared size): the same compressed bytes inflate to the
# same bytes, so a hit is exactly what inflating would give, and any changed byte is a miss. Cell
# data (worksheets, shared strings) and per-file properties (docProps/core.xml) are never kept.
_SHARED_PART = re.compile(
    r"(?:\[content_types\]\.xml|(?:.*/)?_rels/[^/]*\.rels|xl/styles\.xml|xl/theme/[^/]*\.xml"
    r"|xl/workbook\.xml|docprops/app\.xml)$"
)
SHARED_PART_MAX = 64 * 1024  # compressed bytes of a part worth keeping
SHARED_CACHE_BYTES = 8 * 1024 * 1024  # compressed + inflated bytes kept; cleared when exceeded
_SHARED_INFLATED: dict[tuple[int, bytes], bytes] = {}
_shared_bytes = 0


def _remember_shared(key: tuple[int, bytes], out: bytes) -> None:
    global _shared_bytes
    size = len(key[1]) + len(out)
    if _shared_bytes + size > SHARED_CACHE_BYTES:
        _SHARED_INFLATED.clear()
        _shared_bytes = 0
    _SHARED_INFLATED[key] = out
    _shared_bytes += size


def clear_shared_parts() -> None:
    """Forget the kept template parts (tests and benchmarks measuring a cold process)."""
    global _shared_bytes
    _SHARED_INFLATED.clear()
    _shared_bytes = 0
    _DECLARATION_VERDICTS.clear()
    numfmt_clear_memo()


class _MemZip:
    """A plain zip held in memory, read with zlib directly: the sniffer opens every part of every
    workbook, and zipfile's per-member objects cost more than the inflating. Only stored and
    deflated members of a single-disk, non-zip64 archive (`from_data` returns None otherwise and the
    caller uses zipfile). CRCs are not checked: this is for inspection; calamine reads the file."""

    MEMO_MAX = 1 << 20  # parts up to this size are inflated once and kept while the archive is open

    def __init__(self, data: bytes, infos: list[_MemInfo]):
        self._data = data
        self._infos = infos
        self._by_name = {i.filename: i for i in infos}  # a duplicated name: the last one, as zipfile
        self._memo: dict[int, bytes] = {}  # by id of the _MemInfo: sniffing, bounds and formats share

    @classmethod
    def from_data(cls, data: bytes) -> _MemZip | None:
        size = len(data)
        i = data.rfind(b"PK\x05\x06", max(0, size - 22 - 65535))
        if i < 0 or size - i < 22:
            return None
        _sig, disk, disk_cd, n_disk, n_total, cd_size, cd_off, _c = struct.unpack_from("<4s4H2LH", data, i)
        if disk or disk_cd or n_disk != n_total or n_total == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_off):
            return None
        if cd_off + cd_size > i:
            return None
        infos = []
        pos = cd_off
        unpack = _CD_ENTRY.unpack_from
        for _ in range(n_total):
            if pos + 46 > i:
                return None
            sig, flags, method, comp, uncomp, nlen, elen, clen, offset = unpack(data, pos)
            if sig != b"PK\x01\x02":
                return None
            if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or 0xFFFFFFFF in (
                comp,
                uncomp,
                offset,
            ):
                return None
            raw = data[pos + 46 : pos + 46 + nlen]
            # cp437 agrees with ASCII on 0-127: the common all-ASCII name skips the codec lookup
            name = raw.decode("utf-8" if flags & 0x800 or raw.isascii() else "cp437", "replace")
            infos.append(_MemInfo(name, method, comp, uncomp, offset, flags))
            pos += 46 + nlen + elen + clen
        return cls(data, infos)

    def infolist(self) -> list[_MemInfo]:
        return list(self._infos)

    def namelist(self) -> list[str]:
        return [i.filename for i in self._infos]

    def getinfo(self, name: str) -> _MemInfo:
        return self._by_name[name]

    def read(self, member: str | _MemInfo) -> bytes:
        info = member if isinstance(member, _MemInfo) else self._by_name[member]
        hit = self._memo.get(id(info))
        if hit is not None:
            return hit
        out = self._inflate(info)
        if info.file_size <= self.MEMO_MAX:
            self._memo[id(info)] = out
        return out

    def head(self, info: _MemInfo, n: int) -> bytes | None:
        """The first `n` bytes of a member already inflated (None: not read yet)."""
        hit = self._memo.get(id(info))
        return None if hit is None else hit[:n]

    def _inflate(self, info: _MemInfo) -> bytes:
        off = info.header_offset
        data = self._data
        if off + 30 > len(data) or data[off : off + 4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        if info.flag_bits & 0x1:
            raise RuntimeError(f"{info.filename} is encrypted")
        nlen, elen = struct.unpack_from("<HH", data, off + 26)
        start = off + 30 + nlen + elen
        raw = memoryview(data)[start : start + info.compress_size]  # inflated from in place, no copy
        if len(raw) < info.compress_size:
            raise zipfile.BadZipFile(f"truncated member {info.filename}")
        if info.compress_type == zipfile.ZIP_STORED:
            return bytes(raw)
        key = None
        if info.compress_size <= SHARED_PART_MAX and _SHARED_PART.match(info.filename.lower()):
            key = (info.file_size, bytes(raw))
            hit = _SHARED_INFLATED.get(key)
            if hit is not None:
                return hit
        d = zlib.decompressobj(-15)
        out = d.decompress(raw, info.file_size + 1)
        if len(out) > info.file_size:
            raise zipfile.BadZipFile(f"member {info.filename} inflates beyond its declared size")
        if key is not None:
            _remember_shared(key, out)
        return out

    def open(self, member: str | _MemInfo) -> io.BytesIO:
        return io.BytesIO(self.read(member))

    def close(self) -> None:
        self._memo.clear()


def _read_part(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, limit: int = MAX_PART_BYTES) -> bytes:
    """A member's bytes, read in full but never more than `limit` (a bomb stops there)."""
    with zf.open(name) as fh:
        blob = fh.read(limit + 1)
    if len(blob) > limit:
        raise ReadError("file_too_large", f"member {name} larger than {limit} bytes uncompressed")
    return blob


def _sniff_zip(data: bytes) -> Sniff:
    zf: zipfile.ZipFile | _MemZip | None = None
    try:
        mem = _MemZip.from_data(data)  # the central directory read once, for the limits and the parts
        if mem is not None:
            zf = mem
            members = [(i.filename, i.compress_size, i.file_size) for i in mem.infolist()]
        else:
            members, zf = _members(data)
        if len(members) > MAX_ZIP_MEMBERS:
            raise ReadError("file_too_large", f"{len(members)} zip members (limit {MAX_ZIP_MEMBERS})")
        total = 0
        for name, comp, uncomp in members:
            total += uncomp
            if uncomp > RATIO_MIN_BYTES:
                ratio = uncomp / max(comp, 1)
                if ratio > MAX_COMPRESSION_RATIO:
                    raise ReadError(
                        "file_too_large",
                        f"member {name} compression ratio {ratio:.0f} (limit {MAX_COMPRESSION_RATIO:.0f})",
                    )
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ReadError("file_too_large", f"{total} bytes uncompressed (limit {MAX_UNCOMPRESSED_BYTES})")
        if zf is None:
            zf = _MemZip.from_data(data) or zipfile.ZipFile(io.BytesIO(data))
        return _classify_zip(zf, data)
    except ReadError as exc:
        return Sniff(None, exc.reason, exc.detail, "zip")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, struct.error, KeyError,
            EOFError, OSError, ValueError, RuntimeError) as exc:  # fmt: skip
        # zlib.error is an Exception subclass not listed above; RuntimeError: encrypted member
        return _refuse(
            "corrupt_archive", "压缩包损坏或不完整", f"damaged archive: {type(exc).__name__}", "zip"
        )
    except Exception as exc:  # zlib.error and other inflate failures
        return _refuse(
            "corrupt_archive", "压缩包损坏或不完整", f"damaged archive: {type(exc).__name__}", "zip"
        )
    finally:
        if zf is not None:
            zf.close()


_MACRO_NAME_MARKERS = ("vbaproject", "/activex/", *(prefix for prefix, _what in _MACRO_PART_PREFIXES))


def _macro_finding(what: tuple[str, str], where: str) -> Sniff:
    zh, en = what
    return _refuse("macro_enabled", f"含{zh}（{where}）", f"contains {en} ({where})", "zip")


def _may_declare_active(xml: bytes) -> bool:
    """Whether a content-types part needs parsing: only when its text holds a macro marker, a
    character reference or a DTD (which could spell one). Otherwise no declaration in it can, and
    the part is checked as it is (the filtered text would be a subset of it)."""
    low = xml.lower().replace(b"sheet.binary.macroenabled.main", b"")
    return b"&#" in low or b"<!" in low or any(marker in low for marker, _w in _MACRO_DECLARATIONS)


# The verdict on a relationships or content-types part (which active content it declares, or None)
# is a pure function of its bytes, except for a content-types part that needs parsing (then the
# package's part extensions count too, and the verdict is not kept). A template's parts are the same
# bytes in every file: the verdicts are kept per process, keyed by the bytes themselves.
_DECLARATION_VERDICTS: dict[tuple[bool, bytes], tuple[str, str] | None] = {}
DECLARATION_MEMO_MAX = 1024
DECLARATION_PART_MAX = 64 * 1024
_UNKNOWN = object()


def _declaration(is_types: bool, part: bytes, parts) -> tuple[str, str] | None:
    """The active content a relationships or content-types part declares (None: nothing)."""
    key = (is_types, part)
    keep = len(part) <= DECLARATION_PART_MAX
    if is_types and _may_declare_active(part):
        part = _applicable_content_types(part, {n.rsplit(".", 1)[-1] for n, _r, _i in parts if "." in n})
        keep = False  # depends on the package's extensions too
    # xlsb's workbook part always has this type, macros or not (a VBA project is found by name)
    low = part.lower().replace(b"sheet.binary.macroenabled.main", b"")
    what = next((w for marker, w in _MACRO_DECLARATIONS if marker in low), None)
    if keep:
        if len(_DECLARATION_VERDICTS) >= DECLARATION_MEMO_MAX:
            _DECLARATION_VERDICTS.clear()
        _DECLARATION_VERDICTS[key] = what
    return what


def _applicable_content_types(xml: bytes, extensions: set[str]) -> bytes:
    """The content types that apply to this package: every Override (whether or not its part is
    present), and a Default only when a part has its extension (producers register defaults such
    as "bin" → oleObject without using them). The whole text when it cannot be parsed."""
    from lxml import etree

    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError):
        return xml
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.rsplit("}", 1)[-1].lower()
        ctype = el.get("ContentType") or el.get("contenttype") or ""
        if tag == "override" or (tag == "default" and (el.get("Extension") or "").lower() in extensions):
            out.append(ctype)
        elif tag not in ("types", "default"):
            out.append(etree.tostring(el)[:2000].decode("utf-8", "replace"))  # unknown: keep, to be safe
    return "\n".join(out).encode("utf-8")


def _member_head(zf: zipfile.ZipFile, data: bytes | None, info: zipfile.ZipInfo, n: int = 8) -> bytes:
    """The first `n` bytes of a member. From the archive bytes in memory with zlib directly when the
    member is stored or deflated (no ZipExtFile per member: this runs for every part of every
    workbook); through zipfile otherwise, or when the local header does not add up."""
    if isinstance(zf, _MemZip):
        known = zf._memo.get(id(info))
        if known is not None:
            return known[:n]
    if data is not None and info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        off = info.header_offset
        if off + 30 <= len(data) and data[off : off + 4] == b"PK\x03\x04":
            nlen, elen = struct.unpack_from("<HH", data, off + 26)
            start = off + 30 + nlen + elen
            raw = memoryview(data)[start : start + min(info.compress_size, 4096)]  # no copy
            if info.compress_type == zipfile.ZIP_STORED:
                return bytes(raw[:n])
            try:
                head = zlib.decompressobj(-15).decompress(raw, n)
            except zlib.error:
                head = b""
            if len(head) >= min(n, info.file_size):
                return head[:n]
    with zf.open(info) as fh:
        return fh.read(n)


def _classify_zip(zf: zipfile.ZipFile, data: bytes | None = None) -> Sniff:
    infos = [i for i in zf.infolist() if not i.is_dir()]
    lower = {i.filename.lower(): i.filename for i in infos}
    # Encryption first: an encrypted ODS cannot be inspected further.
    if "mimetype" in lower:
        for info in infos:
            if (
                info.filename.lower() == "meta-inf/manifest.xml"
                and b"encryption-data" in _read_part(zf, info).lower()
            ):
                return _refuse("encrypted_file", *ENCRYPTED, "zip", ("加密的 ODS 表格", "an encrypted ODS"))
    if any(i.flag_bits & 0x1 for i in infos):
        return _refuse("encrypted_file", *ENCRYPTED, "zip", ("加密的压缩包", "an encrypted zip"))
    # Macros and active content: every part name, every declaring part read in full (members are
    # walked as listed: two names differing only in case are both looked at).
    parts = [(i.filename.lower().replace("\\", "/"), i.filename, i) for i in infos]
    # Each name rule below needs one of these substrings in the name: when none is in any name, no
    # rule can fire and the per-name walk is skipped.
    names = "\n".join(low for low, _r, _i in parts)
    named = any(marker in names for marker in _MACRO_NAME_MARKERS)
    for low, real, _info in parts if named else ():
        if low.endswith("vbaproject.bin") or low.endswith("vbaprojectsignature.bin"):
            return _macro_finding(("VBA 宏工程", "a VBA project"), real)
        for prefix, inner, what in _MACRO_PART_MATCH:
            if low.startswith(prefix) or inner in low:
                return _macro_finding(what, real)
        if "/activex/" in low:
            return _macro_finding(("ActiveX 控件", "an ActiveX control"), real)
    for low, real, info in parts:  # by ZipInfo: a duplicated name cannot hide its first copy
        if low == "[content_types].xml" or low.endswith(".rels"):
            part = _read_part(zf, info)
            is_types = low == "[content_types].xml"
            what = _DECLARATION_VERDICTS.get((is_types, part), _UNKNOWN)
            if what is _UNKNOWN:
                what = _declaration(is_types, part, parts)
            if what is not None:
                return _macro_finding(what, real)
        elif "externallink" in low and low.endswith(".xml"):
            part = _read_part(zf, info).lower()
            for marker, what in _EXTERNAL_LINK_ACTIVE:
                if marker in part:
                    return _macro_finding(what, real)
    # Any part that is itself a compound file (an OLE object or a VBA project under another name).
    if isinstance(zf, _MemZip) and "[content_types].xml" in lower and "mimetype" not in lower:
        # The parts the workbook inspection inflates anyway (worksheets, styles) and the template's
        # shared parts (kept across files, see _SHARED_PART) are inflated now, so their first bytes
        # come from the memo instead of a separate head inflate. A part that fails to inflate is left
        # alone: its head is then read as before, with the same outcome.
        for info in infos:
            low = info.filename.lower()
            if info.file_size <= _MemZip.MEMO_MAX and (
                low == "xl/styles.xml"
                or (low.startswith("xl/worksheets/") and low.endswith(".xml"))
                or (info.compress_size <= SHARED_PART_MAX and _SHARED_PART.match(low))
            ):
                with contextlib.suppress(Exception):  # decided again by the head read below
                    zf.read(info)
    memo = zf._memo if isinstance(zf, _MemZip) else {}
    for info in infos:
        known = memo.get(id(info))  # parts inflated above: their first bytes without a call
        head = known[:8] if known is not None else _member_head(zf, data, info)
        if head == _OLE_MAGIC:
            return _macro_finding(("嵌入的 OLE 对象", "an embedded OLE object"), info.filename)
    # What kind of document it is.
    if "mimetype" in lower:
        mime = _read_part(zf, lower["mimetype"], 200).decode("ascii", "replace").strip()
        if mime == "application/vnd.oasis.opendocument.spreadsheet":
            return Sniff("ods", container="zip", real_type=("ODS 表格", "an ODS spreadsheet"))
        if "opendocument.text" in mime:
            return _not_a_spreadsheet(("文字文档（ODT）", "a text document (ODT)"), "zip")
        if "opendocument.presentation" in mime:
            return _not_a_spreadsheet(("演示文稿（ODP）", "a presentation (ODP)"), "zip")
        return _not_a_spreadsheet(
            (f"OpenDocument 文件（{mime[:60]}）", f"an OpenDocument file ({mime[:60]})"), "zip"
        )
    if "[content_types].xml" in lower:
        if "xl/workbook.bin" in lower:
            return Sniff(
                "xlsb", container="zip", real_type=("Excel 二进制工作簿（xlsb）", "a binary workbook (xlsb)")
            )
        if "xl/workbook.xml" in lower or any(n.startswith("xl/") for n in lower):
            return Sniff(
                "xlsx",
                container="zip",
                real_type=("Excel 工作簿", "an Excel workbook"),
                cells=_inspect_xlsx(zf) if data is not None else None,
            )
        if any(n.startswith("word/") for n in lower):
            return _not_a_spreadsheet(WORD, "zip")
        if any(n.startswith("ppt/") for n in lower):
            return _not_a_spreadsheet(POWERPOINT, "zip")
        return _not_a_spreadsheet(
            ("Office 文档（不含工作簿）", "an Office package without a workbook"), "zip"
        )
    if any(n.endswith((".htm", ".html")) for n in lower):
        return _not_a_spreadsheet(("压缩包（内含网页）", "a zip archive holding web pages"), "zip")
    return _not_a_spreadsheet(("压缩包（zip）", "a zip archive"), "zip")


# ---- compound files (CFB / OLE2): xls, encrypted OOXML, Word/PowerPoint 97-2003

_BIFF_BOF = 0x0809
_BIFF_EOF = 0x000A
_BIFF_FILEPASS = 0x002F
_BIFF_BOUNDSHEET = 0x0085
_BIFF_SST = 0x00FC
_BIFF_CONTINUE = 0x003C
_SHEET_TYPES = {1: ("Excel 4.0 宏表", "an Excel 4.0 macro sheet"), 6: ("VBA 模块表", "a VBA module sheet")}
_VBA_ENTRIES = {"_vba_project_cur", "_vba_project", "vba", "macros"}


def _sniff_cfb(data: bytes) -> Sniff:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError and assorted errors on damaged files
        return _refuse(
            "corrupt_archive", "复合文档损坏或不完整", f"damaged compound file: {type(exc).__name__}", "cfb"
        )
    try:
        entries = ole.listdir(streams=True, storages=True)
        top = {e[0].lower(): e[0] for e in entries if len(e) == 1}
        names = {part.lower() for e in entries for part in e}
        if {"encryptioninfo", "encryptedpackage"} & set(top) or "\x06dataspaces" in top:
            return _refuse(
                "encrypted_file", *ENCRYPTED, "cfb", ("加密的 Excel 工作簿", "an encrypted workbook")
            )
        found = _VBA_ENTRIES & names
        if found:
            return _refuse(
                "macro_enabled", "含 VBA 宏工程", f"contains a VBA project ({sorted(found)[0]})", "cfb"
            )
        if any(n.startswith("mbd") and len(n) == 11 for n in top):  # MBD0000A1B2: embedded OLE objects
            return _refuse("macro_enabled", "含嵌入的 OLE 对象", "contains an embedded OLE object", "cfb")
        stream = top.get("workbook") or top.get("book")
        if stream is None:
            if "worddocument" in top:
                return _not_a_spreadsheet(("Word 97-2003 文档", "a Word 97-2003 document"), "cfb")
            if "powerpoint document" in top:
                return _not_a_spreadsheet(
                    ("PowerPoint 97-2003 演示文稿", "a PowerPoint 97-2003 presentation"), "cfb"
                )
            if any(n.startswith("__substg1.0_") for n in top):
                return _not_a_spreadsheet(("Outlook 邮件", "an Outlook message"), "cfb")
            return _not_a_spreadsheet(
                ("OLE 复合文档（不含工作簿）", "a compound file without a workbook"), "cfb"
            )
        wb = ole.openstream(stream).read()
    except Exception as exc:
        return _refuse(
            "corrupt_archive", "复合文档损坏或不完整", f"damaged compound file: {type(exc).__name__}", "cfb"
        )
    finally:
        ole.close()
    sniff = _sniff_biff_globals(wb)
    return dataclasses.replace(sniff, stream=wb) if sniff.ok else sniff


def _sniff_biff_globals(wb: bytes) -> Sniff:
    """Walk the workbook-globals records of a BIFF5/8 stream: FILEPASS means encrypted, a
    BOUNDSHEET of type macro sheet means XLM macros."""
    if len(wb) < 8:
        return _refuse("corrupt_archive", "工作簿数据流为空", "empty workbook stream", "cfb")
    rid, size = struct.unpack_from("<HH", wb, 0)
    if rid != _BIFF_BOF or size < 4:
        if rid in (0x0009, 0x0209, 0x0409):
            return _old_format("Excel 2.x–4.0（BIFF2–4）", "Excel 2.x-4.0 (BIFF2-4)", "cfb")
        return _refuse("corrupt_archive", "工作簿数据流损坏", "damaged workbook stream", "cfb")
    version = struct.unpack_from("<H", wb, 4)[0]
    biff = 8 if version == 0x0600 else 5 if version == 0x0500 else None
    if biff is None:
        return _old_format(f"Excel BIFF 版本 0x{version:04x}", f"Excel BIFF version 0x{version:04x}", "cfb")
    pos = 4 + size
    end = len(wb)
    while pos + 4 <= end:
        rid, size = struct.unpack_from("<HH", wb, pos)
        body = pos + 4
        if rid == _BIFF_EOF:
            break
        if rid == _BIFF_FILEPASS:
            return _refuse(
                "encrypted_file", *ENCRYPTED, "cfb", ("加密的 Excel 工作簿", "an encrypted workbook")
            )
        if rid == _BIFF_SST and biff == 8 and not _sst_is_sound(wb, pos):
            return _refuse("corrupt_archive", "共享字符串表损坏", "damaged shared string table (SST)", "cfb")
        if rid == _BIFF_BOUNDSHEET and size >= 6 and body + 6 <= end:
            typ = wb[body + 5]
            if typ in _SHEET_TYPES:
                zh, en = _SHEET_TYPES[typ]
                return _refuse("macro_enabled", f"含{zh}", f"contains {en}", "cfb")
        pos = body + size
    return Sniff(
        "xls", container="cfb", real_type=("Excel 97-2003 工作簿", "an Excel 97-2003 workbook"), biff=biff
    )


def _sst_is_sound(wb: bytes, pos: int) -> bool:
    """Whether every string the SST record at `pos` (with its CONTINUE records) announces fits in
    the bytes it has. Damaged length fields there make calamine try allocations of many gigabytes,
    which abort the process instead of raising, so the file is refused before calamine sees it."""
    chunks: list[bytes] = []
    end = len(wb)
    rid, size = struct.unpack_from("<HH", wb, pos)
    while True:
        if pos + 4 + size > end:
            return False
        chunks.append(wb[pos + 4 : pos + 4 + size])
        pos += 4 + size
        if pos + 4 > end:
            break
        rid, size = struct.unpack_from("<HH", wb, pos)
        if rid != _BIFF_CONTINUE:
            break
    if len(chunks[0]) < 8:
        return False
    _total, unique = struct.unpack_from("<II", chunks[0], 0)
    available = sum(len(c) for c in chunks)
    if unique > available // 3 + 1:
        return False
    k, off = 0, 8  # chunk index, offset in it

    def take(n: int) -> bytes | None:  # n bytes of structure (never split in practice)
        nonlocal k, off
        while k < len(chunks) and off >= len(chunks[k]):
            k, off = k + 1, 0
        if k >= len(chunks) or off + n > len(chunks[k]):
            return None
        out = chunks[k][off : off + n]
        off += n
        return out

    def skip(n: int) -> bool:  # n bytes of formatting runs or extension data, may span chunks
        nonlocal k, off
        while n > 0:
            if k >= len(chunks):
                return False
            room = len(chunks[k]) - off
            step = min(room, n)
            off += step
            n -= step
            if n > 0:
                k, off = k + 1, 0
        return True

    for _ in range(unique):
        head = take(3)
        if head is None:
            return False
        cch, flags = struct.unpack("<HB", head)
        if flags & 0xF2:  # reserved bits set: not a string header
            return False
        runs = ext = 0
        if flags & 0x08:
            raw = take(2)
            if raw is None:
                return False
            runs = struct.unpack("<H", raw)[0]
        if flags & 0x04:
            raw = take(4)
            if raw is None:
                return False
            ext = struct.unpack("<I", raw)[0]
            if ext > available:
                return False
        wide = flags & 0x01
        left = cch
        while left > 0:  # characters; a CONTINUE restarts with its own 1-byte width flag
            if k < len(chunks) and off >= len(chunks[k]):
                k, off = k + 1, 0
                if k >= len(chunks) or not chunks[k]:
                    return False
                wide = chunks[k][0] & 0x01
                off = 1
            if k >= len(chunks):
                return False
            width = 2 if wide else 1
            n = min(left, (len(chunks[k]) - off) // width)
            if n == 0:
                return False
            off += n * width
            left -= n
        if not skip(4 * runs + ext):
            return False
    return True


def _old_format(zh: str, en: str, container: str = "raw") -> Sniff:
    return _refuse(
        "old_format",
        f"旧版 Excel 格式（{zh}），请另存为 .xlsx 后重新报送",
        f"old Excel format ({en}); re-save as .xlsx",
        container,
        (zh, en),
    )


# ---- flat files: legacy binaries, HTML, text


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le / utf-16-be when BOM-less UTF-16 is clear from the byte pattern, else None."""
    n = len(head) - len(head) % 2
    if n < 16:
        return None
    half = n // 2
    even_zero, odd_zero = head[0:n:2].count(0), head[1:n:2].count(0)
    if odd_zero >= 0.15 * half and even_zero <= 0.01 * half:
        enc = "utf-16-le"
    elif even_zero >= 0.15 * half and odd_zero <= 0.01 * half:
        enc = "utf-16-be"
    else:
        return None
    text = head[:n].decode(enc, "replace")
    if any((ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd" for ch in text[:-1]):
        return None
    return enc


def _text_head(data: bytes) -> tuple[str | None, str]:
    """(encoding hint, a decoded head for classification) — or (None, "") for binary content."""
    head = data[:65536]
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", head[3:].decode("utf-8", "replace")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be"
        return "utf-16", head[2 : len(head) - len(head) % 2].decode(enc, "replace")
    enc = _utf16_without_bom(head)
    if enc:
        return enc, head[: len(head) - len(head) % 2].decode(enc, "replace")
    if b"\x00" in head[:8192]:
        return None, ""
    return "", head.decode("latin-1")  # markers and delimiters are ASCII; the reader decodes properly


_HTML_STARTS = ("<!doctype html", "<html", "<table", "<head", "<meta", "<body", "<title", "<style", "<div")


def _sniff_flat(data: bytes, ext: str) -> Sniff:
    for magic, real in _MAGICS:
        if data.startswith(magic):
            return _not_a_spreadsheet(real)
    if data[:6] in _LOTUS[:3] or data[:4] == _LOTUS[3]:
        return _old_format("Lotus 1-2-3", "Lotus 1-2-3")
    if len(data) >= 8:
        rid, size = struct.unpack_from("<HH", data, 0)
        if rid in (0x0009, 0x0209, 0x0409, 0x0809) and 4 <= size <= 20:
            names = {0x0009: "2.x", 0x0209: "3.0", 0x0409: "4.0", 0x0809: "4.0–5.0"}
            return _old_format(f"Excel {names[rid]}（BIFF）", f"Excel {names[rid]} (BIFF)")
    hint, head = _text_head(data)
    if hint is None:
        for magic, real in _WEAK_MAGICS:
            if data.startswith(magic):
                return _not_a_spreadsheet(real)
        return _not_a_spreadsheet(("二进制文件", "a binary file"))
    low = head.lstrip("\ufeff \t\r\n").lower()
    if low.startswith("<?xml"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in low[:8192] or "excel.sheet" in low[:1024]:
            return _old_format("Excel 2003 XML 表格", "Excel 2003 XML spreadsheet")
        if "<html" not in low[:8192]:
            return _not_a_spreadsheet(("XML 文件", "an XML file"))
        low = low[low.index("<html") :]
    if low.startswith(_HTML_STARTS) or (low.startswith("<!--") and "<html" in low[:8192]):
        if hint in ("", "utf-8-sig"):
            has_table = re.search(rb"<table", data, re.IGNORECASE) is not None
        else:
            has_table = "<table" in _decode_all(data, hint).lower()
        if not has_table:
            return _not_a_spreadsheet(("网页（HTML），其中没有表格", "a web page (HTML) without a table"))
        return Sniff(
            "html", container="text", real_type=("网页表格（HTML）", "an HTML table"), encoding=hint or None
        )
    if low.startswith(("mime-version:", "from:", "content-type:")) and "multipart/related" in low[:4096]:
        page = mht_html(data)  # Excel's "single file web page" (.mht saved as .xls)
        if page is None or re.search(rb"<table", page, re.IGNORECASE) is None:
            return _not_a_spreadsheet(
                ("单个文件网页（MHT），其中没有表格", "a single-file web page (MHT) without a table")
            )
        return Sniff(
            "html", container="mht", real_type=("单个文件网页（MHT）", "a single-file web page (MHT)")
        )
    if low.startswith("id;p"):
        return _old_format("SYLK 符号链接文件", "SYLK")
    if ext in WORKBOOK_EXTENSIONS and not _looks_tabular(low):
        return _refuse(
            "corrupt_archive", "没有工作簿签名，文件损坏或不是表格", "no workbook signature", "raw"
        )
    return Sniff("csv", container="text", real_type=("CSV 文本表格", "CSV text"), encoding=hint or None)


def mht_html(data: bytes) -> bytes | None:
    """The first text/html part of a MIME web archive (.mht), as bytes carrying a meta charset."""
    import email
    import email.policy

    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                body = part.get_payload(decode=True)
                if not isinstance(body, bytes):
                    return None
                charset = part.get_content_charset()
                if charset and html_charset(body) is None:
                    body = f'<meta charset="{charset}">'.encode("ascii", "replace") + body
                return body
    except Exception:  # a damaged archive: no page
        return None
    return None


def _decode_all(data: bytes, hint: str) -> str:
    enc = "utf-16" if hint == "utf-16" else hint
    return data.decode(enc, "replace")


def _looks_tabular(text: str) -> bool:
    """Text under a workbook extension counts as CSV only if it looks like a table: at least two
    non-empty lines and a delimiter in one of the first twenty."""
    lines = [ln for ln in text.splitlines()[:40] if ln.strip()][:20]
    return len(lines) >= 2 and any(d in ln for ln in lines for d in (",", "\t", ";", "|"))


# --------------------------------------------------------------------------------------------
# Reading


def read_book(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Book:
    """Read a return file into a `Book`, reading its bytes once. Raises `ReadError` with a REASONS
    code on any problem."""
    path = path if isinstance(path, Path) else Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise ReadError("corrupt_archive", f"cannot stat: {exc}") from exc
    if st.st_size == 0:
        raise ReadError("empty_file")
    if st.st_size > max_bytes:
        raise ReadError("file_too_large", f"{st.st_size} bytes (limit {max_bytes})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError("corrupt_archive", f"cannot read: {exc}") from exc
    book = read_bytes(data, path.name, path=path)
    book.mtime = st.st_mtime
    return book


def read_bytes(data: bytes, name: str, path: Path | None = None, sniff: Sniff | None = None) -> Book:
    """Read a whole file's bytes (named `name`) into a `Book`; the reader behind `read_book` and the
    upload gate. Raises `ReadError`; `TypeError` when `data` is not bytes."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(
            f"需要字节数据（以二进制方式打开文件）/ expected bytes (open the file in binary mode), "
            f"got {type(data).__name__}"
        )
    data = bytes(data) if not isinstance(data, bytes) else data
    path = path if path is not None else Path(name or "upload")
    if not data:
        raise ReadError("empty_file")
    sniff = sniff if sniff is not None else sniff_format(data, name)
    if not sniff.ok:
        raise ReadError(sniff.reason or "unsupported_format", sniff.detail)
    kind = sniff.format or "unknown"
    if kind == "csv":
        book = _read_csv(path, data, sniff.encoding)
    elif kind == "html":
        page = mht_html(data) if sniff.container == "mht" else data
        book = _read_html(path, page or b"", sniff.encoding)
    else:
        if kind == "xlsx" and path.suffix.lower() == ".xlsm":
            kind = "xlsm"
        book = _read_calamine(path, kind, data, sniff)
    if not any(s.is_visible and s.has_cells() for s in book.sheets):
        raise ReadError("empty_file", "没有可见工作表含有单元格 / no cell in any visible sheet")
    return book


def _reraise_interrupts(exc: BaseException) -> None:
    """Let Ctrl-C and interpreter exit through; everything else (including pyo3's PanicException,
    which derives from BaseException) becomes a file problem."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise exc


def _visibility(meta) -> str:
    name = str(meta.visible).rsplit(".", 1)[-1].lower()
    if "very" in name:
        return "very_hidden"
    return "hidden" if "hidden" in name else "visible"


MAX_AREA = 10_000_000  # cells of a sheet's bounding box: calamine allocates it densely

_NORMALISE = bytes.maketrans(b"\t\n\r'", b'   "')  # any attribute separator / quote -> ' ' / '"'
_REF_DIGITS = {d: re.compile(rb' r="[A-Z]{0,3}([0-9]{%d})"' % d) for d in range(1, 8)}
_REF_LETTERS = {n: re.compile(rb' r="([A-Z]{%d})[0-9]' % n) for n in (1, 2, 3)}
_REF_DIGITS_4_TO_7 = re.compile(rb' r="[A-Z]{0,3}[0-9]{4,7}"')
_REF_LETTERS_2_TO_3 = re.compile(rb' r="[A-Z]{2,3}[0-9]')
# either of the two above: a reference that may lie outside A1:Z999
_REF_SMALL_BOX_BREAKER = re.compile(rb' r="(?:[A-Z]{0,3}[0-9]{4,7}"|[A-Z]{2,3}[0-9])')


def _xlsx_extent(buf: bytes, max_row: int, max_col: int) -> tuple[int, int]:
    """Upper bounds of the 0-based row and column referenced (r="…" of rows and cells) in a chunk
    of worksheet XML. Cheap first: the longest digit and letter runs present bound the box (a few
    fast literal searches); only when that bound is too large are the longest references
    collected exactly."""
    buf = buf.translate(_NORMALISE)
    # one scan decides which half of the lengths to try (most sheets: rows < 1000, columns < AA)
    longer = _REF_DIGITS_4_TO_7.search(buf) is not None
    digits = next((d for d in ((7, 6, 5, 4) if longer else (3, 2, 1)) if _REF_DIGITS[d].search(buf)), 0)
    wide = _REF_LETTERS_2_TO_3.search(buf) is not None
    letters = next((n for n in ((3, 2) if wide else (1,)) if _REF_LETTERS[n].search(buf)), 0)
    if not digits:
        return max_row, max_col
    row_bound, col_bound = 10**digits - 2, (26, 702, 16384)[letters - 1] - 1 if letters else 0
    if (max(max_row, row_bound) + 1) * (max(max_col, col_bound) + 1) > MAX_AREA:
        row_bound = max(map(int, set(_REF_DIGITS[digits].findall(buf)))) - 1
        if letters:
            col_bound = max(_col_number(a) for a in set(_REF_LETTERS[letters].findall(buf))) - 1
    return max(max_row, row_bound), max(max_col, col_bound)


_XLS_CELLS = {0x0203, 0x00FD, 0x027E, 0x0201, 0x0006, 0x0204, 0x0205, 0x00D6, 0x00BD, 0x00BE}


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _area_check(name: str, rows: tuple[int, int], cols: tuple[int, int]) -> None:
    (r0, r1), (c0, c1) = rows, cols
    if r1 < r0 or c1 < c0:
        return
    area = (r1 - r0 + 1) * (c1 - c0 + 1)
    if area > MAX_AREA or c1 + 1 > MAX_COLUMNS * 20:
        raise ReadError(
            "file_too_large",
            f"工作表 {name} 的单元格分布过广 / sheet {name} spans {r1 - r0 + 1} rows x {c1 - c0 + 1} columns "
            f"(limit {MAX_AREA} cells)",
        )


_EXTENT_CHUNK = 1 << 22


def _part_chunks(zf, info):
    """A member's bytes in chunks of `_EXTENT_CHUNK`: from the in-memory archive's inflated part
    (no file object), else streamed through zipfile."""
    if isinstance(zf, _MemZip):
        whole = zf.read(info)
        for k in range(0, len(whole), _EXTENT_CHUNK):
            yield whole[k : k + _EXTENT_CHUNK]
        return
    with zf.open(info) as fh:
        while chunk := fh.read(_EXTENT_CHUNK):
            yield chunk


def _inspect_xlsx(zf: zipfile.ZipFile) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """Bounding box of every worksheet (ReadError when too large), then the percent and error cells."""
    error_parts: set[str] = set()
    for info in zf.infolist():
        low = info.filename.lower().replace("\\", "/")
        if not (low.startswith("xl/worksheets/") and low.endswith(".xml")):
            continue
        max_row = max_col = -1
        tail = b""
        if isinstance(zf, _MemZip) and info.file_size <= _EXTENT_CHUNK:
            whole = zf.read(info)
            if (
                len(whole) <= _EXTENT_CHUNK
                and _REF_SMALL_BOX_BREAKER.search(whole.translate(_NORMALISE)) is None
            ):
                # One chunk whose every reference has at most 3 digits and 1 letter: its box is at
                # most 999 rows x 26 columns, which `_area_check` never refuses (the walk below would
                # return bounds inside that box, which it does not refuse either).
                if b't="e"' in whole:
                    error_parts.add(info.filename)
                continue
        for chunk in _part_chunks(zf, info):
            buf = tail + chunk
            max_row, max_col = _xlsx_extent(buf, max_row, max_col)
            if b't="e"' in buf:
                error_parts.add(info.filename)
            tail = buf[-40:]
        _area_check(info.filename, (0, max_row), (0, max(max_col, 0)))
    try:  # what the cells show: percentages and formula errors (never fatal)
        return cells_from_zip(zf, error_parts)
    except Exception:
        return {}, {}


def _check_extent(
    kind: str, data: bytes, stream: bytes | None = None
) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """Refuse a sheet whose cells span a huge bounding box (A1 and XFD1048576) BEFORE calamine
    reads it: calamine materialises the whole box, and an allocation it cannot make aborts the
    process (not an exception). xlsx: the r="…" references of every worksheet part, streamed;
    xls: the row/column of every cell record."""
    if kind in ("xlsx", "xlsm"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _inspect_xlsx(zf)
    elif kind == "xls":
        if stream is None:  # not sniffed: read the workbook stream from the compound file
            import olefile

            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                top = {e[0].lower(): e[0] for e in ole.listdir() if len(e) == 1}
                name = top.get("workbook") or top.get("book")
                stream = ole.openstream(name).read() if name else b""
        return _xls_scan(stream)  # one walk: bounds and cell formats
    return {}, {}
    return {}, {}


_XLS_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}


def _xls_scan(wb: bytes) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """The bounding-box walk and the cell-format walk (tests/returns/xls_reference.py) fused into one walk of the records of a
    BIFF workbook stream, with the same results: ReadError when a sheet's cells span too large a
    box; otherwise (percent cells, error cells) by sheet name — ({}, {}) when reading the cell
    formats fails, which is never fatal (the bounding box is still checked to the end)."""
    unpack = struct.unpack_from
    end = len(wb)
    sheet = -1
    rows, cols = [1 << 30, -1], [1 << 30, -1]
    cells_rids = _XLS_CELLS
    # cell formats (as the reference walk in tests/returns/xls_reference.py)
    formats: dict[int, str] = {}
    xf_fmt: list[int] = []
    sheets_at: dict[int, str] = {}
    percent: dict[str, set[str]] = {}
    errors: dict[str, dict[str, str]] = {}
    pct_xf: set[int] | None = None
    current: str | None = None
    fmt_ok = True  # False once reading the formats failed (or a record ran past the end)
    pos = 0
    while pos + 4 <= end:
        rid, size = unpack("<HH", wb, pos)
        body = pos + 4
        if rid == _BIFF_BOF:
            if sheet >= 0:
                _area_check(f"#{sheet}", (rows[0], rows[1]), (cols[0], cols[1]))
            sheet += 1
            rows, cols = [1 << 30, -1], [1 << 30, -1]
        elif rid in cells_rids and size >= 4 and pos + 8 <= end:
            r, c = unpack("<HH", wb, body)
            c_last = c
            if rid in (0x00BD, 0x00BE) and size >= 6 and body + size <= end:
                c_last = unpack("<H", wb, body + size - 2)[0]
            if r < rows[0]:
                rows[0] = r
            if r > rows[1]:
                rows[1] = r
            lo, hi = (c, c_last) if c <= c_last else (c_last, c)
            if lo < cols[0]:
                cols[0] = lo
            if hi > cols[1]:
                cols[1] = hi
        if fmt_ok:
            if body + size > end:
                fmt_ok = False  # the reference walk stops at a record that runs past the end
            else:
                try:
                    if rid == _BIFF_BOF:
                        current = sheets_at.get(pos)
                    elif current is None:  # workbook globals
                        if rid == 0x0085 and size >= 8:  # BOUNDSHEET
                            cch, high = wb[body + 6], wb[body + 7]
                            raw = wb[body + 8 : body + 8 + (cch * 2 if high & 1 else cch)]
                            sheets_at[unpack("<L", wb, body)[0]] = raw.decode(
                                "utf-16-le" if high & 1 else "latin-1", "replace"
                            )
                        elif rid == 0x041E and size >= 5:  # FORMAT
                            ifmt, cch = unpack("<HH", wb, body)
                            high = wb[body + 4]
                            raw = wb[body + 5 : body + 5 + (cch * 2 if high & 1 else cch)]
                            formats[ifmt] = raw.decode("utf-16-le" if high & 1 else "latin-1", "replace")
                        elif rid == 0x00E0 and size >= 4:  # XF
                            xf_fmt.append(unpack("<H", wb, body + 2)[0])
                    else:
                        if pct_xf is None:
                            pct_xf = _percent_xfs(xf_fmt, formats)
                        if rid in (0x0203, 0x027E) and size >= 6:  # NUMBER, RK
                            r, c, ixfe = unpack("<HHH", wb, body)
                            if ixfe in pct_xf:
                                percent.setdefault(current, set()).add(a1(r, c))
                        elif rid == 0x00BD and size >= 6:  # MULRK
                            r, c = unpack("<HH", wb, body)
                            n = (size - 6) // 6
                            for k in range(n):
                                if unpack("<H", wb, body + 4 + 6 * k)[0] in pct_xf:
                                    percent.setdefault(current, set()).add(a1(r, c + k))
                        elif rid == 0x0006 and size >= 14:  # FORMULA
                            r, c, ixfe = unpack("<HHH", wb, body)
                            if wb[body + 12] == 0xFF and wb[body + 13] == 0xFF:
                                if wb[body + 6] == 0x02:
                                    errors.setdefault(current, {})[a1(r, c)] = _XLS_ERRORS.get(
                                        wb[body + 8], "#ERROR"
                                    )
                            elif ixfe in pct_xf:
                                percent.setdefault(current, set()).add(a1(r, c))
                        elif rid == 0x0205 and size >= 8 and wb[body + 7] == 1:  # BOOLERR error
                            r, c = unpack("<HH", wb, body)
                            errors.setdefault(current, {})[a1(r, c)] = _XLS_ERRORS.get(wb[body + 6], "#ERROR")
                except Exception:  # what the cells show is never fatal: no formats, as the reference walk
                    fmt_ok = False
                    percent, errors = {}, {}  # (a record past the end keeps what was found before it)
        pos = body + size
    _area_check(f"#{sheet}", (rows[0], rows[1]), (cols[0], cols[1]))
    return percent, errors


def _percent_xfs(xf_fmt: list[int], formats: dict[int, str]) -> set[int]:
    return {
        i
        for i, f in enumerate(xf_fmt)
        if f in (9, 10) or (f in formats and "%" in re.sub(r'"[^"]*"|\\.', "", formats[f]))
    }


def _read_calamine(path: Path, kind: str, data: bytes, sniff: Sniff | None = None) -> Book:
    from python_calamine import CalamineWorkbook

    try:
        if kind in ("xlsx", "xlsm") and sniff is not None and sniff.cells is not None:
            percent, errors = sniff.cells  # checked while sniffing
        else:
            percent, errors = _check_extent(kind, data, sniff.stream if sniff is not None else None)
    except ReadError:
        raise
    except Exception as exc:  # a damaged archive or compound file
        raise ReadError("corrupt_archive", f"{type(exc).__name__}: {exc}") from exc

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # calamine's own error types; a Rust panic is a BaseException
        _reraise_interrupts(exc)
        if kind in ("xlsx", "xlsm"):
            return _read_openpyxl(path, kind, data, exc)
        if kind == "xls" and sniff is not None and sniff.biff == 5:
            raise ReadError(
                "old_format",
                "旧版 Excel 格式（Excel 5.0/95），请另存为 .xlsx / old Excel format (Excel 5.0/95)",
            ) from exc
        raise ReadError("corrupt_archive", f"{type(exc).__name__}: {exc}") from exc
    sheets: list[Sheet] = []
    try:
        for meta in wb.sheets_metadata:
            typ = str(meta.typ).rsplit(".", 1)[-1]
            if typ != "WorkSheet":
                continue
            try:
                sh = wb.get_sheet_by_name(meta.name)
                sheets.append(_calamine_sheet(sh, meta.name, _visibility(meta)))
            except ReadError:
                raise
            except BaseException as exc:
                _reraise_interrupts(exc)
                raise ReadError("corrupt_archive", f"sheet {meta.name}: {type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()
    for sh in sheets:  # calamine reads a #DIV/0! cell as empty: put the error text back in the grid
        for ref, text in errors.get(sh.name, {}).items():
            pos = rc(ref)
            if pos is None or pos[0] >= len(sh.rows):
                continue
            row = sh.rows[pos[0]]
            if pos[1] < MAX_COLUMNS:
                row.extend([""] * (pos[1] + 1 - len(row)))
                if row[pos[1]] == "":
                    row[pos[1]] = text
    return Book(path, kind, sheets, percent_cells=percent, error_cells=errors)


def _calamine_sheet(sh, name: str, visible: str) -> Sheet:
    start = sh.start
    if start is None:
        return Sheet(name, [], visible)
    r0, c0 = start
    height, width = sh.height, sh.width
    if width + c0 > MAX_COLUMNS:
        raise ReadError("file_too_large", f"sheet {name}: {width + c0} columns (limit {MAX_COLUMNS})")
    nrows = height
    truncated = False
    if height * (width + c0) > MAX_CELLS:
        nrows = max(1, MAX_CELLS // max(width + c0, 1) - r0)
        truncated = True
    data = sh.to_python(skip_empty_area=True, nrows=nrows)
    if c0:
        pad = [""] * c0
        data = [pad + row for row in data]
    if r0:
        data = [[] for _ in range(r0)] + data
    merged = []
    try:
        merged = list(sh.merged_cell_ranges or [])
    except BaseException as exc:
        _reraise_interrupts(exc)
        merged = []
    return Sheet(name, data, visible, merged, truncated)


def _read_openpyxl(path: Path, kind: str, data: bytes, cause: BaseException) -> Book:
    """Fallback for OOXML files calamine refuses (rare producers); still bounded by MAX_CELLS."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ReadError(
            "corrupt_archive",
            f"calamine: {type(cause).__name__}: {cause}; openpyxl: {type(exc).__name__}: {exc}",
        ) from exc
    sheets = []
    try:
        for ws in wb.worksheets:
            rows: list[list] = []
            count = 0
            truncated = False
            for row in ws.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                vals = ["" if v is None else v for v in row]
                count += len(vals)
                if count > MAX_CELLS:
                    truncated = True
                    break
                rows.append(vals)
            state = getattr(ws, "sheet_state", "visible")
            visible = {"hidden": "hidden", "veryHidden": "very_hidden"}.get(state, "visible")
            sheets.append(Sheet(ws.title, rows, visible, [], truncated))
    except Exception as exc:
        raise ReadError("corrupt_archive", f"openpyxl: {type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()
    return Book(path, kind, sheets, reader="openpyxl")


# ---- text


def decode_text(data: bytes, hint: str | None = None) -> tuple[str, str]:
    """(text, encoding) of text bytes: a BOM, the sniffer's hint (BOM-less UTF-16), UTF-8, then
    charset-normalizer, then GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if hint in ("utf-16-le", "utf-16-be"):
        try:
            return data[: len(data) - len(data) % 2].decode(hint), hint
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    candidates = [best.encoding] if best is not None else []
    candidates.append("gb18030")
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    raise ReadError("unsupported_format", "无法识别文本编码 / text encoding not recognised")


def _read_csv(path: Path, data: bytes, hint: str | None = None) -> Book:
    text, encoding = decode_text(data, hint)
    if "\x00" in text[:8192]:
        raise ReadError("unsupported_format", "文本中含二进制数据 / binary data in a text file")
    sample = text[:8192]
    delimiter = ","
    counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
    if counts[","] == 0:
        best = max(counts, key=counts.get)
        if counts[best] > 0:
            delimiter = best
    rows: list[list] = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells += len(row)
            if cells > MAX_CELLS or len(row) > MAX_COLUMNS:
                raise ReadError("file_too_large", f"more than {MAX_CELLS} fields")
            rows.append(row)
    except csv.Error as exc:
        raise ReadError("corrupt_archive", f"csv: {exc}") from exc
    return Book(path, "csv", [Sheet(path.stem, rows)], encoding=encoding, reader="csv")


# ---- HTML tables

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE
)
_SPACES = re.compile(r"[ \t\r\n\f]+")
_GB_FAMILY = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "gb18030", "euc-cn", "cp936", "hz-gb-2312"}


def html_charset(data: bytes) -> str | None:
    """The charset a page declares in `<meta charset>` or `http-equiv` Content-Type (its first 4 KB)."""
    m = _META_CHARSET.search(data[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace").lower()
    return "gb18030" if name in _GB_FAMILY else name  # GB18030 decodes everything GB2312/GBK pages hold


def _decode_html(data: bytes, hint: str | None) -> tuple[str, str]:
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or hint in ("utf-16-le", "utf-16-be"):
        return decode_text(data, hint)
    declared = html_charset(data)
    if declared:
        try:
            return data.decode(declared, "replace"), declared
        except LookupError:
            pass
    return decode_text(data, hint)


def _span(value: str | None, limit: int) -> int:
    try:
        n = int(str(value).strip() or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), limit)


def _read_html(path: Path, data: bytes, hint: str | None) -> Book:
    import lxml.html
    from lxml import etree

    text, encoding = _decode_html(data, hint)
    text = text.lstrip("\ufeff")
    if text.lstrip().lower().startswith("<?xml"):  # lxml refuses str input with an encoding declaration
        text = text[text.index("?>") + 2 :]
    try:
        doc = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ReadError("corrupt_archive", f"HTML: {exc}") from exc
    sheets: list[Sheet] = []
    taken: set[str] = set()
    for table in doc.iter("table"):
        if table.find(".//table") is not None:
            continue  # a layout table around data tables: its cells are the inner tables
        if len(sheets) >= MAX_TABLES:
            break
        sheet = _html_table(table, len(sheets) + 1)
        if not sheet.rows:
            continue
        base, n = sheet.name, 2
        while sheet.name in taken:
            sheet.name = f"{base} ({n})"
            n += 1
        taken.add(sheet.name)
        sheets.append(sheet)
    return Book(path, "html", sheets, encoding=encoding, reader="html")


def _cell_text(el) -> str:
    for br in el.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return _SPACES.sub(" ", el.text_content()).strip(" ")


def _html_table(table, index: int) -> Sheet:
    caption = table.find("caption")
    name = _cell_text(caption)[:31] if caption is not None else ""
    trs = [tr for tr in table.iter("tr") if next(tr.iterancestors("table"), None) is table]
    nrows = len(trs)
    rows: list[list] = []
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = []
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan from above (this row included)
    cells = 0
    truncated = False
    for r, tr in enumerate(trs):
        row: list = []
        c = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                continue
            while pending.get(c, 0) > 0:
                c += 1
            cs = _span(td.get("colspan"), 1000)  # the HTML limit; the sheet limit is checked below
            rs_raw = td.get("rowspan")
            rs = (
                nrows - r if str(rs_raw).strip() == "0" else _span(rs_raw, max(nrows - r, 1))
            )  # within the table
            if c + cs > MAX_COLUMNS:
                raise ReadError("file_too_large", f"table {index}: more than {MAX_COLUMNS} columns")
            if len(row) < c:
                row.extend([""] * (c - len(row)))
            row.append(_cell_text(td))
            if cs > 1:
                row.extend([""] * (cs - 1))
            for k in range(c, c + cs):
                pending[k] = rs
            if cs > 1 or rs > 1:
                merged.append(((r, c), (r + rs - 1, c + cs - 1)))
            c += cs
        cells += max(len(row), 1)
        if cells > MAX_CELLS:
            truncated = True
            break
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
        pending = {k: v - 1 for k, v in pending.items() if v > 1}
    while rows and not rows[-1]:
        rows.pop()
    return Sheet(name or f"表{index}", rows, "visible", merged, truncated)
