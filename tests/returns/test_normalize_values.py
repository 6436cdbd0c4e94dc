"""Values that are not plain numbers: approximate and bounded numbers, ranges, footnote markers,
formula errors and numbers with a unit glued on (issue 11, item 5).

The rule under test: nothing that is not an exact figure ever comes out as an exact number.
"""

from __future__ import annotations

import pytest

from pipelines.returns.model import REASONS
from pipelines.returns.normalize import FORMULA_ERRORS, QUALIFIERS, normalize_cell


@pytest.mark.parametrize(
    ("raw", "value", "qualifier", "hint"),
    [
        # approximate
        ("约90", 90.0, "approx", None),
        ("大约90", 90.0, "approx", None),
        ("近90", 90.0, "approx", None),
        ("接近90", 90.0, "approx", None),
        ("90左右", 90.0, "approx", None),
        ("90上下", 90.0, "approx", None),
        ("约90%", 90.0, "approx", "%"),
        ("90%左右", 90.0, "approx", "%"),
        ("约1.8", 1.8, "approx", None),  # the bug of issue 11: loaded as exact 1.8
        ("约 1.8", 1.8, "approx", None),
        ("９０左右", 90.0, "approx", None),  # full width
        ("~90", 90.0, "approx", None),
        ("90余", 90.0, "approx", None),
        # at least
        ("≥95", 95.0, "at_least", None),
        (">=95", 95.0, "at_least", None),
        ("＞＝95", 95.0, "at_least", None),
        ("≧95", 95.0, "at_least", None),
        ("不低于95", 95.0, "at_least", None),
        ("不少于95", 95.0, "at_least", None),
        ("95以上", 95.0, "at_least", None),
        ("95及以上", 95.0, "at_least", None),
        ("95%以上", 95.0, "at_least", "%"),
        ("≥95%", 95.0, "at_least", "%"),
        # more than
        (">90", 90.0, "more_than", None),
        ("＞90", 90.0, "more_than", None),
        ("大于90", 90.0, "more_than", None),
        ("超过90", 90.0, "more_than", None),
        ("高于90", 90.0, "more_than", None),
        # at most
        ("≤5", 5.0, "at_most", None),
        ("<=5", 5.0, "at_most", None),
        ("不超过5", 5.0, "at_most", None),
        ("不高于5", 5.0, "at_most", None),
        ("5以下", 5.0, "at_most", None),
        ("5及以下", 5.0, "at_most", None),
        # less than
        ("<5", 5.0, "less_than", None),
        ("＜0.5", 0.5, "less_than", None),  # below a detection limit
        ("小于5", 5.0, "less_than", None),
        ("低于5", 5.0, "less_than", None),
        ("不足5", 5.0, "less_than", None),
        ("<-5", -5.0, "less_than", None),
    ],
)
def test_approximate_and_bounded_numbers_carry_a_qualifier(raw, value, qualifier, hint):
    n = normalize_cell(raw)
    assert n.kind == "number"
    assert n.value == pytest.approx(value)
    assert n.qualifier == qualifier
    assert qualifier in QUALIFIERS
    assert n.unit_hint == hint
    assert not n.is_exact  # never loaded as an exact actual


@pytest.mark.parametrize("raw", ["≥90左右", "约定", "近3年", "以上", "约", "不足", "左右"])
def test_qualifier_words_without_one_clear_number_are_text(raw):
    n = normalize_cell(raw)
    assert n.kind == "text" and n.value is None


@pytest.mark.parametrize(
    "raw",
    ["85-90", "85～90", "85~90", "85至90", "85到90", "85—90", "85%-90%", "85-90%", "1.5-2.0", "约85-90"],
)
def test_ranges_are_errors_not_numbers(raw):
    n = normalize_cell(raw)
    assert n.kind == "error"
    assert n.reason == "range_value"
    assert n.value is None


@pytest.mark.parametrize("raw", ["2012-03", "2012-3", "2011-2015", "2012-03-05", "２０１２－０３"])
def test_dates_are_not_ranges(raw):
    n = normalize_cell(raw)
    assert n.kind == "text" and n.reason is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [("-5", -5.0), ("－5", -5.0), ("−5", -5.0), ("- 5", -5.0), ("-5%", -5.0), ("0", 0.0), ("0.0", 0.0)],
)
def test_negative_numbers_and_zero_are_exact_numbers(raw, value):
    # "- 5" (a minus typed with a space) is read as -5: the plausibility check for the unit then
    # refuses it where a negative is impossible, so it is never silently loaded as +5.
    n = normalize_cell(raw)
    assert n.kind == "number" and n.is_exact
    assert n.value == value


@pytest.mark.parametrize(
    ("raw", "value", "footnote", "hint"),
    [
        ("85.2*", 85.2, "*", None),
        ("85.2**", 85.2, "**", None),
        ("85.2***", 85.2, "***", None),
        ("85.2 *", 85.2, "*", None),
        ("85.2①", 85.2, "①", None),  # NFKC would make this 85.21
        ("85.2⑫", 85.2, "⑫", None),
        ("85.2❶", 85.2, "❶", None),
        ("85.2⑴", 85.2, "⑴", None),
        ("85.2¹", 85.2, "¹", None),  # NFKC would make this 85.21
        ("85.2 注①", 85.2, "注①", None),
        ("85.2a)", 85.2, "a)", None),
        ("85.2(a)", 85.2, "(a)", None),
        ("85.2注1", 85.2, "注1", None),
        ("85.2注", 85.2, "注", None),
        ("85.2(1)", 85.2, "(1)", None),
        ("85.2（1）", 85.2, "(1)", None),
        ("85.2[1]", 85.2, "[1]", None),
        ("85.2(注1)", 85.2, "(注1)", None),
        ("85.2※", 85.2, "※", None),
        ("85.2%*", 85.2, "*", "%"),
        ("12,345*", 12345.0, "*", None),
    ],
)
def test_footnote_markers_are_split_off(raw, value, footnote, hint):
    n = normalize_cell(raw)
    assert n.kind == "number"
    assert n.value == pytest.approx(value)
    assert n.footnote == footnote
    assert n.unit_hint == hint
    assert n.is_exact  # a footnote does not make a value inexact; the parser keeps the 注 text


