"""Feedback workbooks for the departments: their own return, with every problem cell marked.

For each processed file WITH PROBLEMS (rejected, partially accepted, a duplicate, or any quarantined
value) a copy goes to the feedback folder (mirroring the raw sub-path, named `<stem>_反馈.xlsx`). A
clean file (accepted, every value loaded) gets no workbook: its receipt is its registry row
(`core.source_file`: status `accepted`, values loaded, received time, `feedback_path` NULL), worded by
`receipt_text`. Opening and saving a department's workbook with openpyxl was ≈ 94 % of the ingest
step's CPU while ≈ 99 % of the sample's files are clean. `write_feedback(..., clean_files=True)` still
writes the summary workbook for clean files on demand.

- a first sheet "反馈汇总" in Chinese: accepted or not, how many values were loaded and rejected,
  and every problem with sheet, cell, reason and what to fix (English alongside);
- every problem cell filled red and commented (Chinese, then English).

xlsx/xlsm are annotated in place with openpyxl (the department's layout, merged cells, hidden and
protected sheets are kept; its formulas become their cached values and links to other workbooks are
dropped, see `pipelines.safe_output.neutralize_workbook`). xls, ods and csv, which openpyxl cannot
open, are rebuilt cell by cell into a new xlsx and annotated there. A file that cannot be opened at all gets a workbook with the
summary sheet only. Nothing here raises for a bad input file.

Every text written here goes through `pipelines.safe_output.set_cell`: text from the upload (cell
contents, file and sheet names, messages) is a string cell, never a formula.

Plain functions; the inputs come from `core.source_file` and `core.quarantine`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from pipelines.returns.load import reason_text
from pipelines.returns.workers import default_workers, fork_map
from pipelines.safe_output import append_row, neutralize_workbook, set_cell

if TYPE_CHECKING:  # openpyxl is imported where a workbook is built: most runs write none (issue 18)
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

log = logging.getLogger(__name__)

SUMMARY_SHEET = "反馈汇总"
# Below this many workbooks to write, starting worker processes costs more than it saves.
PARALLEL_MIN_FEEDBACK = 8
SUFFIX = "_反馈.xlsx"
# File-level reasons meaning the file must not be opened again (the readers refused it).
UNREADABLE = frozenset(
    {
        "empty_file",
        "corrupt_archive",
        "unsupported_format",
        "file_too_large",
        "macro_enabled",
        "encrypted_file",
        "old_format",
    }
)
AUTHOR = "五创联动数据平台"
PROBLEM_COLOR = "FFFFC7CE"
HEADER_COLOR = "FFDDEBF7"
# openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE (control characters XML cannot hold), without the import
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _fill(color: str):
    from openpyxl.styles import PatternFill

    return PatternFill(fill_type="solid", start_color=color, end_color=color)


STATUS_ZH = {
    "accepted": "已接收：全部数值已入库",
    "partial": "部分接收：部分数值有问题未入库，请按下表修改后重新报送",
    "rejected": "拒收：整个文件未入库，请按下表修改后重新报送",
    "duplicate": "重复文件：与已收到的文件完全相同，未重复入库，无需处理",
}

# What the department should do, per reason code.
FIX_ZH = {
    "empty_file": "文件为空，请重新导出完整的报表后报送。",
    "corrupt_archive": "文件损坏或未完整上传，请用 Excel 打开确认后另存为 .xlsx 重新报送。",
    "unsupported_format": "请使用平台下发的 .xlsx 模板填报。",
    "macro_enabled": "请另存为不含宏的 .xlsx 文件后报送。",
    "file_too_large": "文件过大，请只保留报表内容后重新报送。",
    "no_header": "请保留表头行（指标名称、本期数值列），或使用平台下发的模板。",
    "unknown_unit": "请在标题中写明填报单位，或使用平台下发的模板。",
    "wrong_folder": "请确认填报单位；如为其他单位的报表，请由该单位报送。",
    "unknown_period": "请在标题或文件名中写明报告期（如 2012年3月）。",
    "period_in_future": "请核对报告期：报告期不能晚于报送日期。",
    "period_not_expected": "请核对报告期是否正确。",
    "duplicate_file": "无需处理；如需更正数据，请修改数值后报送新文件。",
    "no_values": "请在“本期数值”列填写数值后重新报送。",
    "unknown_indicator": "请使用模板中的指标名称（或指标代码）。",
    "ambiguous_indicator": "指标名称可能对应多个指标，请使用模板中的完整指标名称。",
    "not_a_number": "请填写数字（可带 %），不要填写文字；无数据请填“—”。",
    "out_of_range": "请核对数值及计量单位（如百分比不应超过 100）。",
    "wrong_unit": "请按模板中的计量单位填报。",
    "conflicting_values": "同一指标只保留一个数值。",
    "not_assigned": "该指标不由本单位填报，请删除该行或与牵头单位核实。",
    "encrypted_file": "文件设置了打开密码，请取消密码后重新报送。",
    "old_format": "旧版 Excel 格式，请用 Excel 或 WPS 另存为 .xlsx 后重新报送。",
    "other_area": "表中是其他地区的数据；请报送本县的数据，或在标题中写明本县名称。",
    "no_indicator": "表中没有创建指标目录中的指标，请使用平台下发的模板或指标目录中的名称。",
    "ambiguous_layout": "表格版式可按多种方式读取，请使用平台下发的模板，或请创建办在“导入映射”中确认。",
    "approximate_value": "请填写确切数值，不要写“约”“左右”等。",
    "bounded_value": "请填写确切数值，不要写“≥”“以上”“以下”等。",
    "range_value": "请填写一个确切数值，不要填写区间。",
    "formula_error": "单元格公式出错（如 #DIV/0!），请核对公式后填写数值。",
    "lookalike_indicator": "该名称是另一项统计指标，请核对是否为模板中的指标；如是，请使用模板名称。",
    "cumulative_value": "累计数不能代替本期数，请填写本期（本月/本季）数值。",
    "cumulative_period": "请按月、季或年分别报送，不要报送 1-6月、上半年等累计时段或跨年汇总。",
    "target_table": "请报送实际完成值；目标、计划值无需作为报表报送。",
    "suspect_fraction": "百分比请填写百分数（如 85.2），不要填写小数（0.852）。",
    "parse_failed": "平台读取出错，请联系创建办数据管理员。",
    "parse_error": "平台读取出错，请联系创建办数据管理员，无需修改报表。",
    "load_failed": "平台入库出错，请联系创建办数据管理员，无需修改报表。",
}


@dataclass(frozen=True)
class Issue:
    scope: str
    reason_code: str
    message_zh: str
    message_en: str
    sheet: str | None = None
    cell: str | None = None
    raw_text: str | None = None


@dataclass
class FileReport:
    """What the feedback workbook says about one file."""

    file_name: str
    rel_path: str
    status: str
    values_loaded: int = 0
    values_quarantined: int = 0
    message_zh: str = ""
    message_en: str = ""
    received_at: dt.datetime | None = None
    issues: list[Issue] = field(default_factory=list)


def needs_feedback(report: FileReport) -> bool:
    """A file gets a feedback workbook when the department has something to read in it: it was not
    accepted in full (rejected, partial, duplicate) or any of its values or cells was quarantined."""
    return report.status != "accepted" or report.values_quarantined > 0 or bool(report.issues)


# Files whose feedback workbook is still due (also those committed by a run that died before its
# feedback step). The same rule as `needs_feedback`, in SQL over the registry.
PENDING_FEEDBACK_SQL = (
    "SELECT f.file_id FROM core.source_file AS f WHERE f.feedback_path IS NULL AND ("
    "f.status <> 'accepted' OR coalesce(f.values_quarantined, 0) > 0 OR EXISTS ("
    "SELECT 1 FROM core.quarantine AS q WHERE q.file_id = f.file_id)) ORDER BY f.received_at, f.path"
)


def pending_feedback(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """file_ids of files with problems and no feedback workbook yet."""
    return [fid for (fid,) in conn.execute(PENDING_FEEDBACK_SQL).fetchall()]


def receipt_text(values_loaded: int, received_at: dt.datetime | None = None) -> tuple[str, str]:
    """(zh, en) receipt of a clean file (accepted, nothing quarantined), which gets no workbook."""
    when = received_at.strftime("%Y-%m-%d %H:%M") if received_at else ""
    zh = f"回执：{when + ' ' if when else ''}已接收，{values_loaded} 个数值全部入库，无需修改。"
    en = f"Receipt: {'received ' + when + ', ' if when else ''}accepted, all {values_loaded} values loaded; nothing to fix."
    return zh, en


def feedback_path_for(feedback_dir: Path, rel_path: str) -> Path:
    rel = Path(rel_path)
    return Path(feedback_dir) / rel.parent / f"{rel.stem}{SUFFIX}"


# --------------------------------------------------------------------------------------------
# Opening the department's workbook


def _clean(value):
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _safe_title(name: str, taken: set[str]) -> str:
    title = "".join("_" if ch in "[]:*?/\\" else ch for ch in (name or "Sheet")).strip("'") or "Sheet"
    title = title[:31]
    base, n = title, 1
    while title in taken or title == SUMMARY_SHEET:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}_{n}"
    taken.add(title)
    return title


def _read_grids(path: Path) -> list[tuple[str, list[list], list]]:
    """(sheet name, rows, merged ranges) via the parser's readers (with their guards against zip
    bombs and huge sheets; a refusal propagates), else plain calamine / csv."""
    try:
        from pipelines.returns.readers import read_book

        sheets = [(s.name, s.rows, list(s.merged)) for s in read_book(path).sheets]
        if sheets:
            return sheets
    except ImportError:
        pass
    if path.suffix.lower() == ".csv":
        import csv
        import io

        from charset_normalizer import from_bytes

        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            best = from_bytes(data).best()
            text = str(best) if best else data.decode("gb18030", errors="replace")
        return [(path.stem, list(csv.reader(io.StringIO(text))), [])]
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return [(n, wb.get_sheet_by_name(n).to_python(), []) for n in wb.sheet_names]


def _rebuild(path: Path) -> tuple[openpyxl.Workbook, dict[str, str]]:
    """A new workbook holding the file's cells; returns it and original → new sheet names."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    names: dict[str, str] = {}
    taken: set[str] = set()
    for name, rows, merged in _read_grids(path):
        ws = wb.create_sheet(_safe_title(name, taken))
        names[name] = ws.title
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None or value == "":
                    continue
                set_cell(ws.cell(row=r, column=c), value)
        for (r0, c0), (r1, c1) in merged:
            try:
                ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
            except ValueError:
                continue
    return wb, names


