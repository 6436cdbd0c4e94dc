"""Each layout family (pipelines/returns/layouts/) on a clean and a dirty fixture.

Clean: every value a person reads loads with the right indicator, subject (county figure or town),
period and cell. Dirty: the traps of that family — target/previous/change/rate columns, 县城
columns, approximate or bounded values, other areas, bare months without a year — are never loaded
as actual values, and each refused value is named with its cell.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest

from pipelines.returns.layouts import FAMILIES
from pipelines.returns.model import ParseContext, ParsedReturn
from pipelines.returns.parse import parse_file

COUNTY = "511923"


@pytest.fixture
def ctx(tmp_path, catalog, profile) -> ParseContext:
    raw = tmp_path / "raw"
    raw.mkdir()
    return ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=dt.date(2017, 1, 1))


def _xlsx(ctx: ParseContext, short: str, name: str, sheets: dict[str, list[list]], merges=None) -> Path:
    folder = ctx.raw_dir / COUNTY / short
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sname, rows in sheets.items():
        ws = wb.create_sheet(sname)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(sname, []):
            ws.merge_cells(rng)
    path = folder / name
    wb.save(path)
    ts = dt.datetime(2016, 12, 20).timestamp()
    os.utime(path, (ts, ts))
    return path


def _vals(r: ParsedReturn) -> dict[tuple[str, str, str], tuple[float | str | None, str]]:
    return {
        (v.indicator_code, v.org_code, v.period_code): (
            v.value if v.value is not None else v.value_text,
            v.cell,
        )
        for v in r.values
    }


def _cells(r: ParsedReturn) -> set[str]:
    return {v.cell for v in r.values}


def test_every_family_module_has_the_small_interface():
    names = [m.FAMILY for m in FAMILIES]
    assert len(names) == len(set(names)) >= 7
    for m in FAMILIES:
        assert callable(m.fit) and m.__doc__


# --- long ----------------------------------------------------------------------------------------


def test_long_clean(ctx):
    rows = [
        ["平昌县住房和城乡建设局2014年创卫指标完成情况表"],
        ["序号", "项目名称", "计量单位", "实际完成", "备注"],
        [1, "建成区绿化覆盖率", "%", 38.2, None],
        [2, "城市生活垃圾无害化处理率", "%", "95.5", "含乡镇"],
    ]
    r = parse_file(_xlsx(ctx, "zjj", "a.xlsx", {"S": rows}), ctx)
    assert r.layout == "long" and not r.problems, r.problems
    v = _vals(r)
    assert v[("builtup_green_coverage", "511923-zjj", "2014")] == (38.2, "D3")
    assert len(r.values) == 2


def test_long_dirty_target_previous_change_and_rate_columns_are_never_loaded(ctx):
    rows = [
        ["平昌县住房和城乡建设局2014年创卫指标完成情况表"],
        ["指标", "单位", "目标值", "上年同期", "本期数", "同比增减(%)", "完成率(%)"],
        ["建成区绿化覆盖率", "%", 36, 35.1, "约38", 8.3, 105],
        ["城市生活垃圾无害化处理率", "%", 90, 88, "≥95", 2, 106],
        ["城市生活污水集中处理率", "%", 85, 80, 86.4, 8, 101.6],
    ]
    r = parse_file(_xlsx(ctx, "zjj", "a.xlsx", {"S": rows}), ctx)
    assert _cells(r) == {"E5"}  # only the exact 本期数 of 城市污水处理率
    reasons = {p.cell: p.reason_code for p in r.problems}
    assert reasons == {"E3": "approximate_value", "E4": "bounded_value"}
    assert all("E3" in p.message_zh or "E4" in p.message_zh for p in r.problems)


# --- periods as columns --------------------------------------------------------------------------


def test_periods_as_columns_clean_year_merged_over_months(ctx):
    rows = [
        ["平昌县生态环境局空气质量逐月统计"],
        ["指标", "2014年", None, None],
        [None, "1月", "2月", "3月"],
        ["空气质量优良天数比例", 80.6, 85.7, "90.3"],
    ]
    path = _xlsx(ctx, "sthjj", "a.xlsx", {"S": rows}, {"S": ["B2:D2", "A2:A3"]})
    r = parse_file(path, ctx)
    assert r.layout == "periods_as_columns" and not r.problems, r.problems
    code = next(iter(_vals(r)))[0]
    assert {k[2] for k in _vals(r)} == {"2014-01", "2014-02", "2014-03"}
    assert _vals(r)[(code, "511923-sthjj", "2014-03")] == (90.3, "D4")


def test_periods_as_columns_dirty_cumulative_and_target_sub_columns(ctx):
    rows = [
        ["平昌县住建局2014年污水处理月报"],
        ["指标", "1月", None, "2月", None, "年度目标"],
        [None, "本月", "累计", "本月", "累计", None],
        ["城市生活污水集中处理率", 80.1, 80.1, 82.0, 81.0, 85],
    ]
    path = _xlsx(ctx, "zjj", "a.xlsx", {"S": rows}, {"S": ["B2:C2", "D2:E2", "A2:A3", "F2:F3"]})
    r = parse_file(path, ctx)
    assert _cells(r) == {"B4", "D4"}  # 本月 only; 累计 and 年度目标 never
    assert sorted(v.period_code for v in r.values) == ["2014-01", "2014-02"]


# --- periods as rows -----------------------------------------------------------------------------


def test_periods_as_rows_clean_monthly_log(ctx):
    rows = [
        ["平昌县2015年环境质量月报汇总"],
        ["月份", "空气质量优良天数比例(%)", "区域环境噪声平均值(dB(A))"],
        ["1月", 80.6, 52.1],
        ["2月", "85.7", 51.0],
    ]
    r = parse_file(_xlsx(ctx, "sthjj", "a.xlsx", {"S": rows}), ctx)
    assert r.layout == "periods_as_rows" and not r.problems, r.problems
    assert {(k[2], c) for k, (_, c) in _vals(r).items()} == {
        ("2015-01", "B3"),
        ("2015-01", "C3"),
        ("2015-02", "B4"),
        ("2015-02", "C4"),
    }


def test_periods_as_rows_dirty_average_row_and_no_year(ctx):
    rows = [
        ["月份", "空气质量优良天数比例(%)"],
        ["1月", 80.6],
        ["2月", 85.7],
        ["平均", 83.2],
    ]
    r = parse_file(_xlsx(ctx, "sthjj", "月报.xlsx", {"S": rows}), ctx)
    assert r.values == []  # no year anywhere: the months cannot be dated
    assert "unknown_period" in {p.reason_code for p in r.problems}


# --- one sheet per period ------------------------------------------------------------------------


def test_sheet_per_period_clean(ctx):
    sheets = {
        name: [["监测项目", "数值", "单位"], ["空气质量优良天数比例", 80 + i, "%"]]
        for i, name in enumerate(["2014年1月", "2014年2月", "2014年3月"])
    }
    r = parse_file(_xlsx(ctx, "sthjj", "a.xlsx", sheets), ctx)
    assert r.layout == "sheet_per_period" and not r.problems, r.problems
    assert sorted(v.period_code for v in r.values) == ["2014-01", "2014-02", "2014-03"]
    assert {v.sheet for v in r.values} == set(sheets)


def test_sheet_per_period_dirty_bare_months_need_a_year(ctx):
    sheets = {name: [["监测项目", "数值"], ["空气质量优良天数比例", 80]] for name in ["1月", "2月"]}
    r = parse_file(_xlsx(ctx, "sthjj", "监测.xlsx", sheets), ctx)
    assert r.values == [] and r.rejected


# --- cross-tab -----------------------------------------------------------------------------------


def test_crosstab_clean_towns_and_county_total(ctx, profile):
    towns = profile.towns[:3]
    rows = [["平昌县2014年第三季度各乡镇免疫规划疫苗接种率"], ["乡镇", "免疫规划疫苗接种率(%)"]]
    rows += [[t.name_zh, 95.0 + i] for i, t in enumerate(towns)]
    rows += [["合计", 95.9]]
    r = parse_file(_xlsx(ctx, "wjw", "a.xlsx", {"S": rows}), ctx)
    assert r.layout == "crosstab" and not r.problems, r.problems
    v = _vals(r)
    for i, t in enumerate(towns):
        assert v[("hyg_immunization_coverage", t.code, "2014-Q3")] == (95.0 + i, f"B{3 + i}")
    assert v[("hyg_immunization_coverage", "511923-wjw", "2014-Q3")] == (95.9, "B6")  # the county figure


def test_crosstab_dirty_seat_other_county_and_auxiliary_columns(ctx, profile):
    town = profile.towns[0]
    rows = [
        ["平昌县2014年第三季度免疫规划疫苗接种率"],
        ["乡镇", "应种人数", "免疫规划疫苗接种率(%)"],
        [town.name_zh, 1490, 96.2],
        ["县城", 3000, 97.5],  # the seat is not the county
        ["通江县", 2000, 93.0],  # another county
        ["全县", 6490, "约96"],  # approximate
    ]
    r = parse_file(_xlsx(ctx, "wjw", "a.xlsx", {"S": rows}), ctx)
    assert _cells(r) == {"C3"}
    assert {p.cell: p.reason_code for p in r.problems if p.cell in ("C6",)} == {"C6": "approximate_value"}
    assert any(p.reason_code == "unknown_indicator" and p.cell == "B3" for p in r.problems)


# --- panel ---------------------------------------------------------------------------------------


def test_panel_clean_town_merged_over_its_years(ctx, profile):
    a, b = profile.towns[:2]
    rows = [
        ["平昌县各乡镇农村卫生厕所普及率"],
        ["乡镇", "年份", "农村卫生厕所普及率(%)"],
        [a.name_zh, "2013", 57.0],
        [None, "2014", 60.5],
        [b.name_zh, 2013, 70.0],
        [None, 2014, 72.2],
    ]
    r = parse_file(_xlsx(ctx, "nyj", "a.xlsx", {"S": rows}, {"S": ["A3:A4", "A5:A6"]}), ctx)
    assert r.layout == "panel" and not r.problems, r.problems
    v = _vals(r)
    assert v[("eco_rural_sanitary_toilet", a.code, "2014")] == (60.5, "C4")
    assert v[("eco_rural_sanitary_toilet", b.code, "2013")] == (70.0, "C5")


def test_panel_dirty_decimal_year_is_never_guessed(ctx, profile):
    a = profile.towns[0]
    rows = [["乡镇", "年份", "农村卫生厕所普及率(%)"], [a.name_zh, 2016.1, 57.0], [a.name_zh, 2015, 55.0]]
    r = parse_file(_xlsx(ctx, "nyj", "a.xlsx", {"S": rows}), ctx)
    assert _cells(r) == {"C3"} | set() or _cells(r) == {"C4"}
    assert "C2" not in _cells(r) and all(v.period_code == "2015" for v in r.values)


# --- yearbook ------------------------------------------------------------------------------------


def test_yearbook_clean_and_dirty_seat_and_previous_year(ctx):
    rows = [
        ["表2-1 平昌县主要指标（2015年）"],
        ["指标", "单位", "全县", None, "县城", None],
        [None, None, "本年", "上年", "本年", "上年"],
        ["一、环境质量", None, None, None, None, None],
        ["\u3000\u3000森林覆盖率", "%", 61.5, 60.9, 30.1, 29.8],
        ["\u00a0\u00a0城市生活污水集中处理率", "%", "85.3*", 80.0, 90.1, 88.0],
        ["注：*为初步统计数。", None, None, None, None, None],
    ]
    merges = {"S": ["C2:D2", "E2:F2", "A2:A3", "B2:B3"]}
    r = parse_file(_xlsx(ctx, "tjj", "a.xlsx", {"S": rows}, merges), ctx)
    assert r.layout == "yearbook", r.problems
    assert _cells(r) == {"C5", "C6"}, r.problems  # 全县 本年 only
    v = {k[0]: val for k, val in _vals(r).items()}
    assert v["forest_coverage"] == (61.5, "C5") and v["urban_sewage_treatment"] == (85.3, "C6")


# --- single indicator (statistics exports) -------------------------------------------------------


def test_single_indicator_other_areas_are_refused_naming_the_area(ctx):
    rows = [
        ["数据库：分省年度数据"],
        ["指标：森林覆盖率(%)"],
        ["地区", "2014年", "2013年"],
        ["北京市", 35.8, 35.8],
        ["四川省", 35.2, 35.2],
    ]
    r = parse_file(_xlsx(ctx, "lyj", "a.xlsx", {"S": rows}), ctx)
    assert r.values == [] and r.rejected
    p = next(p for p in r.problems if p.scope == "file")
    assert p.reason_code == "other_area" and "平昌县" in p.message_zh and "四川省" in p.message_zh


def test_single_indicator_county_row_loads(ctx):
    rows = [["指标：森林覆盖率(%)"], ["地区", "2014年", "2013年"], ["平昌县", 61.5, 60.9]]
    r = parse_file(_xlsx(ctx, "lyj", "a.xlsx", {"S": rows}), ctx)
    assert r.layout == "single_indicator" and not r.problems, r.problems
    assert _vals(r)[("forest_coverage", "511923-lyj", "2014")] == (61.5, "B3")


# --- places in titles ----------------------------------------------------------------------------


def test_a_table_titled_for_the_prefecture_is_not_the_county(ctx):
    rows = [["巴中市2014年森林城市指标"], ["指标", "数值"], ["森林覆盖率", 58.1]]
    r = parse_file(_xlsx(ctx, "lyj", "a.xlsx", {"S": rows}), ctx)
    assert r.values == [] and [p.reason_code for p in r.problems] == ["other_area"]
    assert "巴中市" in r.problems[0].message_zh


def test_impossible_values_get_their_true_reason_before_assignment(ctx):
    rows = [["平昌县林业局2014年指标"], ["指标", "数值"], ["森林覆盖率", "135%"], ["建成区绿化覆盖率", -5]]
    r = parse_file(_xlsx(ctx, "lyj", "a.xlsx", {"S": rows}), ctx)
    assert {p.cell: p.reason_code for p in r.problems if p.scope == "value"} == {
        "B3": "out_of_range",
        "B4": "out_of_range",
    }


# --- several tables in one sheet -----------------------------------------------------------------


def test_two_tables_in_one_sheet_are_read_with_their_own_headers_and_periods(ctx):
    rows = [
        ["表一　平昌县林业局2014年指标"],
        ["指标", "目标值", "本期数"],
        ["森林覆盖率", 60, 61.5],
        [],
        ["表二　2013年指标（上年）"],
        ["指标", "本期数", "目标值"],  # columns in another order: C is now the target
        ["森林覆盖率", 60.9, 58],
    ]
    r = parse_file(_xlsx(ctx, "lyj", "a.xlsx", {"S": rows}), ctx)
    v = _vals(r)
    assert v[("forest_coverage", "511923-lyj", "2014")] == (61.5, "C3")
    assert v[("forest_coverage", "511923-lyj", "2013")] == (60.9, "B7")
    assert _cells(r) == {"C3", "B7"}  # never the second table's 目标值 in C7


def test_an_unknown_name_ending_in_a_role_word_is_reported_not_dropped(ctx):
    rows = [["平昌县城管局2014年指标"], ["指标", "本期数"], ["城区亮化工程完成率", 90], ["森林覆盖率", 61.5]]
    r = parse_file(_xlsx(ctx, "cgj", "a.xlsx", {"S": rows}), ctx)
    unknown = [p for p in r.problems if p.reason_code == "unknown_indicator"]
    assert [p.cell for p in unknown] == ["B3"] and "城区亮化工程完成率" in unknown[0].message_zh


def test_a_fraction_in_a_percentage_indicator_is_questioned_not_loaded(ctx):
    rows = [
        ["平昌县住建局2014年指标"],
        ["指标", "本期数"],
        ["建成区绿化覆盖率", 0.382],
        ["城市生活污水集中处理率", "85.2%"],
    ]
    r = parse_file(_xlsx(ctx, "zjj", "a.xlsx", {"S": rows}), ctx)
    assert _cells(r) == {"B4"}
    p = next(p for p in r.problems if p.cell == "B3")
    assert p.reason_code == "suspect_fraction" and "38.2" in p.message_zh


def test_a_cumulative_column_is_the_value_only_for_a_year(ctx):
    monthly = [["平昌县住建局2014年3月指标"], ["指标", "累计"], ["城市生活污水集中处理率", 80.5]]
    r = parse_file(_xlsx(ctx, "zjj", "a.xlsx", {"S": monthly}), ctx)
    assert r.values == [] and [p.reason_code for p in r.problems if p.scope == "value"] == [
        "cumulative_value"
    ]
    annual = [["平昌县住建局2014年指标"], ["指标", "累计"], ["城市生活污水集中处理率", 80.5]]
    r = parse_file(_xlsx(ctx, "zjj", "b.xlsx", {"S": annual}), ctx)
    assert [(v.period_code, v.value) for v in r.values] == [("2014", 80.5)]


# --- what a cell shows: percent formats and formula errors ---------------------------------------


def test_xlsx_percent_cells_and_formula_errors_read_as_shown(ctx):
    path = _xlsx(
        ctx,
        "zjj",
        "a.xlsx",
        {
            "S": [
                ["平昌县住建局2014年指标"],
                ["指标", "本期数"],
                ["建成区绿化覆盖率", 0.382],
                ["城市生活污水集中处理率", None],
            ]
        },
    )
    wb = openpyxl.load_workbook(path)
    ws = wb["S"]
    ws["B3"].number_format = "0.0%"
    ws["B4"] = "=1/0"  # saved with an error result by a spreadsheet program; here: an error cell
    wb.save(path)
    # openpyxl writes formulas without a cached value: write the error result by hand
    import zipfile

    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[sheet] = parts[sheet].replace(
        b'<c r="B4"><f>1/0</f><v></v></c>', b'<c r="B4" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    ts = dt.datetime(2016, 12, 20).timestamp()
    os.utime(path, (ts, ts))
    r = parse_file(path, ctx)
    assert [(v.cell, v.value) for v in r.values] == [("B3", 38.2)]
    assert {p.cell: p.reason_code for p in r.problems if p.scope == "value"} == {"B4": "formula_error"}


def test_xls_percent_cells_and_formula_errors_read_as_shown(ctx):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("报表")
    for i, row in enumerate([["平昌县住建局2014年指标"], ["指标", "本期数"]]):
        for j, v in enumerate(row):
            ws.write(i, j, v)
    ws.write(2, 0, "建成区绿化覆盖率")
    ws.write(2, 1, 0.382, xlwt.easyxf(num_format_str="0.0%"))
    ws.write(3, 0, "城市生活污水集中处理率")
    ws.row(3).set_cell_error(1, "#DIV/0!")
    folder = ctx.raw_dir / COUNTY / "zjj"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "b.xls"
    wb.save(str(path))
    ts = dt.datetime(2016, 12, 20).timestamp()
    os.utime(path, (ts, ts))
    r = parse_file(path, ctx)
    assert [(v.cell, v.value) for v in r.values] == [("B3", 38.2)]
    assert {p.cell: p.reason_code for p in r.problems if p.scope == "value"} == {"B4": "formula_error"}


def test_towns_as_columns_with_a_total_and_a_group_subtotal(ctx, profile):
    a, b = profile.towns[:2]
    rows = [
        ["平昌县2014年第三季度各乡镇接种情况"],
        ["指标", a.name_zh.removesuffix("镇"), b.name_zh, "城区小计", "小计", "合计"],
        ["免疫规划疫苗接种率(%)", 96.2, 95.5, 95.9, 95.7, 95.8],
    ]
    r = parse_file(_xlsx(ctx, "wjw", "a.xlsx", {"S": rows}), ctx)
    assert {(v.org_code, v.cell) for v in r.values} == {(a.code, "B3"), (b.code, "C3"), ("511923-wjw", "F3")}


def test_a_group_subtotal_row_is_never_the_county_figure(ctx, profile):
    a = profile.towns[0]
    rows = [
        ["平昌县2014年第三季度接种率"],
        ["乡镇", "免疫规划疫苗接种率(%)"],
        [a.name_zh, 96.2],
        ["小计", 95.9],
    ]
    r = parse_file(_xlsx(ctx, "wjw", "a.xlsx", {"S": rows}), ctx)
    assert {(v.org_code, v.cell) for v in r.values} == {(a.code, "B3")}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("平昌县林业局2014年1-6月指标", None),
        ("平昌县林业局2014年上半年指标", None),
        ("平昌县林业局2012-2014年指标汇总", None),
        ("平昌县林业局2014年1-3月指标", "2014-Q1"),
        ("平昌县林业局2014年1-12月指标", "2014"),
        ("平昌县林业局2014年3月指标", "2014-03"),
    ],
)
def test_a_cumulative_span_in_the_title_is_not_a_period(ctx, title, expected):
    rows = [[title], ["指标", "本期数"], ["森林覆盖率", 61.5]]
    r = parse_file(_xlsx(ctx, "lyj", "a.xlsx", {"S": rows}), ctx)
    if expected is None:
        assert r.values == [] and "cumulative_period" in {p.reason_code for p in r.problems}
    else:
        assert [v.period_code for v in r.values] == [expected]


def test_a_group_column_beside_the_indicator_names_is_not_the_name_column(ctx):
    rows = [
        ["平昌县住建局2014年指标"],
        ["项目", "指标", "单位", "数值"],
        ["一、城市建设", "建成区绿化覆盖率", "%", 38.2],
        [None, "城市生活污水集中处理率", "%", 85.3],
    ]
    r = parse_file(_xlsx(ctx, "zjj", "a.xlsx", {"S": rows}, {"S": ["A3:A4"]}), ctx)
    assert {(v.indicator_code, v.cell) for v in r.values} == {
        ("builtup_green_coverage", "D3"),
        ("urban_sewage_treatment", "D4"),
    }


def test_a_table_of_targets_is_not_loaded_as_actual_values(ctx):
    rows = [["平昌县住建局2015年创建目标任务分解表"], ["指标", "数值"], ["建成区绿化覆盖率", 40]]
    r = parse_file(_xlsx(ctx, "zjj", "a.xlsx", {"S": rows}), ctx)
    assert r.values == [] and [p.reason_code for p in r.problems] == ["target_table"]
    assert "目标" in r.problems[0].message_zh and "targets" in r.problems[0].message_en
    done = [["平昌县住建局2015年目标任务完成情况"], ["指标", "数值"], ["建成区绿化覆盖率", 40]]
    r = parse_file(_xlsx(ctx, "zjj", "b.xlsx", {"S": done}), ctx)
    assert [(v.cell, v.value) for v in r.values] == [("B3", 40.0)]
