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


def check_zip(path: Path) -> str:
    """Sanity checks on a zip container; returns xlsx | xlsm | ods. Raises ReadError."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise ReadError("file_too_large", f"{len(infos)} zip members (limit {MAX_ZIP_MEMBERS})")
            total = 0
            names = set()
            for info in infos:
                total += info.file_size
                names.add(info.filename)
                if info.file_size > RATIO_MIN_BYTES:
                    ratio = info.file_size / max(info.compress_size, 1)
                    if ratio > MAX_COMPRESSION_RATIO:
                        raise ReadError(
                            "file_too_large",
                            f"member {info.filename} compression ratio {ratio:.0f} "
                            f"(limit {MAX_COMPRESSION_RATIO:.0f})",
                        )
            if total > MAX_UNCOMPRESSED_BYTES:
                raise ReadError(
                    "file_too_large", f"{total} bytes uncompressed (limit {MAX_UNCOMPRESSED_BYTES})"
                )
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise ReadError("macro_enabled", "vbaProject.bin present")
            if "mimetype" in names:
                mime = zf.read("mimetype")[:100]
                if b"opendocument.spreadsheet" in mime:
                    return "ods"
                raise ReadError("unsupported_format", f"OpenDocument type {mime.decode('ascii', 'replace')}")
            if "[Content_Types].xml" in names:
                if "xl/workbook.xml" not in names and not any(n.startswith("xl/") for n in names):
                    raise ReadError("unsupported_format", "OOXML package without a workbook (docx/pptx?)")
                return "xlsm" if path.suffix.lower() == ".xlsm" else "xlsx"
            raise ReadError("unsupported_format", "zip archive that is not a workbook")
    except zipfile.BadZipFile as exc:
        raise ReadError("corrupt_archive", str(exc)) from exc
    except (zipfile.LargeZipFile, NotImplementedError) as exc:
        raise ReadError("corrupt_archive", str(exc)) from exc


def read_book(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Book:
    """Read a return file into a `Book`. Raises `ReadError` with a REASONS code on any problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReadError("corrupt_archive", f"cannot stat: {exc}") from exc
    if size == 0:
        raise ReadError("empty_file")
    if size > max_bytes:
        raise ReadError("file_too_large", f"{size} bytes (limit {max_bytes})")
    with path.open("rb") as fh:
        head = fh.read(8)
    kind = sniff_format(path, head)
    if kind == "zip":
        kind = check_zip(path)
    if kind == "broken":
        raise ReadError("corrupt_archive", "no workbook signature")
    if kind == "unknown":
        raise ReadError("unsupported_format", path.suffix or "no extension")
    if kind == "csv":
        return _read_csv(path)
    if kind == "xlsm":
        # An .xlsm without a VBA project: accept, it is an ordinary workbook.
        pass
    return _read_calamine(path, kind)


def _visibility(meta) -> str:
    name = str(meta.visible).rsplit(".", 1)[-1].lower()
    if "very" in name:
        return "very_hidden"
    return "hidden" if "hidden" in name else "visible"


def _read_calamine(path: Path, kind: str) -> Book:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types per format
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
            except Exception as exc:
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
    except Exception:
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


def _read_csv(path: Path) -> Book:
    data = path.read_bytes()
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
