"""Return forms ("templates out"): one protected xlsx workbook per responsible unit and period.

Layout (the contract in notes/formats.md, read by `pipelines.returns.parse`):

- sheet "填报表": row 1 merged title, row 2 unit / period / due date, row 3 header
  序号 | 指标代码 | 指标名称 | 计量单位 | 标准要求 | 上期数值 | 本期数值 | 备注 (A..H), one row per indicator
  the unit reports at the period's frequency from row 4, a blank row, then the signature footer.
  Only G (本期数值) and H (备注) are unlocked; G carries a number validation within the unit's
  physical bounds (a list 达标/不达标 or grades for qualitative indicators). The sheet is protected.
- hidden sheet "_meta": key in A, value in B (template_version, county_code, org_code, period_code,
  frequency, generated_at, header_row, code_column, value_column).

Plain functions, no Dagster import. Workbooks are written with xlsxwriter, whose archives carry
fixed member timestamps, so the same inputs (and the same `generated_at`) give the same bytes. Every
text is a string cell, never a formula or a link (`pipelines.safe_output.XLSXWRITER_OPTIONS`, also
for the merged title rows, which xlsxwriter writes with its generic `write`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from pipelines.catalog.model import Catalog, Indicator, Requirement
from pipelines.profile import CountyProfile, OrgUnit
from pipelines.reporting_calendar import Period, due_date, parse_period
from pipelines.safe_output import XLSXWRITER_OPTIONS

TEMPLATE_VERSION = "wuchuang-return/1"
SHEET = "填报表"
META_SHEET = "_meta"
HEADER_ROW = 3  # 1-based row of the column header
FIRST_DATA_ROW = 4  # 1-based row of the first indicator
CODE_COLUMN = "B"
VALUE_COLUMN = "G"
REMARK_COLUMN = "H"
HEADERS = ("序号", "指标代码", "指标名称", "计量单位", "标准要求", "上期数值", "本期数值", "备注")
COLUMN_WIDTHS = (6, 30, 44, 12, 34, 12, 14, 24)
FOOTER = "填报人：              审核人：              填报日期："

# Short campaign labels used in the threshold text, e.g. "≥35%（创模）".
CAMPAIGN_SHORT = {
    "env_model_city": "创模",
    "hygienic_county": "卫生",
    "forest_city": "森林",
    "civilized_city": "文明",
    "eco_county": "生态",
}
_COMPARISON_SIGN = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}
_REFERENCE_TEXT = {
    "national_avg": "全国平均水平",
    "provincial_avg": "全省平均水平",
    "regional_health_plan": "区域卫生规划要求",
    "state_control_target": "上级下达控制指标",
    "previous_year": "上年水平",
    "5yr_avg": "近5年平均水平",
}
GRADE_OPTIONS = ("A级", "B级", "C级", "D级")
NOT_ASSESSED = "—（现行标准不考核，仅作监测）"
PASS_OPTIONS = ("达标", "不达标")


@dataclass(frozen=True)
class TemplateRow:
    """One indicator row of a return form."""

    number: int
    indicator: Indicator
    threshold_text: str
    previous: float | str | None


def _fmt_number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _unit_suffix(unit: str) -> str:
    return "" if unit in ("-", "级别", "名次", "系数", "指数") else unit


def requirement_text(req: Requirement, unit: str, variants: Mapping[str, str]) -> str:
    """One requirement as a short Chinese phrase, e.g. "≥35%" or "≤全国平均水平且连续3年下降"."""
    th = req.threshold
    suffix = _unit_suffix(unit)
    if th.kind == "absolute":
        value = th.resolve(dict(variants))
        if value is None:
            return "标准值待确认"
        if req.comparison == "between" and th.high is not None:
            text = f"{_fmt_number(value)}～{_fmt_number(th.high)}{suffix}"
        else:
            text = f"{_COMPARISON_SIGN.get(req.comparison, req.comparison)}{_fmt_number(value)}{suffix}"
        if th.or_trend == "declining":
            text += "或持续降低"
        elif th.or_trend == "increasing":
            text += "或逐年提高"
        return text
    if th.kind == "relative":
        ref = _REFERENCE_TEXT.get(th.reference or "", th.reference or "参照值")
        sign = "不高于" if req.comparison in ("<=", "<") else "不低于"
        text = f"{sign}{ref}"
        if "declining_3y" in th.conditions:
            text += "且连续3年下降"
        if "increasing_3y" in th.conditions:
            text += "且连续3年上升"
        return text
    if th.kind == "qualitative":
        return th.text or "定性评价"
    return "标准值待确认"


def threshold_text(catalog: Catalog, indicator: str, day: dt.date, variants: Mapping[str, str]) -> str:
    """All campaigns' requirements in force on `day` for the indicator, e.g. "≥35%（创模）；≥36%（卫生）".

    An indicator no edition in force asks for gives NOT_ASSESSED ("—" with its reason: it is still
    reported, for later editions), never a bare "—".
    """
    unit = catalog.indicators[indicator].unit
    parts: list[str] = []
    for req in sorted(catalog.requirements_for_indicator(indicator), key=lambda r: (r.campaign, r.code)):
        edition = catalog.campaigns[req.campaign].edition_in_force(day)
        if edition is None or edition.code != req.edition:
            continue
        label = CAMPAIGN_SHORT.get(req.campaign, req.campaign)
        part = f"{requirement_text(req, unit, variants)}（{label}）"
        if part not in parts:
            parts.append(part)
    return "；".join(parts) if parts else NOT_ASSESSED


def qualitative_options(indicator: Indicator) -> tuple[str, ...] | None:
    """The drop-down list for a qualitative indicator, None for a number."""
    if indicator.value_type != "text":
        return None
    return GRADE_OPTIONS if indicator.unit == "级别" else PASS_OPTIONS


def unit_indicators(
    catalog: Catalog, profile: CountyProfile, org_code: str, frequency: str
) -> list[Indicator]:
    """Indicators `org_code` reports at `frequency` (any role), in catalog order."""
    assigned = {a.indicator for a in profile.assignments(catalog) if a.org_code == org_code}
    return [i for i in catalog.indicators.values() if i.code in assigned and i.frequency == frequency]


def reporting_units(catalog: Catalog, profile: CountyProfile) -> list[OrgUnit]:
    """Units with at least one reporting assignment, in profile order."""
    assigned = {a.org_code for a in profile.assignments(catalog)}
    return [u for u in profile.org_units if u.code in assigned]


def date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def template_file_name(period: Period, unit: OrgUnit) -> str:
    return f"{period.code}_{unit.short_code}_{unit.name_zh}.xlsx"


def _lookup_previous(previous: Mapping | None, org_code: str, indicator: str):
    if not previous:
        return None
    if (org_code, indicator) in previous:
        return previous[(org_code, indicator)]
    return previous.get(indicator)


def build_rows(
    catalog: Catalog,
    profile: CountyProfile,
    unit: OrgUnit,
    period: Period,
    previous_values: Mapping | None = None,
) -> list[TemplateRow]:
    rows = []
    for n, ind in enumerate(unit_indicators(catalog, profile, unit.code, period.frequency), start=1):
        rows.append(
            TemplateRow(
                n,
                ind,
                threshold_text(catalog, ind.code, period.end, profile.variants),
                _lookup_previous(previous_values, unit.code, ind.code),
            )
        )
    return rows


def render_workbook(
    catalog: Catalog,
    profile: CountyProfile,
    unit: OrgUnit,
    period: Period,
    rows: list[TemplateRow],
    *,
    generated_at: dt.datetime,
    values: Mapping[str, object] | None = None,
    remarks: Mapping[str, str] | None = None,
) -> bytes:
    """The return form as xlsx bytes. `values` (indicator code → cell content) pre-fills 本期数值,
    which is how the sample generator fills forms the way a department would."""
    values = values or {}
    remarks = remarks or {}
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, **XLSXWRITER_OPTIONS})
    wb.set_properties(
        {
            "title": f"{profile.name_zh}“五创联动”指标报表",
            "author": "五创联动指标监测平台",
            "created": generated_at.replace(tzinfo=None),
        }
    )
    font = {"font_name": "宋体", "font_size": 11}
    title_fmt = wb.add_format({**font, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    sub_fmt = wb.add_format({**font, "align": "left", "valign": "vcenter"})
    head_fmt = wb.add_format(
        {**font, "bold": True, "align": "center", "valign": "vcenter", "border": 1, "bg_color": "#D9E1F2"}
    )
    cell_fmt = wb.add_format({**font, "border": 1, "valign": "vcenter", "text_wrap": True})
    center_fmt = wb.add_format({**font, "border": 1, "align": "center", "valign": "vcenter"})
    prev_fmt = wb.add_format(
        {**font, "border": 1, "align": "right", "valign": "vcenter", "font_color": "#595959"}
    )
    input_fmt = wb.add_format(
        {**font, "border": 1, "locked": False, "bg_color": "#FFF2CC", "align": "right", "valign": "vcenter"}
    )
    remark_fmt = wb.add_format(
        {**font, "border": 1, "locked": False, "bg_color": "#FFF2CC", "text_wrap": True}
    )

    ws = wb.add_worksheet(SHEET)
    for col, width in enumerate(COLUMN_WIDTHS):
        # the indicator code (B) stays in the file for the parser but is hidden from the clerk;
        # the codes are also listed in the hidden _meta sheet
        ws.set_column(col, col, width, None, {"hidden": True} if col == 1 else None)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, 7, f"{profile.name_zh}“五创联动”指标报表（{unit.name_zh}）", title_fmt)
    due = due_date(period, profile.due_working_days[period.frequency])
    ws.merge_range(
        1, 0, 1, 7, f"填报单位：{unit.name_zh}　报告期：{period.label_zh}　截止日期：{date_zh(due)}", sub_fmt
    )
    ws.set_row(2, 22)
    for col, head in enumerate(HEADERS):
        ws.write_string(2, col, head, head_fmt)
    for i, row in enumerate(rows):
        r = FIRST_DATA_ROW - 1 + i
        ind = row.indicator
        ws.write_number(r, 0, row.number, center_fmt)
        ws.write_string(r, 1, ind.code, cell_fmt)
        ws.write_string(r, 2, ind.name_zh, cell_fmt)
        ws.write_string(r, 3, ind.unit, center_fmt)
        ws.write_string(r, 4, row.threshold_text, cell_fmt)
        if isinstance(row.previous, (int, float)) and not isinstance(row.previous, bool):
            ws.write_number(r, 5, row.previous, prev_fmt)
        elif row.previous is not None:
            ws.write_string(r, 5, str(row.previous), prev_fmt)
        else:
            ws.write_blank(r, 5, None, prev_fmt)
        value = values.get(ind.code)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(r, 6, value, input_fmt)
        elif value is not None:
            ws.write_string(r, 6, str(value), input_fmt)
        else:
            ws.write_blank(r, 6, None, input_fmt)
        if remarks.get(ind.code):
            ws.write_string(r, 7, remarks[ind.code], remark_fmt)
        else:
            ws.write_blank(r, 7, None, remark_fmt)
        ws.data_validation(r, 6, r, 6, _validation(catalog, ind))
    footer_row = FIRST_DATA_ROW - 1 + len(rows) + 1
    ws.merge_range(footer_row, 0, footer_row, 7, FOOTER, sub_fmt)
    ws.freeze_panes(HEADER_ROW, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})
    ws.activate()

    meta = wb.add_worksheet(META_SHEET)
    meta_rows = template_meta(profile, unit, period, generated_at) | {
        "indicator_codes": ",".join(row.indicator.code for row in rows)
    }
    for r, (key, val) in enumerate(meta_rows.items()):
        meta.write_string(r, 0, key)
        if isinstance(val, int):
            meta.write_number(r, 1, val)
        else:
            meta.write_string(r, 1, str(val))
    meta.set_column(0, 1, 24)
    meta.hide()
    wb.close()
    return buf.getvalue()


def template_meta(profile: CountyProfile, unit: OrgUnit, period: Period, generated_at: dt.datetime) -> dict:
    return {
        "template_version": TEMPLATE_VERSION,
        "county_code": profile.code,
        "org_code": unit.code,
        "period_code": period.code,
        "frequency": period.frequency,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "header_row": HEADER_ROW,
        "code_column": CODE_COLUMN,
        "value_column": VALUE_COLUMN,
    }


def _validation(catalog: Catalog, ind: Indicator) -> dict:
    options = qualitative_options(ind)
    if options:
        return {
            "validate": "list",
            "source": list(options),
            "input_title": "请选择",
            "input_message": "从下拉列表中选择评价结果",
            "error_title": "输入无效",
            "error_message": "请从下拉列表中选择：" + "/".join(options),
        }
    uom = catalog.units.get(ind.unit)
    low = uom.min_value if uom and uom.min_value is not None else -1e12
    high = uom.max_value if uom and uom.max_value is not None else 1e12
    return {
        "validate": "decimal",
        "criteria": "between",
        "minimum": low,
        "maximum": high,
        "input_title": "请填数值",
        "input_message": f"单位：{ind.unit}"[:255],
        "error_title": "数值无效",
        "error_message": f"请填写 {_fmt_number(low)} 至 {_fmt_number(high)} 之间的数值（单位：{ind.unit}）",
    }


def generate_unit_template(
    catalog: Catalog,
    profile: CountyProfile,
    unit: OrgUnit,
    period: Period,
    out_dir: Path,
    previous_values: Mapping | None = None,
    generated_at: dt.datetime | None = None,
) -> Path | None:
    """Write one unit's form for a period; None when the unit reports nothing at that frequency."""
    rows = build_rows(catalog, profile, unit, period, previous_values)
    if not rows:
        return None
    generated_at = generated_at or dt.datetime.now().replace(microsecond=0)
    data = render_workbook(catalog, profile, unit, period, rows, generated_at=generated_at)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / template_file_name(period, unit)
    path.write_bytes(data)
    return path


