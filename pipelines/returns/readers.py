"""Read a return file into sheets of cell grids, once, with guards against hangs and bombs.

- xlsx / xls / ods: python-calamine (fast, reads hidden sheets and their visibility, merged ranges
  for xlsx/xls). openpyxl is used only as a fallback when calamine cannot open an archive that
  passed the sanity checks.
- csv: bytes decoded as UTF-8 (with or without BOM) when that is valid, else by charset-normalizer
  (GBK/GB18030 and others); the delimiter is sniffed among , ; tab |.
- The format comes from the file's magic bytes (the extension only breaks ties): a zip with
  `[Content_Types].xml` is OOXML, a zip with an OpenDocument `mimetype` is ODS, an OLE2 file is xls.
- Before opening a zip: size limit, member count, total uncompressed size and compression ratio.
  A workbook carrying `vbaProject.bin` (.xlsm) is refused as macro-enabled.
- Sheets are bounded: at most `MAX_CELLS` cells per sheet are materialised, so a sparse sheet with a
  cell at XFD1048576 cannot exhaust memory.

Problems raise `ReadError(reason_code, detail)`; the parser turns them into file-level problems.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200.0  # per member, for members larger than RATIO_MIN_BYTES uncompressed
RATIO_MIN_BYTES = 1024 * 1024
MAX_CELLS = 2_000_000  # per sheet
MAX_COLUMNS = 1_000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"


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


@dataclass
class Book:
    path: Path
    file_format: str  # xlsx | xlsm | xls | ods | csv
    sheets: list[Sheet]
    encoding: str | None = None  # csv only
    reader: str = "calamine"  # calamine | openpyxl | csv
    mtime: float | None = None  # the file's modification time (received time), from the one stat

    def sheet(self, name: str) -> Sheet | None:
        return next((s for s in self.sheets if s.name == name), None)


def sniff_format(path: Path, head: bytes) -> str:
    """xlsx | xlsm | ods | xls | csv | zip | unknown from the first bytes and the extension."""
    ext = path.suffix.lower().lstrip(".")
    if head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC):
        return "zip"  # resolved after looking inside
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if ext in ("csv", "txt", "tsv"):
        return "csv"
    if ext in ("xlsx", "xlsm", "xls", "ods"):
        # Claims to be a workbook but has no workbook signature: a truncated or foreign file.
        return "broken"
    return "unknown"


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


def _members(data: bytes) -> tuple[list[tuple[str, int, int]], zipfile.ZipFile | None]:
    fast = _central_directory(data)
    if fast is not None:
        return fast, None
    zf = zipfile.ZipFile(io.BytesIO(data))
    return [(i.filename, i.compress_size, i.file_size) for i in zf.infolist()], zf


def check_zip(path: Path, data: bytes | None = None) -> str:
    """Sanity checks on a zip container (the file's bytes); returns xlsx | xlsm | ods. Raises ReadError."""
    data = path.read_bytes() if data is None else data
    zf: zipfile.ZipFile | None = None
    try:
        members, zf = _members(data)
        if len(members) > MAX_ZIP_MEMBERS:
            raise ReadError("file_too_large", f"{len(members)} zip members (limit {MAX_ZIP_MEMBERS})")
        total = 0
        names = set()
        for name, comp, uncomp in members:
            total += uncomp
            names.add(name)
            if uncomp > RATIO_MIN_BYTES:
                ratio = uncomp / max(comp, 1)
                if ratio > MAX_COMPRESSION_RATIO:
                    raise ReadError(
                        "file_too_large",
                        f"member {name} compression ratio {ratio:.0f} (limit {MAX_COMPRESSION_RATIO:.0f})",
                    )
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ReadError("file_too_large", f"{total} bytes uncompressed (limit {MAX_UNCOMPRESSED_BYTES})")
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise ReadError("macro_enabled", "vbaProject.bin present")
        if "mimetype" in names:
            if b"opendocument.spreadsheet" in data[:256]:  # ODF stores "mimetype" first, uncompressed
                return "ods"
            if zf is None:
                zf = zipfile.ZipFile(io.BytesIO(data))
            mime = zf.read("mimetype")[:100]
            if b"opendocument.spreadsheet" in mime:
                return "ods"
            raise ReadError("unsupported_format", f"OpenDocument type {mime.decode('ascii', 'replace')}")
        if "[Content_Types].xml" in names:
            if not any(n.startswith("xl/") for n in names):
                raise ReadError("unsupported_format", "OOXML package without a workbook (docx/pptx?)")
            return "xlsm" if path.suffix.lower() == ".xlsm" else "xlsx"
        raise ReadError("unsupported_format", "zip archive that is not a workbook")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, struct.error, KeyError) as exc:
        raise ReadError("corrupt_archive", f"{type(exc).__name__}: {exc}") from exc
    finally:
        if zf is not None:
            zf.close()


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
    kind = sniff_format(path, data[:8])
    if kind == "zip":
        kind = check_zip(path, data)
    if kind == "broken":
        raise ReadError("corrupt_archive", "no workbook signature")
    if kind == "unknown":
        raise ReadError("unsupported_format", path.suffix or "no extension")
    book = _read_csv(path, data) if kind == "csv" else _read_calamine(path, kind, data)
    book.mtime = st.st_mtime
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


def _read_calamine(path: Path, kind: str, data: bytes) -> Book:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # calamine's own error types; a Rust panic is a BaseException
        _reraise_interrupts(exc)
        if kind in ("xlsx", "xlsm"):
            return _read_openpyxl(path, kind, exc)
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
    return Book(path, kind, sheets)


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


def _read_openpyxl(path: Path, kind: str, cause: Exception) -> Book:
    """Fallback for OOXML files calamine refuses (rare producers); still bounded by MAX_CELLS."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
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


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of CSV bytes: UTF-8 (BOM or not) first, then charset-normalizer."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
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
    raise ReadError("unsupported_format", "text encoding not recognised")


def _read_csv(path: Path, data: bytes) -> Book:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError("unsupported_format", "binary data in a .csv file")
    text, encoding = decode_text(data)
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
