"""Return forms: layout, protection, validation, hidden metadata and threshold text."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from pipelines.reporting_calendar import parse_period
from pipelines.returns import templates

GENERATED = dt.datetime(2013, 7, 1, 8, 0, 0)


def _unit(profile, short):
    return next(u for u in profile.org_units if u.short_code == short)


@pytest.fixture(scope="module")
def june_forms(tmp_path_factory, catalog, profile):
    out = tmp_path_factory.mktemp("forms") / "2013-06"
    paths = templates.generate_period_templates(
        catalog,
        profile,
        "2013-06",
        out,
        previous_values={"env_api_good_days_ratio": 88.4},
        generated_at=GENERATED,
    )
    return {p.name: p for p in paths}


def _sheet(path):
    wb = openpyxl.load_workbook(path)
    return wb, wb[templates.SHEET]


def test_one_form_per_unit_reporting_monthly(june_forms, catalog, profile):
    expected = {
        templates.template_file_name(parse_period("2013-06"), u)
        for u in templates.reporting_units(catalog, profile)
        if templates.unit_indicators(catalog, profile, u.code, "monthly")
    }
    assert set(june_forms) == expected
    assert "2013-06_sthjj_县生态环境局.xlsx" in june_forms


def test_title_unit_period_and_due_date(june_forms):
    _, ws = _sheet(june_forms["2013-06_sthjj_县生态环境局.xlsx"])
    assert ws["A1"].value == "平昌县“五创联动”指标报表（县生态环境局）"
    assert ws["A2"].value == "填报单位：县生态环境局　报告期：2013年6月　截止日期：2013年7月5日"
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[templates.HEADER_ROW]] == list(templates.HEADERS)


def test_one_row_per_monthly_indicator_then_blank_and_footer(june_forms, catalog, profile):
    _, ws = _sheet(june_forms["2013-06_sthjj_县生态环境局.xlsx"])
    assigned = {a.indicator for a in profile.assignments(catalog) if a.org_code == "511923-sthjj"}
    monthly = [i for i in catalog.indicators.values() if i.code in assigned and i.frequency == "monthly"]
    codes = []
    r = templates.FIRST_DATA_ROW
    while ws.cell(r, 2).value:
        codes.append(ws.cell(r, 2).value)
        assert ws.cell(r, 3).value == catalog.indicators[ws.cell(r, 2).value].name_zh
        assert ws.cell(r, 4).value == catalog.indicators[ws.cell(r, 2).value].unit
        r += 1
    assert codes == [i.code for i in monthly]
    assert all(catalog.indicators[c].frequency == "monthly" for c in codes)
    assert ws.cell(r, 1).value is None
    assert ws.cell(r + 1, 1).value.startswith("填报人：")


def test_town_reports_its_town_indicators(tmp_path, catalog, profile):
    town = _unit(profile, "jiangkou")
    path = templates.generate_unit_template(
        catalog, profile, town, parse_period("2014"), tmp_path, generated_at=GENERATED
    )
    _, ws = _sheet(path)
    codes = {ws.cell(r, 2).value for r in range(4, 4 + 5)} - {None}
    annual_town = {c for c in profile.town_indicators if catalog.indicators[c].frequency == "annual"}
    assert codes == annual_town


def test_unit_without_indicators_at_frequency_gets_no_form(tmp_path, catalog, profile):
    assert (
        templates.generate_unit_template(
            catalog, profile, _unit(profile, "lyj"), parse_period("2014-05"), tmp_path
        )
        is None
    )
    assert not list(tmp_path.iterdir())


def test_sheet_protected_and_only_inputs_unlocked(june_forms):
    _, ws = _sheet(june_forms["2013-06_sthjj_县生态环境局.xlsx"])
    assert ws.protection.sheet is True
    for r in range(templates.FIRST_DATA_ROW, templates.FIRST_DATA_ROW + 7):
        assert ws[f"G{r}"].protection.locked is False
        assert ws[f"H{r}"].protection.locked is False
        for col in "ABCDEF":
            assert ws[f"{col}{r}"].protection.locked is True


def test_every_input_cell_has_validation(june_forms, catalog):
    _, ws = _sheet(june_forms["2013-06_sthjj_县生态环境局.xlsx"])
    by_cell = {}
    for dv in ws.data_validations.dataValidation:
        for ref in str(dv.sqref).split():
            by_cell[ref] = dv
    r = templates.FIRST_DATA_ROW
    while ws.cell(r, 2).value:
        ind = catalog.indicators[ws.cell(r, 2).value]
        dv = by_cell[f"G{r}"]
        if ind.value_type == "text":
            assert dv.type == "list" and "达标" in dv.formula1
        else:
            assert dv.type == "decimal"
            uom = catalog.units[ind.unit]
            if uom.max_value is not None:
                assert float(dv.formula2) == uom.max_value
        r += 1
    assert r > templates.FIRST_DATA_ROW


def test_grade_indicator_offers_grades(tmp_path, catalog, profile):
    path = templates.generate_unit_template(
        catalog, profile, _unit(profile, "awb"), parse_period("2013-Q2"), tmp_path, generated_at=GENERATED
    )
    _, ws = _sheet(path)
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and "C级" in lists[0].formula1


def test_hidden_meta_sheet_keys(june_forms):
    wb, _ = _sheet(june_forms["2013-06_slj_县水务局.xlsx"])
    meta = wb[templates.META_SHEET]
    assert meta.sheet_state == "hidden"
    kv = {r[0]: r[1] for r in meta.iter_rows(values_only=True)}
    assert kv == {
        "template_version": "wuchuang-return/1",
        "county_code": "511923",
        "org_code": "511923-slj",
        "period_code": "2013-06",
        "frequency": "monthly",
        "generated_at": "2013-07-01T08:00:00",
        "header_row": 3,
        "code_column": "B",
        "value_column": "G",
        "indicator_codes": kv["indicator_codes"],
    }
    # the codes of the form's rows, in order, kept in the hidden sheet (column B is hidden from clerks)
    _, ws = _sheet(june_forms["2013-06_slj_县水务局.xlsx"])
    codes = [ws.cell(r, 2).value for r in range(4, 4 + len(kv["indicator_codes"].split(",")))]
    assert kv["indicator_codes"].split(",") == codes and all(codes)
    assert ws.column_dimensions["B"].hidden


def test_previous_value_shown(june_forms):
    _, ws = _sheet(june_forms["2013-06_sthjj_县生态环境局.xlsx"])
    row = next(r for r in range(4, 20) if ws.cell(r, 2).value == "env_api_good_days_ratio")
    assert ws.cell(row, 6).value == 88.4
    assert ws.cell(row, 7).value is None


def test_threshold_text_lists_all_campaigns_in_force(catalog, profile):
    text = templates.threshold_text(
        catalog, "builtup_green_coverage", dt.date(2015, 12, 31), profile.variants
    )
    assert text.split("；") == ["≥35%（创模）", "≥35%（森林）", "≥36%（卫生）"]
    # in 2013 the c.2010 county standard asks for it too (a proxy of the 2014 value, docs/standards.md)
    assert templates.threshold_text(
        catalog, "builtup_green_coverage", dt.date(2013, 12, 31), profile.variants
    ) == ("≥35%（创模）；≥35%（森林）；≥36%（卫生）")
    # before any hygienic edition applies (2010), only env-model and forest-2007 ask for it
    assert templates.threshold_text(
        catalog, "builtup_green_coverage", dt.date(2009, 12, 31), profile.variants
    ) == ("≥35%（创模）；≥35%（森林）")


def test_threshold_text_resolves_county_variants_and_relative(catalog, profile):
    forest = templates.threshold_text(catalog, "forest_coverage", dt.date(2013, 12, 31), profile.variants)
    # 生态: the 山区 variant, not the 45% hill default; 森林 2007: 南方城市 35%
    assert forest == "≥75%（生态）；≥35%（森林）"
    hill = templates.threshold_text(catalog, "forest_coverage", dt.date(2013, 12, 31), {"terrain": "hill"})
    assert hill == "≥45%（生态）；≥35%（森林）"
    energy = templates.threshold_text(catalog, "env_industrial_energy_intensity", dt.date(2013, 12, 31), {})
    assert energy == "不高于全国平均水平且连续3年下降（创模）"
    # nothing in force for a 2021-only indicator in 2013
    assert templates.threshold_text(catalog, "hyg_infant_mortality", dt.date(2013, 12, 31), {}) == (
        "—（现行标准不考核，仅作监测）"  # a "—" always says why
    )


def test_threshold_shown_in_form(tmp_path, catalog, profile):
    path = templates.generate_unit_template(
        catalog, profile, _unit(profile, "lyj"), parse_period("2013"), tmp_path, generated_at=GENERATED
    )
    _, ws = _sheet(path)
    row = next(r for r in range(4, 40) if ws.cell(r, 2).value == "forest_coverage")
    assert ws.cell(row, 5).value == "≥75%（生态）；≥35%（森林）"


def test_same_inputs_same_bytes(tmp_path, catalog, profile):
    a = templates.generate_period_templates(
        catalog, profile, "2013-Q2", tmp_path / "a", generated_at=GENERATED
    )
    b = templates.generate_period_templates(
        catalog, profile, "2013-Q2", tmp_path / "b", generated_at=GENERATED
    )
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_cli_writes_forms(tmp_path, tmp_settings):
    assert templates.main(["--period", "2013", "--out", str(tmp_path / "out")]) == 0
    assert len(list((tmp_path / "out").glob("2013_*.xlsx"))) > 20


def test_cli_refuses_bad_period(tmp_path, tmp_settings, capsys):
    assert templates.main(["--period", "2013-13", "--out", str(tmp_path / "out")]) == 2
    assert "月份无效" in capsys.readouterr().err


def test_previous_period_values_come_from_the_published_warehouse(tmp_path, catalog, profile):
    """`wuchuang templates` fills 上期数值 from the last published snapshot (clean and dirty input)."""
    import duckdb

    from pipelines.reporting_calendar import parse_period as pp
    from pipelines.warehouse.publish import publish

    assert templates.previous_period_code(pp("2013-06")) == "2013-05"
    assert templates.previous_period_code(pp("2013-Q1")) == "2012-Q4"
    assert templates.previous_period_code(pp("2013")) == "2012"
    published = tmp_path / "published"
    assert templates.previous_values_from_warehouse(published, "511923", pp("2013-06")) == {}  # nothing yet
    work = tmp_path / "warehouse.duckdb"
    conn = duckdb.connect(str(work))
    conn.execute("CREATE SCHEMA core")
    conn.execute(
        "CREATE TABLE core.observation (county_code VARCHAR, org_code VARCHAR, indicator_code VARCHAR, "
        "period_code VARCHAR, value DOUBLE, value_text VARCHAR, is_current BOOLEAN)"
    )
    conn.execute(
        "INSERT INTO core.observation VALUES "
        "('511923', '511923-sthjj', 'env_api_good_days_ratio', '2013-05', 87.30000000000001, NULL, true),"
        "('511923', '511923-sthjj', 'env_api_good_days_ratio', '2013-05', 80.0, NULL, false),"  # old revision
        "('511923', '511923-sthjj', 'env_api_good_days_ratio', '2013-04', 70.0, NULL, true),"  # older period
        "('511923', '511923-wmb', 'civ_minors_moral_score', '2013-05', NULL, 'C级', true)"
    )
    conn.close()
    publish(work, published)
    prev = templates.previous_values_from_warehouse(published, "511923", pp("2013-06"))
    assert prev == {
        ("511923-sthjj", "env_api_good_days_ratio"): 87.3,
        ("511923-wmb", "civ_minors_moral_score"): "C级",
    }
    paths = templates.generate_period_templates(
        catalog, profile, "2013-06", tmp_path / "out", generated_at=GENERATED, published_dir=published
    )
    _, ws = _sheet(next(p for p in paths if "sthjj" in p.name))
    row = next(r for r in range(4, 40) if ws.cell(r, 2).value == "env_api_good_days_ratio")
    assert ws.cell(row, 6).value == 87.3