def previous_period_code(period: Period) -> str:
    """The code of the period before `period`, of the same frequency (2013-06 → 2013-05,
    2013-Q1 → 2012-Q4, 2013 → 2012)."""
    before = period.start - dt.timedelta(days=1)
    if period.frequency == "monthly":
        return f"{before.year}-{before.month:02d}"
    if period.frequency == "quarterly":
        return f"{before.year}-Q{(before.month - 1) // 3 + 1}"
    return str(before.year)


def previous_values_from_warehouse(published_dir: Path, county_code: str, period: Period) -> dict:
    """{(org_code, indicator code): value} of the previous period from the latest published snapshot
    (current revisions only; a text value where there is no number). Empty when nothing is published
    yet or the snapshot has no observations."""
    import duckdb

    from pipelines.warehouse.publish import NoSnapshotError, connect_readonly

    try:
        conn = connect_readonly(published_dir)
    except (NoSnapshotError, duckdb.Error, OSError):
        return {}
    try:
        rows = conn.execute(
            """SELECT org_code, indicator_code, value, value_text FROM core.observation
               WHERE county_code = ? AND period_code = ? AND coalesce(is_current, true)""",
            [county_code, previous_period_code(period)],
        ).fetchall()
    except duckdb.Error:
        return {}
    finally:
        conn.close()
    out: dict = {}
    for org, ind, value, text in rows:
        v = value if value is not None else text
        if v is not None:
            out[(org, ind)] = round(float(v), 4) if isinstance(v, float) else v
    return out