def _neutralize(wb: openpyxl.Workbook, path: Path) -> None:
    """The department's formulas must not reach whoever opens the feedback: each becomes its cached
    value (read again with data_only only when the workbook has formulas), external links go."""
    import openpyxl

    has_formulas = any(c.data_type == "f" for ws in wb.worksheets for c in ws._cells.values())
    cached = None
    if has_formulas:
        try:
            cached = openpyxl.load_workbook(path, data_only=True, rich_text=False)
        except Exception:  # the formulas' text is kept instead
            cached = None
    neutralize_workbook(wb, cached)


def open_workbook(path: Path) -> tuple[openpyxl.Workbook, dict[str, str], str]:
    """The department's workbook for annotation: (workbook, sheet-name map, how it was opened).

    how: "original" (annotated in place), "rebuilt" (cells copied into a new xlsx) or "none"
    (the file cannot be opened: an empty workbook to hold the summary).
    """
    import openpyxl

    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            wb = openpyxl.load_workbook(path, rich_text=False)
            _neutralize(wb, path)
            return wb, {ws.title: ws.title for ws in wb.worksheets}, "original"
        except Exception as exc:  # openpyxl refuses some files calamine reads
            log.info("openpyxl cannot open %s (%s); rebuilding", path.name, exc)
    try:
        wb, names = _rebuild(path)
        if wb.worksheets:
            return wb, names, "rebuilt"
    except Exception as exc:
        log.info("cannot read %s for feedback: %s", path.name, exc)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    return wb, {}, "none"


