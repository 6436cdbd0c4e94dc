"""Target responsibility letters (目标责任书): per unit × year, the targets and the Word document.

Targets (`letter_targets`), for each requirement of a campaign in the county's programme whose
responsible unit is the unit (the catalog's `responsible`), in the edition in force on 31 December
of the year, from the campaign's start year on:

    rule                   when                                             target
    threshold              the year ends on/after the acceptance date        the threshold in force
                           (consolidation years included)
    interim_linear         before the acceptance year, numeric threshold,     B + (T − B) × (Dec 31 Y − Dec 31 Y0)
                           a baseline B that does not meet T                      / (acceptance − Dec 31 Y0)
    keep_passing           before the acceptance year, B already meets T     T (keep it met)
    threshold_no_baseline  before the acceptance year, no baseline value      T (flagged: no path without a baseline)
    qualitative            qualitative, relative or unknown thresholds        the standard's wording

T is the county's threshold (declared variant classes applied); B the county's year value of the
baseline year Y0 = the year before the campaign start (year verdict of `compliance.verdict`); the path
is linear in days to the acceptance date (the plan: 倒排工期, 按期完成目标任务). Interim targets are
rounded to 2 decimals towards the threshold (never easier than the straight line).

The letter also lists the unit's tasks of the year (task ledger), its reporting duties (indicators and
frequencies it reports, with evidence) and the inspection points it answers for (包保点位).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile

FONT = "SimSun"  # 宋体; the East-Asian font of every run
TITLE_FONT = "SimHei"  # 黑体
REF_ZH = {
    "national_avg": "全国平均水平",
    "provincial_avg": "全省平均水平",
    "previous_year": "上年水平",
    "5yr_avg": "前五年平均水平",
    "regional_health_plan": "区域卫生规划目标",
    "state_control_target": "国家下达的控制目标",
}
COND_ZH = {"declining_3y": "且近三年持续下降"}
CMP_ZH = {">=": "≥", ">": "＞", "<=": "≤", "<": "＜", "==": "＝", "between": "介于"}
RULE_ZH = {
    "threshold": "执行标准值",
    "interim_linear": "按验收期倒排的年度目标（线性）",
    "keep_passing": "已达标，保持",
    "threshold_no_baseline": "无基期数据，执行标准值",
    "qualitative": "按标准表述",
}
FREQ_ZH = {"monthly": "月报", "quarterly": "季报", "annual": "年报"}


def _meets(value: float, comparison: str, target: float, high: float | None = None) -> bool:
    if comparison == ">=":
        return value >= target
    if comparison == ">":
        return value > target
    if comparison == "<=":
        return value <= target
    if comparison == "<":
        return value < target
    if comparison == "==":
        return math.isclose(value, target)
    if comparison == "between":
        return target <= value <= (high if high is not None else target)
    return False


def threshold_text(req) -> str:
    th = req.threshold
    if th.kind == "qualitative":
        return th.text or "、".join(th.pass_values) or "按标准"
    if th.kind == "relative":
        cmp = "不高于" if req.comparison in ("<=", "<") else "不低于"
        return f"{cmp}{REF_ZH.get(th.reference, '参照值')}" + "".join(
            COND_ZH.get(c, "") for c in th.conditions
        )
    if th.kind == "unknown":
        return "标准值待核实"
    return ""


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def letter_targets(
    catalog: Catalog,
    profile: CountyProfile,
    year: int,
    baselines: dict[str, tuple[int, float]] | None = None,
    unit: str | None = None,
) -> list[dict]:
    """Target rows for `year` (all units, or the org code `unit`). `baselines`: requirement →
    (baseline year, county value)."""
    baselines = baselines or {}
    year_end = dt.date(year, 12, 31)
    out = []
    for prog in profile.programmes:
        camp = catalog.campaigns.get(prog.campaign)
        if camp is None or year < prog.start.year:
            continue
        ed = camp.edition_in_force(year_end)
        if ed is None:
            continue
        for req in sorted(catalog.requirements.values(), key=lambda r: r.code):
            if req.campaign != prog.campaign or req.edition != ed.code:
                continue
            org = profile.unit_code(req.responsible)
            if unit and org != unit:
                continue
            ind = catalog.indicators.get(req.indicator)
            t = req.threshold.resolve(profile.variants)
            base = baselines.get(req.code)
            row = {
                "county_code": profile.code,
                "org_code": org,
                "year": year,
                "requirement_code": req.code,
                "campaign_code": req.campaign,
                "indicator_code": req.indicator,
                "name_zh": req.name_zh,
                "name_en": req.name_en,
                "unit": ind.unit if ind else "",
                "comparison": req.comparison,
                "threshold_token": req.threshold.token,
                "threshold_high": req.threshold.high,
                "acceptance_date": prog.acceptance,
                "is_veto": req.veto,
                "baseline_year": base[0] if base else None,
                "baseline_value": base[1] if base else None,
            }
            if t is None or req.comparison not in (">=", ">", "<=", "<", "==", "between"):
                row |= {
                    "target_value": None,
                    "target_rule": "qualitative",
                    "target_text_zh": threshold_text(req),
                }
            elif year_end >= prog.acceptance or req.comparison in ("==", "between"):
                row |= {"target_value": t, "target_rule": "threshold"}
            elif base is None:
                row |= {"target_value": t, "target_rule": "threshold_no_baseline"}
            elif _meets(base[1], req.comparison, t, req.threshold.high):
                row |= {"target_value": t, "target_rule": "keep_passing"}
            else:
                y0 = dt.date(base[0], 12, 31)
                span = (prog.acceptance - y0).days
                frac = min(1.0, max(0.0, (year_end - y0).days / span)) if span > 0 else 1.0
                raw = base[1] + (t - base[1]) * frac
                up = req.comparison in (">=", ">")
                target = math.ceil(raw * 100 - 1e-9) / 100 if up else math.floor(raw * 100 + 1e-9) / 100
                row |= {"target_value": target, "target_rule": "interim_linear"}
            if row.get("target_text_zh") is None:
                v = row["target_value"]
                if req.comparison == "between":
                    row["target_text_zh"] = f"{_fmt(v)}–{_fmt(req.threshold.high or v)}{row['unit']}"
                else:
                    row["target_text_zh"] = f"{CMP_ZH[req.comparison]}{_fmt(v)}{row['unit']}"
            out.append(row)
    return out


def evaluate(targets: list[dict], actuals: dict[tuple[str, int], dict]) -> list[dict]:
    """Add the year's value and met/not met. `actuals`: (requirement, year) → {value, status, margin}
    (the county's year verdict). Qualitative targets are met when the verdict is met."""
    from pipelines.marts.common import is_met

    for t in targets:
        a = actuals.get((t["requirement_code"], t["year"]))
        value = a.get("value") if a else None
        t["actual_value"] = value
        if a is None or (value is None and t["target_value"] is not None):
            t["met"] = None
        elif t["target_value"] is None:
            t["met"] = (
                is_met(a.get("status"), a.get("margin"))
                if a.get("status") in ("pass", "near", "fail")
                else None
            )
        else:
            t["met"] = _meets(float(value), t["comparison"], t["target_value"], t.get("threshold_high"))
    return targets


# ------------------------------------------------------------------------------------ the document


def _font(run, size: float | None = None, bold: bool = False, east: str = FONT) -> None:
    run.font.name = "Times New Roman"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def _para(doc, text: str, size: float = 12, bold: bool = False, align=None, east: str = FONT):
    p = doc.add_paragraph()
    _font(p.add_run(text), size, bold, east)
    if align is not None:
        p.alignment = align
    return p


def letter_document(
    profile: CountyProfile,
    org_code: str,
    year: int,
    targets: list[dict],
    campaign_names: dict[str, str],
    tasks: list[dict] | None = None,
    duties: list[tuple[str, str]] | None = None,
    points: list[str] | None = None,
) -> bytes:
    """The letter as .docx bytes: title, parties, 责任目标 table, tasks, duties, 考核, signature block."""
    unit = next((u for u in profile.org_units if u.code == org_code), None)
    unit_name = unit.name_zh if unit else org_code
    county = next((u.name_zh for u in profile.org_units if u.code == profile.code), "平昌县")
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    _para(doc, f"{county}“五创联动”工作目标责任书", 20, True, WD_ALIGN_PARAGRAPH.CENTER, TITLE_FONT)
    _para(doc, f"（{year}年度）", 14, False, WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, f"甲方：{county}“五创联动”工作领导小组")
    _para(doc, f"乙方：{unit_name}")
    _para(
        doc,
        f"为全面完成{county}“五创联动”实施方案确定的目标任务，按照“倒排工期、挂图作战”的要求，"
        f"经甲乙双方协商，签订{year}年度目标责任书。乙方“一把手”为创建工作第一责任人。",
    )
    _para(doc, "一、责任目标", 14, True, east=TITLE_FONT)
    if targets:
        table = doc.add_table(rows=1, cols=6)
        table.style = "Table Grid"
        heads = ("序号", "创建项目", "指标", "标准值", f"{year}年目标", "确定方式")
        for cell, text in zip(table.rows[0].cells, heads, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), 10.5, True)
        for i, t in enumerate(targets, 1):
            std = threshold_text_row(t)
            vals = (
                str(i),
                campaign_names.get(t["campaign_code"], t["campaign_code"]),
                t["name_zh"] + ("（一票否决）" if t["is_veto"] else ""),
                std,
                t["target_text_zh"],
                RULE_ZH.get(t["target_rule"], ""),
            )
            cells = table.add_row().cells
            for cell, text in zip(cells, vals, strict=True):
                cell.text = ""
                _font(cell.paragraphs[0].add_run(text), 10.5)
    else:
        _para(doc, "本年度无牵头负责的量化指标，按创建组分工完成配合任务。")
    _para(doc, "二、工作任务", 14, True, east=TITLE_FONT)
    for i, t in enumerate(tasks or [], 1):
        due = f"（{t['due_date']}前完成）" if t.get("due_date") else ""
        _para(doc, f"{i}. {t['task_name']}{due}")
    if not tasks:
        _para(doc, "按创建规划、实施方案和年度工作计划落实本单位任务。")
    _para(doc, "三、报送与佐证责任", 14, True, east=TITLE_FONT)
    for name, freq in duties or []:
        _para(doc, f"按{FREQ_ZH.get(freq, freq)}报送“{name}”数据，附佐证材料，按期报送县创建办。")
    if points:
        _para(doc, "四、包保点位", 14, True, east=TITLE_FONT)
        _para(doc, "乙方负责下列督查点位的日常管理和问题整改（限期10个工作日）：" + "、".join(points) + "。")
    _para(doc, "五、考核", 14, True, east=TITLE_FONT)
    _para(
        doc,
        "县创建办按月通报报送及时性、完整性、数据质量和指标达标情况，结合督查检查得分和整改情况综合排名；"
        "年终按本责任书目标完成情况考核。一票否决指标未达标的，年度考核不得评为优秀；"
        "对工作不力、影响全县创建进度的单位予以曝光和通报批评。",
    )
    _para(doc, "六、附则", 14, True, east=TITLE_FONT)
    _para(doc, "本责任书一式两份，甲乙双方各执一份，自签订之日起生效。")
    doc.add_paragraph()
    table = doc.add_table(rows=3, cols=2)
    sig = (
        ("甲方（盖章）：", "乙方（盖章）："),
        ("负责人（签字）：", "负责人（签字）："),
        ("日期：    年  月  日", "日期：    年  月  日"),
    )
    for row, texts in zip(table.rows, sig, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), 12)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def threshold_text_row(t: dict) -> str:
    if t["target_rule"] == "qualitative":
        return t["target_text_zh"]
    cmp = t["comparison"]
    if cmp == "between":
        return t["threshold_token"].replace("..", "–") + t["unit"]
    return f"{CMP_ZH.get(cmp, cmp)}{t['threshold_token']}{t['unit']}"


def letter_file_name(unit_name: str, year: int) -> str:
    return f"{year}年度目标责任书_{unit_name}.docx"


def write_letters(out_dir: Path, docs: dict[tuple[str, int], tuple[str, bytes]]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for (_org, year), (name, data) in sorted(docs.items()):
        path = out_dir / letter_file_name(name, year)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    return written
