"""The table engine: classify a sheet's header rows and stub columns once, then emit records.

`Classifier.label(raw)` says what a header/stub text means (a column role, a period, a place, a
unit, an indicator). `analyse(sheet, classifier)` finds the header block (the best-scoring label row
within the first rows, plus the multi-level rows above it and the sub-header, unit and numbering
rows below it), combines each column's labels top to bottom (`Column`), picks the stub columns
(name, code, unit, period, subject) by header and by content, and classifies each data row
(`RowInfo`: group rows, subtotals, footers and 注 notes recognised). The family modules read the
resulting `TableView` and propose a `Fit`; `emit` turns a fit into records.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field, replace

from pipelines.returns.cells import a1
from pipelines.returns.layouts.base import EMPTY, Column, Fit, Label, Record, RowInfo
from pipelines.returns.matching import HEADER_NAMES, name_key
from pipelines.returns.normalize import clean_text, find_period, format_number, month_of_header

HEADER_SCAN_ROWS = 40
MAX_HEADER_LEVELS = 4
MAX_LABEL_LENGTH = 80

# Column headers departments write, by role: matching.HEADER_NAMES and the words below (compared after
# name_key: no spaces, brackets, punctuation).
_MORE_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "name": (
        "监测项目",
        "统计指标",
        "主要指标",
        "测评项目",
        "考核项目",
        "指标名",
        "监测指标",
        "考核内容",
        "测评内容",
        "检查项目",
        "评价项目",
        "创建指标",
        "指标类别",
        "具体指标",
    ),
    "value": (
        "实际",
        "实际数",
        "完成数",
        "本年实际",
        "本期实际",
        "当月",
        "当月值",
        "本年度",
        "实绩",
        "监测结果",
        "达到值",
        "现状",
        "实际完成值",
        "完成",
        "本年完成",
        "本期数",
        "本月值",
        "本季度值",
        "本年值",
        "实际达到",
        "实际情况",
        "目前现状",
        "现状水平",
        "当前值",
        "完成量",
        "本年度完成",
        "实际完成数",
        "全年",
        "全年数",
        "年度数",
        "测定值",
        "测量值",
        "结果",
        "值",
    ),
    "cumulative": (
        "累计",
        "本年累计",
        "累计数",
        "累计值",
        "年累计",
        "本年累计完成",
        "自年初累计",
        "1至本月累计",
        "累计完成",
        "年初至今",
    ),
    "unit": (
        "指标单位",
        "数值单位",
    ),
    "code": ("指标编号",),
    "period": (
        "年份",
        "年度",
        "年",
        "月",
        "监测时间",
        "监测日期",
        "季度",
        "监测月份",
        "统计年度",
        "时段",
    ),
    "seq": (
        "序",
        "排序",
        "栏次",
    ),
    "remark": (
        "数据来源",
        "资料来源",
        "来源",
        "责任单位",
        "牵头单位",
        "填报说明",
        "是否达标",
        "达标情况",
        "达标与否",
        "评价",
        "完成评价",
        "存在问题",
        "整改措施",
        "备考",
        "配合单位",
        "责任人",
        "联系人",
        "计算方法",
        "指标解释",
        "统计口径",
    ),
    "target": (
        "计划数",
        "计划",
        "年度目标",
        "目标任务",
        "任务数",
        "指标要求",
        "国家标准",
        "省级标准",
        "创建要求",
        "达标要求",
        "考核目标",
        "规划目标",
        "计划目标",
        "年度计划",
        "标准限值",
        "限值",
        "目标数",
        "任务",
        "达标值",
        "考核值",
        "创模标准",
        "创卫标准",
        "控制目标",
        "约束值",
        "预期值",
    ),
    "previous": (
        "上年数",
        "上年实际",
        "去年",
        "上年度",
        "上季度",
        "上季",
        "上年同期数",
        "同期数",
        "上年同期值",
        "上年完成",
        "上年值",
        "基期",
        "基期值",
        "基准年",
        "基数",
    ),
    "change": (
        "增减",
        "同比",
        "环比",
        "增长",
        "增幅",
        "增减率",
        "增长率",
        "同比增减",
        "同比增长",
        "比上年增减",
        "比上年增长",
        "增减量",
        "与上年比",
        "比上年",
        "增减幅度",
        "变化",
        "变化率",
        "比上期",
        "比上月",
        "比去年",
        "增减百分点",
        "增减数",
        "同比增幅",
        "环比增减",
        "差值",
        "差距",
    ),
    "rate": (
        "完成率",
        "完成比例",
        "完成进度",
        "完成目标比例",
        "完成目标",
        "目标完成率",
        "计划完成率",
        "进度",
        "完成百分比",
        "达标率(完成)",
        "完成计划",
    ),
    "subject_col": (
        "乡镇",
        "乡镇名称",
        "乡镇街道",
        "镇乡",
        "乡镇别",
        "地区",
        "区域",
        "行政区划",
        "单位名称",
        "填报单位",
        "城市",
        "县市区",
        "镇名",
        "街道",
        "区县",
        "县区",
        "行政区",
        "区划",
        "乡镇街道名称",
        "地名",
        "乡镇场",
        "镇乡街道",
        "县市",
        "地区名称",
        "城市名称",
        "各乡镇",
        "所属乡镇",
        "责任乡镇",
        "地区名",
        "省份",
        "省市",
        "省区市",
        "市州",
        "地市",
    ),
}
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    role: tuple(dict.fromkeys((*HEADER_NAMES.get(role, ()), *_MORE_HEADER_WORDS.get(role, ()))))
    for role in (*HEADER_NAMES, *_MORE_HEADER_WORDS)
}
# Words that make any header a not-loaded column when the text is not itself an indicator name
# carrying the word (a 目标值 under 2014年, "比上年增减(%)", "上年同期数").
_NOT_LOADED_WORDS = (
    ("previous", ("上年", "上期", "上月", "同期", "去年", "上季", "基期", "基准年")),
    ("change", ("增减", "同比", "环比", "增幅", "比上", "增长率", "增长百分", "变化率", "百分点")),
    ("target", ("目标", "计划", "标准值", "限值", "要求", "任务")),
    ("rate", ("完成率", "完成比例", "完成进度", "完成计划")),
)
_NON_DATA_ROLES = frozenset({"seq", "remark", "code", "unit", "name", "period", "subject_col"})
_HEADER_ROLES = frozenset(
    {"name", "value", "unit", "code", "seq", "period", "subject_col", "target", "previous"}
)
_VALUE_WORDS = ("完成", "实际", "数值", "现状", "监测值", "统计值", "达到", "本期", "本月", "本年")
_KEEP_UPPER = frozenset({"target", "previous", "change", "rate", "remark", "bad_period"})
_ROLE_BY_KEY = {name_key(w): role for role, words in HEADER_WORDS.items() for w in words}

FOOTER_PREFIXES = (
    "填报单位",
    "填报人",
    "填表人",
    "审核人",
    "审核",
    "制表",
    "制表人",
    "填报日期",
    "填表日期",
    "报送日期",
    "负责人",
    "单位负责人",
    "统计负责人",
    "联系人",
    "联系电话",
    "说明:",
    "备注:",
    "数据来源",
    "资料来源",
    "来源:",
    "签字",
    "盖章",
    "分管领导",
    "主要领导",
)
_NOTE_PREFIX = re.compile(r"^(注|注释|附注|说明)\s*(?:[0-9一二三四五六七八九十①-⑩*]+\s*[:：.、)）]?|[:：])")
_SUBTOTAL = re.compile(r"^(合\s*计|小\s*计|总\s*计|汇\s*总)$")
# a total of the whole county (the county figure); 小计 is a group's subtotal, never the county
_COUNTY_TOTAL = re.compile(r"^(合\s*计|总\s*计|汇\s*总)$")
_NUMBERING = frozenset({"甲", "乙", "丙", "丁", "戊", "a", "b", "c", "d", "A", "B", "C", "D", "栏次"})
_NAME_PREFIX = re.compile(
    r"^(其中\s*[:：]?|内\s*[:：]|\(?[0-9]{1,2}[.、)）]|[（(][一二三四五六七八九十0-9]{1,3}[)）]|"
    r"[一二三四五六七八九十]{1,3}[、.]|[①-⑳]|[a-zA-Z][.、)])\s*"
)
_UNIT_IN_BRACKETS = re.compile(r"[(（]\s*(?:单位\s*[:：]\s*)?([^()（）]{1,12})\s*[)）]\s*$")
_UNIT_PREFIX = re.compile(r"^单位\s*[:：]\s*(.{1,12})$")
_CUM_PERIOD = re.compile(r"(\d{1,2})\s*[-—～~至到]\s*(\d{1,2})\s*月")
_QUARTER = re.compile(r"^(?:第)?([一二三四1-4])季度?$")
_HALF = re.compile(r"(上半年|下半年|前三季度|1-2月)")
_CN_Q = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@functools.lru_cache(maxsize=65_536)
def strip_name(text: str) -> str:
    """An indicator or place label without list numbering, "其中：" and indentation."""
    t = text.strip()
    for _ in range(2):
        m = _NAME_PREFIX.match(t)
        if not m or m.end() == len(t):
            break
        t = t[m.end() :].strip()
    return t


class Classifier:
    """Header and stub texts → Labels, memoised. Built once per parse context."""

    def __init__(self, indicators, places, unit_keys: dict[str, str], catalog=None):
        self.indicators = indicators  # matching.IndicatorMatcher
        self.places = places  # places.PlaceResolver or None
        self.unit_keys = unit_keys  # normalised unit text → catalog unit
        self.catalog = catalog
        self._memo: dict[tuple[object, str | None], Label] = {}

    def unit_of(self, text: str) -> str | None:
        t = clean_text(text).replace(" ", "")
        if not t:
            return None
        if m := _UNIT_PREFIX.match(t):
            t = m.group(1)
        return self.unit_keys.get(t.casefold())

    def label(self, raw: object, county: str | None = None) -> Label:
        if raw.__class__ is str:  # the common case first (the same tests as below, in that order)
            if not raw:
                return EMPTY
            key = (raw, county)
        else:
            if raw is None or raw == "" or isinstance(raw, bool):
                return EMPTY
            key = (raw if isinstance(raw, str) else (type(raw).__name__, raw), county)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._label(raw, county)
            if len(self._memo) < 200_000:
                self._memo[key] = hit
        return hit

    def _label(self, raw: object, county: str | None) -> Label:
        if isinstance(raw, dt.datetime | dt.date):
            return Label(raw.isoformat()[:10], period=f"{raw.year}-{raw.month:02d}")
        if isinstance(raw, int | float):
            v = float(raw)
            text = format_number(v) if math.isfinite(v) else str(raw)
            if not math.isfinite(v):
                return Label(text)
            if v == int(v) and 1990 <= v <= 2035:
                return Label(text, period=str(int(v)))
            if 1990 <= v < 2036:
                s = format_number(round(v, 2))
                year, _, frac = s.partition(".")
                if frac == "1":  # 2016.1: January, or October typed as a number? Never guess.
                    return Label(text, bad_period=True)
                if frac in ("2", "3", "4", "5", "6", "7", "8", "9", "11", "12"):
                    return Label(text, period=f"{year}-{int(frac):02d}")
            return Label(text)
        text = clean_text(raw)
        if not text or len(text) > MAX_LABEL_LENGTH:
            return Label(text)
        return self._text_label(text, county)

    def _text_label(self, text: str, county: str | None) -> Label:
        body = text
        unit = None
        if m := _UNIT_IN_BRACKETS.search(text):
            u = self.unit_of(m.group(1))
            if u is not None:
                unit = u
                body = text[: m.start()].strip() or text
        key = name_key(body)
        role = _ROLE_BY_KEY.get(key)
        if role is not None:
            return Label(text, role=role, unit=unit)
        if (u := self.unit_of(text)) is not None and len(key) <= 8:
            return Label(text, role=None, unit=u)
        # Periods ("2014年", "2014年3月", "3月", "一季度", "2014-03"), maybe with a role ("2014年目标值").
        per = self._period_label(body)
        if per is not None:
            return Label(text, role=per[3], period=per[0], month=per[1], quarter=per[2], unit=unit)
        if _CUM_PERIOD.search(body) or _HALF.search(body):
            return Label(text, bad_period=True, role=self._role_word(body) or "cumulative", unit=unit)
        name = strip_name(body)
        place = self.places.subject(name, county) if self.places is not None else None
        if place is not None:
            return Label(text, place=place, unit=unit)
        if _SUBTOTAL.match(name.replace(" ", "")):
            return Label(
                text, role="subtotal" if _COUNTY_TOTAL.match(name.replace(" ", "")) else "partial_total"
            )
        match = self.indicators.match(name)
        if match.code is not None:
            role = self._role_word(name, match.code)
            return Label(text, indicator=match.code, role=role, unit=unit)
        role = self._role_word(name)
        if role is None and len(name) <= 8 and any(w in name for w in _VALUE_WORDS):
            role = "value"  # "本年度完成值", "2014年实际数": a value column in other words
        reason = match.reason if len(name) >= 2 else None
        return Label(text, role=role, indicator_reason=reason, unit=unit)

    def _role_word(self, text: str, indicator: str | None = None) -> str | None:
        """A not-loaded role from a word inside a longer header, unless the indicator's own name has it."""
        names = ""
        if indicator is not None and self.catalog is not None:
            ind = self.catalog.indicators.get(indicator)
            if ind is not None:
                names = ind.name_zh + "".join(ind.aliases)
        for role, words in _NOT_LOADED_WORDS:
            for w in words:
                if w in text and w not in names:
                    return role
        return None

    def _period_label(self, text: str) -> tuple[str | None, int | None, int | None, str | None] | None:
        """(period, month, quarter, role) when the text names a period, possibly with a role word."""
        t = text.replace(" ", "")
        if len(t) > 24:
            return None
        mo = month_of_header(t)
        if mo is not None:
            return None, mo, None, None
        if m := _QUARTER.match(t):
            return None, None, _CN_Q[m.group(1)], None
        if not any(ch.isdigit() for ch in t):
            return None
        if len(t) == 4 and t.isdigit() and 1990 <= int(t) <= 2035:
            return t, None, None, None
        p = find_period(t)
        if p is None:
            m = re.match(r"^(\d{1,2})月(?:份)?(.*)$", t)
            if m and 1 <= int(m.group(1)) <= 12:
                rest = m.group(2)
                role = _ROLE_BY_KEY.get(name_key(rest)) if rest else None
                if rest and role is None:
                    return None
                return None, int(m.group(1)), None, role
            return None
        # the rest of the text after the period words decides a role ("2014年目标值", "2013年(上年)")
        rest = re.sub(
            r"(19|20)\d{2}\s*(年度?|[-./]\s*\d{1,2}|[Qq][1-4])?|\d{1,2}\s*月份?|第?[一二三四1-4]季度?", "", t
        )
        rest = rest.strip("()（）:：-_ ")
        role = None
        if rest:
            role = _ROLE_BY_KEY.get(name_key(rest))
            if role is None:
                role = self._role_word(rest)
                if role is None and len(rest) > 4:
                    return None  # a longer text that merely mentions a year
        return p, None, None, role