# --------------------------------------------------------------------------------------------
# Annotating


def _target_sheet(wb: openpyxl.Workbook, names: dict[str, str], sheet: str | None) -> Worksheet | None:
    if sheet in names and names[sheet] in wb.sheetnames:
        return wb[names[sheet]]
    if sheet and sheet in wb.sheetnames:
        return wb[sheet]
    data_sheets = [ws for ws in wb.worksheets if ws.title != SUMMARY_SHEET]
    # CSV and single-sheet rebuilds: the parser may name the sheet after the file.
    if len(data_sheets) == 1 and (sheet is None or len(names) <= 1):
        return data_sheets[0]
    return None


def _anchor(ws: Worksheet, ref: str):
    """The cell to annotate: the top-left cell when `ref` falls inside a merged range."""
    from openpyxl.cell.cell import MergedCell
    from openpyxl.utils.cell import coordinate_from_string

    coordinate_from_string(ref)  # raises ValueError for a malformed reference
    c = ws[ref]
    if isinstance(c, MergedCell):
        for rng in ws.merged_cells.ranges:
            if ref in rng:
                return ws.cell(row=rng.min_row, column=rng.min_col)
    return c


def annotate(wb: openpyxl.Workbook, names: dict[str, str], issues: list[Issue]) -> int:
    """Fill and comment every problem cell; returns how many cells were marked."""
    from openpyxl.comments import Comment

    problem_fill = _fill(PROBLEM_COLOR)
    texts: dict[tuple[str, str], list[str]] = {}
    cells = {}
    for i in issues:
        if not i.cell:
            continue
        ws = _target_sheet(wb, names, i.sheet)
        if ws is None:
            continue
        try:
            c = _anchor(ws, i.cell)
        except (ValueError, KeyError, IndexError):
            continue
        key = (ws.title, c.coordinate)
        cells[key] = c
        texts.setdefault(key, []).append(f"{i.message_zh}\n{i.message_en}")
    for key, c in cells.items():
        text = "\n\n".join(texts[key])
        c.fill = problem_fill
        comment = Comment(text[:30000], AUTHOR)
        comment.width, comment.height = 320, min(60 + 18 * text.count("\n") + len(text) // 2, 600)
        c.comment = comment
    return len(cells)


def write_summary(wb: openpyxl.Workbook, report: FileReport, how: str) -> Worksheet:
    if SUMMARY_SHEET in wb.sheetnames:
        wb[SUMMARY_SHEET].title = f"{SUMMARY_SHEET}_原"
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(SUMMARY_SHEET, 0)
    bold = Font(bold=True)
    append_row(ws, [f"报表反馈：{report.file_name}"])
    ws["A1"].font = Font(bold=True, size=14)
    status = STATUS_ZH.get(report.status, report.status)
    rows = [
        ("文件", report.rel_path),
        ("收到时间", report.received_at.strftime("%Y-%m-%d %H:%M") if report.received_at else ""),
        ("处理结果", status),
        ("入库数值个数", report.values_loaded),
        ("未入库数值个数", report.values_quarantined),
        ("问题个数", len(report.issues)),
        ("说明", report.message_zh),
        ("Summary (English)", report.message_en),
    ]
    if how == "rebuilt":
        rows.append(("注", "原文件不是 xlsx，本反馈按原文件内容重新生成；请修改原文件后重新报送。"))
    elif how == "none":
        rows.append(("注", "原文件无法打开，本反馈只含汇总表。"))
    for label, value in rows:
        append_row(ws, [label, value])
        ws.cell(row=ws.max_row, column=1).font = bold
    ws.append([])
    header = ["序号", "工作表", "单元格", "原始内容", "问题", "说明", "如何修改", "English"]
    append_row(ws, header)
    for col in range(1, len(header) + 1):
        c = ws.cell(row=ws.max_row, column=col)
        c.font, c.fill = bold, _fill(HEADER_COLOR)
    if not report.issues:
        append_row(ws, ["", "", "", "", "无", "未发现问题", "无需修改", "no problems found"])
    for n, i in enumerate(report.issues, start=1):
        append_row(
            ws,
            [
                n,
                i.sheet or "（整个文件）",
                i.cell or "",
                _clean(i.raw_text or ""),
                reason_text(i.reason_code)[0],
                _clean(i.message_zh),
                FIX_ZH.get(i.reason_code, "请核对后重新报送。"),
                _clean(i.message_en),
            ],
        )
    for col, width in zip("ABCDEFGH", (14, 16, 8, 16, 22, 60, 40, 60), strict=True):
        ws.column_dimensions[col].width = width
    # Wrap the long texts only (styling every cell costs more than the rest of the sheet).
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=8):
        for c in row:
            if isinstance(c.value, str) and len(c.value) > 20:
                c.alignment = wrap
    return ws


