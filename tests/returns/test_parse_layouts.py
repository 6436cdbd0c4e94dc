"""parse_file on every layout departments send, clean and dirty, with lineage to the cell.

Fixture files are built in tmp_path: openpyxl (merged titles, two-row headers, hidden _meta),
xlwt (.xls), pandas' odf engine (.ods), and CSV in GBK and UTF-8 with BOM. Received dates are set
with os.utime, as the sample generator does.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt

from pipelines.reporting_calendar import parse_period
from pipelines.returns import parse as parse_mod
from pipelines.returns import templates
from pipelines.returns.model import REASONS, ParseContext, ParsedReturn
from pipelines.returns.parse import parse_file, resources

COUNTY = "511923"
RECEIVED = dt.date(2012, 4, 5)


@pytest.fixture
def ctx(catalog, profile, tmp_path) -> ParseContext:
    raw = tmp_path / "raw"
    raw.mkdir()
    return ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=dt.date(2017, 1, 1))


def _folder(ctx: ParseContext, short: str | None) -> Path:
    d = ctx.raw_dir / COUNTY / short if short else ctx.raw_dir
    d.mkdir(parents=True, exist_ok=True)
    return d


def _received(path: Path, day: dt.date = RECEIVED) -> Path:
    ts = dt.datetime.combine(day, dt.time(10, 0)).timestamp()
    os.utime(path, (ts, ts))
    return path


def _xlsx(
    path: Path,
    sheets: dict[str, list[list]],
    merges: dict[str, list[str]] | None = None,
    meta: dict[str, object] | None = None,
    received: dt.date = RECEIVED,
) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    if meta is not None:
        ws = wb.create_sheet("_meta")
        for k, v in meta.items():
            ws.append([k, v])
        ws.sheet_state = "hidden"
    wb.save(path)
    return _received(path, received)


def _values(r: ParsedReturn) -> dict[tuple[str, str], tuple[float | str | None, str, str]]:
    """(indicator, period) → (value or value_text, sheet, cell)."""
    return {
        (v.indicator_code, v.period_code): (v.value if v.value is not None else v.value_text, v.sheet, v.cell)
        for v in r.values
    }


def _reasons(r: ParsedReturn, scope: str | None = None) -> list[str]:
    return [p.reason_code for p in r.problems if scope is None or p.scope == scope]


def _problem(r: ParsedReturn, code: str):
    return next(p for p in r.problems if p.reason_code == code)


TITLE = "平昌县环境保护局2012年3月环境质量指标完成情况表"
HEADER = ["序号", "指标名称", "计量单位", "目标值", "本月数", "备注"]
FOOTER = ["填报单位：县环保局    审核人：张三    填报日期：2012年4月5日"]


def _wide_rows() -> list[list]:
    return [
        [TITLE],
        ["单位：%"],
        HEADER,
        ["甲", 1, 2, 3, 4, 5],  # row 4: column numbering (栏次)
        [1, "集中式饮用水水源地水质达标率", "%", 100, "100%", None],  # row 5
        [2, "全年空气污染指数≤100天数占全年天数比例", "%", 80, "８５．３", None],  # 6: alias, full-width
        [3, "工业固体废物处置利用率（%）", "%", 40, "—", None],  # 7: empty marker
        [],  # 8: blank
        [None, "小计", None, None, "135.2", None],  # 9: subtotal
        [4, "化学需氧量(COD)排放强度", "kg/万元GDP", None, "1,234.5", None],  # 10: thousands separator
        [5, "近三年辖区内重大、特大环境污染和生态破坏事故数", "起", 0, "-1", None],  # 11: negative count
        [6, "区域环境噪声平均值", "dB(A)", None, "５２．３", None],  # 12
        [7, "水环境质量", "-", None, "达标", None],  # 13: qualitative
        [8, "本单位食堂满意度", "%", None, "90", None],  # 14: unknown
        [9, "经常参加体育锻炼人比例", "%", None, "30", None],  # 15: ambiguous (two catalog indicators)
        [10, "工业企业污染物排放稳定达标率", "%", 85, "abc", None],  # 16: text for a number
        [11, "一、环境质量", None, None, None, None],  # 17: section heading, no value
        [12, "饮用水水质达标率 ", "%", None, "1.2万", None],  # 18: fuzzy name, 12000 % is out of range
        [13, "森林覆盖率", "%", None, "65", None],  # 19: the forestry bureau's indicator
        FOOTER,
    ]


# --- wide ---


def test_wide_layout_clean_cells_with_lineage(ctx):
    path = _xlsx(_folder(ctx, "sthjj") / "环境质量月报.xlsx", {"Sheet1": _wide_rows()}, {"Sheet1": ["A1:F1"]})
    r = parse_file(path, ctx)
    assert not r.rejected, r.problems
    assert (r.layout, r.file_format) == ("long", "xlsx")
    assert (r.org_code, r.org_detected_by) == ("511923-sthjj", "title")
    assert (r.period_codes, r.period_detected_by) == (["2012-03"], "title")
    vals = _values(r)
    assert vals[("drinking_source_compliance", "2012-03")] == (100.0, "Sheet1", "E5")
    assert vals[("env_api_good_days_ratio", "2012-03")] == (85.3, "Sheet1", "E6")  # not the 目标值 in D6
    assert vals[("eco_cod_intensity", "2012-03")] == (1234.5, "Sheet1", "E10")
    assert vals[("regional_noise", "2012-03")] == (52.3, "Sheet1", "E12")
    assert vals[("eco_water_quality", "2012-03")] == ("达标", "Sheet1", "E13")
    water = next(v for v in r.values if v.indicator_code == "eco_water_quality")
    assert water.value is None and water.value_text == "达标"
    raw = next(v for v in r.values if v.indicator_code == "env_api_good_days_ratio")
    assert raw.raw_text == "８５．３" and raw.unit == "%" and raw.org_code == "511923-sthjj"
    assert r.missing_count == 1  # 工业固体废物处置利用率 "—": no value, no problem
    assert "industrial_solid_waste_use" not in {v.indicator_code for v in r.values}
    # 森林覆盖率 is the forestry bureau's, reported here too: kept as a secondary source (triangulation)
    assert vals[("forest_coverage", "2012-03")] == (65.0, "Sheet1", "E19")
    assert len(r.values) == 6  # subtotal, blank, heading and footer rows are not indicators


def test_wide_layout_dirty_cells_are_rejected_one_by_one(ctx, catalog):
    path = _xlsx(_folder(ctx, "sthjj") / "环境质量月报.xlsx", {"Sheet1": _wide_rows()}, {"Sheet1": ["A1:F1"]})
    r = parse_file(path, ctx)
    assert not r.rejected
    assert sorted(_reasons(r)) == sorted(
        [
            "out_of_range",
            "unknown_indicator",
            "ambiguous_indicator",
            "not_a_number",
            "out_of_range",
        ]
    )
    neg = next(p for p in r.problems if p.cell == "E11")
    assert neg.reason_code == "out_of_range" and neg.indicator_code == "env_no_major_incident"
    assert neg.scope == "value" and neg.raw_text == "-1" and neg.period_code == "2012-03"
    big = next(p for p in r.problems if p.cell == "E18")
    assert big.reason_code == "out_of_range" and big.indicator_code == "drinking_source_compliance"
    unknown = _problem(r, "unknown_indicator")
    # the quarantined value is E14; the message names the name cell B14 and the name
    assert (unknown.sheet, unknown.cell, unknown.raw_text, unknown.scope) == ("Sheet1", "E14", "90", "value")
    assert "B14" in unknown.message_zh and "本单位食堂满意度" in unknown.message_zh
    assert unknown.period_code == "2012-03"
    amb = _problem(r, "ambiguous_indicator")
    assert amb.cell == "E15" and "经常参加体育锻炼人比例" in amb.message_en
    assert "civ_regular_exercise_ratio" in amb.message_zh and "hyg_regular_exercise_ratio" in amb.message_zh
    nan = _problem(r, "not_a_number")
    assert (nan.cell, nan.raw_text, nan.indicator_code) == ("E16", "abc", "industrial_compliance")


def test_single_source_indicator_from_another_unit_is_not_used(ctx, catalog):
    """婴儿死亡率 is single-source in the catalog (the health bureau's vital statistics): a value sent
    by the environment bureau is quarantined as not assigned, naming the unit that reports it."""
    assert catalog.indicators["hyg_infant_mortality"].sources == "single"
    rows = [[TITLE], ["指标名称", "本月数"], ["婴儿死亡率", "5.1"], ["森林覆盖率", "65"]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "环境质量月报.xlsx", {"Sheet1": rows}), ctx)
    other = _problem(r, "not_assigned")
    assert (other.cell, other.indicator_code, other.org_code) == (
        "B3",
        "hyg_infant_mortality",
        "511923-sthjj",
    )
    assert "卫生" in other.message_zh or "卫健" in other.message_zh
    assert [v.indicator_code for v in r.values] == ["forest_coverage"]  # multi-source: kept as secondary


def test_problem_messages_name_file_sheet_cell_and_reason_in_chinese_then_english(ctx):
    path = _xlsx(_folder(ctx, "sthjj") / "环境质量月报.xlsx", {"Sheet1": _wide_rows()})
    p = _problem(parse_file(path, ctx), "not_a_number")
    zh, en = REASONS["not_a_number"]
    assert p.message_zh.startswith("文件“环境质量月报.xlsx”，工作表“Sheet1”，单元格 E16：")
    assert zh in p.message_zh and "abc" in p.message_zh
    assert p.message_en.startswith("file '环境质量月报.xlsx', sheet 'Sheet1', cell E16: ")
    assert en in p.message_en


def test_two_row_header_with_period_over_target_and_value(ctx):
    rows = [
        ["平昌县林业局2012年第一季度林业指标完成情况"],
        ["指标名称", "计量单位", "2012年第一季度", None, "备注"],
        [None, None, "目标值", "完成值", None],
        ["森林覆盖率", "%", 40, "65.2%", None],
        ["林业有害生物成灾率", "‰", 4, "0.3", None],
    ]
    merges = ["A1:E1", "A2:A3", "B2:B3", "C2:D2", "E2:E3"]
    r = parse_file(_xlsx(_folder(ctx, "lyj") / "林业季报.xlsx", {"季报": rows}, {"季报": merges}), ctx)
    assert not r.problems, r.problems
    assert (r.org_code, r.period_codes, r.period_detected_by) == ("511923-lyj", ["2012-Q1"], "title")
    vals = _values(r)
    assert vals[("forest_coverage", "2012-Q1")] == (65.2, "季报", "D4")
    assert vals[("forest_pest_disaster_rate", "2012-Q1")] == (0.3, "季报", "D5")


def test_a_unit_written_in_the_wrong_unit_is_wrong_unit_and_percent_permille_convert(ctx):
    rows = [
        ["平昌县卫生局2012年3月报表"],
        ["指标名称", "计量单位", "本期数值"],
        ["中小学生近视率", "元/人", "65"],
        ["婴儿死亡率", "%", "0.35"],
        ["5岁以下儿童死亡率", "‰", "3.5‰"],
    ]
    r = parse_file(_xlsx(_folder(ctx, "wjw") / "a.xlsx", {"S": rows}), ctx)
    assert _reasons(r) == ["wrong_unit"]
    assert _problem(r, "wrong_unit").cell == "C3"
    assert _values(r)[("hyg_infant_mortality", "2012-03")][0] == pytest.approx(3.5)
    assert _values(r)[("hyg_u5_mortality", "2012-03")] == (3.5, "S", "C5")


# --- folder cross-check ---


def test_another_units_file_in_the_wrong_folder_is_rejected(ctx):
    rows = [["平昌县林业局2012年3月报表"], ["指标名称", "本期数值"], ["森林覆盖率", 65.2]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "月报.xlsx", {"S": rows}), ctx)
    assert r.rejected and _reasons(r, "file") == ["wrong_folder"]
    assert (r.org_code, r.org_detected_by) == ("511923-lyj", "title")
    assert r.values == [] and r.period_codes == ["2012-03"]
    p = _problem(r, "wrong_folder")
    assert "县林业局" in p.message_zh and "511923-sthjj" in p.message_zh and "511923-lyj" in p.message_en


def test_the_same_file_in_its_own_folder_is_accepted(ctx):
    rows = [["平昌县林业局2012年3月报表"], ["指标名称", "本期数值"], ["森林覆盖率", 65.2]]
    r = parse_file(_xlsx(_folder(ctx, "lyj") / "月报.xlsx", {"S": rows}), ctx)
    assert not r.problems and _values(r)[("forest_coverage", "2012-03")] == (65.2, "S", "B3")


# --- detection order ---


def _simple(ctx, short, name, sheet="Sheet1", title=None, value_header="本期数值"):
    rows = ([[title]] if title else []) + [["指标名称", value_header], ["森林覆盖率", 65.2]]
    return parse_file(_xlsx(_folder(ctx, short) / name, {sheet: rows}), ctx)


def test_period_title_beats_sheet_beats_filename_beats_column(ctx):
    r = _simple(ctx, "lyj", "2012-05_x.xlsx", sheet="2012年4月", title="县林业局2012年3月报表")
    assert (r.period_codes, r.period_detected_by) == (["2012-03"], "title")
    r = _simple(ctx, "lyj", "2012-05_y.xlsx", sheet="2012年4月", title="县林业局月报")
    assert (r.period_codes, r.period_detected_by) == (["2012-04"], "sheet")
    r = _simple(ctx, "lyj", "2012-05_z.xlsx", title="县林业局月报")
    assert (r.period_codes, r.period_detected_by) == (["2012-05"], "filename")
    r = _simple(ctx, "lyj", "月报.xlsx", value_header="2012年2月")
    assert (r.period_codes, r.period_detected_by) == (["2012-02"], "column")
    assert _values(r)[("forest_coverage", "2012-02")][2] == "B2"


def test_unit_title_beats_sheet_beats_filename_beats_folder(ctx):
    r = _simple(ctx, "lyj", "2012-03_lyj.xlsx", sheet="县林业局", title="县林业局2012年3月")
    assert (r.org_code, r.org_detected_by) == ("511923-lyj", "title")
    r = _simple(ctx, "lyj", "2012-03_lyj.xlsx", sheet="县林业局")
    assert (r.org_code, r.org_detected_by) == ("511923-lyj", "sheet")
    r = _simple(ctx, "lyj", "2012-03_县林业局.xlsx")
    assert (r.org_code, r.org_detected_by) == ("511923-lyj", "filename")
    r = _simple(ctx, "lyj", "2012-03.xlsx")
    assert (r.org_code, r.org_detected_by) == ("511923-lyj", "folder")


def test_file_outside_unit_folders_takes_the_unit_from_content(ctx):
    r = _simple(ctx, None, "2012-03_县林业局.xlsx")
    assert (r.org_code, r.org_detected_by) == ("511923-lyj", "filename") and not r.rejected
    r = _simple(ctx, None, "2012-03.xlsx")
    assert r.rejected and _reasons(r) == ["unknown_unit"]


# --- long, multi-sheet, months as columns ---


def test_long_layout_one_row_per_indicator_and_period(ctx):
    rows = [
        ["平昌县卫生局传染病与妇幼指标"],
        ["指标名称", "报告期", "数值", "单位"],
        ["甲、乙类法定传染病报告发病率", "2012年3月", "120.5", "1/10万"],  # 3
        ["甲、乙类法定传染病报告发病率", "2012-04", 130, "1/10万"],  # 4
        ["甲、乙类法定传染病报告发病率", dt.datetime(2012, 5, 1), 99, "1/10万"],  # 5: date cell
        ["婴儿死亡率", "2012年", "5.1", "‰"],  # 6
        ["婴儿死亡率", "2012年", "5.3", "‰"],  # 7: conflicts with 6
        ["甲、乙类法定传染病报告发病率", "2012年3月", "120.5", "1/10万"],  # 8: same value again
        ["建成区鼠、蚊、蝇、蟑螂密度控制水平", "2012年第一季度", "C级", "级别"],  # 9
        ["甲、乙类法定传染病报告发病率", "下个月", 1, "1/10万"],  # 10
    ]
    r = parse_file(
        _xlsx(_folder(ctx, "wjw") / "长表.xlsx", {"数据": rows}, received=dt.date(2013, 2, 1)), ctx
    )
    assert not r.rejected
    assert (r.layout, r.org_code, r.period_detected_by) == ("periods_as_rows", "511923-wjw", "column")
    vals = _values(r)
    assert vals[("hyg_notifiable_disease_incidence", "2012-03")] == (120.5, "数据", "C3")
    assert vals[("hyg_notifiable_disease_incidence", "2012-04")] == (130.0, "数据", "C4")
    assert vals[("hyg_notifiable_disease_incidence", "2012-05")] == (99.0, "数据", "C5")
    assert vals[("hyg_vector_density_grade", "2012-Q1")] == ("C级", "数据", "C9")
    assert ("hyg_infant_mortality", "2012") not in vals  # conflicting: neither value is kept
    assert r.period_codes == ["2012-03", "2012-04", "2012-05", "2012-Q1"]
    conflicts = [p for p in r.problems if p.reason_code == "conflicting_values"]
    assert {p.cell for p in conflicts} == {"C6", "C7"}
    assert "C6" in conflicts[0].message_zh and "C7" in conflicts[0].message_zh
    bad_period = _problem(r, "unknown_period")
    assert (bad_period.scope, bad_period.cell) == ("row", "B10")
    assert sum(v.indicator_code == "hyg_notifiable_disease_incidence" for v in r.values) == 3  # deduplicated


def test_multi_sheet_one_sheet_per_month(ctx):
    sheets = {}
    for i, name in enumerate(["2012年1月", "2月", "3月"]):
        sheets[name] = [
            ["平昌县环境保护局2012年环境质量月报"],
            ["指标名称", "本月"],
            ["集中式饮用水水源地水质达标率", 90 + i],
        ]
    sheets["说明"] = [["本表由县环保局填报"]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "月报汇总.xlsx", sheets), ctx)
    assert not r.problems, r.problems
    assert (r.layout, r.period_detected_by) == ("sheet_per_period", "sheet")
    assert r.period_codes == ["2012-01", "2012-02", "2012-03"]
    vals = _values(r)
    assert vals[("drinking_source_compliance", "2012-01")] == (90.0, "2012年1月", "B3")
    assert vals[("drinking_source_compliance", "2012-03")] == (92.0, "3月", "B3")


def test_a_single_sheet_named_by_its_month_is_multi_sheet(ctx):
    rows = [
        ["平昌县水务局2011年12月创建指标月报"],
        ["指标", "本期数值"],
        ["集中式饮用水水源地水质达标率", 99],
    ]
    r = parse_file(_xlsx(_folder(ctx, "slj") / "各月指标月报.xlsx", {"12月": rows}), ctx)
    assert not r.problems and r.layout == "sheet_per_period"
    assert _values(r) == {("drinking_source_compliance", "2011-12"): (99.0, "12月", "B3")}


def test_months_as_columns_with_the_year_in_the_title(ctx):
    header = ["指标名称"] + [f"{m}月" for m in range(1, 13)]
    row = ["集中式饮用水水源地水质达标率", 100, "—", "９５"] + [None] * 9
    rows = [["平昌县环境保护局2013年逐月统计表"], header, row]
    r = parse_file(
        _xlsx(_folder(ctx, "sthjj") / "逐月.xlsx", {"S": rows}, received=dt.date(2014, 1, 20)), ctx
    )
    assert not r.problems, r.problems
    assert (r.layout, r.period_detected_by) == ("periods_as_columns", "column")
    assert _values(r) == {
        ("drinking_source_compliance", "2013-01"): (100.0, "S", "B3"),
        ("drinking_source_compliance", "2013-03"): (95.0, "S", "D3"),
    }
    assert r.missing_count == 10 and r.period_codes == ["2013-01", "2013-03"]


def test_months_as_columns_without_a_year_is_unknown_period(ctx):
    rows = [["指标名称", "1月", "2月"], ["集中式饮用水水源地水质达标率", 100, 99]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "逐月.xlsx", {"S": rows}), ctx)
    assert "unknown_period" in _reasons(r) and r.values == []


# --- other formats ---


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_csv_in_gbk_and_utf8_bom_with_period_in_the_file_name(ctx, encoding):
    text = '指标名称,数值,计量单位\n集中式饮用水水源地水质达标率,９８．５,%\n森林覆盖率,—,%\n工业固体废物处置利用率,"38.5%",%\n'
    path = _folder(ctx, "sthjj") / "2012年3月.csv"
    path.write_bytes(text.encode(encoding))
    r = parse_file(_received(path), ctx)
    assert not r.problems, r.problems
    assert (r.layout, r.file_format) == ("long", "csv")
    assert (r.org_detected_by, r.period_detected_by) == ("folder", "filename")
    vals = _values(r)
    assert vals[("drinking_source_compliance", "2012-03")] == (98.5, "2012年3月", "B2")
    assert vals[("industrial_solid_waste_use", "2012-03")] == (38.5, "2012年3月", "B4")
    assert r.missing_count == 1


def test_xls_written_by_xlwt(ctx):
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Sheet1")
    ws.write_merge(0, 0, 0, 2, "平昌县环境保护局2012年3月报表")
    for c, h in enumerate(["序号", "指标名称", "本期数值"]):
        ws.write(1, c, h)
    ws.write(2, 0, 1)
    ws.write(2, 1, "集中式饮用水水源地水质达标率")
    ws.write(2, 2, "９６．５")
    path = _folder(ctx, "sthjj") / "报表.xls"
    wb.save(str(path))
    r = parse_file(_received(path), ctx)
    assert not r.problems and r.file_format == "xls"
    assert _values(r) == {("drinking_source_compliance", "2012-03"): (96.5, "Sheet1", "C3")}


def test_ods_written_by_pandas_odf(ctx):
    path = _folder(ctx, "sthjj") / "2012-03_环保.ods"
    rows = [
        ["平昌县环境保护局报表", None],
        [None, None],
        ["指标名称", "数值"],
        ["集中式饮用水水源地水质达标率", "85.3%"],
        ["森林覆盖率", "/"],
    ]
    with pd.ExcelWriter(path, engine="odf") as xw:
        pd.DataFrame(rows).to_excel(xw, sheet_name="S", index=False, header=False)
    r = parse_file(_received(path), ctx)
    assert not r.problems and r.file_format == "ods"
    assert (r.org_detected_by, r.period_detected_by) == ("title", "filename")
    assert _values(r) == {("drinking_source_compliance", "2012-03"): (85.3, "S", "B4")}
    assert r.missing_count == 1


# --- the platform template ---


def _meta(org: str = "511923-sthjj", period: str = "2012-03") -> dict:
    return {
        "template_version": "wuchuang-return/1",
        "county_code": COUNTY,
        "org_code": org,
        "period_code": period,
        "frequency": "monthly",
        "generated_at": "2012-03-01T00:00:00",
        "header_row": 3,
        "code_column": "B",
        "value_column": "G",
    }


def _template_rows(values: list[object]) -> list[list]:
    codes = ["drinking_source_compliance", "industrial_solid_waste_use", "eco_water_quality"]
    rows = [
        ["平昌县“五创联动”指标报表（县生态环境局）"],
        ["填报单位：县生态环境局　报告期：2012年3月　截止日期：2012年4月10日"],
        list(templates.HEADERS),
    ]
    for i, (code, value) in enumerate(zip(codes, values, strict=True)):
        rows.append([i + 1, code, "名称随意", "%", "≥95%", 90, value, None])
    rows += [[], [templates.FOOTER]]
    return rows


def test_template_is_recognised_by_its_hidden_meta_sheet(ctx):
    path = _xlsx(
        _folder(ctx, "sthjj") / "2012-03_sthjj_县生态环境局.xlsx",
        {"填报表": _template_rows(["９８．５", 36, "达标"])},
        {"填报表": ["A1:H1", "A2:H2"]},
        meta=_meta(),
    )
    r = parse_file(path, ctx)
    assert not r.problems, r.problems
    assert (r.layout, r.template_version) == ("template", "wuchuang-return/1")
    assert (r.org_code, r.org_detected_by, r.period_codes, r.period_detected_by) == (
        "511923-sthjj",
        "template",
        ["2012-03"],
        "template",
    )
    assert _values(r) == {
        ("drinking_source_compliance", "2012-03"): (98.5, "填报表", "G4"),
        ("industrial_solid_waste_use", "2012-03"): (36.0, "填报表", "G5"),
        ("eco_water_quality", "2012-03"): ("达标", "填报表", "G6"),
    }


def test_template_percent_135_is_out_of_range_and_only_that_value_is_rejected(ctx):
    path = _xlsx(
        _folder(ctx, "sthjj") / "x.xlsx", {"填报表": _template_rows(["135", 36, "达标"])}, meta=_meta()
    )
    r = parse_file(path, ctx)
    assert not r.rejected and _reasons(r) == ["out_of_range"]
    p = _problem(r, "out_of_range")
    assert (p.sheet, p.cell, p.raw_text, p.indicator_code) == (
        "填报表",
        "G4",
        "135",
        "drinking_source_compliance",
    )
    assert "135" in p.message_zh and "0～100" in p.message_zh
    assert set(_values(r)) == {("industrial_solid_waste_use", "2012-03"), ("eco_water_quality", "2012-03")}


def test_an_exact_copy_parses_to_the_same_values(ctx):
    """Duplicates are the loader's business (content hash); the parser must simply be deterministic."""
    a = _xlsx(_folder(ctx, "sthjj") / "a.xlsx", {"Sheet1": _wide_rows()})
    b = _folder(ctx, "sthjj") / "copy of a.xlsx"
    b.write_bytes(a.read_bytes())
    ra, rb = parse_file(a, ctx), parse_file(_received(b), ctx)
    assert ra.values == rb.values and [p.reason_code for p in ra.problems] == [
        p.reason_code for p in rb.problems
    ]


def test_template_without_its_meta_sheet_is_read_as_a_wide_return(ctx):
    """A department that deleted _meta: unit and period come from the title rows (not from the due date
    "2012年4月10日"), codes from 指标代码, values from 本期数值 and never from 上期数值."""
    path = _xlsx(_folder(ctx, "sthjj") / "填报.xlsx", {"填报表": _template_rows(["９８．５", 36, "达标"])})
    r = parse_file(path, ctx)
    assert not r.problems, r.problems
    assert (r.layout, r.template_version) == ("long", None)
    assert (r.org_code, r.org_detected_by, r.period_codes, r.period_detected_by) == (
        "511923-sthjj",
        "title",
        ["2012-03"],
        "title",
    )
    assert _values(r)[("drinking_source_compliance", "2012-03")] == (98.5, "填报表", "G4")


def test_hidden_sheets_other_than_meta_are_not_read_as_data(ctx):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "本月"
    for row in ([TITLE], ["指标名称", "本期数值"], ["集中式饮用水水源地水质达标率", 99]):
        ws.append(row)
    old = wb.create_sheet("旧数据")
    for row in (["指标名称", "本期数值"], ["集中式饮用水水源地水质达标率", 12]):
        old.append(row)
    old.sheet_state = "hidden"
    path = _folder(ctx, "sthjj") / "a.xlsx"
    wb.save(path)
    r = parse_file(_received(path), ctx)
    assert not r.problems and r.layout == "long"
    assert _values(r) == {("drinking_source_compliance", "2012-03"): (99.0, "本月", "B3")}


def test_template_meta_of_another_unit_in_the_wrong_folder(ctx):
    path = _xlsx(
        _folder(ctx, "sthjj") / "x.xlsx", {"填报表": _template_rows([1, 2, "达标"])}, meta=_meta("511923-lyj")
    )
    r = parse_file(path, ctx)
    assert _reasons(r) == ["wrong_folder"] and r.org_detected_by == "template" and r.values == []


def test_template_blank_input_cells_make_no_values(ctx):
    path = _xlsx(_folder(ctx, "sthjj") / "x.xlsx", {"填报表": _template_rows([None, "—", ""])}, meta=_meta())
    r = parse_file(path, ctx)
    assert r.rejected and _reasons(r) == ["no_values"] and r.missing_count == 3


def test_template_generated_by_the_platform_round_trips(ctx, catalog, profile):
    unit = next(u for u in profile.departments if u.short_code == "sthjj")
    period = parse_period("2012-03")
    rows = templates.build_rows(catalog, profile, unit, period, None)
    values = {row.indicator.code: (80.5 if row.indicator.value_type == "number" else "达标") for row in rows}
    data = templates.render_workbook(
        catalog, profile, unit, period, rows, generated_at=dt.datetime(2012, 3, 1), values=values
    )
    path = _folder(ctx, "sthjj") / templates.template_file_name(period, unit)
    path.write_bytes(data)
    r = parse_file(_received(path), ctx)
    assert not r.problems, r.problems
    assert r.layout == "template" and r.org_detected_by == "template"
    assert {v.indicator_code for v in r.values} == set(values)
    first = r.values[0]
    assert (first.sheet, first.cell) == (
        templates.SHEET,
        f"{templates.VALUE_COLUMN}{templates.FIRST_DATA_ROW}",
    )


# --- bad files and periods ---


def test_empty_file_is_rejected_with_a_clear_message(ctx):
    path = _folder(ctx, "sthjj") / "空文件.xlsx"
    path.write_bytes(b"")
    r = parse_file(path, ctx)
    assert r.rejected and _reasons(r) == ["empty_file"]
    assert "空文件.xlsx" in r.problems[0].message_zh and "empty" in r.problems[0].message_en


def test_truncated_xlsx_is_rejected_as_corrupt(ctx):
    good = _xlsx(_folder(ctx, "sthjj") / "good.xlsx", {"S": _wide_rows()})
    bad = _folder(ctx, "sthjj") / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[:1500])
    r = parse_file(bad, ctx)
    assert r.rejected and _reasons(r) == ["corrupt_archive"] and r.values == []


