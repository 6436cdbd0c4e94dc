"""Downloads: CSV and xlsx of any table, and the monthly briefing as PDF (fpdf2) or Word (python-docx).

Plain functions, no Streamlit import. The PDF needs a CJK font installed on the system (Debian:
fonts-noto-cjk); `find_cjk_font()` looks for one and the briefing page offers Word when none is found.

Every download goes through `pipelines.safe_output`: text that a spreadsheet could take for a formula is
quoted in CSV and written as a string cell in xlsx; briefing text drops the control characters Word
cannot hold, and the on-screen Markdown escapes its markup characters.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.safe_output import XLSXWRITER_OPTIONS, csv_frame, neutralize_workbook, xml_text

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# Preferred files, then any file whose name suggests a Simplified Chinese face. (path glob, TTC face index)
FONT_CANDIDATES = (
    ("NotoSansCJKsc-Regular.otf", 0),
    ("NotoSansSC-Regular.otf", 0),
    ("NotoSansSC-Regular.ttf", 0),
    ("NotoSansCJK-Regular.ttc", 2),  # faces: JP, KR, SC, TC, HK
    ("NotoSerifCJK-Regular.ttc", 2),
    ("wqy-microhei.ttc", 0),
    ("wqy-zenhei.ttc", 0),
    ("SourceHanSansSC-Regular.otf", 0),
)


@dataclass(frozen=True)
class CJKFont:
    path: Path
    index: int = 0


def find_cjk_font(dirs: tuple[Path, ...] = FONT_DIRS) -> CJKFont | None:
    for name, index in FONT_CANDIDATES:
        for d in dirs:
            if not d.is_dir():
                continue
            for hit in sorted(d.rglob(name)):
                if hit.is_file():
                    return CJKFont(hit, index)
    return None


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel opens Chinese text correctly; formula-like text is quoted."""
    return csv_frame(df).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_localize(None)
        elif out[c].dtype == object:
            out[c] = out[c].map(_xlsx_value)
    # Strings (column names too) are written as string cells: never formulas or hyperlinks.
    out.columns = [str(c) for c in out.columns]
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": XLSXWRITER_OPTIONS}) as w:
        out.to_excel(w, sheet_name=_sheet_name(sheet), index=False)
    return buf.getvalue()


MAX_WORKBOOK_BYTES = 50 * 1024 * 1024


def workbook_bytes(path: Path) -> bytes | None:
    """A stored workbook (a feedback file) as served for download: re-saved with every formula cell
    replaced by its cached value and outside links dropped, so a file written before formulas were
    neutralised is safe too. None if the file cannot be read as a workbook."""
    import openpyxl

    try:
        if path.stat().st_size > MAX_WORKBOOK_BYTES:
            return None
        wb = openpyxl.load_workbook(path, rich_text=False)
        has_formulas = any(c.data_type == "f" for ws in wb.worksheets for c in ws._cells.values())
        if not has_formulas and not wb._external_links:
            return path.read_bytes()
        cached = openpyxl.load_workbook(path, data_only=True, rich_text=False) if has_formulas else None
        neutralize_workbook(wb, cached)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    except Exception:  # unreadable or not a workbook: nothing is served
        return None


def _xlsx_value(v):
    """A value xlsxwriter writes as itself: lists joined, aware datetimes made naive, other objects
    (structs, UUIDs, bytes, intervals) as their text."""
    if v is None or isinstance(v, str | bool | int | float | decimal.Decimal | dt.date):
        if isinstance(v, dt.datetime | dt.time) and v.tzinfo is not None:
            return v.replace(tzinfo=None)
        return v
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return str(v)


def _sheet_name(name: str) -> str:
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in xml_text(name or "")).strip("'")
    return name[:31] or "data"


# Characters with a meaning in Streamlit's Markdown (links, images, emphasis, HTML, LaTeX, colours).
_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:=")


def md_escape(text: str) -> str:
    """Text shown literally by st.markdown: no links, images, HTML or directives from the data."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(text).replace("\n", " "))


@dataclass
class Briefing:
    title: str
    subtitle: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    def markdown(self) -> str:
        out = [f"### {md_escape(self.title)}", md_escape(self.subtitle), ""]
        for heading, lines in self.sections:
            out.append(f"**{md_escape(heading)}**")
            out.extend(f"- {md_escape(line)}" for line in lines)
            out.append("")
        return "\n".join(out)


def briefing_pdf(b: Briefing, font: CJKFont) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    pdf.add_page()
    pdf.set_margins(16, 14, 16)
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 9, b.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.multi_cell(0, 6, b.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for heading, lines in b.sections:
        pdf.set_font("cjk", size=12)
        pdf.multi_cell(0, 7, heading, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9.5)
        for line in lines:
            pdf.multi_cell(0, 5.2, f"• {line}", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    return bytes(pdf.output())


def briefing_docx(b: Briefing) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Noto Sans CJK SC"
    style.font.size = Pt(10.5)
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")
    # Plain runs only (no fields, no hyperlinks): text from the data cannot become a field or formula.
    doc.add_heading(xml_text(b.title), level=1)
    doc.add_paragraph(xml_text(b.subtitle))
    for heading, lines in b.sections:
        doc.add_heading(xml_text(heading), level=2)
        for line in lines:
            doc.add_paragraph(xml_text(line), style="List Bullet")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
