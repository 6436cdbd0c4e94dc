"""Label soup: random grids of indicator names, places, periods, role words, numbers and junk, with
random merges, through the whole parser. Never a crash (parse_error), never slow, and every loaded
value traces to a cell that holds exactly its raw text, in a column whose header is not a target,
previous-period, change or rate column."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import time

import openpyxl
import pytest

from pipelines.returns.model import ParseContext
from pipelines.returns.parse import parse_file

WORDS = [
    "指标名称", "项目", "监测项目", "单位", "计量单位", "数值", "本期数", "本月", "累计", "目标值", "上年同期",
    "同比增减(%)", "完成率(%)", "备注", "序号", "乡镇", "年份", "月份", "全县", "县城", "合计", "小计", "注：",
    "森林覆盖率", "建成区绿化覆盖率", "建成区绿地率", "城市生活污水集中处理率", "空气质量优良天数比例(%)",
    "免疫规划疫苗接种率", "江口镇", "响滩镇", "巴中市", "通江县", "四川省", "全国", "平昌县", "2014年", "2015年",
    "1月", "2月", "一季度", "2016.1", "约85", "≥95", "85-90", "#DIV/0!", "—", "无", "", "", "", "abc", "填报人：张三",
]  # fmt: skip


def _cell(r: random.Random):
    roll = r.random()
    if roll < 0.45:
        return r.choice(WORDS)
    if roll < 0.8:
        return round(r.uniform(-10, 150), r.choice((0, 1, 2)))
    if roll < 0.85:
        return r.choice((2013, 2014, 2015, 0.852, 1, 12))
    return None


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, catalog, profile) -> ParseContext:
    raw = tmp_path_factory.mktemp("fuzz") / "raw"
    (raw / profile.code / "zjj").mkdir(parents=True)
    return ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=dt.date(2017, 1, 1))


@pytest.mark.parametrize("seed", range(120))
def test_label_soup_never_crashes_and_loads_only_what_cells_hold(ctx, seed):
    r = random.Random(seed)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    grids = {}
    for s in range(r.choice((1, 1, 2, 3))):
        name = r.choice(["Sheet1", "2014年3月", "1月", "表1", "数据", f"S{s}"])
        if name in grids:
            continue
        ws = wb.create_sheet(name)
        h, w = r.randint(1, 14), r.randint(1, 9)
        rows = [[_cell(r) for _ in range(w)] for _ in range(h)]
        if r.random() < 0.5:
            rows.insert(0, [r.choice(["平昌县住建局2014年指标", "巴中市2014年统计", "2014年第一季度报表"])])
        for row in rows:
            ws.append(row)
        for _ in range(r.randint(0, 3)):
            r0, c0 = r.randint(1, len(rows)), r.randint(1, w)
            r1, c1 = min(len(rows), r0 + r.randint(0, 2)), min(w, c0 + r.randint(0, 2))
            if (r1, c1) != (r0, c0):
                with contextlib.suppress(ValueError):
                    ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
        grids[name] = rows
    path = ctx.raw_dir / "511923" / "zjj" / f"fuzz_{seed}.xlsx"
    wb.save(path)
    ts = dt.datetime(2016, 12, 1).timestamp()
    os.utime(path, (ts, ts))
    t0 = time.perf_counter()
    out = parse_file(path, ctx)
    assert time.perf_counter() - t0 < 2.0
    assert "parse_error" not in {p.reason_code for p in out.problems}, out.problems[:3]
    book = openpyxl.load_workbook(path)
    for v in out.values:
        cell = book[v.sheet][v.cell].value
        assert cell is not None and str(cell).strip() != "", (v, cell)
        header = {book[v.sheet].cell(row=i, column=book[v.sheet][v.cell].column).value for i in range(1, 3)}
        assert not header & {"目标值", "上年同期", "同比增减(%)", "完成率(%)"}, (v, header)
