"""Sample records of the plan's process (issue 17), deterministic:

- 督查 / self-inspection spreadsheets, two rounds a year 2012–2016 (上半年自查 in June, 下半年督查 in
  November), one workbook per round with one sheet per point type, under `<supervision>/<county>/`;
  some messy (two-row merged headers, notes, blank rows, totals rows, scores as text and full-width
  digits, a misspelt point, a score above the item's maximum, a workbook without a date);
- signing records of the target letters 2012–2016 (two units have not signed 2016);
- application and acceptance records per campaign: the hygienic county fails its first acceptance
  (2013-11) and passes on re-application (2014-06); the others pass; the forest city passes its
  provincial step in 2013 and the national acceptance in 2016.
Records go to the workflow store as `source = 'sample'` (replaced as a whole on every run; office
records are never touched). The post-acceptance slip comes from the value trajectories
(`pipelines.sample.values`): requirements met at a pass that later fall to near or fail.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from python_calamine import CalamineWorkbook

from pipelines.catalog import load_catalog
from pipelines.plan_process import letters
from pipelines.plan_process import points as pts
from pipelines.plan_process import store as pstore
from pipelines.profile import load_profiles
from pipelines.settings import Settings
from pipelines.workflow.store import Store, now

YEARS = range(2012, 2017)
ROUNDS = (("上半年", "自查", 6, 12), ("下半年", "督查", 11, 20))  # half, kind, month, day
PROBLEMS = {
    "mkt_layout": "摊位占道经营，划行归市不到位",
    "mkt_clean": "地面积水、垃圾未及时清运",
    "mkt_poultry": "活禽宰杀区未完全隔离",
    "mkt_toilet": "市场公厕脏乱、无专人管理",
    "mkt_vector": "防蝇设施缺失",
    "mkt_publicity": "公益宣传牌破损",
    "lane_road": "路面破损积水",
    "lane_clean": "墙角暴露垃圾",
    "lane_order": "乱堆乱放杂物",
    "lane_ads": "墙面牛皮癣小广告",
    "lane_light": "路灯损坏未修复",
    "wc_grade": "未达到二类标准",
    "wc_clean": "保洁不及时、有异味",
    "wc_facility": "洗手设施损坏",
    "wc_vector": "防蝇设施缺失",
    "sch_health_edu": "健康教育课未按计划开课",
    "sch_canteen": "食堂卫生许可过期",
    "sch_smoke": "校内有吸烟现象",
    "sch_moral": "未成年人思想道德建设台账不全",
    "sch_env": "校门口流动摊贩",
    "hos_waste": "医疗废物暂存点不规范",
    "hos_smoke": "候诊区有吸烟现象",
    "hos_infect": "预检分诊登记不全",
    "hos_env": "院内绿化带垃圾",
    "site_fence": "围挡破损",
    "site_dust": "裸土未覆盖",
    "site_wash": "出场车辆未冲洗",
    "site_noise": "夜间施工噪声扰民",
    "riv_floating": "水面漂浮垃圾",
    "riv_outfall": "发现生活污水直排口",
    "riv_bank": "河岸堆放建筑垃圾",
    "riv_green": "护岸绿化缺株",
}
FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _day(year: int, month: int, day: int) -> dt.date:
    from pipelines import reporting_calendar as rc

    d = dt.date(year, month, day)
    return d if rc.is_working_day(d) else rc.add_working_days(d, 1)


def round_scores(points, checklists, seed: int) -> dict[tuple[int, int], dict[str, dict[str, float]]]:
    """(year, round) → point → item → score. A deduction found is fixed by the next round with
    probability 0.6 (else found again); new deductions appear with probability 0.12 per item."""
    out: dict = {}
    open_: dict[tuple[str, str], float] = {}
    for year in YEARS:
        for rnd in range(len(ROUNDS)):
            got: dict[str, dict[str, float]] = {}
            for p in points:
                r = random.Random(f"{seed}:insp:{p.code}:{year}:{rnd}")
                got[p.code] = {}
                for it in checklists[p.type].items:
                    key = (p.code, it.code)
                    if key in open_ and r.random() > 0.6:
                        s = open_[key]
                    elif key not in open_ and r.random() < 0.12:
                        s = max(0.0, it.max_score - r.choice((2, 3, 5, 5, 8)))
                    else:
                        s = it.max_score
                    if s < it.max_score:
                        open_[key] = s
                    else:
                        open_.pop(key, None)
                    got[p.code][it.code] = s
            out[(year, rnd)] = got
    return out


def _sheet(ws, title: str, date_line: str, cl, rows: list[list], messy: int) -> None:
    """One sheet of a round. messy: 0 clean; 1 two-row merged header, notes, blank rows, totals;
    2 scores as text / full-width digits and a '（20分）' decorated header."""
    items = list(cl.items)
    ncol = 4 + len(items) + 3
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(2, 1, date_line)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncol)
    r0 = 3
    fixed = ["序号", "点位名称", "所在乡镇", "包保单位"]
    tail = ["得分合计", "问题描述", "照片编号"]
    if messy == 1:
        for c, h in enumerate(fixed, 1):
            ws.cell(r0, c, h)
            ws.merge_cells(start_row=r0, start_column=c, end_row=r0 + 1, end_column=c)
        ws.cell(r0, 5, "检查项目及得分")
        ws.merge_cells(start_row=r0, start_column=5, end_row=r0, end_column=4 + len(items))
        for c, it in enumerate(items, 5):
            ws.cell(r0 + 1, c, f"{it.name_zh}（{it.max_score:g}分）")
        for c, h in enumerate(tail, 5 + len(items)):
            ws.cell(r0, c, h)
            ws.merge_cells(start_row=r0, start_column=c, end_row=r0 + 1, end_column=c)
        r = r0 + 2
    else:
        heads = (
            fixed
            + [it.name_zh if messy == 0 else f"{it.name_zh}(满分{it.max_score:g})" for it in items]
            + tail
        )
        for c, h in enumerate(heads, 1):
            ws.cell(r0, c, h).alignment = Alignment(wrap_text=True)
        r = r0 + 1
    total_sum = 0.0
    for i, row in enumerate(rows, 1):
        if messy == 1 and i == 3:
            r += 1  # a blank row
        vals = [i, *row]
        for c, v in enumerate(vals, 1):
            if messy == 2 and isinstance(v, float) and 5 <= c < 5 + len(items) and i % 2 == 0:
                v = f"{v:g}分" if i % 4 == 0 else f"{v:g}".translate(FULLWIDTH)
            ws.cell(r, c, v)
        total_sum += row[3 + len(items)] if isinstance(row[3 + len(items)], float) else 0
        r += 1
    if messy == 1:
        ws.cell(r, 1, "合计")
        ws.cell(r, 5 + len(items), total_sum)
        ws.cell(r + 2, 1, "备注：扣分项限期10个工作日整改，整改情况报县创建办。")
        ws.cell(r + 3, 1, "督查组长（签字）：")


def write_supervision(folder: Path, profile, points, checklists, seed: int) -> list[Path]:
    scores = round_scores(points, checklists, seed)
    unit_names = {u.code: u.name_zh for u in profile.org_units}
    written = []
    base = folder / profile.code
    for year in YEARS:
        for rnd, (half, kind, month, day_) in enumerate(ROUNDS):
            day = _day(year, month, day_)
            wb = openpyxl.Workbook()
            wb.remove(wb.active)
            for ti, (ptype, cl) in enumerate(sorted(checklists.items())):
                pts_ = [p for p in points if p.type == ptype]
                if not pts_:
                    continue
                messy = (year + rnd + ti) % 3
                rows = []
                for p in pts_:
                    sc = scores[(year, rnd)][p.code]
                    vals = [sc[it.code] for it in cl.items]
                    probs = [
                        PROBLEMS.get(it.code, it.name_zh) for it in cl.items if sc[it.code] < it.max_score
                    ]
                    photo = f"{'ZC' if kind == '自查' else 'DC'}{day:%Y%m%d}-{p.code[-4:]}" if probs else ""
                    name = p.name_zh
                    if year == 2014 and rnd == 0 and p.code == "p_lane_jk_2":
                        name = "江口镇河街（老街）"  # not in the points list: named in the feedback
                    rows.append(
                        [
                            name,
                            p.town.split("-")[-1] and _town_name(profile, p.town),
                            unit_names.get(p.unit, p.unit),
                            *vals,
                            float(sum(vals)),
                            "；".join(probs),
                            photo,
                        ]
                    )
                if year == 2015 and rnd == 1 and ptype == "toilet":
                    rows[0][3] = cl.items[0].max_score + 10  # above the item's maximum: refused, named
                ws = wb.create_sheet(cl.name_zh)
                title = f"平昌县{year}年{half}“五创联动”{kind}评分表（{cl.name_zh}）"
                date_line = f"{kind}组：县创建办第{rnd + 1}{kind}组    {kind}日期：{day.year}年{day.month}月{day.day}日"
                _sheet(ws, title, date_line, cl, rows, messy)
            name = f"{year}年{half}{kind}评分表.xlsx"
            path = base / str(year) / name
            written.append(_save(wb, path, day))
            written.append(
                _recheck(base, profile, points, checklists, scores[(year, rnd)], year, half, day, seed)
            )
    # A workbook without any date: rejected as a whole with its reason.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "农贸市场"
    cl = checklists["market"]
    ws.cell(1, 1, "农贸市场督查评分表（日期未填）")
    heads = ["序号", "点位名称", *[i.name_zh for i in cl.items], "问题描述"]
    for c, h in enumerate(heads, 1):
        ws.cell(2, c, h)
    p = next(x for x in points if x.type == "market")
    ws.append([1, p.name_zh, *[i.max_score for i in cl.items], ""])
    written.append(_save(wb, base / "2016" / "农贸市场督查评分表（补报）.xlsx", dt.date(2016, 12, 5)))
    return written


def _recheck(
    base: Path, profile, points, checklists, scores: dict, year: int, half: str, day: dt.date, seed: int
) -> Path:
    """整改复查: the points with deductions re-inspected 8 working days after the round; each deducted item
    is fixed with probability 0.75 (the item closes in time), else scored as before (found again)."""
    from pipelines import reporting_calendar as rc

    when = rc.add_working_days(day, 8)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    unit_names = {u.code: u.name_zh for u in profile.org_units}
    for ptype, cl in sorted(checklists.items()):
        rows = []
        for p in (x for x in points if x.type == ptype):
            sc = scores[p.code]
            if all(sc[it.code] >= it.max_score for it in cl.items):
                continue
            r = random.Random(f"{seed}:recheck:{p.code}:{year}:{half}")
            vals = [
                it.max_score if sc[it.code] >= it.max_score or r.random() < 0.75 else sc[it.code]
                for it in cl.items
            ]
            probs = [
                PROBLEMS.get(it.code, it.name_zh) + "（未整改到位）"
                for it, v in zip(cl.items, vals, strict=True)
                if v < it.max_score
            ]
            rows.append(
                [
                    p.name_zh,
                    _town_name(profile, p.town),
                    unit_names.get(p.unit, p.unit),
                    *vals,
                    float(sum(vals)),
                    "；".join(probs),
                    "",
                ]
            )
        if rows:
            ws = wb.create_sheet(cl.name_zh)
            title = f"平昌县{year}年{half}督查问题整改复查表（{cl.name_zh}）"
            _sheet(ws, title, f"督查组：县创建办复查组    复查日期：{when:%Y-%m-%d}", cl, rows, 0)
    return _save(wb, base / str(year) / f"{year}年{half}整改复查表.xlsx", when)


def _town_name(profile, town: str) -> str:
    return next((u.name_zh for u in profile.org_units if u.code == town), town)


def _save(wb, path: Path, day: dt.date) -> Path:
    """Save only when the cells changed (openpyxl stamps the time), mtime = the inspection day."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.xlsx")
    wb.save(tmp)
    if path.is_file() and _cells(path) == _cells(tmp):
        tmp.unlink()
    else:
        os.replace(tmp, path)
    ts = dt.datetime(day.year, day.month, day.day, 17, 0).timestamp()
    os.utime(path, (ts, ts))
    return path