# --- the table view ----------------------------------------------------------------------------


@dataclass
class TableView:
    sheet_name: str
    rows: list[list]
    header_first: int
    header_last: int
    columns: dict[int, Column]
    stub: dict[str, int]  # name | code | unit | period | subject → column index
    data_rows: list[RowInfo]
    title: str
    notes: list[str] = field(default_factory=list)
    width: int = 0
    unit_row: dict[int, str] = field(default_factory=dict)  # column → unit from a 单位 row
    next_table: int | None = None  # row where a second table's header starts

    def data_columns(self) -> list[Column]:
        stub_cols = set(self.stub.values())
        return [c for i, c in sorted(self.columns.items()) if i not in stub_cols]


def _filled(rows: list[list], merged, r0: int, r1: int, width: int) -> list[list]:
    """Rows r0..r1 with merged ranges' top-left values copied over the range (header rows)."""
    grid = [
        list(rows[r]) + [""] * (width - len(rows[r])) if r < len(rows) else [""] * width
        for r in range(r0, r1 + 1)
    ]
    for (a, b), (c, d) in merged:
        if c < r0 or a > r1:
            continue
        top = rows[a][b] if a < len(rows) and b < len(rows[a]) else ""
        for r in range(max(a, r0), min(c, r1) + 1):
            for col in range(b, min(d, width - 1) + 1):
                if grid[r - r0][col] == "" or grid[r - r0][col] is None:
                    grid[r - r0][col] = top
    return grid