def test_period_after_the_received_date_is_in_the_future(ctx):
    rows = [["平昌县环境保护局2012年6月报表"], ["指标名称", "本期数值"], ["集中式饮用水水源地水质达标率", 99]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "a.xlsx", {"S": rows}, received=dt.date(2012, 4, 5)), ctx)
    assert r.rejected and _reasons(r) == ["period_in_future"] and r.values == []
    ok = parse_file(_xlsx(_folder(ctx, "sthjj") / "b.xlsx", {"S": rows}, received=dt.date(2012, 7, 6)), ctx)
    assert not ok.rejected


def test_period_outside_the_reporting_calendar_is_not_expected(ctx):
    rows = [["平昌县环境保护局2010年3月报表"], ["指标名称", "本期数值"], ["集中式饮用水水源地水质达标率", 99]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "a.xlsx", {"S": rows}), ctx)
    assert r.rejected and _reasons(r) == ["period_not_expected"]
    assert "2010" in r.problems[0].message_zh


def test_mixed_periods_reject_only_the_bad_periods_values(ctx):
    rows = [
        ["平昌县卫生局"],
        ["指标名称", "报告期", "数值"],
        ["甲、乙类法定传染病报告发病率", "2012年3月", 100],
        ["甲、乙类法定传染病报告发病率", "2012年9月", 100],
    ]
    r = parse_file(_xlsx(_folder(ctx, "wjw") / "a.xlsx", {"S": rows}), ctx)
    assert not r.rejected
    assert [p.scope for p in r.problems] == ["row"] and _reasons(r) == ["period_in_future"]
    assert list(_values(r)) == [("hyg_notifiable_disease_incidence", "2012-03")]