def build_feedback(source: Path, out: Path, report: FileReport) -> Path:
    """Write the feedback workbook for one file. Falls back to a summary-only workbook on any error.

    A file rejected as unreadable (empty, corrupt, too large, macro-enabled, unknown format) is not
    opened again: its feedback is the summary only."""
    import openpyxl

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    unreadable = any(i.scope == "file" and i.reason_code in UNREADABLE for i in report.issues)
    try:
        wb, names, how = open_workbook(source) if source.is_file() and not unreadable else (None, {}, "none")
        if wb is None:
            wb = openpyxl.Workbook()
            wb.remove(wb.active)
        annotate(wb, names, report.issues)
        write_summary(wb, report, how)
        for ws in wb.worksheets:
            ws.sheet_view.tabSelected = False
        wb.active = 0
        wb.save(tmp)
    except Exception as exc:
        log.warning("feedback for %s fell back to the summary only: %s", source.name, exc)
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        write_summary(wb, report, "none")
        wb.save(tmp)
    os.replace(tmp, out)
    return out


# --------------------------------------------------------------------------------------------
# From the warehouse


def load_reports(conn: duckdb.DuckDBPyConnection, file_ids: list[str]) -> dict[str, FileReport]:
    if not file_ids:
        return {}
    reports: dict[str, FileReport] = {}
    for fid, path, name, status, loaded, bad, zh, en, received in conn.execute(
        "SELECT file_id, path, file_name, status, values_loaded, values_quarantined, message_zh, "
        "message_en, received_at FROM core.source_file WHERE file_id IN (SELECT unnest(?))",
        [list(file_ids)],
    ).fetchall():
        reports[fid] = FileReport(name, path, status, loaded or 0, bad or 0, zh or "", en or "", received)
    for fid, scope, code, zh, en, sheet, ref, raw in conn.execute(
        "SELECT file_id, scope, reason_code, message_zh, message_en, sheet, cell, raw_text "
        "FROM core.quarantine WHERE file_id IN (SELECT unnest(?)) ORDER BY quarantine_id",
        [list(file_ids)],
    ).fetchall():
        if fid in reports:
            reports[fid].issues.append(Issue(scope, code, zh, en, sheet, ref, raw))
    return reports