def _is_number_cell(v: object) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    if isinstance(v, str):
        return _is_number_text(v)
    return False


@functools.lru_cache(maxsize=65_536)
def _is_number_text(v: str) -> bool:
    """`_is_number_cell` of a text (pure, memoised: the same texts recur in every file)."""
    s = clean_text(v).replace(",", "").replace("%", "").replace("‰", "")
    if s[:1] in ("约", "≥", "≤", ">", "<"):
        s = s[1:]
    if s.endswith(("*", "左右", "以上", "以下")):
        s = s.rstrip("*").removesuffix("左右").removesuffix("以上").removesuffix("以下")
    try:
        float(s)
        return True
    except ValueError:
        return s.startswith("#") and s.endswith(("!", "?", "A"))


class Analyser:
    def __init__(self, classifier: Classifier):
        self.cls = classifier

    def analyse(self, sheet, county: str | None = None) -> TableView | None:
        rows = sheet.rows
        if not rows:
            return None
        width = min(max((len(r) for r in rows[: HEADER_SCAN_ROWS * 50]), default=0), 400)
        if width == 0:
            return None
        label = self.cls.label
        merged = list(sheet.merged)
        scan = min(len(rows), HEADER_SCAN_ROWS)
        head = (
            _filled(rows, merged, 0, scan - 1, width)
            if merged
            else [list(r) + [""] * (width - len(r)) for r in rows[:scan]]
        )
        best_row, best_score = None, 0.0
        for r in range(scan):
            row = head[r]
            nonempty = [v for v in row if v != "" and v is not None]
            if len(nonempty) < 2:
                continue
            distinct = []
            seen = set()
            for v in nonempty:  # a merged cell counts once
                k = v if isinstance(v, str) else repr(v)
                if k in seen:
                    continue
                seen.add(k)
                distinct.append(v)
            score = 0.0
            nums = 0
            for v in distinct:
                if (v.__class__ is float or v.__class__ is int) and not 1990 <= v < 2036:
                    nums += 1  # outside 1990-2035 a number's label is its text alone (Classifier._label)
                    continue
                lab = label(v, county)
                if v.__class__ is float or v.__class__ is int:
                    # a number's label has no role, indicator or place: a period (a year) or a number
                    if lab.period is not None or lab.month is not None or lab.quarter is not None:
                        score += 0.6
                    else:
                        nums += 1
                    continue
                if lab.role is not None and lab.role not in ("subtotal", "partial_total"):
                    score += 2
                elif lab.has_period:
                    score += 1.2 if isinstance(v, str | dt.date) else 0.6
                elif lab.indicator is not None:
                    score += 1.0
                elif lab.place is not None:
                    score += 0.8
                elif isinstance(v, int | float):
                    nums += 1
            if nums > 1 and nums >= len(distinct) / 2:
                score *= 0.3  # a data row with a few labels
            if score > best_score + 1e-9 and score >= 2.0:
                best_row, best_score = r, score
        if best_row is None:
            return None
        anchor = best_row
        # Upper header levels: rows just above with several cells (merged spans count once) or a
        # period/place label not in column A (a year merged over months).
        first = anchor
        for r in range(anchor - 1, max(-1, anchor - MAX_HEADER_LEVELS), -1):
            row = head[r]
            cells = [(c, v) for c, v in enumerate(row) if v != "" and v is not None]
            if not cells:
                break
            vals = {v if isinstance(v, str) else repr(v) for _, v in cells}
            if len(vals) == 1 and (cells[0][0] == 0 or len(cells) >= 0.6 * width):
                break  # a title (a label merged over the data columns starts right of column A)
            if not any(self._labelish(v, county) for _, v in cells):
                break
            if any(_is_number_cell(v) and not label(v, county).has_period for _, v in cells):
                break
            first = r
        # Lower header levels: sub-headers (本月|累计, 本年|上年), a 单位 row, a numbering row.
        last = anchor
        unit_row: dict[int, str] = {}
        unit_rows: set[int] = set()
        for r in range(anchor + 1, min(len(rows), anchor + MAX_HEADER_LEVELS)):
            row = rows[r]
            cells = [(c, v) for c, v in enumerate(row) if v != "" and v is not None]
            if not cells:
                break
            labs = [label(v, county) for _, v in cells]
            if all(
                isinstance(v, str)
                and clean_text(v) in _NUMBERING
                or (isinstance(v, int | float) and 0 < v < 100 and v == int(v))
                for _, v in cells
            ) and any(isinstance(v, str) and clean_text(v) in _NUMBERING for _, v in cells):
                last = r
                continue
            units = [
                lab.unit
                for lab in labs
                if lab.unit is not None and lab.role is None and lab.indicator is None
            ]
            if len(units) >= max(1, len(cells) - 1) and not any(lab.indicator for lab in labs):
                for (c, _), lab in zip(cells, labs, strict=True):
                    if lab.unit:
                        unit_row[c] = lab.unit
                unit_rows.add(r)
                last = r
                continue
            if (
                all(
                    (lab.role is not None and lab.role not in ("subtotal", "partial_total"))
                    or lab.has_period
                    or (lab.place is not None and lab.place.kind in ("county", "seat"))
                    for lab in labs
                )
                and len(cells) >= 2
            ):
                if any(lab.indicator for lab in labs):
                    break
                last = r
                continue
            break
        hgrid = _filled(rows, merged, first, last, width)
        for r in unit_rows:  # a 单位 row gives units, not labels
            hgrid[r - first] = [""] * width
        # Forward-fill upper levels without merges (CSV, ODS): a year/place label over blank cells.
        for i in range(len(hgrid) - 1):
            row = hgrid[i]
            cur = None
            for c in range(width):
                v = row[c]
                if v != "" and v is not None:
                    lab = label(v, county)
                    cur = v if (lab.has_period or lab.place is not None) and c > 0 else None
                elif cur is not None and any(hgrid[j][c] not in ("", None) for j in range(i + 1, len(hgrid))):
                    row[c] = cur
        columns: dict[int, Column] = {}
        for c in range(width):
            labs = [label(hgrid[i][c], county) for i in range(len(hgrid))]
            col = self._column(c, labs, [hgrid[i][c] for i in range(len(hgrid))], county)
            if unit_row.get(c):
                col.unit = col.unit or unit_row[c]
            columns[c] = col
        title = self._title(rows, first)
        view = TableView(
            sheet.name, rows, first, last, columns, {}, [], title, width=width, unit_row=unit_row
        )
        self._stub(view, county)
        self._rows(view, county)
        return view

    def _is_header_row(self, row: list, county) -> bool:
        """A row repeating a header (指标名称 | 本期数 …): two or more column-role words, no numbers."""
        roles = 0
        for v in row:
            if v == "" or v is None:
                continue
            if not isinstance(v, str) and _is_number_cell(v):  # (str first: no text is parsed here)
                return False
            if isinstance(v, str):
                lab = self.cls.label(v, county)
                if lab.role in _HEADER_ROLES and _ROLE_BY_KEY.get(name_key(strip_name(lab.text))) == lab.role:
                    roles += 1
        return roles >= 2

    def _labelish(self, v: object, county) -> bool:
        lab = self.cls.label(v, county)
        return (
            lab.role is not None
            or lab.has_period
            or lab.place is not None
            or lab.indicator is not None
            or lab.bad_period
        )

    def _column(self, c: int, labs: list[Label], raws: list, county=None) -> Column:
        col = Column(c, tuple(labs))
        if any(lab.role == "subtotal" for lab in labs) and self.cls.places is not None:
            # a 合计 column over towns is the county figure; a 小计 column is a group's, never loaded
            whole = self.cls.places.subject("全县", county)
            labs = [replace(lab, role=None, place=whole) if lab.role == "subtotal" else lab for lab in labs]
        labs = [replace(lab, role="remark") if lab.role == "partial_total" else lab for lab in labs]
        texts = []
        last_raw = object()
        for lab, raw in zip(labs, raws, strict=True):
            if raw is last_raw or lab is EMPTY:
                continue
            last_raw = raw
            if lab.text and (not texts or texts[-1] != lab.text):
                texts.append(lab.text)
            # a lower label's role decides, except that a value role never overrides an upper
            # not-loaded role (上期 › 数值 is not the value)
            if lab.role and not (col.role in _KEEP_UPPER and lab.role in ("value", "cumulative")):
                col.role = lab.role
            if lab.indicator and col.indicator is None:
                col.indicator, col.indicator_text = lab.indicator, lab.text
            elif lab.indicator_reason and not col.indicator and not lab.role:
                col.indicator_reason, col.indicator_text = lab.indicator_reason, lab.text
            if lab.period:
                if len(lab.period) == 4 and col.period is None:
                    col.year = int(lab.period)
                    col.period = lab.period
                elif len(lab.period) > 4:
                    col.period = lab.period
            if lab.month:
                col.month = lab.month
            if lab.quarter:
                col.quarter = lab.quarter
            if lab.bad_period:
                col.role = col.role if col.role in ("target", "previous", "change", "rate") else "bad_period"
            if lab.place is not None:
                col.place = lab.place
            if lab.unit:
                col.unit = lab.unit
        if col.period and len(col.period) == 4 and (col.month or col.quarter):
            y = int(col.period)
            col.period = f"{y}-{col.month:02d}" if col.month else f"{y}-Q{col.quarter}"
            col.month = col.quarter = None
        col.header_text = " › ".join(texts)
        return col

    def _title(self, rows: list[list], first: int) -> str:
        parts = []
        for r in range(min(first, HEADER_SCAN_ROWS)):
            for v in rows[r]:
                if isinstance(v, str) and v.strip():
                    parts.append(clean_text(v))
        return " ".join(parts)

    def _stub(self, view: TableView, county) -> None:
        """Stub columns by header role, then by content for unlabeled or ambiguous label columns."""
        label = self.cls.label
        rows = view.rows
        body = range(view.header_last + 1, min(len(rows), view.header_last + 1 + 400))
        stub: dict[str, int] = {}
        votes: dict[int, dict[str, int]] = {}
        for c, col in view.columns.items():
            v = {"indicator": 0, "place": 0, "period": 0, "text": 0, "number": 0}
            is_period_col = col.role == "period"
            for r in body:
                row = rows[r]
                if c >= len(row):
                    continue
                raw = row[c]
                if raw == "" or raw is None:
                    continue
                if raw.__class__ is float or raw.__class__ is int:
                    # a number's label never names an indicator or a place: it votes "number", and
                    # "period" too in a period column when it reads as one (2014) — as below
                    v["number"] += 1
                    if is_period_col and label(raw, county).has_period:
                        v["period"] += 1
                    continue
                lab = label(raw, county)
                if lab.indicator:
                    v["indicator"] += 1
                elif lab.place is not None:
                    v["place"] += 1
                elif lab.has_period and not isinstance(raw, int | float):
                    v["period"] += 1
                elif isinstance(raw, str) and not _is_number_cell(raw):
                    v["text"] += 1
                else:
                    v["number"] += 1
                    if lab.has_period and col.role == "period":
                        v["period"] += 1
            votes[c] = v
        # Several name columns (项目 | 指标 …, a group column beside the indicators): the one whose
        # cells name the most catalog indicators.
        names = [c for c, col in view.columns.items() if col.role == "name"]
        best_name = max(names, key=lambda c: (votes[c]["indicator"], -c)) if names else None
        for c, col in sorted(view.columns.items()):
            v = votes[c]
            role = col.role
            if role == "name" and c != best_name:
                continue
            if role == "unit" and v["place"] > max(v["indicator"], 1):
                role = "subject_col"
            if role in ("name", "code", "unit", "period", "subject_col") and role not in stub:
                key = {"subject_col": "subject"}.get(role, role)
                if key not in stub:
                    stub[key] = c
            elif role == "seq" or role == "remark":
                continue
        # Unlabeled label columns, left of the data: decide by content.
        for c in sorted(view.columns):
            if c in stub.values():
                continue
            col = view.columns[c]
            if col.role in ("value", "cumulative", "target", "previous", "change", "rate", "remark", "seq"):
                continue
            if (
                col.indicator
                or col.has_period
                or (col.place is not None and col.role is None and col.header_text)
            ):
                continue
            v = votes[c]
            labels = v["indicator"] + v["place"] + v["period"] + v["text"]
            if labels == 0 or labels < 2 * v["number"]:
                continue
            if (
                max(v["indicator"], v["place"], v["period"]) < 0.6 * (labels + v["number"])
                and v["text"] <= labels / 2
            ):
                continue  # a mixed column: no clear stub
            if v["indicator"] >= max(v["place"], v["period"], 1) and "name" not in stub:
                stub["name"] = c
            elif v["place"] >= max(v["indicator"], v["period"], 1) and "subject" not in stub:
                stub["subject"] = c
            elif v["period"] >= max(v["indicator"], v["place"], 1) and "period" not in stub:
                stub["period"] = c
            elif "name" not in stub and v["text"] > v["number"]:
                stub["name"] = c
        # A "name" column full of places is the subject column (乡镇 under a 项目 header).
        if "name" in stub and "subject" not in stub:
            v = votes[stub["name"]]
            if v["place"] > v["indicator"] and v["place"] >= 2:
                stub["subject"] = stub.pop("name")
        if "subject" in stub and "name" not in stub:
            pass
        view.stub = stub

    def _rows(self, view: TableView, county) -> None:
        label = self.cls.label
        rows = view.rows
        s = view.stub
        name_c, code_c, unit_c, per_c, subj_c = (
            s.get(k) for k in ("name", "code", "unit", "period", "subject")
        )
        data_cols = [c.index for c in view.data_columns() if c.role not in _NON_DATA_ROLES]
        last_subject = None
        for r in range(view.header_last + 1, len(rows)):
            row = rows[r]
            if not any(v != "" and v is not None for v in row):
                continue
            info = RowInfo(r)
            first_text = next((clean_text(v) for v in row if isinstance(v, str) and v.strip()), "")
            if first_text.startswith(FOOTER_PREFIXES) and not any(
                _is_number_cell(row[c]) for c in data_cols if c < len(row) and isinstance(row[c], int | float)
            ):
                info.kind = "footer"
                view.data_rows.append(info)
                continue
            if r > view.header_last + 1 and self._is_header_row(row, county):
                view.next_table = r  # a second table below the first: read separately
                break
            if _NOTE_PREFIX.match(first_text) and len(first_text) > 2:
                info.kind = "note"
                view.notes.append(first_text)
                view.data_rows.append(info)
                continue
            if name_c is not None and name_c < len(row):
                info.name = (
                    clean_text(row[name_c])
                    if not isinstance(row[name_c], int | float)
                    else format_number(float(row[name_c]))
                    if isinstance(row[name_c], int | float) and not isinstance(row[name_c], bool)
                    else ""
                )
                info.name_cell = a1(r, name_c)
            if code_c is not None and code_c < len(row):
                info.code = clean_text(row[code_c])
            if unit_c is not None and unit_c < len(row):
                info.unit = clean_text(row[unit_c])
            if per_c is not None and per_c < len(row):
                raw = row[per_c]
                lab = label(raw, county)
                info.period_text = (
                    clean_text(raw) if not isinstance(raw, int | float) else format_number(float(raw))
                )
                info.period_cell = a1(r, per_c)
                info.period, info.month, info.quarter = lab.period, lab.month, lab.quarter
                if lab.bad_period:
                    info.period = None
            if subj_c is not None and subj_c < len(row):
                raw = row[subj_c]
                if raw != "" and raw is not None:
                    lab = label(raw, county)
                    info.place, info.place_text = lab.place, clean_text(raw)
                    if lab.place is None and lab.role in ("subtotal", "partial_total"):
                        info.place_text = clean_text(raw)
                        info.kind = "subtotal" if lab.role == "subtotal" else "partial"
                    last_subject = (info.place, info.place_text)
                elif last_subject is not None and per_c is not None:
                    info.place, info.place_text = last_subject  # a town merged down over its years
            if name_c is not None and subj_c is None and info.name:
                lab = label(row[name_c], county)
                if lab.role in ("subtotal", "partial_total"):
                    info.kind = "subtotal" if lab.role == "subtotal" else "partial"
                elif lab.place is not None and lab.indicator is None:
                    info.place, info.place_text = lab.place, info.name
            has_values = any(c < len(row) and row[c] != "" and row[c] is not None for c in data_cols)
            if not has_values:
                info.kind = "group" if info.kind == "data" else info.kind
            elif info.name in _NUMBERING:
                info.kind = "numbering"
            view.data_rows.append(info)


