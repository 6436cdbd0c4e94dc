"""The inspection package (迎检资料包) of one campaign: a zip ordered by the standard's clauses.

Layout:

    00_封面与目录/迎检资料目录.pdf      cover summary of readiness + the index (Chinese)
    00_封面与目录/迎检资料目录.docx     the same in Word
    00_封面与目录/指标数值与判定.xlsx   latest value, verdict and lineage of every requirement
    01_<clause>/…                       the clause's accepted evidence, one file per accepted item
    NN_<indicator clause>/指标数值与判定.xlsx + its accepted evidence

Only the latest version of an item, and only when the office accepted it, goes in: returned, awaiting
review and superseded versions never do. Every entry of the index names the file (path in the zip)
or says what is missing, with the responsible unit and the due date.

Deterministic: the same store, catalog, snapshot and `as_of` give the same bytes (zip entries in a
fixed order with a fixed timestamp, the PDF's creation date and the Word/xlsx document dates fixed to
`as_of`, inner office files repacked with fixed timestamps).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.archive import store as es
from pipelines.archive.service import Archive
from pipelines.safe_output import XLSXWRITER_OPTIONS, xml_text

STATE_ZH = {"accepted": "已审核通过", "submitted": "待审核", "returned": "已退回待重报", "missing": "缺失"}
STATUS_ZH = {
    "pass": "达标",
    "near": "临界",
    "fail": "未达标",
    "no_data": "无数据",
    "not_assessable": "无法评价",
}
EXT = {
    "pdf": ".pdf",
    "png": ".png",
    "jpeg": ".jpg",
    "docx": ".docx",
    "doc": ".doc",
    "odt": ".odt",
    "pptx": ".pptx",
    "xlsx": ".xlsx",
    "xls": ".xls",
    "ods": ".ods",
    "csv": ".csv",
}
SHEET_NAME = "指标数值与判定.xlsx"
INDEX_DIR = "00_封面与目录"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|\u2028\u2029]')


class NoFont(RuntimeError):
    """No CJK font on the system: the PDF index cannot be drawn."""


def safe_part(text: str, limit: int = 60) -> str:
    """A file or folder name part: no separators, control or reserved characters, bounded length."""
    out = _UNSAFE.sub("_", text).strip(" .")
    return (out or "_")[:limit]


def period_label(code: str) -> str:
    if code == "once":
        return "一次性"
    if "Q" in code:
        y, q = code.split("Q")
        return f"{y}年第{q}季度"
    if "-" in code:
        y, m = code.split("-")
        return f"{y}年{int(m)}月"
    return f"{code}年"


@dataclass
class Entry:
    clause_folder: str
    clause_code: str
    clause_name: str
    prerequisite: bool
    title: str
    period: str
    unit: str
    due: dt.date
    state: str
    required: int
    accepted: int
    files: list[tuple[str, str, str]]  # (path in zip, uploaded date, reviewed date)
    source: str
    assumed: bool


def _fixed_zip(members: list[tuple[str, bytes]], when: dt.date) -> bytes:
    buf = io.BytesIO()
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)
    return buf.getvalue()


def _repack(office: bytes, when: dt.date) -> bytes:
    """An OOXML file rewritten with fixed member timestamps (order kept)."""
    with zipfile.ZipFile(io.BytesIO(office)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    return _fixed_zip(members, when)


# ---------------------------------------------------------------- indicator values


COMPARISON_ZH = {
    ">=": "≥",
    "<=": "≤",
    ">": ">",
    "<": "<",
    "==": "=",
    "between": "区间",
    "qualitative": "定性",
}


def indicator_rows(
    conn, county: str, campaign: str, acceptance: dt.date, requirements: set[str] | None = None
) -> list[dict]:
    """The latest yearly county verdict of every requirement of the campaign up to the acceptance
    date (or the latest there is), with its value, threshold, verdict and lineage (file, sheet, cell)."""
    if conn is None:
        return []
    cur = conn.execute(
        """
        WITH v AS (
            SELECT v.*, row_number() OVER (
                PARTITION BY v.requirement_code
                ORDER BY (v.period_end <= ?) DESC, v.period_end DESC) AS rn
            FROM compliance.verdict v
            WHERE v.county_code = ? AND v.campaign_code = ? AND v.grain = 'year'
              AND v.subject_org_code = v.county_code
        )
        SELECT v.requirement_code, r.name_zh, v.period_code, v.value, v.value_text, v.comparison,
               v.threshold_token, v.status, v.is_veto, v.is_confirmed, v.is_proxy, v.explanation_zh,
               v.reporting_org_code, v.observation_ids
        FROM v LEFT JOIN dim.requirement r USING (requirement_code)
        WHERE v.rn = 1 ORDER BY v.requirement_code
        """,
        [acceptance, county, campaign],
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    if requirements is not None:  # the edition in force at acceptance only
        rows = [r for r in rows if r["requirement_code"] in requirements]
    ids = sorted({o for r in rows for o in (r["observation_ids"] or [])})
    files: dict[str, str] = {}
    if ids:
        for oid, fname in conn.execute(
            "SELECT o.observation_id, f.file_name FROM core.observation o JOIN core.source_file f USING (file_id) "
            "WHERE o.observation_id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        ).fetchall():
            files[oid] = fname
    for r in rows:
        refs = []
        for oid in r.pop("observation_ids") or []:
            cell = oid.rsplit(":", 1)[-1]
            refs.append(f"{files.get(oid, '?')} {cell}")
        r["lineage"] = "；".join(refs)
    return rows


def indicator_sheet(rows: list[dict], when: dt.date, unit_name=None) -> bytes:
    """xlsx of indicator rows; every text is a string cell (never a formula), via XLSXWRITER_OPTIONS."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {**XLSXWRITER_OPTIONS, "in_memory": True})
    stamp = dt.datetime(when.year, when.month, when.day)
    wb.set_properties({"title": "指标数值与判定", "created": stamp})
    ws = wb.add_worksheet("指标")
    head = [
        "指标",
        "期别",
        "数值",
        "文字值",
        "比较",
        "标准",
        "判定",
        "一票否决",
        "标准已核实",
        "代用标准",
        "说明",
        "报送单位",
        "来源（文件 单元格）",
    ]
    for c, h in enumerate(head):
        ws.write_string(0, c, h)
    for i, r in enumerate(rows, start=1):
        org = r.get("reporting_org_code") or ""
        vals = [
            r.get("name_zh") or "",
            r["period_code"],
            r["value"],
            r.get("value_text") or "",
            COMPARISON_ZH.get(r.get("comparison") or "", r.get("comparison") or ""),
            r.get("threshold_token") or "",
            STATUS_ZH.get(r["status"], r["status"] or ""),
            "是" if r.get("is_veto") else "否",
            "是" if r.get("is_confirmed") else "否",
            "是" if r.get("is_proxy") else "否",
            r.get("explanation_zh") or "",
            unit_name(org.split("-", 1)[-1]) if unit_name and org else org,
            r.get("lineage") or "",
        ]
        for c, v in enumerate(vals):
            if isinstance(v, int | float) and not isinstance(v, bool):
                ws.write_number(i, c, v)
            elif v is None:
                ws.write_blank(i, c, None)
            else:
                ws.write_string(i, c, xml_text(str(v)))
    ws.set_column(0, 0, 30)
    ws.set_column(10, 12, 40)
    wb.close()
    return _repack(buf.getvalue(), when)


