"""Task ledgers (任务台账): read task, owner unit, due date and status from spreadsheets under the raw
folder (file name contains 任务台账; xlsx / xls / ods / csv), ingested like any return: bad input never
crashes, every problem is recorded with file, sheet and cell, in Chinese and English.

Row rules:
- the header row is the first of the first 15 rows naming a task column (任务/任务内容/工作任务/…) and at
  least one of owner, due date or status;
- blank rows and footer rows (填报/制表/审核/说明/注…) are skipped;
- a row with content but no task text is rejected (missing_task);
- an owner that matches no unit name or alias keeps the row with owner_org_code NULL (unknown_owner);
- an unreadable due date keeps the row with due_date NULL (bad_date); an unknown status text keeps the
  row with status NULL (bad_status).
The sample ledger is written by `pipelines.sample.task_ledger.write_sample_task_ledger`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
import unicodedata
from pathlib import Path

from pipelines.returns.readers import ReadError, read_book

LEDGER_MARK = "任务台账"
SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}
HEADER_SCAN_ROWS = 15

HEADERS = {
    "task_code": ("序号", "编号", "任务编号"),
    "campaign": ("创建项目", "项目", "所属项目", "创建类别"),
    "task_name": ("任务", "任务内容", "工作任务", "任务名称", "重点任务", "工作内容", "具体任务"),
    "owner": ("责任单位", "牵头单位", "责任部门", "牵头部门", "责任单位（牵头）", "牵头责任单位"),
    "due": ("完成时限", "完成时间", "截止日期", "时限要求", "时限", "计划完成时间", "完成期限"),
    "status": ("完成情况", "状态", "进展情况", "进度", "推进情况", "任务状态"),
    "completed": ("实际完成时间", "完成日期", "实际完成日期"),
    "remark": ("备注",),
}
STATUS = {
    "done": ("已完成", "完成", "已办结", "办结", "已完成验收", "已落实", "done"),
    "in_progress": ("推进中", "进行中", "正在推进", "部分完成", "正在实施", "实施中", "in progress"),
    "not_started": ("未开始", "未启动", "尚未启动", "未完成", "待启动", "not started"),
}
FOOTER = re.compile(r"^(填报|制表|审核|说明|注[:：]|备注[:：]|负责人)")
_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})(?:\s*[月\-/.]\s*(?:(\d{1,2})\s*日?)?)?")
_YEAR_ONLY = re.compile(r"^(\d{4})\s*年(?:底|末)?$")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip()


def col_letter(idx: int) -> str:
    s, n = "", idx + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def parse_date(value: object) -> dt.date | None:
    """A due date from a cell: a date, an Excel serial, or text like 2013年6月30日 / 2013-06 / 2013年底.

    A month without a day means the month's end; a year alone (2013年 / 2013年底) means 31 December.
    Returns None when the cell is not a date.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
        return None
    s = _text(value)
    if not s:
        return None
    if m := _YEAR_ONLY.match(s):
        return dt.date(int(m.group(1)), 12, 31)
    m = _DATE.search(s)
    if not m:
        return None
    y, mo = int(m.group(1)), int(m.group(2))
    if not 1 <= mo <= 12 or not 1990 <= y <= 2100:
        return None
    last = calendar.monthrange(y, mo)[1]
    if m.group(3):
        d = int(m.group(3))
        return dt.date(y, mo, d) if 1 <= d <= last else None
    return dt.date(y, mo, last)


def parse_status(value: object) -> tuple[str | None, bool]:
    """(normalised status, ok). Empty means not_started; 未完成 is checked before 完成."""
    s = _text(value).lower()
    if not s:
        return "not_started", True
    for code, words in STATUS.items():
        if s in words:
            return code, True
    for code in ("not_started", "in_progress", "done"):
        if any(w in s for w in STATUS[code] if len(w) > 1):
            return code, True
    return None, False


def _cell(row: list, cols: dict[str, int], key: str):
    i = cols.get(key)
    return row[i] if i is not None and i < len(row) else ""


