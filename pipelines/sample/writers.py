"""Byte-stable writers for the sample corpus: xlsx (xlsxwriter), xls (xlwt), ods (pandas odf), csv.

A sheet is a `Grid`: rows of cell contents (str is written as text, int/float as a number, None as
nothing) plus merged ranges. Archive member timestamps are fixed so output depends only on content.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

import pandas as pd
import xlsxwriter
import xlwt

FIXED_CREATED = dt.datetime(2011, 12, 1, 8, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class Grid:
    name: str
    rows: list[list[object]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2 (0-based)
    widths: dict[int, float] = field(default_factory=dict)
    title_rows: int = 0  # rows at the top drawn large and bold

    def add(self, row: list[object]) -> int:
        self.rows.append(list(row))
        return len(self.rows) - 1


def _covered(grid: Grid) -> set[tuple[int, int]]:
    out = set()
    for r1, c1, r2, c2 in grid.merges:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    out.add((r, c))
    return out


def xlsx_bytes(sheets: list[Grid], created: dt.datetime = FIXED_CREATED) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": created, "author": ""})
    base = wb.add_format({"font_name": "宋体", "font_size": 11, "border": 1})
    title = wb.add_format({"font_name": "宋体", "font_size": 14, "bold": True, "align": "center"})
    for grid in sheets:
        ws = wb.add_worksheet(grid.name)
        for c, w in grid.widths.items():
            ws.set_column(c, c, w)
        covered = _covered(grid)
        for r1, c1, r2, c2 in grid.merges:
            v = grid.rows[r1][c1] if c1 < len(grid.rows[r1]) else None
            fmt = title if r1 < grid.title_rows else base
            ws.merge_range(r1, c1, r2, c2, "" if v is None else v, fmt)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(r1, c1, v, fmt)
        merged_tl = {(r1, c1) for r1, c1, _, _ in grid.merges}
        for r, row in enumerate(grid.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in covered or (r, c) in merged_tl:
                    continue
                fmt = title if r < grid.title_rows else base
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(r, c, v, fmt)
                else:
                    ws.write_string(r, c, str(v), fmt)
    wb.close()
    return buf.getvalue()


def xls_bytes(sheets: list[Grid]) -> bytes:
    wb = xlwt.Workbook(encoding="utf-8")
    for grid in sheets:
        ws = wb.add_sheet(grid.name)
        for c, w in grid.widths.items():
            ws.col(c).width = int(w * 256)
        covered = _covered(grid)
        merged_tl = {}
        for r1, c1, r2, c2 in grid.merges:
            merged_tl[(r1, c1)] = (r2, c2)
        for r, row in enumerate(grid.rows):
            for c, v in enumerate(row):
                if (r, c) in covered:
                    continue
                if (r, c) in merged_tl:
                    r2, c2 = merged_tl[(r, c)]
                    ws.write_merge(r, r2, c, c2, "" if v is None else v)
                elif v is not None:
                    ws.write(r, c, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def normalize_zip(data: bytes) -> bytes:
    """Rewrite an archive with fixed member timestamps (mimetype first and stored, as ODF wants)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, _ZIP_TIME)
            zi.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


_ODS_WARM: list[bool] = []


def ods_bytes(sheets: list[Grid]) -> bytes:
    # odfpy declares more XML namespaces once its first document has been written in a process;
    # write a throwaway document first so every real one comes out the same.
    if not _ODS_WARM:
        _ODS_WARM.append(True)
        ods_bytes([Grid("warm", [["x"]])])
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="odf") as writer:
        for grid in sheets:
            width = max((len(r) for r in grid.rows), default=1)
            rows = [list(r) + [None] * (width - len(r)) for r in grid.rows]
            frame = pd.DataFrame(rows, dtype=object)
            frame.to_excel(writer, sheet_name=grid.name, header=False, index=False)
    return normalize_zip(buf.getvalue())


def csv_bytes(rows: list[list[object]], encoding: str) -> bytes:
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\r\n")
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return text.getvalue().encode(encoding)