def test_a_footnote_and_a_qualifier_together():
    n = normalize_cell("约85.2*")
    assert (n.value, n.qualifier, n.footnote) == (85.2, "approx", "*")
    n = normalize_cell("≥95①")
    assert (n.value, n.qualifier, n.footnote) == (95.0, "at_least", "①")


@pytest.mark.parametrize(
    "raw", [*FORMULA_ERRORS, "#div/0!", "＃ＤＩＶ／０！", " #REF! ", "#BLOCKED!", "Err:502", "Err:504"]
)
def test_formula_errors_are_errors(raw):
    n = normalize_cell(raw)
    assert n.kind == "error"
    assert n.reason == "formula_error"
    assert n.value is None


@pytest.mark.parametrize("raw", ["N/A", "n/a", "—", "-", "--", "/"])
def test_empty_markers_are_not_formula_errors(raw):
    assert normalize_cell(raw).is_missing


@pytest.mark.parametrize(
    ("raw", "value", "unit_text"),
    [
        ("12吨", 12.0, "吨"),
        ("12 吨", 12.0, "吨"),
        ("3.5万人", 3.5, "万人"),  # the unit is 万人: not scaled, the caller compares units
        ("12345万元", 12345.0, "万元"),
        ("55dB(A)", 55.0, "dB(A)"),
        ("12m²", 12.0, "m2"),  # an exponent, not a footnote
        ("300天/年", 300.0, "天/年"),
        ("0.45吨标煤/万元", 0.45, "吨标煤/万元"),
        ("12,345元", 12345.0, "元"),
    ],
)
def test_numbers_with_a_plain_unit_keep_it_as_unit_text(raw, value, unit_text):
    n = normalize_cell(raw)
    assert n.kind == "number" and n.is_exact
    assert n.value == pytest.approx(value)
    assert n.unit_text == unit_text
    assert n.unit_hint is None


def test_percent_permille_and_scale_words_keep_todays_behaviour():
    assert (normalize_cell("85.3%").value, normalize_cell("85.3%").unit_hint) == (85.3, "%")
    assert normalize_cell("85.3%").unit_text is None
    assert normalize_cell("3.5‰").unit_hint == "‰"
    assert normalize_cell("1.2万").value == 12000.0
    assert normalize_cell("3亿").value == 3e8


@pytest.mark.parametrize(
    "raw",
    [
        "2012年",
        "5年",
        "3月",
        "90多万",
        "3个已完成",
        "第3名",
        "12吨和15吨",
        "12abcdefghijk",
        "85.3%%",
        "12,34",
    ],
)
def test_numbers_followed_by_a_phrase_or_a_period_are_text(raw):
    n = normalize_cell(raw)
    assert n.kind == "text" and n.value is None


def test_numbers_from_the_reader_are_exact_and_unqualified():
    n = normalize_cell(85.2)
    assert n.is_exact and n.qualifier is None and n.footnote is None and n.unit_text is None


def test_new_reason_codes_have_chinese_and_english_texts():
    for code in ("formula_error", "approximate_value", "bounded_value", "range_value", "lookalike_indicator"):
        zh, en = REASONS[code]
        assert zh and en and zh != en
    assert "近似" in REASONS["approximate_value"][0]


# --- what the spreadsheet reader actually returns for error cells ------------------------------


def test_formula_errors_as_read_by_calamine(tmp_path):
    """Measured with python-calamine 0.9: an error *cell* (t="e": #DIV/0!, #REF! … as Excel and
    xlsxwriter store them) comes back as "" in xlsx and xls, and newer error values (#SPILL!) in a
    t="e" cell make calamine raise for the whole sheet. A formula whose cached result is stored as a
    string (xlsxwriter does so for the newer errors; ODS, CSV and HTML exports carry the text) arrives
    as text and must be a formula error here."""
    calamine = pytest.importorskip("python_calamine")
    openpyxl = pytest.importorskip("openpyxl")
    xlsxwriter = pytest.importorskip("xlsxwriter")

    path = tmp_path / "errors.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write(0, 0, "指标")
    for i, err in enumerate(FORMULA_ERRORS, start=1):
        ws.write_formula(i, 0, "=1/0", None, err)
    wb.close()
    rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    read = {err: rows[i][0] for i, err in enumerate(FORMULA_ERRORS, start=1)}
    as_text = {err: v for err, v in read.items() if v != ""}
    assert {"#SPILL!", "#CALC!", "#GETTING_DATA"} <= set(as_text)
    for err, value in read.items():
        n = normalize_cell(value)
        # "" today for classic error cells (the reader has to detect those); never a number.
        assert n.reason == "formula_error" if value else n.is_missing, err

    typed = tmp_path / "typed.xlsx"
    wb2 = openpyxl.Workbook()
    wb2.active["A1"] = "指标"
    cell = wb2.active.cell(2, 1)
    cell.value, cell.data_type = "#DIV/0!", "e"
    wb2.save(typed)
    value = calamine.CalamineWorkbook.from_path(str(typed)).get_sheet_by_index(0).to_python()[1][0]
    n = normalize_cell(value)
    assert n.is_missing if value == "" else n.reason == "formula_error"
