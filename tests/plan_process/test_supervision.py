"""督查 spreadsheets: clean and messy layouts, lineage to the cell, problems with file/sheet/cell and a
reason in Chinese and English, the feedback workbook."""

from __future__ import annotations

import openpyxl
import pytest

from pipelines.plan_process import supervision as sv


def _items(checklists, ptype="market"):
    return list(checklists[ptype].items)


def _write(path, rows, merges=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "农贸市场"
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    return path


def _market(points):
    return [p for p in points if p.type == "market"]


def test_clean_sheet_reads_every_score_with_its_cell(tmp_path, points, checklists):
    items = _items(checklists)
    p1, p2 = _market(points)[:2]
    rows = [
        ["平昌县2013年下半年“五创联动”督查评分表（农贸市场）"],
        ["督查组：第一督查组  督查日期：2013年11月20日"],
        ["序号", "点位名称", *[i.name_zh for i in items], "得分合计", "问题描述", "照片编号"],
        [1, p1.name_zh, *[i.max_score for i in items], 100, "", ""],
        [2, p2.name_zh, items[0].max_score - 5, *[i.max_score for i in items[1:]], 95, "摊位占道", "DC-01"],
    ]
    path = _write(tmp_path / "a.xlsx", rows)
    res = sv.read_file(path, "511923/a.xlsx", "511923", points, checklists)
    assert res.status == "accepted" and not res.issues
    assert len(res.inspections) == 2 and len(res.scores) == 2 * len(items)
    i2 = res.inspections[1]
    assert i2["point_code"] == p2.code and str(i2["inspected_on"]) == "2013-11-20"
    assert i2["round_kind"] == "supervision" and i2["team"] == "第一督查组"
    assert (i2["source_file"], i2["sheet"], i2["row_cell"]) == ("511923/a.xlsx", "农贸市场", "B5")
    first = next(
        s for s in res.scores if s["inspection_id"] == i2["inspection_id"] and s["item_code"] == items[0].code
    )
    assert (first["score"], first["cell"], first["problem"], first["photo_ref"]) == (
        items[0].max_score - 5,
        "C5",
        "摊位占道",
        "DC-01",
    )


def test_messy_sheet_merged_header_notes_blanks_totals_and_text_scores(tmp_path, points, checklists):
    items = _items(checklists)
    p1, p2 = _market(points)[:2]
    n = len(items)
    rows = [
        ["2014年上半年自查评分表（农贸市场）"],
        ["检查时间：2014.6.12"],
        ["序号", "点位名称", "检查项目及得分", *[""] * (n - 1), "合计", "存在问题"],
        ["", "", *[f"{i.name_zh}（{i.max_score:g}分）" for i in items], "", ""],
        [1, p1.name_zh, "１５", *[f"{i.max_score:g}分" for i in items[1:]], "", "地面积水"],
        [],
        [2, p2.name_zh, *[i.max_score for i in items], "", ""],
        ["合计", "", *[""] * n, 195, ""],
        ["备注：限期整改"],
    ]
    path = _write(
        tmp_path / "m.xlsx", rows, merges=[f"C3:{openpyxl.utils.get_column_letter(2 + n)}3", "A3:A4", "B3:B4"]
    )
    res = sv.read_file(path, "511923/m.xlsx", "511923", points, checklists)
    assert res.status == "accepted", res.issues
    assert [i["point_code"] for i in res.inspections] == [p1.code, p2.code]
    assert res.inspections[0]["round_kind"] == "self"
    s = next(
        x
        for x in res.scores
        if x["item_code"] == items[0].code and x["inspection_id"] == res.inspections[0]["inspection_id"]
    )
    assert s["score"] == 15 and s["cell"] == "C5"
    assert len(res.scores) == 2 * n  # the totals and notes rows are not points


@pytest.mark.parametrize(
    ("cell_value", "reason"),
    [("很好", "not_a_number"), (99, "out_of_range"), ("", "missing_score")],
)
def test_bad_scores_are_named_with_file_sheet_cell_and_reason(
    tmp_path, points, checklists, cell_value, reason
):
    items = _items(checklists)
    p1 = _market(points)[0]
    rows = [
        ["2013年督查评分表（农贸市场）", "督查日期：2013-11-20"],
        ["序号", "点位名称", *[i.name_zh for i in items], "问题描述"],
        [1, p1.name_zh, cell_value, *[i.max_score for i in items[1:]], ""],
    ]
    res = sv.read_file(_write(tmp_path / "b.xlsx", rows), "511923/b.xlsx", "511923", points, checklists)
    assert res.status == "partial"
    (issue,) = res.issues
    assert issue["reason_code"] == reason and issue["sheet"] == "农贸市场" and issue["cell"] == "C3"
    assert "b.xlsx" in issue["message_zh"] and "C3" in issue["message_zh"] and "C3" in issue["message_en"]
    assert len(res.scores) == len(items) - 1  # the bad cell is not used, the rest is


def test_unknown_point_unknown_column_and_missing_date(tmp_path, points, checklists):
    items = _items(checklists)
    rows = [
        ["督查评分表（农贸市场）", "督查日期：2013-11-20"],
        ["序号", "点位名称", *[i.name_zh for i in items], "卫生死角数量", "问题描述"],
        [1, "不存在的市场", *[i.max_score for i in items], 3, ""],
        [2, _market(points)[0].name_zh, *[i.max_score for i in items], 3, ""],
    ]
    res = sv.read_file(_write(tmp_path / "u.xlsx", rows), "511923/u.xlsx", "511923", points, checklists)
    reasons = sorted(i["reason_code"] for i in res.issues)
    assert reasons == ["unknown_column", "unknown_point"]
    assert next(i for i in res.issues if i["reason_code"] == "unknown_point")["cell"] == "B3"
    nodate = [
        ["督查评分表（农贸市场）"],
        ["序号", "点位名称", *[i.name_zh for i in items]],
        [1, _market(points)[0].name_zh, *[i.max_score for i in items]],
    ]
    res = sv.read_file(_write(tmp_path / "n.xlsx", nodate), "511923/n.xlsx", "511923", points, checklists)
    assert res.status == "rejected" and [i["reason_code"] for i in res.issues] == ["no_date"]


def test_unreadable_file_is_rejected_not_raised(tmp_path, points, checklists):
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    res = sv.read_file(bad, "511923/x.xlsx", "511923", points, checklists)
    assert res.status == "rejected" and res.issues[0]["reason_code"] == "unreadable"


def test_feedback_workbook_marks_the_problem_cell(tmp_path, points, checklists):
    items = _items(checklists)
    folder = tmp_path / "sup"
    (folder / "511923").mkdir(parents=True)
    rows = [
        ["督查评分表（农贸市场）", "督查日期：2013-11-20"],
        ["序号", "点位名称", *[i.name_zh for i in items]],
        [1, _market(points)[0].name_zh, "很好", *[i.max_score for i in items[1:]]],
    ]
    _write(folder / "511923" / "f.xlsx", rows)
    results = sv.read_folder(folder, "511923", points, checklists)
    (out,) = sv.write_feedback(folder, tmp_path / "fb", results)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "反馈汇总"
    cell = wb["农贸市场"]["C3"]
    assert cell.comment is not None and "得分不是数字" in cell.comment.text


def test_score_parsing():
    assert sv.parse_score("１８") == (18.0, None)
    assert sv.parse_score("18分") == (18.0, None)
    assert sv.parse_score(7) == (7.0, None)
    assert sv.parse_score("—") == (None, "missing_score")
    assert sv.parse_score("约18") == (None, "not_a_number")
    assert sv.parse_score(True) == (None, "not_a_number")