# ---------------------------------------------------------------- the package


def build(archive: Archive, campaign: str, conn=None, as_of: dt.date | None = None) -> tuple[bytes, dict]:
    """(zip bytes, cover summary) of the campaign's package."""
    as_of = as_of or dt.date.today()
    prog = archive.profile.programme(campaign)
    camp = archive.catalog.campaigns[campaign]
    slot_rows = archive.slot_rows(campaign, as_of)
    clause_rows = archive.clause_rows(campaign, as_of)
    ind = []
    if conn is not None:
        from pipelines.marts.common import fetch_dicts

        ind = fetch_dicts(
            conn,
            "SELECT * FROM marts.campaign_readiness WHERE county_code = ? AND campaign_code = ?",
            [archive.county, campaign],
        )
    summary = archive.campaign_rows(campaign, as_of, ind)[0]
    latest = {v["item_id"]: v for v in archive.latest(campaign)}
    by_slot: dict[tuple, list[dict]] = {}
    for v in sorted(latest.values(), key=lambda v: (v["created_at"], v["item_id"])):
        if v["review_state"] == "accepted":
            by_slot.setdefault(
                (v["campaign_code"], v["clause_code"], v["item_code"], v["period_code"]), []
            ).append(v)
    values = indicator_rows(
        conn,
        archive.county,
        campaign,
        prog.acceptance,
        {c["requirement_code"] for c in clause_rows if c["requirement_code"]},
    )
    values_by_req: dict[str, list[dict]] = {}
    for r in values:
        values_by_req.setdefault(r["requirement_code"], []).append(r)

    members: list[tuple[str, bytes]] = []
    entries: list[Entry] = []
    folders: dict[str, str] = {}
    for i, c in enumerate(clause_rows, start=1):
        folders[c["clause_code"]] = f"{i:02d}_{safe_part(c['clause_name_zh'], 40)}"
    for s in slot_rows:
        folder = folders[s["clause_code"]]
        files = []
        for n, v in enumerate(
            by_slot.get((campaign, s["clause_code"], s["item_code"], s["period_code"]), []), start=1
        ):
            name = f"{safe_part(period_label(s['period_code']), 16)}_{safe_part(s['title_zh'], 50)}_第{n}份_v{v['version']}"
            path = f"{folder}/{name}{EXT.get(v['content_type'], '')}"
            members.append((path, es.read_blob(archive.paths.store, v["store_path"], v["sha256"])))
            files.append((path, (v["uploaded_at"] or "")[:10], (v["reviewed_at"] or "")[:10]))
        entries.append(
            Entry(
                clause_folder=folder,
                clause_code=s["clause_code"],
                clause_name=s["clause_name_zh"],
                prerequisite=s["prerequisite"],
                title=s["title_zh"],
                period=period_label(s["period_code"]),
                unit=archive.unit_name(s["provider_short"]),
                due=s["due_date"],
                state=s["state"],
                required=s["required"],
                accepted=s["accepted"],
                files=files,
                source=s["source"],
                assumed=s["assumed"],
            )
        )
    for c in clause_rows:
        if c["requirement_code"] and values_by_req.get(c["requirement_code"]):
            members.append(
                (
                    f"{folders[c['clause_code']]}/{SHEET_NAME}",
                    indicator_sheet(values_by_req[c["requirement_code"]], as_of, archive.unit_name),
                )
            )
    cover = {
        "county": archive.profile.name_zh,
        "campaign": camp.name_zh,
        "edition": (
            camp.edition_in_force(prog.acceptance).name_zh if camp.edition_in_force(prog.acceptance) else ""
        ),
        "acceptance": prog.acceptance,
        "as_of": as_of,
        **summary,
        "prerequisite_missing_names": [c["clause_name_zh"] for c in clause_rows if c["prerequisite_missing"]],
        "n_files": len(members) + 3,  # with the index PDF, Word and the campaign sheet
    }
    members.append((f"{INDEX_DIR}/{SHEET_NAME}", indicator_sheet(values, as_of, archive.unit_name)))
    members.append((f"{INDEX_DIR}/迎检资料目录.docx", index_docx(cover, clause_rows, entries, as_of)))
    members.append((f"{INDEX_DIR}/迎检资料目录.pdf", index_pdf(cover, clause_rows, entries, as_of)))
    members.sort(key=lambda m: m[0])
    return _fixed_zip(members, as_of), cover


