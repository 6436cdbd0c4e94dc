"""Cell normalisation: numbers in every messy spelling, empty markers, text, and period strings."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.returns.normalize import (
    clean_text,
    find_period,
    find_year,
    month_of_header,
    normalize_cell,
    period_from_cell,
)


@pytest.mark.parametrize(
    ("raw", "value", "hint"),
    [
        (85.3, 85.3, None),
        (12, 12.0, None),
        ("85.3", 85.3, None),  # number stored as text
        (" 85.3 ", 85.3, None),
        ("８５．３", 85.3, None),  # full-width digits and point
        ("85.3%", 85.3, "%"),  # stays in percent units
        ("８５．３％", 85.3, "%"),
        ("3.5‰", 3.5, "‰"),
        ("12,345", 12345.0, None),
        ("１２，３４５", 12345.0, None),  # full-width comma
        ("1,234,567.5", 1234567.5, None),
        ("1.2万", 12000.0, None),
        ("-5", -5.0, None),
        ("－5", -5.0, None),  # full-width minus
        ("+3", 3.0, None),
        ("1e3", 1000.0, None),
    ],
)
def test_numbers_in_every_spelling_become_floats(raw, value, hint):
    n = normalize_cell(raw)
    assert n.kind == "number"
    assert n.value == pytest.approx(value)
    assert n.unit_hint == hint
    assert n.is_exact and n.qualifier is None and n.footnote is None and n.unit_text is None


@pytest.mark.parametrize("raw", ["", "   ", None, "—", "——", "－", "-", "/", "无", "--", "N/A", "　"])
def test_empty_markers_are_missing_not_errors(raw):
    n = normalize_cell(raw)
    assert n.kind == "missing" and n.is_missing
    assert n.value is None and n.reason is None


@pytest.mark.parametrize("raw", ["达标", "C级", "12,34", "1.2.3", "85.3%%", "abc", "万"])
def test_non_numbers_stay_text(raw):
    n = normalize_cell(raw)
    assert n.kind == "text"
    assert n.value is None
    assert n.text == clean_text(raw)


def test_text_is_nfkc_normalised_and_whitespace_collapsed():
    assert normalize_cell("  Ｃ级  ").text == "C级"
    assert clean_text("建成区\u3000绿化  覆盖率") == "建成区 绿化 覆盖率"


def test_booleans_dates_and_non_finite_numbers():
    assert normalize_cell(True).kind == "text"
    assert normalize_cell(dt.date(2012, 3, 1)).text == "2012-03-01"
    assert normalize_cell(float("nan")).kind == "error"
    assert normalize_cell(float("nan")).reason == "not_a_number"
    assert normalize_cell(dt.time(12, 0)).kind == "error"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2012年3月", "2012-03"),
        ("2012年03月", "2012-03"),
        ("2012 年 3 月份", "2012-03"),
        ("平昌县环境保护局2012年3月环境质量指标完成情况表", "2012-03"),
        ("2012年第一季度", "2012-Q1"),
        ("2012年一季度", "2012-Q1"),
        ("2012年1季度", "2012-Q1"),
        ("2012年第4季度", "2012-Q4"),
        ("2012年", "2012"),
        ("2012年度生态县建设指标", "2012"),
        ("2012-03", "2012-03"),
        ("2012.3", "2012-03"),
        ("2012/03", "2012-03"),
        ("2012-Q2", "2012-Q2"),
        ("2012Q2", "2012-Q2"),
        ("201203", "2012-03"),
        ("2012-03_sthjj_县生态环境局", "2012-03"),
        ("２０１２年３月", "2012-03"),
        ("报告期：2012年3月　截止日期：2012年4月10日", "2012-03"),
    ],
)
def test_chinese_and_iso_period_strings_become_period_codes(text, code):
    assert find_period(text) == code


@pytest.mark.parametrize(
    "text", ["截止日期：2012年4月10日", "2012-03-15", "环境质量月报", "", "511923", "2012年13月"]
)
def test_dates_and_non_periods_are_not_periods(text):
    assert find_period(text) is None


def test_bare_months_and_quarters_need_a_default_year():
    assert find_period("3月") is None
    assert find_period("3月", default_year=2012) == "2012-03"
    assert find_period("一季度", default_year=2013) == "2013-Q1"
    assert period_from_cell("12月", default_year=2014) == "2014-12"


def test_excel_date_cells_and_year_numbers_are_periods():
    assert period_from_cell(dt.date(2012, 3, 1)) == "2012-03"
    assert period_from_cell(dt.datetime(2013, 11, 30, 0, 0)) == "2013-11"
    assert period_from_cell(2012.0) == "2012"
    assert period_from_cell(85.3) is None
    assert period_from_cell("") is None
    assert period_from_cell(2012.3) == "2012-03"  # "2012.3" typed into a cell
    assert period_from_cell(2012.12) == "2012-12"
    assert period_from_cell(3, default_year=2012) == "2012-03"  # a 月份 column
    assert period_from_cell(3) is None
    assert period_from_cell(float("inf")) is None


def test_month_headers_and_years_in_text():
    assert month_of_header("3月") == 3
    assert month_of_header("１２月份") == 12
    assert month_of_header("十一月") == 11
    assert month_of_header("13月") is None
    assert month_of_header("本月") is None
    assert find_year("平昌县2013年环境质量月报") == 2013
    assert find_year("report_2014_sthjj") == 2014
    assert find_year("无年份") is None