class OwnerIndex:
    """Resolve owner text (name, former name, short code) to an org code."""

    def __init__(self, units) -> None:
        self.names: dict[str, str] = {}
        for u in units:
            code = u.code if hasattr(u, "code") else u["org_code"]
            names = [u.name_zh if hasattr(u, "name_zh") else u["name_zh"]]
            names += list(getattr(u, "aliases", ()) or (u.get("aliases", ()) if isinstance(u, dict) else ()))
            short = u.short_code if hasattr(u, "short_code") else u.get("short_code")
            if short:
                self.names[short.lower()] = code
            for n in names:
                if n:
                    self.names[self._key(n)] = code

    @staticmethod
    def _key(name: str) -> str:
        k = _text(name)
        for prefix in ("平昌县", "县"):
            if k.startswith(prefix) and len(k) > len(prefix) + 1:
                k = k[len(prefix) :]
        return k

    def resolve(self, text: str) -> str | None:
        first = re.split(r"[、,，;；/ ]|牵头|配合", _text(text))[0]
        if not first:
            return None
        return self.names.get(self._key(first)) or self.names.get(first.lower())


def campaign_lookup(campaigns) -> dict[str, str]:
    """Name → campaign code, from dim.campaign-like dicts or catalog campaigns, plus common short names."""
    out = {}
    for c in campaigns:
        code = c.code if hasattr(c, "code") else c["campaign_code"]
        name = c.name_zh if hasattr(c, "name_zh") else c["name_zh"]
        out[_text(name)] = code
        out[code] = code
    short = {
        "env_model_city": ("创模", "环保模范城市", "省级环保模范城市"),
        "hygienic_county": ("创卫", "卫生县城", "省级卫生县城"),
        "forest_city": ("创森", "森林城市", "国家森林城市"),
        "civilized_city": ("创文", "文明城市", "省级文明城市"),
        "eco_county": ("创生态县", "生态县", "省级生态县"),
    }
    for code, names in short.items():
        if code in out.values():
            for n in names:
                out.setdefault(n, code)
    return out


