"""督查 / self-inspection spreadsheets: points × checklist items with scores, 问题描述 and 照片编号.

Files come from the supervision drop folder (`WUCHUANG_SUPERVISION_DIR`, default
`supervision/` next to the raw folder, i.e. `data/supervision/`; NOT under the raw folder the return
ingest reads), laid out
`<county>/<any sub-folders>/<file>`. They are read with the return ingest's reader
(`pipelines.returns.readers.read_book`: format sniffing, xlsx/xls/ods/csv, merged cells) and every
record keeps its file, sheet and cell. Problems are named with file, sheet, cell and a reason in
Chinese and English, and each file with a problem gets a feedback workbook (the return ingest's
`pipelines.returns.feedback.build_feedback`) under `<feedback>/supervision/`.

Layouts recognised (one sheet = one inspection round of one point type; several sheets per file):
- a title row (the round: 自查 → self-inspection, 督查 → supervision; the point type named in it),
  a line with the date (督查日期 / 检查时间 / a date anywhere above the header) and the team (督查组);
- a header row with the point-name column (点位名称 / 检查点位 / 点位 / 名称) and item columns named as
  the checklist's items (a trailing “（20分）” / “满分20” is ignored), optionally 所在乡镇, 包保单位,
  得分合计 / 总分, 问题描述 / 存在问题, 照片编号; a two-row header (检查项目 merged over the items) is read
  as the row below;
- data rows; blank rows, notes (备注 / 注： / 说明), signature lines and totals (合计 / 平均 / 总计)
  are skipped.
Scores: numbers, numbers as text, full-width digits and “18分” are read; anything else, a score
outside 0..max, an unknown point or an unknown column header is a problem (the cell is not used;
the rest of the sheet is). A sheet without a date or a point column is rejected as a whole.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.plan_process.points import Checklist, Point
from pipelines.returns import feedback, readers
from pipelines.returns.cells import a1

SUFFIXES = (".xlsx", ".xls", ".ods", ".csv")
POINT_HEADERS = ("点位名称", "检查点位", "点位", "名称", "检查对象", "单位名称")
TOWN_HEADERS = ("所在乡镇", "乡镇", "所属乡镇")
UNIT_HEADERS = ("包保单位", "责任单位", "包干单位")
TOTAL_HEADERS = ("得分合计", "合计得分", "总分", "得分", "合计")
PROBLEM_HEADERS = ("问题描述", "存在问题", "主要问题", "问题")
PHOTO_HEADERS = ("照片编号", "照片", "图片编号")
SKIP_PREFIXES = (
    "备注",
    "注：",
    "注:",
    "说明",
    "合计",
    "平均",
    "总计",
    "小计",
    "填表",
    "督查组长",
    "检查人",
    "签字",
)
REASONS = {
    "no_date": ("未写明检查日期", "no inspection date"),
    "no_point_column": ("找不到“点位名称”列", "no point-name column"),
    "no_items": ("没有可识别的检查项目列", "no recognisable checklist item column"),
    "unknown_point": ("点位不在点位清单中", "point not in the points list"),
    "unknown_column": ("列名不是该类检查表的项目", "column is not an item of this checklist"),
    "not_a_number": ("得分不是数字", "score is not a number"),
    "out_of_range": ("得分超出该项满分范围", "score outside 0..max"),
    "missing_score": ("未评分", "no score"),
    "total_mismatch": (
        "合计与各项得分之和不符（以各项为准）",
        "total differs from the item scores (items used)",
    ),
    "unreadable": ("文件无法读取", "the file cannot be read"),
}
_DATE_RE = re.compile(r"(20\d\d)\s*[年\-./]\s*(\d{1,2})\s*[月\-./]\s*(\d{1,2})")
_TEAM_RE = re.compile(r"(?:督查组|自查组|检查组)\s*[:：]\s*(\S+)")
_NUM_RE = re.compile(r"^([-+]?\d+(?:\.\d+)?)\s*分?$")
_MAX_RE = re.compile(r"[（(]?\s*(?:满分)?\s*\d+(?:\.\d+)?\s*分?\s*[)）]?$")


@dataclass
class FileResult:
    rel_path: str
    status: str = "accepted"  # accepted | partial | rejected
    inspections: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)


def norm(text) -> str:
    s = unicodedata.normalize("NFKC", str(text if text is not None else "")).strip()
    return re.sub(r"\s+", "", s)


def _label(text) -> str:
    """A header without its '(20分)' / '满分20' decoration."""
    s = norm(text)
    s = re.sub(r"[（(][^）)]*分[^）)]*[)）]$", "", s)
    return _MAX_RE.sub("", s) or s


def parse_score(value) -> tuple[float | None, str | None]:
    """(score, reason): reason is None for a number, 'missing_score' for an empty cell, else 'not_a_number'."""
    if isinstance(value, bool):
        return None, "not_a_number"
    if isinstance(value, int | float):
        return float(value), None
    s = norm(value)
    if s in ("", "—", "-", "/", "／"):
        return None, "missing_score"
    m = _NUM_RE.match(s)
    return (float(m.group(1)), None) if m else (None, "not_a_number")


def find_date(texts: list[str]) -> dt.date | None:
    for t in texts:
        m = _DATE_RE.search(norm(t))
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
        if isinstance(t, dt.datetime | dt.date):
            return t if isinstance(t, dt.date) and not isinstance(t, dt.datetime) else t.date()
    return None


class PointIndex:
    def __init__(self, points: list[Point]):
        self.by_name: dict[str, Point] = {}
        for p in points:
            for n in (p.name_zh, p.code, *p.aliases):
                self.by_name[norm(n)] = p

    def find(self, name) -> Point | None:
        return self.by_name.get(norm(name))


def _issue(
    res: FileResult, reason: str, sheet: str | None, cell: str | None, raw=None, detail: str = ""
) -> None:
    zh, en = REASONS[reason]
    where_zh = (
        f"文件“{Path(res.rel_path).name}”"
        + (f"工作表“{sheet}”" if sheet else "")
        + (f"单元格 {cell}" if cell else "")
    )
    where_en = (
        f"file {Path(res.rel_path).name}"
        + (f", sheet {sheet}" if sheet else "")
        + (f", cell {cell}" if cell else "")
    )
    shown = "" if raw in (None, "") else f"（“{str(raw)[:40]}”）"
    res.issues.append(
        {
            "rel_path": res.rel_path,
            "sheet": sheet,
            "cell": cell,
            "reason_code": reason,
            "raw_text": None if raw in (None, "") else str(raw)[:200],
            "message_zh": f"{where_zh}：{zh}{shown}{detail and '：' + detail}",
            "message_en": f"{where_en}: {en}"
            + (f" ({str(raw)[:40]!r})" if shown else "")
            + (f": {detail}" if detail else ""),
        }
    )


def _header_row(sheet: readers.Sheet, limit: int = 15) -> int | None:
    for r in range(min(limit, len(sheet.rows))):
        cells = [norm(v) for v in sheet.rows[r]]
        if any(c in POINT_HEADERS for c in cells):
            return r
    return None


def _checklist_for(title: str, checklists: dict[str, Checklist], types_seen: list[str]) -> Checklist | None:
    t = norm(title)
    for cl in checklists.values():
        if norm(cl.name_zh) in t:
            return cl
    if types_seen:
        best = max(set(types_seen), key=types_seen.count)
        return checklists.get(best)
    return None


def read_sheet(
    sheet: readers.Sheet, res: FileResult, county: str, points: PointIndex, checklists: dict[str, Checklist]
) -> None:
    hr = _header_row(sheet)
    if hr is None:
        if sheet.has_cells():
            _issue(res, "no_point_column", sheet.name, None)
        return
    above = [v for r in range(hr) for v in sheet.rows[r] if v not in ("", None)]
    title = next((str(v) for v in above if isinstance(v, str) and ("查" in v or "评分" in v)), sheet.name)
    day = find_date(above) or find_date([sheet.name])
    team = None
    for v in above:
        m = _TEAM_RE.search(unicodedata.normalize("NFKC", str(v)))
        if m:
            team = m.group(1)
            break
    header = [norm(v) for v in sheet.rows[hr]]
    below = [norm(v) for v in sheet.rows[hr + 1]] if hr + 1 < len(sheet.rows) else []
    # Two-row header: the row below names the items under a merged group header.
    sub = (
        bool(below)
        and not any(points.find(v) for v in below)
        and sum(1 for v in below if v) >= 2
        and not any(parse_score(v)[1] is None for v in below if v)
    )
    labels = []
    for c in range(max(len(header), len(below) if sub else 0)):
        top = header[c] if c < len(header) else ""
        low = below[c] if sub and c < len(below) else ""
        labels.append(_label(low or top))
    first_data = hr + (2 if sub else 1)
    col = {}
    for c, lab in enumerate(labels):
        for role, words in (
            ("point", POINT_HEADERS),
            ("town", TOWN_HEADERS),
            ("unit", UNIT_HEADERS),
            ("problem", PROBLEM_HEADERS),
            ("photo", PHOTO_HEADERS),
            ("total", TOTAL_HEADERS),
        ):
            if lab in words and role not in col:
                col[role] = c
    # Point types of the rows, to choose the checklist when the title does not name one.
    types_seen = []
    for r in range(first_data, len(sheet.rows)):
        p = points.find(sheet.cell(r, col["point"]))
        if p:
            types_seen.append(p.type)
    cl = _checklist_for(title, checklists, types_seen)
    if day is None:
        _issue(res, "no_date", sheet.name, a1(0, 0), title)
        return
    if cl is None:
        _issue(res, "no_items", sheet.name, a1(hr, 0))
        return
    by_label = {}
    for it in cl.items:
        by_label[norm(it.name_zh)] = it
        by_label[norm(it.code)] = it
    item_cols: dict[int, object] = {}
    used = set(col.values())
    for c, lab in enumerate(labels):
        if c in used or not lab or lab in ("序号", "编号", "检查项目", "检查项目及得分", "评分项目"):
            continue
        it = by_label.get(lab) or next(
            (i for k, i in by_label.items() if len(k) >= 4 and (k in lab or lab in k)), None
        )
        if it is None:
            _issue(
                res,
                "unknown_column",
                sheet.name,
                a1(first_data - 1, c),
                lab,
                f"{cl.name_zh}检查表 / checklist {cl.name_en}",
            )
            continue
        item_cols[c] = it
    if not item_cols:
        _issue(res, "no_items", sheet.name, a1(hr, 0))
        return
    kind = "self" if "自查" in title else "supervision"
    for r in range(first_data, len(sheet.rows)):
        row = sheet.rows[r]
        texts = [norm(v) for v in row if v not in ("", None)]
        if not texts:
            continue
        name = norm(sheet.cell(r, col["point"]))
        first = texts[0]
        if not name or first.startswith(SKIP_PREFIXES) or name.startswith(SKIP_PREFIXES):
            continue
        point = points.find(name)
        if point is None:
            _issue(res, "unknown_point", sheet.name, a1(r, col["point"]), name)
            continue
        iid = f"sheet:{res.rel_path}:{sheet.name}:{r + 1}"
        problem = norm(sheet.cell(r, col["problem"])) if "problem" in col else ""
        photo = norm(sheet.cell(r, col["photo"])) if "photo" in col else ""
        got = 0.0
        n_ok = 0
        for c, it in item_cols.items():
            raw = sheet.cell(r, c)
            score, why = parse_score(raw)
            if why:
                _issue(res, why, sheet.name, a1(r, c), raw, f"{point.name_zh} · {it.name_zh}")
                continue
            if not 0 <= score <= it.max_score:
                _issue(
                    res,
                    "out_of_range",
                    sheet.name,
                    a1(r, c),
                    raw,
                    f"{it.name_zh} 满分 {it.max_score:g} / max {it.max_score:g}",
                )
                continue
            n_ok += 1
            got += score
            res.scores.append(
                {
                    "inspection_id": iid,
                    "item_code": it.code,
                    "score": score,
                    "max_score": it.max_score,
                    "problem": problem or None,
                    "photo_ref": photo or None,
                    "sheet": sheet.name,
                    "cell": a1(r, c),
                }
            )
        if "total" in col and n_ok == len(item_cols):
            tot, why = parse_score(sheet.cell(r, col["total"]))
            if why is None and abs(tot - got) > 0.01:
                _issue(
                    res,
                    "total_mismatch",
                    sheet.name,
                    a1(r, col["total"]),
                    sheet.cell(r, col["total"]),
                    f"{got:g}",
                )
        if n_ok:
            res.inspections.append(
                {
                    "inspection_id": iid,
                    "county_code": county,
                    "point_code": point.code,
                    "checklist_type": cl.type,
                    "inspected_on": day,
                    "round_kind": kind,
                    "round_name": norm(title)[:120],
                    "team": team,
                    "source": "spreadsheet",
                    "source_file": res.rel_path,
                    "sheet": sheet.name,
                    "row_cell": a1(r, col["point"]),
                    "problem_text": problem or None,
                    "photo_ref": photo or None,
                }
            )


def read_file(
    path: Path, rel_path: str, county: str, points: list[Point], checklists: dict[str, Checklist]
) -> FileResult:
    res = FileResult(rel_path)
    try:
        book = readers.read_book(path)
    except readers.ReadError as exc:
        _issue(res, "unreadable", None, None, None, exc.reason)
        res.status = "rejected"
        return res
    index = PointIndex(points)
    for sheet in book.sheets:
        if sheet.is_visible:
            read_sheet(sheet, res, county, index, checklists)
    if not res.inspections:
        res.status = "rejected"
    elif res.issues:
        res.status = "partial"
    return res


def supervision_dir(settings) -> Path:
    env = os.environ.get("WUCHUANG_SUPERVISION_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return Path(settings.raw_dir).parent / "supervision"


def read_folder(
    folder: Path, county: str, points: list[Point], checklists: dict[str, Checklist]
) -> list[FileResult]:
    base = Path(folder) / county
    if not base.is_dir():
        return []
    out = []
    for path in sorted(base.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith((".", "~")):
            out.append(read_file(path, path.relative_to(folder).as_posix(), county, points, checklists))
    return out


def write_feedback(folder: Path, feedback_dir: Path, results: list[FileResult]) -> list[Path]:
    """A feedback workbook for every file with a problem (cells marked red and commented)."""
    written = []
    for res in results:
        if not res.issues:
            continue
        report = feedback.FileReport(
            file_name=Path(res.rel_path).name,
            rel_path=res.rel_path,
            status=res.status,
            values_loaded=len(res.scores),
            values_quarantined=sum(1 for i in res.issues if i["cell"]),
            message_zh=f"督查表：读入 {len(res.inspections)} 个点位、{len(res.scores)} 项得分；{len(res.issues)} 处问题",
            message_en=f"inspection sheet: {len(res.inspections)} point(s), {len(res.scores)} score(s) read; {len(res.issues)} problem(s)",
            issues=[
                feedback.Issue(
                    "cell" if i["cell"] else ("sheet" if i["sheet"] else "file"),
                    i["reason_code"],
                    i["message_zh"],
                    i["message_en"],
                    i["sheet"],
                    i["cell"],
                    i["raw_text"],
                )
                for i in res.issues
            ],
        )
        out = feedback.feedback_path_for(Path(feedback_dir) / "supervision", res.rel_path)
        written.append(feedback.build_feedback(Path(folder) / res.rel_path, out, report))
    return written
