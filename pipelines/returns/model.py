"""The contract between reading (`parse`) and loading (`load`) a departmental return.

`parse_file(path, context) -> ParsedReturn` never raises: every problem becomes a `Problem` with a
reason code and a message in Chinese and English naming file, sheet and cell. A file-scope
problem rejects the whole file; value-scope problems reject only that value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile

# Where a unit or period was detected, in the order they are tried.
DETECTED_BY = ("template", "title", "sheet", "filename", "column", "folder")

# Reason codes shared by the parser, the loader, the quality checks and the feedback workbook.
REASONS = {
    # file scope: the whole file is rejected
    "empty_file": ("文件为空", "the file is empty"),
    "corrupt_archive": (
        "文件损坏或不完整，无法打开",
        "the file is corrupt or truncated and cannot be opened",
    ),
    "unsupported_format": ("不支持的文件格式", "unsupported file format"),
    "macro_enabled": ("含宏的工作簿不予接收", "macro-enabled workbooks are refused"),
    "encrypted_file": (
        "文件已加密，请取消密码后重新报送",
        "the workbook is password-protected; send it without a password",
    ),
    "old_format": ("旧版 Excel 格式，请另存为 .xlsx 后重新报送", "old Excel format; re-save as .xlsx"),
    "file_too_large": (
        "文件过大或结构异常（疑似压缩炸弹），未予读取",
        "the file is too large or abnormally structured (possible zip bomb) and was not read",
    ),
    "parse_error": ("读取文件时发生意外错误", "unexpected error while reading the file"),
    "no_header": ("找不到表头（指标名称、数值列）", "no header row found (indicator name and value columns)"),
    "target_table": (
        "表中是目标或计划值，不是实际完成值，未入库",
        "the table holds targets or plans, not actual values, and was not loaded",
    ),
    "cumulative_period": (
        "累计或跨年的时段（如 1-6月、上半年、2012-2014年）不是一个报告期",
        "a cumulative or multi-year span (e.g. Jan–Jun, first half, 2012–2014) is not one reporting period",
    ),
    "cumulative_value": (
        "累计数不是本期数，未作为本期数值入库",
        "a cumulative (year-to-date) figure is not the period's value and was not loaded",
    ),
    "suspect_fraction": (
        "百分比指标填写了小数（如 0.85），请按百分数填写（85）",
        "a percentage indicator holds a fraction (e.g. 0.85); report the percentage (85)",
    ),
    "no_indicator": (
        "表中没有指标目录中的指标",
        "the table holds no indicator of the catalog",
    ),
    "other_area": (
        "表中是其他地区的数据，不作为本县数值入库",
        "the table holds another area's data and is not loaded as this county's values",
    ),
    "ambiguous_layout": (
        "表格版式不明确，可按多种方式读取；请使用报表模板或在“导入映射”中确认",
        "the table layout is ambiguous (several readings); use the template or confirm it in Import mappings",
    ),
    "unknown_unit": ("无法识别填报单位", "the reporting unit cannot be identified"),
    "wrong_folder": ("文件放在了其他单位的文件夹中", "the file is in another unit's folder"),
    "unknown_period": ("无法识别报告期", "the reporting period cannot be identified"),
    "period_in_future": ("报告期晚于收到日期", "the reporting period is later than the date received"),
    "period_not_expected": ("该报告期不在报送日历中", "the period is not in the reporting calendar"),
    "duplicate_file": ("与已收到的文件内容完全相同", "identical to a file already received"),
    "no_values": ("文件中没有可入库的数值", "the file holds no loadable values"),
    # value scope: only that value is rejected
    "unknown_indicator": ("无法识别的指标名称", "unknown indicator name"),
    "ambiguous_indicator": (
        "指标名称不明确，可能对应多个指标",
        "ambiguous indicator name matching several indicators",
    ),
    "not_a_number": ("不是有效数值", "not a valid number"),
    "out_of_range": ("数值超出该计量单位的可能范围", "value impossible for its unit"),
    "wrong_unit": ("计量单位与指标不符", "unit does not match the indicator's unit"),
    "conflicting_values": (
        "同一指标同一报告期填报了不同数值",
        "different values for the same indicator and period",
    ),
    "not_assigned": ("该单位不负责填报此指标", "the unit is not assigned this indicator"),
    "formula_error": (
        "单元格为公式错误（如 #DIV/0!、#REF!），没有数值",
        "the cell holds a formula error (e.g. #DIV/0!, #REF!), not a value",
    ),
    "approximate_value": (
        "近似值（约、左右等）不作为实际值入库，请填写确切数值",
        "approximate values (约, 左右 …) are not loaded as actual values; report the exact figure",
    ),
    "bounded_value": (
        "界限值（≥、以上、低于等）不作为实际值入库，请填写确切数值",
        "bounded values (≥, 以上, 低于 …) are not loaded as actual values; report the exact figure",
    ),
    "range_value": (
        "填写的是数值区间（如 85-90），不是一个数值",
        "a range of values (e.g. 85-90) was reported, not one value",
    ),
    "lookalike_indicator": (
        "指标名称与目录指标相似，但为不同的统计量，不予匹配",
        "the name resembles a catalog indicator but is a different quantity; not matched",
    ),
}


@dataclass(frozen=True)
class CellValue:
    """One reported value, traceable to its cell."""

    indicator_code: str
    org_code: str
    period_code: str
    sheet: str
    cell: str  # A1 reference, e.g. "E7"; for CSV the spreadsheet-style position of the field
    raw_text: str
    value: float | None  # normalised number in the indicator's unit (None for qualitative)
    value_text: str | None  # normalised text for qualitative items
    unit: str


@dataclass(frozen=True)
class Problem:
    scope: str  # file | sheet | row | value
    reason_code: str
    message_zh: str
    message_en: str
    sheet: str | None = None
    cell: str | None = None
    raw_text: str | None = None
    indicator_code: str | None = None
    period_code: str | None = None
    org_code: str | None = None


@dataclass
class ParsedReturn:
    path: Path
    file_format: str  # xlsx | xlsm | xls | ods | csv | unknown
    org_code: str | None = None
    org_detected_by: str | None = None
    period_codes: list[str] = field(default_factory=list)
    period_detected_by: str | None = None
    template_version: str | None = None
    layout: str | None = None  # template | wide | long | multi_sheet | months_as_columns | csv
    values: list[CellValue] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    missing_count: int = 0  # cells holding an empty marker (—, /, 无): no value, no problem

    @property
    def rejected(self) -> bool:
        return any(p.scope == "file" for p in self.problems)


@dataclass(frozen=True)
class ParseContext:
    """What the parser needs to know: catalog, counties, where raw files live, and today."""

    catalog: Catalog
    profiles: tuple[CountyProfile, ...]
    raw_dir: Path
    today: dt.date
    # learned layouts (`layouts/mapped.py`); None: $WUCHUANG_MAPPINGS_DIR or expectations/mappings
    mappings_dir: Path | None = None
