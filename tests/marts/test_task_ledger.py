"""Task ledgers (任务台账): clean and dirty files, the sample writer, and dates/status normalisation."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from pipelines.marts import task_ledger as tl
from pipelines.sample import task_ledger as sample_ledger

AS_OF = dt.date(2014, 1, 15)


def _read(path, profile, catalog):
    return tl.read_task_ledger(
        path,
        county_code=profile.code,
        owners=tl.OwnerIndex(profile.org_units),
        campaigns=tl.campaign_lookup(catalog.campaigns.values()),
        as_of=AS_OF,
        rel_path=path.name,
    )


def _xlsx(path, rows):
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_clean_ledger_is_read_with_owners_dates_statuses_and_overdue(tmp_path, profile, catalog):
    path = _xlsx(
        tmp_path / "2013年任务台账.xlsx",
        [
            ["平昌县“五创联动”任务台账"],
            [],
            ["序号", "创建项目", "任务内容", "牵头单位", "完成时限", "进展情况", "备注"],
            [1, "省级卫生县城", "农贸市场标准化改造", "县工商局", "2013年6月30日", "已完成", ""],
            [2, "创森", "道路绿化提升工程", "县住建局、县林业局", dt.datetime(2013, 9, 30), "推进中", ""],
            [3, "省级文明城市", "志愿服务站点建设", "县文明办", "2014年3月", "未开始", ""],
            [4, "", "城区公厕新建", "城市管理局", "2013年底", "", ""],
            [],
            ["填报单位：县创建办", "", "", "审核人："],
        ],
    )
    tasks, errors = _read(path, profile, catalog)
    assert errors == []
    assert [t["row_no"] for t in tasks] == [4, 5, 6, 7]
    t1, t2, t3, t4 = tasks
    assert (t1["owner_org_code"], t1["campaign_code"], t1["status"], t1["is_overdue"]) == (
        "511923-scjgj",
        "hygienic_county",
        "done",
        False,
    )
    assert (t2["owner_org_code"], t2["due_date"], t2["status"], t2["is_overdue"]) == (
        "511923-zjj",
        dt.date(2013, 9, 30),
        "in_progress",
        True,
    )
    assert t2["campaign_code"] == "forest_city"
    assert (t3["due_date"], t3["status"], t3["is_overdue"]) == (dt.date(2014, 3, 31), "not_started", False)
    assert (t4["owner_org_code"], t4["due_date"], t4["campaign_code"]) == (
        "511923-cgj",
        dt.date(2013, 12, 31),
        None,
    )
    again, _ = _read(path, profile, catalog)
    assert [t["task_id"] for t in again] == [t["task_id"] for t in tasks]  # stable ids


def test_dirty_rows_are_reported_with_sheet_and_cell_and_never_guessed(tmp_path, profile, catalog):
    path = _xlsx(
        tmp_path / "任务台账.xlsx",
        [
            ["序号", "任务内容", "责任单位", "完成时限", "完成情况"],
            [1, "", "县林业局", "2013-05-31", "已完成"],
            [2, "古树名木普查", "县某某局", "2013-05-31", "已完成"],
            [3, "森林防火设施建设", "县林业局", "2013年13月", "推进中"],
            [4, "荒山造林", "县林业局", "2013-05-31", "差不多了"],
        ],
    )
    tasks, errors = _read(path, profile, catalog)
    got = {(e["reason_code"], e["cell"]) for e in errors}
    assert got == {("missing_task", "B2"), ("unknown_owner", "C3"), ("bad_date", "D4"), ("bad_status", "E5")}
    assert [t["task_name"] for t in tasks] == ["古树名木普查", "森林防火设施建设", "荒山造林"]
    by = {t["task_name"]: t for t in tasks}
    assert by["古树名木普查"]["owner_org_code"] is None and by["古树名木普查"]["owner_text"] == "县某某局"
    assert by["森林防火设施建设"]["due_date"] is None
    assert by["荒山造林"]["status"] is None
    bad_date = next(e for e in errors if e["reason_code"] == "bad_date")
    assert (
        bad_date["message_zh"] == "文件“任务台账.xlsx”工作表“台账”单元格D4：完成时限“2013年13月”不是有效日期"
    )
    assert "cell D4" in bad_date["message_en"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "unreadable_file"),
        (b"PK\x03\x04truncated", "unreadable_file"),
        ("名称,数值\n甲,1\n".encode(), "no_header"),
    ],
)
def test_unreadable_or_headerless_files_yield_one_file_level_error(
    tmp_path, profile, catalog, content, reason
):
    path = tmp_path / ("任务台账.csv" if reason == "no_header" else "任务台账.xlsx")
    path.write_bytes(content)
    tasks, errors = _read(path, profile, catalog)
    assert tasks == []
    assert [e["reason_code"] for e in errors] == [reason]
    assert errors[0]["message_zh"].startswith(f"文件“{path.name}”")


def test_gbk_csv_ledger_is_read(tmp_path, profile, catalog):
    path = tmp_path / "任务台账.csv"
    path.write_bytes(
        "任务,责任单位,完成时限,状态\n病媒生物防制达标,县爱卫办,2013/10/31,已完成\n".encode("gbk")
    )
    tasks, errors = _read(path, profile, catalog)
    assert errors == []
    assert (tasks[0]["owner_org_code"], tasks[0]["due_date"]) == ("511923-awb", dt.date(2013, 10, 31))


def test_sample_ledger_has_about_40_tasks_some_done_some_overdue_and_three_malformed_rows(
    tmp_path, profile, catalog
):
    raw = tmp_path / "raw"
    path = sample_ledger.write_sample_task_ledger(
        raw / "511923" / "cjb" / "五创联动任务台账.xlsx", profile, seed=7
    )
    assert tl.find_task_ledgers(raw) == [path]
    tasks, errors = tl.read_task_ledgers(raw, [profile], catalog.campaigns.values(), dt.date(2017, 1, 20))
    assert 38 <= len(tasks) <= 45
    assert sorted(e["reason_code"] for e in errors) == ["bad_date", "missing_task", "unknown_owner"]
    assert sum(t["status"] == "done" for t in tasks) >= 15
    assert sum(t["is_overdue"] for t in tasks) >= 3
    assert all(t["source_file"] == "511923/cjb/五创联动任务台账.xlsx" for t in tasks)
    # Deterministic from the seed; the CSV form holds the same rows (header + tasks + the row without task).
    a = sample_ledger.write_sample_task_ledger(tmp_path / "a.csv", profile, seed=7).read_bytes()
    b = sample_ledger.write_sample_task_ledger(tmp_path / "b.csv", profile, seed=7).read_bytes()
    c = sample_ledger.write_sample_task_ledger(tmp_path / "c.csv", profile, seed=8).read_bytes()
    assert a == b != c
    assert a.decode("utf-8-sig").count("\n") == len(tasks) + 2


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2013年6月30日", dt.date(2013, 6, 30)),
        ("2013-06", dt.date(2013, 6, 30)),
        ("２０１３．６．１５", dt.date(2013, 6, 15)),
        ("2013年底", dt.date(2013, 12, 31)),
        (41455.0, dt.date(2013, 6, 30)),
        ("2013年2月30日", None),
        ("尽快", None),
    ],
)
def test_due_date_cells(cell, expected):
    assert tl.parse_date(cell) == expected


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("已完成", "done"),
        ("未完成", "not_started"),
        ("正在推进", "in_progress"),
        ("", "not_started"),
        ("？", None),
    ],
)
def test_status_cells(text, status):
    assert tl.parse_status(text)[0] == status


def test_another_countys_ledger_is_never_attributed_to_this_county(tmp_path, profile, catalog):
    """A county partition run sees its own profile only: the other county's ledger (in its own
    county folder) is skipped, not read as this county's tasks; a ledger outside every county
    folder still belongs to the (only) profile."""
    raw = tmp_path / "raw"
    sample_ledger.write_sample_task_ledger(raw / "519001" / "cjb" / "五创联动任务台账.xlsx", profile, seed=7)
    tasks, errors = tl.read_task_ledgers(raw, [profile], catalog.campaigns.values(), dt.date(2017, 1, 20))
    assert tasks == [] and errors == []
    sample_ledger.write_sample_task_ledger(raw / "511923" / "cjb" / "五创联动任务台账.xlsx", profile, seed=7)
    sample_ledger.write_sample_task_ledger(raw / "cjb" / "县任务台账.xlsx", profile, seed=8)
    tasks, _ = tl.read_task_ledgers(raw, [profile], catalog.campaigns.values(), dt.date(2017, 1, 20))
    files = {t["source_file"] for t in tasks}
    assert files == {"511923/cjb/五创联动任务台账.xlsx", "cjb/县任务台账.xlsx"}
    assert {t["county_code"] for t in tasks} == {profile.code}