def write(archive: Archive, campaign: str, out: Path, conn=None, as_of: dt.date | None = None) -> dict:
    data, cover = build(archive, campaign, conn, as_of)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return cover


# ---------------------------------------------------------------- the index (PDF and Word)


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def cover_lines(cover: dict) -> list[str]:
    lines = [
        f"县：{cover['county']}　创建项目：{cover['campaign']}",
        f"执行标准：{cover['edition']}",
        f"计划验收日期：{cover['acceptance']:%Y年%m月%d日}　资料统计截至：{cover['as_of']:%Y年%m月%d日}",
        f"应交资料 {cover['required']} 份，已提交 {cover['provided']} 份，审核通过 {cover['accepted']} 份，"
        f"缺 {cover['missing']} 份，退回待重报 {cover['n_returned']} 份，逾期 {cover['n_overdue']} 项",
        f"资料齐全率（审核通过/应交）：{_pct(cover['share_accepted'])}；档案准备度：{_pct(cover['archive_readiness'])}"
        + ("（前提条件资料缺失，封顶 60%）" if cover["is_capped"] else ""),
        f"指标准备度（{cover['indicator_period_code'] or '无数据'}）：{_pct(cover['indicator_readiness'])}；"
        f"综合准备度：{_pct(cover['overall_readiness'])}",
    ]
    if cover["prerequisite_missing_names"]:
        lines.append("前提条件资料缺失的条款：" + "、".join(cover["prerequisite_missing_names"]))
    lines.append(
        f"条款 {cover['n_clauses']} 项，资料齐全 {cover['n_clauses_complete']} 项；资料包内文件 {cover['n_files']} 个"
    )
    return lines