def _build_job(job: tuple[Path, Path, FileReport]) -> Path | None:
    source, out, report = job
    try:
        return build_feedback(source, out, report)
    except OSError as exc:  # the feedback folder itself is not writable
        log.warning("cannot write feedback %s: %s", out, exc)
        return None


def write_feedback(
    conn: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    feedback_dir: Path,
    file_ids: list[str],
    workers: int | None = None,
    clean_files: bool = False,
) -> dict[str, Path]:
    """Write the feedback workbooks of those of the given files that have problems (`needs_feedback`;
    with `clean_files`, of every given file) and record `core.source_file.feedback_path` (relative to
    the feedback folder). Returns file_id → written path; a clean file is left out (its receipt is
    its registry row, see `receipt_text`).

    Many workbooks are built in parallel (`workers` processes, default: the usable cores); each
    is its own file, so the result is the same as building them one by one."""
    jobs = [
        (fid, Path(raw_dir) / r.rel_path, feedback_path_for(feedback_dir, r.rel_path), r)
        for fid, r in load_reports(conn, file_ids).items()
        if clean_files or needs_feedback(r)
    ]
    if workers is None:
        workers = default_workers() if len(jobs) >= PARALLEL_MIN_FEEDBACK else 1
    paths = fork_map(_build_job, [job[1:] for job in jobs], workers)
    written = {job[0]: path for job, path in zip(jobs, paths, strict=True) if path is not None}
    if written:
        rows = pa.table(
            {
                "file_id": list(written),
                "feedback_path": [p.relative_to(feedback_dir).as_posix() for p in written.values()],
            }
        )
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.register("_feedback_paths", rows)
            conn.execute(
                "UPDATE core.source_file AS f SET feedback_path = p.feedback_path "
                "FROM _feedback_paths AS p WHERE f.file_id = p.file_id"
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.unregister("_feedback_paths")
    return written