def _cells(path: Path) -> list:
    book = CalamineWorkbook.from_path(str(path))
    return [book.get_sheet_by_name(n).to_python() for n in book.sheet_names]


SIGN_DAYS = {2012: (2, 20), 2013: (1, 25), 2014: (2, 14), 2015: (2, 6), 2016: (1, 29)}
UNSIGNED_2016 = ("jjdd", "kx")

ACCEPTANCE = (
    # campaign, milestone, applied, inspection from/to, team, result, result_on, document, findings
    (
        "hygienic_county",
        "acceptance",
        "2013-06-20",
        "2013-10-15",
        "2013-10-17",
        "省爱卫会考核组",
        "failed",
        "2013-11-08",
        "川爱卫函〔2013〕（样例）考核反馈意见",
        "农贸市场活禽宰杀区未隔离\n背街小巷暴露垃圾较多\n病媒生物防制档案不全",
    ),
    (
        "hygienic_county",
        "acceptance",
        "2014-03-10",
        "2014-05-20",
        "2014-05-21",
        "省爱卫会复核组",
        "passed",
        "2014-06-30",
        "川爱卫发〔2014〕（样例）命名文件",
        "",
    ),
    (
        "civilized_city",
        "acceptance",
        "2013-05-15",
        "2013-11-04",
        "2013-11-06",
        "省文明委测评组",
        "passed",
        "2013-12-20",
        "川文明委〔2013〕（样例）命名文件",
        "公益广告覆盖不足",
    ),
    (
        "forest_city",
        "interim_acceptance",
        "2013-06-10",
        "2013-10-22",
        "2013-10-23",
        "省林业厅考核组",
        "passed",
        "2013-12-10",
        "川林函〔2013〕（样例）省级森林城市命名",
        "",
    ),
    (
        "forest_city",
        "acceptance",
        "2016-04-12",
        "2016-10-18",
        "2016-10-20",
        "国家林业局考核组",
        "passed",
        "2016-12-15",
        "林宣发〔2016〕（样例）国家森林城市授牌",
        "",
    ),
    (
        "env_model_city",
        "acceptance",
        "2014-06-16",
        "2014-11-10",
        "2014-11-12",
        "省环保厅考核组",
        "passed",
        "2014-12-18",
        "川环发〔2014〕（样例）命名文件",
        "",
    ),
    (
        "eco_county",
        "acceptance",
        "2014-05-19",
        "2014-10-21",
        "2014-10-23",
        "省环保厅考核组",
        "passed",
        "2014-12-22",
        "川环发〔2014〕（样例）命名文件",
        "农村生活污水处理设施运行不稳定",
    ),
)