# --- emitting records --------------------------------------------------------------------------


def emit(
    view: TableView,
    fit: Fit,
    classifier: Classifier,
    county: str | None = None,
    sheet_indicator: tuple[str, str] | None = None,
) -> tuple[list[Record], int]:
    """Records for a fit: every non-empty cell of the fit's data columns in data rows.

    Returns (records, cells skipped in not-loaded columns)."""
    label = classifier.label
    rows = view.rows
    cols = [view.columns[c] for c in fit.columns]
    s = view.stub
    name_c = s.get("name")
    out: list[Record] = []
    for info in view.data_rows:
        if info.kind not in ("data", "subtotal"):
            continue
        row = rows[info.index]
        if fit.indicator_axis == "row":
            if info.kind == "subtotal" or not (info.name or info.code):
                continue
            lab = label(row[name_c], county) if name_c is not None and name_c < len(row) else EMPTY
            if info.code:
                code_lab = label(info.code, county)
                if code_lab.indicator is not None and code_lab.indicator == info.code:
                    lab = code_lab
            if lab.place is not None and lab.indicator is None and fit.subject_axis != "row":
                continue  # a 县城/town row inside an indicator table: not this indicator's county figure
            if _ROLE_BY_KEY.get(name_key(strip_name(lab.text))) in ("target", "previous", "change", "rate"):
                continue  # a "其中：目标值" row (the whole label is a role word), not an indicator
            ind, ind_text, ind_reason = lab.indicator, info.name or info.code, lab.indicator_reason
            ind_cell = info.name_cell
        for col in cols:
            c = col.index
            if c >= len(row):
                continue
            raw = row[c]
            blank = raw == "" or raw is None
            if fit.indicator_axis == "column":
                ind, ind_text, ind_reason = (
                    col.indicator,
                    col.indicator_text or col.header_text,
                    col.indicator_reason,
                )
                ind_cell = a1(view.header_first, c)
            elif fit.indicator_axis == "sheet":
                ind, ind_text = sheet_indicator if sheet_indicator else (None, "")
                ind_reason, ind_cell = None, ""
            if blank and ind is None:
                continue
            place = None
            if fit.subject_axis == "row":
                if info.kind == "subtotal":
                    place = "county_total"
                else:
                    place = info.place
                    if place is None:
                        continue
            elif fit.subject_axis == "column":
                place = col.place
            period, month, quarter = None, None, None
            period_error = None
            if fit.period_axis == "row":
                period, month, quarter = info.period, info.month, info.quarter
                if period is None and month is None and quarter is None:
                    if blank or not info.period_text:
                        continue
                    period_error = info.period_cell
            elif fit.period_axis == "column":
                period, month, quarter = col.period, col.month, col.quarter
            unit = col.unit or info.unit or None
            out.append(
                Record(
                    view.sheet_name,
                    a1(info.index, c),
                    raw,
                    ind,
                    ind_text,
                    ind_cell,
                    ind_reason,
                    period,
                    month,
                    quarter,
                    place,
                    unit,
                    col.role or "value",
                    fit.family,
                    period_error,
                )
            )
    return out, 0