def _entry_line(e: Entry) -> str:
    files = "；".join(p for p, _u, _r in e.files) if e.files else "—"
    dates = "；".join(f"上传{u} 审核{r}" for _p, u, r in e.files)
    return (
        f"{e.title}｜{e.period}｜{e.unit}｜截止{e.due:%Y-%m-%d}｜{STATE_ZH[e.state]} {e.accepted}/{e.required}"
        + (f"｜{dates}" if dates else "")
        + f"｜文件：{files}"
        + ("｜（推断）" if e.assumed else "")
    )


def index_pdf(cover: dict, clause_rows: list[dict], entries: list[Entry], as_of: dt.date) -> bytes:
    from fpdf import FPDF

    from dashboards.exports import find_cjk_font  # the one CJK font lookup of the project

    font = find_cjk_font()
    if font is None:
        raise NoFont("系统中未找到中文字体（fonts-noto-cjk） / no CJK font found (fonts-noto-cjk)")
    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC))
    pdf.set_title("迎检资料目录")
    pdf.set_producer("wuchuang")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    pdf.add_page()
    pdf.set_margins(14, 14, 14)
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(
        0, 10, f"{cover['county']}{cover['campaign']}迎检资料目录", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(0, 7, "封面：准备度摘要", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    for line in cover_lines(cover):
        pdf.multi_cell(0, 6, line, align="L", new_x="LMARGIN", new_y="NEXT")
    by_clause: dict[str, list[Entry]] = {}
    for e in entries:
        by_clause.setdefault(e.clause_code, []).append(e)
    pdf.ln(3)
    for c in clause_rows:
        es_ = by_clause.get(c["clause_code"], [])
        if not es_:
            continue
        pdf.set_font("cjk", size=11.5)
        flag = "【前提条件】" if c["prerequisite"] else ""
        pdf.multi_cell(
            0,
            7,
            f"{es_[0].clause_folder}　{flag}已通过 {c['accepted']}/{c['required']}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("cjk", size=8.5)
        pdf.multi_cell(0, 4.6, f"依据：{es_[0].source}", align="L", new_x="LMARGIN", new_y="NEXT")
        for e in es_:
            pdf.multi_cell(0, 4.6, "• " + _entry_line(e), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    return bytes(pdf.output())


def index_docx(cover: dict, clause_rows: list[dict], entries: list[Entry], as_of: dt.date) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    stamp = dt.datetime(as_of.year, as_of.month, as_of.day)
    doc.core_properties.created = stamp
    doc.core_properties.modified = stamp
    doc.core_properties.last_printed = stamp
    doc.core_properties.title = "迎检资料目录"
    doc.core_properties.author = "wuchuang"
    doc.core_properties.last_modified_by = "wuchuang"
    style = doc.styles["Normal"]
    style.font.name = "Noto Sans CJK SC"
    style.font.size = Pt(10)
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")
    doc.add_heading(xml_text(f"{cover['county']}{cover['campaign']}迎检资料目录"), level=1)
    doc.add_heading("封面：准备度摘要", level=2)
    for line in cover_lines(cover):
        doc.add_paragraph(xml_text(line))
    by_clause: dict[str, list[Entry]] = {}
    for e in entries:
        by_clause.setdefault(e.clause_code, []).append(e)
    for c in clause_rows:
        es_ = by_clause.get(c["clause_code"], [])
        if not es_:
            continue
        flag = "【前提条件】" if c["prerequisite"] else ""
        doc.add_heading(
            xml_text(f"{es_[0].clause_folder}　{flag}已通过 {c['accepted']}/{c['required']}"), level=2
        )
        doc.add_paragraph(xml_text(f"依据：{es_[0].source}"))
        table = doc.add_table(rows=1, cols=7)
        table.style = "Table Grid"
        for cell, h in zip(
            table.rows[0].cells, ("资料", "期别", "提供单位", "截止日期", "状态", "日期", "文件"), strict=True
        ):
            cell.text = h
        for e in es_:
            cells = table.add_row().cells
            vals = (
                e.title + ("（推断）" if e.assumed else ""),
                e.period,
                e.unit,
                f"{e.due:%Y-%m-%d}",
                f"{STATE_ZH[e.state]} {e.accepted}/{e.required}",
                "；".join(f"上传{u} 审核{r}" for _p, u, r in e.files),
                "；".join(p for p, _u, _r in e.files) or "—",
            )
            for cell, v in zip(cells, vals, strict=True):
                cell.text = xml_text(v)
    buf = io.BytesIO()
    doc.save(buf)
    return _repack(buf.getvalue(), as_of)
