"""Learned layouts (`pipelines/returns/layouts/mapped.py`): a form no recogniser reads is refused
until the office saves a mapping for its fingerprint; then it and every later file of that layout load.

The test form (`make_form`) has headers the parser does not know (考评事项 | 计量 | 本阶段数据 |
上阶段数据 | 附记), one sheet named after its month, a title naming the month: refused as no_header
today. `other_form` is a different form with the same data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest

from pipelines.returns.layouts import mapped
from pipelines.returns.model import ParseContext
from pipelines.returns.parse import parse_file, resources
from pipelines.returns.readers import read_book

COUNTY = "511923"
NAMES = ["集中式饮用水水源地水质达标率", "区域环境噪声平均值", "森林覆盖率"]
UNITS = ["%", "dB(A)", "%"]
CODES = ["drinking_source_compliance", "regional_noise", "forest_coverage"]


def make_form(folder: Path, month: int, values: list[tuple[float, float]], year: int = 2012) -> Path:
    """The 考评 form of one month: A name, B unit, C this period, D the previous period, E remarks."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = f"{year}年{month}月"
    ws.append([f"县生态环境局{year}年{month}月考评情况"])
    ws.append(["考评事项", "计量", "本阶段数据", "上阶段数据", "附记"])
    for name, unit, (cur, prev) in zip(NAMES, UNITS, values, strict=True):
        ws.append([name, unit, cur, prev, None])
    ws.merge_cells("A1:E1")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{year}-{month:02d}_考评.xlsx"
    wb.save(path)
    ts = dt.datetime(year + (month == 12), month % 12 + 1, 5, 10).timestamp()
    os.utime(path, (ts, ts))
    return path


