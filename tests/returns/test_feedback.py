"""Feedback workbooks: the department's own file with problem cells filled and commented, plus a
Chinese summary sheet; rebuilt for csv/xls, summary-only for files that cannot be opened."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
import xlwt

from pipelines import dimensions
from pipelines.assets import returns as returns_assets
from pipelines.resources import WarehouseResource
from pipelines.returns import feedback, load
from pipelines.returns.model import CellValue, ParseContext, ParsedReturn, Problem
from tests.returns.test_load import ORG, FakeParser, _calendar, drop, warehouse_with_calendar

SHEET = "填报表"
RECEIVED = dt.datetime(2012, 4, 5, 9)


def value(ref: str, v: float, sheet: str = SHEET) -> CellValue:
    return CellValue("eco_air_quality", ORG, "2012-03", sheet, ref, str(v), v, None, "%")


def problem(ref: str | None, raw: str, code: str = "not_a_number", sheet: str | None = SHEET, scope="value"):
    zh, en = {
        "not_a_number": ("不是有效数值", "not a valid number"),
        "corrupt_archive": ("文件损坏", "corrupt"),
    }[code]
    return Problem(scope, code, f"“{raw}”{zh}", f"'{raw}' {en}", sheet=sheet, cell=ref, raw_text=raw)


def result(path: Path, values=(), problems=(), fmt="xlsx") -> ParsedReturn:
    return ParsedReturn(
        path=path,
        file_format=fmt,
        org_code=ORG,
        org_detected_by="title",
        period_codes=["2012-03"],
        period_detected_by="title",
        layout="wide",
        values=list(values),
        problems=list(problems),
    )


def department_xlsx() -> bytes:
    """A department's own layout: merged title, header, two values (one bad), footer."""
    import io

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = "平昌县环境保护局2012年3月环境质量指标完成情况表"
    ws.merge_cells("A1:C1")
    ws.append(["指标名称", "本期数值", "备注"])
    ws.append(["空气质量优良天数比例", 85.3, ""])
    ws.append(["集中式饮用水水源地水质达标率", "八十五", ""])
    ws.append(["填报单位：县环境保护局"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def env(tmp_path, catalog, profile):
    raw, fb = tmp_path / "raw", tmp_path / "feedback"
    raw.mkdir()
    conn = warehouse_with_calendar(profile)
    ctx = ParseContext(catalog, (profile,), raw, dt.date(2017, 1, 1))
    yield conn, ctx, fb
    conn.close()


def ingest_and_feedback(env, parser) -> dict[str, Path]:
    conn, ctx, fb = env
    summary = load.ingest_folder(conn, ctx, parse=parser)
    written = feedback.write_feedback(conn, ctx.raw_dir, fb, summary.file_ids)
    return {Path(p).name: p for p in written.values()}


def summary_text(ws) -> str:
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def test_xlsx_feedback_marks_the_bad_cell_in_the_departments_own_layout(env):
    conn, ctx, fb = env
    drop(ctx.raw_dir, "511923/sthjj/2012年3月环境质量.xlsx", department_xlsx(), RECEIVED)
    parser = FakeParser(
        {"2012年3月环境质量.xlsx": lambda p: result(p, [value("B3", 85.3)], [problem("B4", "八十五")])}
    )
    written = ingest_and_feedback(env, parser)
    out = written["2012年3月环境质量_反馈.xlsx"]
    assert out == fb / "511923/sthjj/2012年3月环境质量_反馈.xlsx"  # mirrors the raw sub-path
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [feedback.SUMMARY_SHEET, SHEET]
    ws = wb[SHEET]
    bad = ws["B4"]
    assert bad.fill.fill_type == "solid" and bad.fill.start_color.rgb == "FFFFC7CE"
    assert "八十五" in bad.comment.text and "not a valid number" in bad.comment.text
    assert bad.comment.text.index("不是有效数值") < bad.comment.text.index("not a valid number")  # zh first
    good = ws["B3"]
    assert good.comment is None and good.fill.fill_type is None
    # the department's layout is kept
    assert ws["A1"].value.startswith("平昌县环境保护局") and "A1:C1" in {
        str(r) for r in ws.merged_cells.ranges
    }
    text = summary_text(wb[feedback.SUMMARY_SHEET])
    assert "部分接收" in text and "入库数值个数\n1" in text and "B4" in text and "请填写数字" in text
    recorded = conn.execute("SELECT feedback_path FROM core.source_file").fetchone()[0]
    assert recorded == "511923/sthjj/2012年3月环境质量_反馈.xlsx"


def test_accepted_file_gets_no_workbook_but_a_receipt_in_the_registry(env):
    conn, ctx, fb = env
    drop(ctx.raw_dir, "511923/sthjj/ok.xlsx", department_xlsx(), RECEIVED)
    drop(ctx.raw_dir, "511923/sthjj/bad.xlsx", department_xlsx(), RECEIVED + dt.timedelta(hours=1))
    parser = FakeParser(
        {
            "ok.xlsx": lambda p: result(p, [value("B3", 85.3)]),
            "bad.xlsx": lambda p: result(p, [value("B3", 85.2)], [problem("B4", "八十五")]),
        }
    )
    written = ingest_and_feedback(env, parser)
    assert set(written) == {"bad_反馈.xlsx"}  # the clean file: no workbook
    assert not (fb / "511923/sthjj/ok_反馈.xlsx").exists()
    rows = dict(
        conn.execute(
            "SELECT file_name, (status, values_loaded, feedback_path) FROM core.source_file"
        ).fetchall()
    )
    assert rows["ok.xlsx"] == ("accepted", 1, None) and rows["bad.xlsx"][2] == "511923/sthjj/bad_反馈.xlsx"
    assert feedback.pending_feedback(conn) == []  # the clean file is not "due"
    zh, en = feedback.receipt_text(1, RECEIVED)
    assert "回执" in zh and "1 个数值全部入库" in zh and "Receipt" in en and "nothing to fix" in en


def test_accepted_file_gets_a_summary_without_marks_on_demand(env):
    conn, ctx, fb = env
    drop(ctx.raw_dir, "511923/sthjj/ok.xlsx", department_xlsx(), RECEIVED)
    summary = load.ingest_folder(
        conn, ctx, parse=FakeParser({"ok.xlsx": lambda p: result(p, [value("B3", 85.3)])})
    )
    written = feedback.write_feedback(conn, ctx.raw_dir, fb, summary.file_ids, clean_files=True)
    wb = openpyxl.load_workbook(next(iter(written.values())))
    assert "已接收" in summary_text(wb[feedback.SUMMARY_SHEET])
    assert all(c.comment is None for row in wb[SHEET].iter_rows() for c in row)


def test_a_clean_file_whose_values_are_quarantined_later_is_due_for_feedback(env):
    conn, ctx, fb = env
    drop(ctx.raw_dir, "511923/sthjj/ok.xlsx", department_xlsx(), RECEIVED)
    summary = load.ingest_folder(
        conn, ctx, parse=FakeParser({"ok.xlsx": lambda p: result(p, [value("B3", 85.3)])})
    )
    (fid,) = summary.file_ids
    assert feedback.pending_feedback(conn) == []
    conn.execute(
        "UPDATE core.source_file SET values_quarantined = 1, status = 'partial' WHERE file_id = ?", [fid]
    )
    assert feedback.pending_feedback(conn) == [fid]
    assert list(feedback.write_feedback(conn, ctx.raw_dir, fb, [fid])) == [fid]
    assert feedback.pending_feedback(conn) == []


def test_problem_inside_a_merged_range_marks_its_top_left_cell(env):
    _, ctx, _ = env
    drop(ctx.raw_dir, "511923/sthjj/m.xlsx", department_xlsx(), RECEIVED)
    parser = FakeParser({"m.xlsx": lambda p: result(p, [], [problem("B1", "标题")])})
    wb = openpyxl.load_workbook(ingest_and_feedback(env, parser)["m_反馈.xlsx"])
    assert wb[SHEET]["A1"].comment is not None and wb[SHEET]["A1"].fill.fill_type == "solid"


def test_gbk_csv_feedback_is_rebuilt_as_xlsx_and_annotated(env):
    _, ctx, _ = env
    content = "指标名称,数值,计量单位\n空气质量优良天数比例,85.3,%\n水质达标率,无效,%\n".encode("gbk")
    drop(ctx.raw_dir, "511923/sthjj/2012-03_sthjj.csv", content, RECEIVED)
    parser = FakeParser(
        {
            "2012-03_sthjj.csv": lambda p: result(
                p, [value("B2", 85.3, "2012-03_sthjj")], [problem("B3", "无效", sheet="2012-03_sthjj")], "csv"
            )
        }
    )
    wb = openpyxl.load_workbook(ingest_and_feedback(env, parser)["2012-03_sthjj_反馈.xlsx"])
    assert wb.sheetnames[0] == feedback.SUMMARY_SHEET
    ws = wb[wb.sheetnames[1]]
    assert ws["A1"].value == "指标名称" and ws["A3"].value == "水质达标率"
    assert ws["B3"].fill.fill_type == "solid" and "无效" in ws["B3"].comment.text
    assert "重新生成" in summary_text(wb[feedback.SUMMARY_SHEET])


def test_xls_feedback_is_rebuilt_as_xlsx_and_annotated(env, tmp_path):
    _, ctx, _ = env
    book = xlwt.Workbook()
    sh = book.add_sheet("3月")
    for r, row in enumerate([["指标名称", "本月"], ["空气质量优良天数比例", "85.3"], ["水质达标率", "/x"]]):
        for c, v in enumerate(row):
            sh.write(r, c, v)
    tmp = tmp_path / "x.xls"
    book.save(str(tmp))
    drop(ctx.raw_dir, "511923/sthjj/环境.xls", tmp.read_bytes(), RECEIVED)
    parser = FakeParser(
        {"环境.xls": lambda p: result(p, [value("B2", 85.3, "3月")], [problem("B3", "/x", sheet="3月")])}
    )
    wb = openpyxl.load_workbook(ingest_and_feedback(env, parser)["环境_反馈.xlsx"])
    assert wb.sheetnames == [feedback.SUMMARY_SHEET, "3月"]
    assert wb["3月"]["A2"].value == "空气质量优良天数比例"
    assert wb["3月"]["B3"].fill.fill_type == "solid" and wb["3月"]["B3"].comment is not None


def test_unopenable_file_gets_a_summary_only_workbook(env):
    conn, ctx, _ = env
    drop(ctx.raw_dir, "511923/sthjj/坏文件.xlsx", department_xlsx()[:300], RECEIVED)
    parser = FakeParser(
        {
            "坏文件.xlsx": lambda p: result(
                p, [], [problem(None, "", "corrupt_archive", sheet=None, scope="file")]
            )
        }
    )
    wb = openpyxl.load_workbook(ingest_and_feedback(env, parser)["坏文件_反馈.xlsx"])
    assert wb.sheetnames == [feedback.SUMMARY_SHEET]
    text = summary_text(wb[feedback.SUMMARY_SHEET])
    assert "拒收" in text and "文件损坏" in text and "（整个文件）" in text and "无法打开" in text
    assert conn.execute("SELECT status, feedback_path FROM core.source_file").fetchone() == (
        "rejected",
        "511923/sthjj/坏文件_反馈.xlsx",
    )


def test_duplicate_file_feedback_says_nothing_to_do(env):
    _, ctx, _ = env
    drop(ctx.raw_dir, "511923/sthjj/a.xlsx", department_xlsx(), RECEIVED)
    drop(ctx.raw_dir, "511923/sthjj/b.xlsx", department_xlsx(), RECEIVED + dt.timedelta(days=1))
    same = lambda p: result(p, [value("B3", 85.3)])  # noqa: E731
    written = ingest_and_feedback(env, FakeParser({"a.xlsx": same, "b.xlsx": same}))
    text = summary_text(openpyxl.load_workbook(written["b_反馈.xlsx"])[feedback.SUMMARY_SHEET])
    assert "重复文件" in text and "a.xlsx" in text


def test_feedback_never_crashes_on_a_missing_source_file(tmp_path):
    report = feedback.FileReport("gone.xlsx", "gone.xlsx", "rejected", issues=[])
    out = feedback.build_feedback(tmp_path / "gone.xlsx", tmp_path / "fb" / "gone_反馈.xlsx", report)
    assert openpyxl.load_workbook(out).sheetnames == [feedback.SUMMARY_SHEET]


def test_departmental_returns_asset_ingests_the_raw_folder(tmp_settings, profile, monkeypatch):
    drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx", department_xlsx(), RECEIVED)
    drop(tmp_settings.raw_dir, "README.md", b"# raw", RECEIVED)
    parser = FakeParser({"a.xlsx": lambda p: result(p, [value("B3", 85.3)], [problem("B4", "八十五")])})
    monkeypatch.setattr(load, "_default_parse", lambda: parser)
    wh = WarehouseResource.from_settings(tmp_settings)
    with wh.get_connection() as conn:  # the calendar only, instead of materialising every dimension
        dimensions.write_rows(conn, _calendar(profile))
    res = dg.materialize(returns_assets.assets, resources={"warehouse": wh})
    assert res.success
    meta = res.asset_materializations_for_node("departmental_returns")[0].metadata
    assert meta["files_partial"].value == 1 and meta["values_loaded"].value == 1
    assert meta["values_quarantined"].value == 1
    assert (tmp_settings.feedback_dir / "511923/sthjj/a_反馈.xlsx").is_file()
    conn = duckdb.connect(str(tmp_settings.warehouse_path), read_only=True)
    try:
        assert conn.execute("SELECT is_on_time FROM core.submission").fetchone() == (True,)
    finally:
        conn.close()


def test_ods_feedback_is_rebuilt_as_xlsx_and_annotated(env, tmp_path):
    import pandas as pd

    _, ctx, _ = env
    tmp = tmp_path / "x.ods"
    frame = pd.DataFrame({"指标名称": ["空气质量优良天数比例", "水质达标率"], "本期数值": ["85.3", "135"]})
    frame.to_excel(tmp, engine="odf", sheet_name="2012年3月", index=False)
    drop(ctx.raw_dir, "511923/sthjj/环境.ods", tmp.read_bytes(), RECEIVED)
    parser = FakeParser(
        {
            "环境.ods": lambda p: result(
                p, [value("B2", 85.3, "2012年3月")], [problem("B3", "135", sheet="2012年3月")]
            )
        }
    )
    wb = openpyxl.load_workbook(ingest_and_feedback(env, parser)["环境_反馈.xlsx"])
    ws = wb["2012年3月"]
    assert (
        ws["A3"].value == "水质达标率" and ws["B3"].comment is not None and ws["B3"].fill.fill_type == "solid"
    )


def test_every_reason_code_has_a_fix_text_for_the_department():
    from pipelines.returns.feedback import FIX_ZH
    from pipelines.returns.model import REASONS

    missing = sorted(set(REASONS) - set(FIX_ZH))
    assert not missing, missing