def generate_period_templates(
    catalog: Catalog,
    profile: CountyProfile,
    period_code: str,
    out_dir: Path,
    previous_values: Mapping | None = None,
    generated_at: dt.datetime | None = None,
    published_dir: Path | None = None,
) -> list[Path]:
    """All units' forms for one period (`2013-06`, `2013-Q2` or `2013`) into `out_dir`.

    `previous_values` maps indicator code (or `(org_code, indicator code)`, which wins) to the last
    period's value shown in 上期数值. When None, the previous period's values are read from the latest
    published snapshot (`published_dir`, default the settings' published folder): `wuchuang
    templates` fills 上期数值 from what the departments reported. Pass {} for empty columns.
    """
    period = parse_period(period_code)
    if previous_values is None:
        if published_dir is None:
            from pipelines.settings import Settings

            published_dir = Settings.from_env().published_dir
        previous_values = previous_values_from_warehouse(published_dir, profile.code, period)
    generated_at = generated_at or dt.datetime.now().replace(microsecond=0)
    paths = []
    for unit in reporting_units(catalog, profile):
        path = generate_unit_template(catalog, profile, unit, period, out_dir, previous_values, generated_at)
        if path is not None:
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.reporting_calendar import CalendarError
    from pipelines.settings import Settings

    settings = Settings.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.returns.templates",
        description="生成某报告期全部单位的填报模板 / generate all units' return forms for a period",
    )
    parser.add_argument("--period", required=True, help="报告期代码 / period code: 2013-06, 2013-Q2, 2013")
    parser.add_argument("--out", type=Path, default=None, help="输出文件夹 / output folder")
    parser.add_argument("--county", default=None, help="县代码 / county code (default: the first profile)")
    args = parser.parse_args(argv)
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    chosen = [p for p in profiles if args.county in (None, p.code)]
    if not chosen:
        sys.stderr.write(f"未找到县档案 / no county profile '{args.county}'\n")
        return 2
    out = args.out or settings.templates_dir / args.period
    try:
        paths = generate_period_templates(catalog, chosen[0], args.period, out)
    except CalendarError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(f"已生成 {len(paths)} 份填报模板 / wrote {len(paths)} return forms to {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
