"""The sample task ledger (任务台账) of the creation office: ~40 tasks with due dates scheduled
backwards from each campaign's acceptance date (倒排工期) in Chinese working days, some overdue, some
done, a few malformed rows. Read back by `pipelines.marts.task_ledger`."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from pipelines.marts.plan import schedule_backwards

_SAMPLE_TASKS = {
    "env_model_city": [
        ("编制环保模范城市创建规划并报批", "sthjj"),
        ("县城污水处理厂提标改造", "zjj"),
        ("城区重点污染源在线监控全覆盖", "sthjj"),
        ("集中式饮用水水源地规范化建设", "sthjj"),
        ("工业企业排污许可证核发", "sthjj"),
        ("城区机动车尾气检测站建设", "jjdd"),
        ("环境空气自动监测站联网", "sthjj"),
        ("建成区黑臭水体整治", "zjj"),
    ],
    "hygienic_county": [
        ("农贸市场标准化改造", "scjgj"),
        ("病媒生物防制达标", "awb"),
        ("公共场所控烟宣传", "wjw"),
        ("城区公厕新建和改造", "cgj"),
        ("背街小巷环境卫生整治", "cgj"),
        ("食品小作坊规范整治", "scjgj"),
        ("健康教育进社区", "wjw"),
        ("生活垃圾无害化处理场运行", "cgj"),
    ],
    "forest_city": [
        ("编制森林城市建设总体规划", "lyj"),
        ("城区公园绿地建设", "zjj"),
        ("道路绿化提升工程", "zjj"),
        ("荒山造林和退耕还林", "lyj"),
        ("森林防火设施建设", "lyj"),
        ("古树名木普查建档", "lyj"),
        ("水岸绿化工程", "slj"),
        ("村庄绿化示范村建设", "nyj"),
    ],
    "civilized_city": [
        ("志愿服务站点建设", "wmb"),
        ("公益广告宣传全覆盖", "wmb"),
        ("未成年人思想道德建设活动", "jyj"),
        ("交通秩序综合整治", "jjdd"),
        ("文明单位创建评选", "wmb"),
        ("社区综合文化服务中心建设", "wglj"),
        ("诚信体系建设", "fgj"),
        ("消防安全隐患排查整治", "xfdd"),
    ],
    "eco_county": [
        ("编制生态县建设规划并报批", "sthjj"),
        ("乡镇污水处理设施建设", "zjj"),
        ("农村卫生厕所改造", "nyj"),
        ("规模化畜禽养殖污染治理", "nyj"),
        ("生态乡镇创建", "sthjj"),
        ("化肥农药减量使用", "nyj"),
        ("水土流失综合治理", "slj"),
        ("农村生活垃圾集中收运", "cgj"),
    ],
}
_OFFSETS = (20, 40, 60, 90, 120, 180, 240, 300, 360, 440)


def write_sample_task_ledger(path: Path, profile, seed: int = 0) -> Path:
    """Write a realistic task ledger (~40 tasks, some overdue, some done, a few malformed rows).

    Due dates are scheduled backwards from each campaign's acceptance date in Chinese working days.
    Status is as of the end of the profile's calendar. `.csv` paths get a UTF-8-with-BOM CSV, anything
    else an xlsx (title row, header row, footer) written with openpyxl.
    """
    rng = random.Random(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    as_of = profile.last_period
    names = {u.short_code: u.name_zh for u in profile.org_units if u.level == "department"}
    camp_zh = {
        "env_model_city": "省级环保模范城市",
        "hygienic_county": "省级卫生县城",
        "forest_city": "国家森林城市",
        "civilized_city": "省级文明城市",
        "eco_county": "省级生态县",
    }
    rows = []
    n = 0
    for prog in profile.programmes:
        for task, owner in _SAMPLE_TASKS.get(prog.campaign, []):
            n += 1
            offset = rng.choice(_OFFSETS)
            due = schedule_backwards(prog.acceptance, offset, prog.start)
            roll = rng.random()
            if due < as_of and roll < 0.75:
                status, done = "已完成", min(as_of, due - dt.timedelta(days=rng.randint(0, 40)))
            elif due < as_of:
                status, done = rng.choice(["推进中", "未完成"]), None
            else:
                status, done = rng.choice(["推进中", "未开始"]), None
            owner_name = names.get(owner, owner)
            if rng.random() < 0.15:
                owner_name += "、" + names[rng.choice(sorted(names))]
            rows.append(
                [
                    n,
                    camp_zh.get(prog.campaign, prog.campaign),
                    task,
                    owner_name,
                    f"{due.year}年{due.month}月{due.day}日",
                    status,
                    done.isoformat() if done else "",
                    "",
                ]
            )
    # A few malformed rows the reader must report, not guess.
    rows.insert(
        5,
        [
            6.5,
            camp_zh["hygienic_county"],
            "",
            names.get("cgj", "县城市管理局"),
            "2013年6月30日",
            "推进中",
            "",
            "缺任务内容",
        ],
    )
    rows.insert(
        12,
        [
            12.5,
            camp_zh["forest_city"],
            "森林城市宣传月活动",
            "县创建指挥部",
            "2013年5月31日",
            "已完成",
            "",
            "单位名称不规范",
        ],
    )
    rows.insert(
        20,
        [
            20.5,
            camp_zh["civilized_city"],
            "窗口单位文明服务培训",
            names.get("wmb", "县文明办"),
            "2013年13月",
            "推进中",
            "",
            "日期有误",
        ],
    )
    header = ["序号", "创建项目", "任务内容", "责任单位", "完成时限", "完成情况", "完成日期", "备注"]
    title = f"{profile.name_zh}“五创联动”工作任务台账"
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "任务台账"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for r in rows:
        ws.append(r)
    ws.append([])
    ws.append(
        [
            "填报单位：县创建办",
            "",
            "",
            "审核人：",
            "",
            "填报日期：",
            f"{as_of.year}年{as_of.month}月{as_of.day}日",
        ]
    )
    for col, width in zip("ABCDEFGH", (6, 16, 30, 28, 16, 10, 12, 14), strict=True):
        ws.column_dimensions[col].width = width
    wb.save(path)
    return path