def other_form(folder: Path, month: int) -> Path:
    """Same data, another form: an extra 序号 column in front."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = f"2012年{month}月"
    ws.append([f"县生态环境局2012年{month}月考评情况"])
    ws.append(["序次", "考评事项", "计量", "本阶段数据", "上阶段数据"])
    for i, (name, unit) in enumerate(zip(NAMES, UNITS, strict=True), 1):
        ws.append([i, name, unit, 50 + i, 40 + i])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"2012-{month:02d}_考评_新表.xlsx"
    wb.save(path)
    return path


@pytest.fixture
def ctx(catalog, profile, tmp_path) -> ParseContext:
    raw = tmp_path / "raw"
    raw.mkdir()
    return ParseContext(
        catalog=catalog,
        profiles=(profile,),
        raw_dir=raw,
        today=dt.date(2017, 1, 1),
        mappings_dir=tmp_path / "mappings",
    )


def _folder(ctx: ParseContext) -> Path:
    return ctx.raw_dir / COUNTY / "sthjj"


def _sheet(path: Path):
    return read_book(path).sheets[0]


def _values(r) -> dict[str, tuple[float, str, str]]:
    return {v.indicator_code: (v.value, v.period_code, v.cell) for v in r.values}


def test_fingerprint_same_across_months_and_values_different_across_forms(ctx):
    march = make_form(_folder(ctx), 3, [(100, 99), (52.3, 53), (65, 64)])
    april = make_form(_folder(ctx), 4, [(98, 100), (51, 52.3), (66, 65)])
    december = make_form(_folder(ctx), 12, [(97, 96), (50.5, 51), (67, 66)], year=2013)
    fps = {mapped.fingerprint(_sheet(p)) for p in (march, april, december)}
    assert len(fps) == 1
    other = other_form(_folder(ctx), 3)
    assert mapped.fingerprint(_sheet(other)) not in fps
    assert len(next(iter(fps))) == 16


def test_refused_file_loads_after_a_mapping_and_the_next_month_loads_without_help(ctx):
    march = make_form(_folder(ctx), 3, [(100, 99), (52.3, 53), (65, 64)])
    before = parse_file(march, ctx)
    assert before.rejected and [p.reason_code for p in before.problems] == ["no_header"]

    sheet = _sheet(march)
    guess = mapped.guess(sheet, resources(ctx).classifier, COUNTY, march.name)
    assert guess.header_rows == (2, 2) and guess.data_start_row == 3
    assert guess.indicator == {"axis": "row", "column": "A"}
    assert guess.value_columns == ["C"] and guess.unit_column == "B"
    guess.name = "县生态环境局考评表"
    path = mapped.save_mapping(ctx.mappings_dir, guess)
    assert path.name == f"{guess.fingerprint}.yaml"
    assert "导入映射" in path.read_text(encoding="utf-8")  # a commented, reviewable file

    r = parse_file(march, ctx)
    assert not r.rejected, r.problems
    assert r.layout == "mapped" and r.org_code == f"{COUNTY}-sthjj" and r.period_codes == ["2012-03"]
    assert _values(r) == {
        "drinking_source_compliance": (100.0, "2012-03", "C3"),
        "regional_noise": (52.3, "2012-03", "C4"),
        "forest_coverage": (65.0, "2012-03", "C5"),
    }
    assert all(v.sheet == "2012年3月" for v in r.values)

    april = make_form(_folder(ctx), 4, [(98, 100), (51, 52.3), (66, 65)])
    r2 = parse_file(april, ctx)
    assert not r2.rejected and r2.layout == "mapped"
    assert _values(r2) == {
        "drinking_source_compliance": (98.0, "2012-04", "C3"),
        "regional_noise": (51.0, "2012-04", "C4"),
        "forest_coverage": (66.0, "2012-04", "C5"),
    }
    # another form is not read by this mapping
    assert parse_file(other_form(_folder(ctx), 5), ctx).layout != "mapped"


def test_a_mapping_never_loads_the_columns_it_excludes(ctx):
    march = make_form(_folder(ctx), 3, [(100, 99), (52.3, 53), (65, 64)])
    m = mapped.guess(_sheet(march), resources(ctx).classifier, COUNTY, march.name)
    m.value_columns = ["C", "D"]
    m.columns = {"D": {"role": "previous"}}
    mapped.save_mapping(ctx.mappings_dir, m)
    r = parse_file(march, ctx)
    assert {v.cell[0] for v in r.values} == {"C"}
    reading = mapped.read_mapped(_sheet(march), m, resources(ctx).classifier, COUNTY)
    assert {rec.cell[0] for rec in reading.records} == {"C"}
    assert reading.problems and reading.problems[0][1].startswith("D")


def test_a_header_marked_target_is_not_loaded_even_if_listed(ctx, catalog, profile):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2012年3月"
    ws.append(["考评事项", "计量", "目标值", "本阶段数据"])
    ws.append([NAMES[0], "%", 95, 100])
    path = _folder(ctx) / "t.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    m = mapped.Mapping(
        mapped.fingerprint(_sheet(path)),
        header_rows=(1, 1),
        data_start_row=2,
        indicator={"axis": "row", "column": "A"},
        value_columns=["C", "D"],
        unit_column="B",
    )
    reading = mapped.read_mapped(_sheet(path), m, resources(ctx).classifier, COUNTY)
    assert [(rec.cell, rec.raw) for rec in reading.records] == [("D2", 100)]


def test_fixed_indicator_and_periods_per_column(ctx):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["森林资源情况"])
    ws.append(["口径", "第一段", "第二段"])
    ws.append(["全县", 64.5, 65.1])
    path = _folder(ctx) / "2012_森林.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    m = mapped.Mapping(
        mapped.fingerprint(_sheet(path)),
        header_rows=(2, 2),
        data_start_row=3,
        indicator={"axis": "fixed", "code": "forest_coverage"},
        value_columns=["B", "C"],
        columns={"B": {"period": "2012-03"}, "C": {"period": "2012-04"}},
    )
    mapped.save_mapping(ctx.mappings_dir, m)
    r = parse_file(path, ctx)
    assert not r.rejected, r.problems
    got = sorted((v.indicator_code, v.period_code, v.value, v.cell) for v in r.values)
    assert got == [
        ("forest_coverage", "2012-03", 64.5, "B3"),
        ("forest_coverage", "2012-04", 65.1, "C3"),
    ]


def test_a_broken_mapping_file_is_reported_not_a_crash(ctx):
    march = make_form(_folder(ctx), 3, [(100, 99), (52.3, 53), (65, 64)])
    fp = mapped.fingerprint(_sheet(march))
    d = ctx.mappings_dir
    d.mkdir()
    (d / f"{fp}.yaml").write_text(
        f"fingerprint: {fp}\nheader_rows: [2, 2]\ndata_start_row: 3\nindicator: {{axis: diagonal}}\n",
        encoding="utf-8",
    )
    (d / "0123456789abcdef.yaml").write_text("fingerprint: [unclosed\n", encoding="utf-8")
    (d / "fedcba9876543210.yaml").write_text("fingerprint: fedcba9876543210\n", encoding="utf-8")
    errors: list[mapped.MappingError] = []
    assert mapped.load_mappings(d, errors) == {}
    by_file = {e.file: e for e in errors}
    assert by_file[f"{fp}.yaml"].field == "indicator.axis"
    assert "row | column | fixed" in by_file[f"{fp}.yaml"].message_zh
    assert by_file["0123456789abcdef.yaml"].field == "(file)"
    assert by_file["fedcba9876543210.yaml"].field == "header_rows"
    assert all(e.message_zh and e.message_en for e in errors)
    r = parse_file(march, ctx)  # the parser skips the broken mapping: refused as before
    assert [p.reason_code for p in r.problems] == ["no_header"]


def test_mappings_are_reloaded_when_a_file_changes(ctx):
    march = make_form(_folder(ctx), 3, [(100, 99), (52.3, 53), (65, 64)])
    assert parse_file(march, ctx).rejected
    m = mapped.guess(_sheet(march), resources(ctx).classifier, COUNTY, march.name)
    mapped.save_mapping(ctx.mappings_dir, m)
    assert not parse_file(march, ctx).rejected
    m2 = dataclasses.replace(m, value_columns=["D"])
    mapped.save_mapping(ctx.mappings_dir, m2)
    os.utime(ctx.mappings_dir / f"{m.fingerprint}.yaml", ns=(1, 1))  # a change even within one tick
    r = parse_file(march, ctx)
    assert {v.cell for v in r.values} == {"D3", "D4", "D5"}


def test_mappings_are_forgotten_when_the_file_or_folder_goes(ctx, tmp_path):
    march = make_form(_folder(ctx), 3, [(100, 99), (52.3, 53), (65, 64)])
    m = mapped.guess(_sheet(march), resources(ctx).classifier, COUNTY, march.name)
    path = mapped.save_mapping(ctx.mappings_dir, m)
    assert not parse_file(march, ctx).rejected
    assert set(mapped.mappings_for(ctx.mappings_dir)) == {m.fingerprint}
    path.unlink()
    assert mapped.mappings_for(ctx.mappings_dir) == {}
    assert parse_file(march, ctx).rejected
    assert mapped.mappings_for(tmp_path / "no-such-folder") == {}
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    assert mapped.mappings_for(tmp_path / "a-file") == {}


def test_round_trip_and_validation_messages(tmp_path):
    m = mapped.Mapping(
        "0123456789abcdef",
        name="测试",
        header_rows=(2, 3),
        data_start_row=4,
        indicator={"axis": "column", "row": 3},
        subject={"axis": "row", "column": "A"},
        period={"axis": "row", "column": "B"},
        columns={"F": {"role": "target"}},
    )
    mapped.save_mapping(tmp_path, m)
    back = mapped.load_mappings(tmp_path)["0123456789abcdef"]
    assert back.to_dict() == m.to_dict()
    bad = dataclasses.replace(m, data_start_row=2)
    with pytest.raises(mapped._Invalid) as exc:
        mapped.save_mapping(tmp_path, bad)
    assert exc.value.field == "data_start_row"


def test_the_default_folder_follows_the_environment(monkeypatch, tmp_path):
    from pipelines.settings import PROJECT_ROOT

    monkeypatch.setenv(mapped.ENV_DIR, str(tmp_path / "a"))
    assert mapped.default_dir() == tmp_path / "a"
    monkeypatch.setenv(mapped.ENV_DIR, str(tmp_path / "b"))
    assert mapped.default_dir() == tmp_path / "b"
    monkeypatch.delenv(mapped.ENV_DIR)
    assert mapped.default_dir() == PROJECT_ROOT / "expectations" / "mappings"
    monkeypatch.setenv(mapped.ENV_DIR, "")
    assert mapped.default_dir() == PROJECT_ROOT / "expectations" / "mappings"