def _id(*parts: object) -> str:
    return hashlib.sha1(":".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def _err(rel: str, sheet, cell, row_no, reason: str, raw, zh: str, en: str) -> dict:
    where_zh = f"文件“{rel}”" + (f"工作表“{sheet}”" if sheet else "") + (f"单元格{cell}" if cell else "")
    where_en = f"file '{rel}'" + (f", sheet '{sheet}'" if sheet else "") + (f", cell {cell}" if cell else "")
    if row_no and not cell:
        where_zh += f"第{row_no}行"
        where_en += f", row {row_no}"
    return {
        "error_id": _id(rel, sheet, cell, row_no, reason),
        "source_file": rel,
        "sheet": sheet,
        "cell": cell,
        "row_no": row_no,
        "reason_code": reason,
        "raw_text": None if raw is None else _text(raw),
        "message_zh": f"{where_zh}：{zh}",
        "message_en": f"{where_en}: {en}",
    }


def _header_columns(row: list) -> dict[str, int]:
    cols: dict[str, int] = {}
    for idx, cell in enumerate(row):
        t = _text(cell).replace(" ", "")
        for key, names in HEADERS.items():
            if key not in cols and t in names:
                cols[key] = idx
                break
    return cols


def read_task_ledger(
    path: Path,
    *,
    county_code: str,
    owners: OwnerIndex,
    campaigns: dict[str, str],
    as_of: dt.date | None,
    rel_path: str | None = None,
) -> tuple[list[dict], list[dict]]:
    """Tasks and errors of one ledger file. Never raises on bad content."""
    rel = rel_path or Path(path).name
    try:
        book = read_book(Path(path))
        file_id = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except ReadError as exc:
        return [], [
            _err(
                rel,
                None,
                None,
                None,
                "unreadable_file",
                exc.reason,
                f"无法读取文件（{exc.reason}）",
                f"cannot read the file ({exc})",
            )
        ]
    except OSError as exc:
        return [], [
            _err(
                rel,
                None,
                None,
                None,
                "unreadable_file",
                None,
                "无法读取文件",
                f"cannot read the file ({exc})",
            )
        ]
    tasks: list[dict] = []
    errors: list[dict] = []
    found_header = False
    for sheet in book.sheets:
        if not sheet.is_visible:
            continue
        header_idx, cols = None, {}
        for r, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
            c = _header_columns(row)
            if "task_name" in c and len({"owner", "due", "status"} & c.keys()) >= 1:
                header_idx, cols = r, c
                break
        if header_idx is None:
            continue
        found_header = True
        sname = sheet.name
        for r in range(header_idx + 1, len(sheet.rows)):
            row = sheet.rows[r]
            row_no = r + 1
            cells = [_text(x) for x in row]
            if not any(cells):
                continue
            first = next(x for x in cells if x)
            if FOOTER.match(first):
                continue

            def get(key: str, row=row, cols=cols):
                return _cell(row, cols, key)

            def ref(key: str, row_no=row_no, cols=cols) -> str | None:
                return f"{col_letter(cols[key])}{row_no}" if key in cols else None

            name = _text(get("task_name"))
            if not name:
                errors.append(
                    _err(
                        rel,
                        sname,
                        ref("task_name"),
                        row_no,
                        "missing_task",
                        None,
                        "缺少任务内容，该行未导入",
                        "task text missing; row skipped",
                    )
                )
                continue
            owner_text = _text(get("owner"))
            owner = owners.resolve(owner_text) if owner_text else None
            if owner_text and owner is None:
                errors.append(
                    _err(
                        rel,
                        sname,
                        ref("owner"),
                        row_no,
                        "unknown_owner",
                        owner_text,
                        f"责任单位“{owner_text}”无法识别，请使用规范单位名称",
                        f"owner unit '{owner_text}' not recognised; use the unit's official name",
                    )
                )
            due_raw = get("due")
            due = parse_date(due_raw)
            if _text(due_raw) and due is None:
                errors.append(
                    _err(
                        rel,
                        sname,
                        ref("due"),
                        row_no,
                        "bad_date",
                        due_raw,
                        f"完成时限“{_text(due_raw)}”不是有效日期",
                        f"due date '{_text(due_raw)}' is not a valid date",
                    )
                )
            status, ok = parse_status(get("status"))
            if not ok:
                errors.append(
                    _err(
                        rel,
                        sname,
                        ref("status"),
                        row_no,
                        "bad_status",
                        get("status"),
                        f"完成情况“{_text(get('status'))}”无法识别（应为已完成/推进中/未开始）",
                        f"status '{_text(get('status'))}' not recognised (done / in progress / not started)",
                    )
                )
            completed = parse_date(get("completed")) if "completed" in cols else None
            camp_text = _text(get("campaign"))
            task_code = _text(get("task_code")) or None
            tasks.append(
                {
                    "task_id": _id(county_code, rel, sname, row_no),
                    "county_code": county_code,
                    "source_file": rel,
                    "file_id": file_id,
                    "sheet": sname,
                    "row_no": row_no,
                    "task_code": task_code,
                    "task_name": name,
                    "campaign_code": campaigns.get(camp_text) if camp_text else None,
                    "owner_text": owner_text or None,
                    "owner_org_code": owner,
                    "due_date": due,
                    "status": status,
                    "status_text": _text(get("status")) or None,
                    "completed_date": completed,
                    "is_overdue": bool(
                        status != "done" and due is not None and as_of is not None and due < as_of
                    ),
                    "as_of_date": as_of,
                    "remark": _text(get("remark")) or None,
                }
            )
    if not found_header:
        errors.append(
            _err(
                rel,
                None,
                None,
                None,
                "no_header",
                None,
                "未找到表头（需含“任务内容”及“责任单位/完成时限/完成情况”之一）",
                "no header row found (needs a task column and one of owner / due date / status)",
            )
        )
    return tasks, errors


def find_task_ledgers(raw_dir: Path) -> list[Path]:
    raw_dir = Path(raw_dir)
    if not raw_dir.exists():
        return []
    return sorted(
        p
        for p in raw_dir.rglob("*")
        if p.is_file() and LEDGER_MARK in p.name and p.suffix.lower() in SUFFIXES
    )


def read_task_ledgers(
    raw_dir: Path, profiles, campaigns, as_of: dt.date | None
) -> tuple[list[dict], list[dict]]:
    """Every task ledger under the raw folder. The county is the first folder of the path when it is a
    county code, else the only (or first) profile's county. A ledger in the folder of a county
    whose profile is not given (a county partition run sees its own profile only) is another
    county's: skipped, never attributed to the first profile."""
    from pipelines.warehouse.counties import county_of

    raw_dir = Path(raw_dir)
    by_code = {p.code: p for p in profiles}
    lookup = campaign_lookup(campaigns)
    tasks, errors = [], []
    for path in find_task_ledgers(raw_dir):
        rel = path.relative_to(raw_dir).as_posix()
        folder_county = county_of(rel)
        if folder_county is not None and folder_county not in by_code:
            continue
        profile = by_code.get(folder_county or "") or (profiles[0] if profiles else None)
        if profile is None:
            continue
        t, e = read_task_ledger(
            path,
            county_code=profile.code,
            owners=OwnerIndex(profile.org_units),
            campaigns=lookup,
            as_of=as_of,
            rel_path=rel,
        )
        tasks += t
        errors += e
    return tasks, errors