def test_no_period_anywhere_is_unknown_period(ctx):
    rows = [["县环境保护局报表"], ["指标名称", "本月数"], ["集中式饮用水水源地水质达标率", 99]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "报表.xlsx", {"Sheet1": rows}), ctx)
    assert r.rejected and _reasons(r) == ["unknown_period"]


def test_sheet_without_a_header_is_no_header(ctx):
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "2012-03.xlsx", {"S": [["随便写点"], [1, 2, 3]]}), ctx)
    assert r.rejected and _reasons(r) == ["no_header"]


def test_only_unknown_names_leaves_no_values(ctx):
    rows = [[TITLE], ["指标名称", "本期数值"], ["本单位食堂满意度", 90]]
    r = parse_file(_xlsx(_folder(ctx, "sthjj") / "a.xlsx", {"S": rows}), ctx)
    assert r.rejected and sorted(_reasons(r)) == ["no_indicator", "unknown_indicator"]
    cell = next(p for p in r.problems if p.reason_code == "unknown_indicator")
    assert (cell.sheet, cell.cell) == ("S", "B3") and "本单位食堂满意度" in cell.message_zh


def test_parse_file_never_raises(ctx, monkeypatch):
    def boom(path, **kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(parse_mod, "read_book", boom)
    path = _xlsx(_folder(ctx, "sthjj") / "a.xlsx", {"S": _wide_rows()})
    r = parse_file(path, ctx)
    assert r.rejected and _reasons(r) == ["parse_error"]
    assert "disk on fire" in r.problems[0].message_zh and "disk on fire" in r.problems[0].message_en


def test_missing_file_is_a_problem_not_an_exception(ctx):
    r = parse_file(ctx.raw_dir / "nope.xlsx", ctx)
    assert r.rejected and r.values == []


def test_matchers_are_built_once_per_context(ctx):
    assert resources(ctx) is resources(ctx)
    assert resources(ctx).indicators is resources(ctx).indicators