def seed_records(store: Store, profile, catalog) -> dict[str, int]:
    """Replace the sample's records in the store (office records are kept)."""
    pstore.ensure(store)
    with store.tx() as c:
        c.execute(
            "DELETE FROM pp_letter_signing WHERE source = 'sample' AND county_code = ?", (profile.code,)
        )
        c.execute("DELETE FROM pp_acceptance WHERE source = 'sample' AND county_code = ?", (profile.code,))
        office = {
            r[0]
            for r in c.execute(
                "SELECT campaign_code FROM pp_acceptance WHERE county_code = ?", (profile.code,)
            )
        }
    n_sign = 0
    rows = []
    for year in YEARS:
        units = sorted({t["org_code"] for t in letters.letter_targets(catalog, profile, year)})
        for org in units:
            if year == 2016 and org.split("-", 1)[-1] in UNSIGNED_2016:
                continue
            m, d = SIGN_DAYS[year]
            n_sign += 1
            rows.append(
                (
                    profile.code,
                    org,
                    year,
                    dt.date(year, m, d).isoformat(),
                    "（样例）",
                    f"平创联〔{year}〕{n_sign}号",
                    "sample",
                    now(),
                    "sample",
                )
            )
    with store.tx() as c:  # one transaction: office signings (same unit and year) win
        c.executemany(
            "INSERT OR IGNORE INTO pp_letter_signing (county_code, org_code, year, signed_on, signatory, document_no, "
            "recorded_by, recorded_at, source) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
    n_acc = 0
    for camp, ms, applied, i_from, i_to, team, result, r_on, doc, findings in ACCEPTANCE:
        if camp in office:
            continue
        pstore.record_acceptance(
            store,
            profile.code,
            camp,
            "sample",
            milestone=ms,
            applied_on=applied,
            application_documents="创建申报书、自查报告、技术报告",
            inspection_from=i_from,
            inspection_to=i_to,
            team=team,
            result=result,
            result_on=r_on,
            result_document=doc,
            findings=findings,
            source="sample",
        )
        n_acc += 1
    return {"signings": n_sign, "acceptance_records": n_acc}


def write_sample(out_dir: Path, seed: int = 0) -> dict:
    """Everything above for the sample corpus written to `out_dir` (the raw folder): the supervision
    folder and the workflow store next to it unless WUCHUANG_SUPERVISION_DIR / WUCHUANG_WORKFLOW_DIR say
    otherwise."""
    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    profile = load_profiles(settings.profiles_dir, catalog)[0]
    checklists = pts.load_checklists(settings.standards_dir, set(catalog.campaigns))
    points = pts.load_points(settings.expectations_dir, profile, checklists)
    out_dir = Path(out_dir)
    sup = Path(os.environ.get("WUCHUANG_SUPERVISION_DIR") or out_dir.parent / "supervision")
    wf = Path(os.environ.get("WUCHUANG_WORKFLOW_DIR") or out_dir.parent / "workflow")
    files = write_supervision(sup, profile, points, checklists, seed)
    counts = seed_records(Store(wf / "workflow.sqlite"), profile, catalog)
    return {"supervision_files": len(files)} | counts
