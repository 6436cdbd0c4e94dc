"""The .xls path as it was before the reader read a workbook stream once (issue 11 speed work):
the bounding-box walk of every cell record, then a second walk for the cell formats. Kept only as
the reference the one-walk `readers._xls_scan` is compared with (tests/returns/test_reader_speedups.py).
"""

from __future__ import annotations

import io
import re
import struct

from pipelines.returns.cells import a1
from pipelines.returns.readers import _BIFF_BOF, _XLS_CELLS, _XLS_ERRORS, _area_check


def two_walks(data: bytes) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """ReadError when a sheet's cells span too large a box; else (percent cells, error cells)."""
    import olefile

    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        top = {e[0].lower(): e[0] for e in ole.listdir() if len(e) == 1}
        stream = top.get("workbook") or top.get("book")
        wb = ole.openstream(stream).read() if stream else b""
    pos, end, sheet = 0, len(wb), -1
    rows, cols = [1 << 30, -1], [1 << 30, -1]
    unpack = struct.unpack_from
    while pos + 4 <= end:
        rid, size = unpack("<HH", wb, pos)
        if rid == _BIFF_BOF:
            if sheet >= 0:
                _area_check(f"#{sheet}", (rows[0], rows[1]), (cols[0], cols[1]))
            sheet += 1
            rows, cols = [1 << 30, -1], [1 << 30, -1]
        elif rid in _XLS_CELLS and size >= 4 and pos + 8 <= end:
            r, c = unpack("<HH", wb, pos + 4)
            c_last = c
            if rid in (0x00BD, 0x00BE) and size >= 6 and pos + 4 + size <= end:
                c_last = unpack("<H", wb, pos + 4 + size - 2)[0]
            rows[0], rows[1] = min(rows[0], r), max(rows[1], r)
            cols[0], cols[1] = min(cols[0], c, c_last), max(cols[1], c, c_last)
        pos += 4 + size
    _area_check(f"#{sheet}", (rows[0], rows[1]), (cols[0], cols[1]))
    try:  # what the cells show: percentages and formula errors (never fatal)
        return _xls_cells(wb)
    except Exception:
        return {}, {}


def _xls_cells(wb: bytes) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """(percent cells, error cells) by sheet name of a BIFF8 workbook stream, like
    `numfmt.cells_from_zip` for xlsx: calamine returns a percent-formatted 0.852 as 0.852 and an
    error cell (#DIV/0!) as an empty string."""
    unpack = struct.unpack_from
    end = len(wb)
    formats: dict[int, str] = {}
    xf_fmt: list[int] = []
    sheets_at: dict[int, str] = {}
    percent: dict[str, set[str]] = {}
    errors: dict[str, dict[str, str]] = {}
    pct_xf: set[int] | None = None
    current: str | None = None
    pos = 0
    while pos + 4 <= end:
        rid, size = unpack("<HH", wb, pos)
        body = pos + 4
        if body + size > end:
            break
        if rid == _BIFF_BOF:
            current = sheets_at.get(pos)
        elif current is None:  # workbook globals
            if rid == 0x0085 and size >= 8:  # BOUNDSHEET: stream offset and name of a sheet
                cch, high = wb[body + 6], wb[body + 7]
                raw = wb[body + 8 : body + 8 + (cch * 2 if high & 1 else cch)]
                sheets_at[unpack("<L", wb, body)[0]] = raw.decode(
                    "utf-16-le" if high & 1 else "latin-1", "replace"
                )
            elif rid == 0x041E and size >= 5:  # FORMAT: number format code
                ifmt, cch = unpack("<HH", wb, body)
                high = wb[body + 4]
                raw = wb[body + 5 : body + 5 + (cch * 2 if high & 1 else cch)]
                formats[ifmt] = raw.decode("utf-16-le" if high & 1 else "latin-1", "replace")
            elif rid == 0x00E0 and size >= 4:  # XF: its number format
                xf_fmt.append(unpack("<H", wb, body + 2)[0])
        else:
            if pct_xf is None:
                pct_xf = {
                    i
                    for i, f in enumerate(xf_fmt)
                    if f in (9, 10) or (f in formats and "%" in re.sub(r'"[^"]*"|\\.', "", formats[f]))
                }
            if rid in (0x0203, 0x027E) and size >= 6:  # NUMBER, RK
                r, c, ixfe = unpack("<HHH", wb, body)
                if ixfe in pct_xf:
                    percent.setdefault(current, set()).add(a1(r, c))
            elif rid == 0x00BD and size >= 6:  # MULRK: several RK cells of one row
                r, c = unpack("<HH", wb, body)
                n = (size - 6) // 6
                for k in range(n):
                    if unpack("<H", wb, body + 4 + 6 * k)[0] in pct_xf:
                        percent.setdefault(current, set()).add(a1(r, c + k))
            elif rid == 0x0006 and size >= 14:  # FORMULA: an error or a number result
                r, c, ixfe = unpack("<HHH", wb, body)
                if wb[body + 12] == 0xFF and wb[body + 13] == 0xFF:
                    if wb[body + 6] == 0x02:
                        errors.setdefault(current, {})[a1(r, c)] = _XLS_ERRORS.get(wb[body + 8], "#ERROR")
                elif ixfe in pct_xf:
                    percent.setdefault(current, set()).add(a1(r, c))
            elif rid == 0x0205 and size >= 8 and wb[body + 7] == 1:  # BOOLERR holding an error
                r, c = unpack("<HH", wb, body)
                errors.setdefault(current, {})[a1(r, c)] = _XLS_ERRORS.get(wb[body + 6], "#ERROR")
        pos = body + size
    return percent, errors
