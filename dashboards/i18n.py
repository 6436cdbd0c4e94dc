"""Labels in Chinese and English. Chinese is the default; the sidebar switch selects English.

Plain module (no Streamlit import): `t(key, lang)` returns one language, `both(key)` returns
"中文 / English" for messages that must always show both (errors and missing-data notices).
"""

from __future__ import annotations

LANGS = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    # frame
    "app_title": ("五创联动指标监测平台", "Creation-campaign indicator monitoring"),
    "lang_switch": ("English", "English"),
    "filters": ("筛选条件", "Filters"),
    "county": ("县（区）", "County"),
    "campaign": ("创建项目", "Campaign"),
    "period": ("报告期（截至月份）", "Period (as of month)"),
    "unit": ("责任单位", "Unit"),
    "all": ("全部", "All"),
    "snapshot": ("数据快照", "Snapshot"),
    "section_leaders": ("领导视图", "Leaders"),
    "section_analysts": ("分析与报送", "Analysis and returns"),
    # page titles
    "page_overview": ("总览", "Overview"),
    "page_campaign": ("创建项目", "Campaign"),
    "page_indicator": ("指标", "Indicator"),
    "page_units": ("责任单位", "Units"),
    "page_submissions": ("数据报送与质量", "Submissions and quality"),
    "page_plan": ("进度", "Plan"),
    "page_sql": ("SQL 查询", "SQL console"),
    "page_briefing": ("简报", "Briefing"),
    "page_mappings": ("导入映射", "Import mappings"),
    # sign-in, roles, audit (dashboards/auth.py, app_pages/admin.py)
    "page_admin": ("用户与审计", "Users and audit"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "sign_out": ("退出登录", "Sign out"),
    "role": ("角色", "Role"),
    "scope_units": ("可见单位", "Visible units"),
    "scope_all": ("全部单位", "All units"),
    "no_permission": ("当前角色无权使用此功能", "your role may not use this"),
    "users": ("账户", "Accounts"),
    "audit_log": ("审计日志", "Audit log"),
    "add_user": ("添加账户", "Add an account"),
    "username": ("用户名", "User name"),
    "display_name": ("显示名称", "Display name"),
    "org": ("所属单位", "Own unit"),
    "campaigns_scope": ("负责的创建项目", "Its campaigns"),
    "sso_email": ("单点登录邮箱（可选）", "SSO e-mail (optional)"),
    "new_password": ("初始密码（至少 10 个字符）", "Initial password (10+ characters)"),
    "save": ("保存", "Save"),
    "manage_user": ("管理账户", "Manage an account"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "reset_password": ("重置密码", "Reset password"),
    "change_role": ("更改角色", "Change role"),
    "done": ("已完成", "Done"),
    "active": ("启用", "Active"),
    "event": ("事件", "Event"),
    "detail": ("详情", "Detail"),
    "time": ("时间", "Time"),
    # common
    "no_snapshot": (
        "尚未发布数据快照，请先运行 make run",
        "No published snapshot yet: run `make run` first",
    ),
    "table_missing": (
        "数据表 {tables} 尚未生成，本部分暂不可用",
        "Table {tables} is not built yet; this part is unavailable",
    ),
    "no_rows": ("当前筛选条件下没有数据", "No data for the current filters"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_xlsx": ("下载 Excel", "Download Excel"),
    "status": ("状态", "Status"),
    "status_pass": ("达标", "pass"),
    "status_near": ("临界", "near"),
    "status_fail": ("未达标", "fail"),
    "status_no_data": ("无数据", "no data"),
    "status_not_assessable": ("无法评价", "not assessable"),
    "value": ("数值", "Value"),
    "threshold": ("标准值", "Threshold"),
    "margin": ("差距", "Margin"),
    "trend": ("趋势", "Trend"),
    "edition": ("标准版本", "Edition"),
    "requirement": ("考核要求", "Requirement"),
    "indicator": ("指标", "Indicator"),
    "veto": ("否决项", "Veto"),
    "estimated": ("（由评价结果估算）", "(estimated from verdicts)"),
    # overview
    "readiness": ("达标率", "Readiness"),
    "days_to_acceptance": ("距验收天数", "Days to acceptance"),
    "days_since_acceptance": ("验收目标日已过（天）", "Days since the acceptance date"),
    "acceptance_date": ("验收目标日期", "Acceptance date"),
    "projected": ("预计结果", "Projected outcome"),
    "readiness_trend": ("达标率趋势", "Readiness trend"),
    "top_risks": ("主要风险", "Top risks"),
    "risk_veto": ("否决项未达标", "Failing veto item"),
    "risk_fail": ("未达标", "Failing"),
    "counts_by_status": ("各状态要求数", "Requirements by status"),
    # campaign
    "requirement_table": ("考核要求一览", "Requirements"),
    "open_indicator": ("查看指标详情", "Open indicator"),
    "choose_requirement": ("选择要求以查看指标", "Choose a requirement to open its indicator"),
    # indicator
    "series": ("各单位数据序列", "Series per unit"),
    "forecast": ("预测（含不确定区间）", "Forecast (with uncertainty)"),
    "outliers": ("异常值", "Outliers"),
    "lineage": ("数据来源（文件、工作表、单元格、版本）", "Lineage (file, sheet, cell, revision)"),
    "thresholds": ("各创建项目标准线", "Thresholds of every campaign"),
    # units
    "ranking": ("责任单位排名", "Accountability ranking"),
    "timeliness": ("报送及时性（单位 × 报告期）", "Timeliness (unit × period)"),
    "notice_list": ("通报名单", "Units to be named (通报)"),
    "late_days": ("迟报工作日", "Working days late"),
    "on_time_rate": ("按时率", "On-time rate"),
    # submissions
    "files": ("收到文件", "Files received"),
    "accepted": ("已接收", "Accepted"),
    "partial": ("部分接收", "Partly accepted"),
    "rejected": ("已拒收", "Rejected"),
    "duplicate": ("重复文件", "Duplicates"),
    "rejected_files": ("拒收文件及原因", "Rejected files and reasons"),
    "quarantine": ("隔离数据", "Quarantine"),
    "quality_trend": ("数据质量趋势", "Quality trend"),
    "feedback": ("反馈工作簿", "Feedback workbooks"),
    "feedback_pick": ("选择文件下载反馈", "Choose a file to download its feedback"),
    "feedback_missing": (
        "反馈文件不存在或不在反馈目录中",
        "Feedback file missing or outside the feedback folder",
    ),
    "download_feedback": ("下载反馈工作簿", "Download feedback workbook"),
    # plan
    "gantt": ("创建计划甘特图", "Plan Gantt"),
    "milestones": ("里程碑", "Milestones"),
    "tasks": ("任务台账", "Tasks"),
    "rectification": ("整改事项", "Rectification items"),
    # sql
    "sql_input": ("SQL 查询语句", "SQL query"),
    "sql_run": ("执行查询", "Run query"),
    "sql_examples": ("示例查询", "Example queries"),
    "sql_schema": ("表结构与列说明", "Schema and column docs"),
    "sql_rows": ("返回 {n} 行，用时 {s:.2f} 秒", "{n} rows in {s:.2f} s"),
    "sql_truncated": ("结果已截断为前 {n} 行", "Result truncated to the first {n} rows"),
    "sql_refused": ("已拒绝", "Refused"),
    "sql_readonly_note": (
        "只读：仅允许单条 SELECT / WITH / DESCRIBE / SHOW / EXPLAIN；最多 {rows} 行，超时 {secs} 秒",
        "Read-only: one SELECT / WITH / DESCRIBE / SHOW / EXPLAIN; at most {rows} rows, {secs} s limit",
    ),
    # briefing
    "briefing_title": ("平昌县“五创联动”工作月度简报", "Monthly briefing"),
    "briefing_status": ("各创建项目进展", "Status per campaign"),
    "briefing_risks": ("主要风险", "Risks"),
    "briefing_late": ("迟报、漏报单位", "Late and missing units"),
    "briefing_changes": ("较上月变化", "Changes since last month"),
    "download_pdf": ("下载 PDF", "Download PDF"),
    "download_docx": ("下载 Word", "Download Word"),
    "no_cjk_font": (
        "系统中未找到中文字体（如 fonts-noto-cjk），无法生成 PDF；请下载 Word 版本",
        "No CJK font found on this system (e.g. fonts-noto-cjk), so no PDF; download the Word version",
    ),
}

# The workspace, review and notices pages keep their labels in their own module.
from dashboards.i18n_workflow import LABELS as _WORKFLOW_LABELS  # noqa: E402

LABELS.update(_WORKFLOW_LABELS)
LABELS.update(__import__("dashboards.i18n_plan").i18n_plan.LABELS)  # 督查检查, letters, acceptance (issue 17)
from dashboards.i18n_outlook import LABELS as _OUTLOOK_LABELS  # noqa: E402

LABELS.update(_OUTLOOK_LABELS)
LABELS.update(__import__("dashboards.i18n_archive").i18n_archive.LABELS)  # 档案资料 (issue 16)


def t(key: str, lang: str = "zh", **fmt: object) -> str:
    zh, en = LABELS.get(key, (key, key))
    text = en if lang == "en" else zh
    return text.format(**fmt) if fmt else text


def both(key: str, **fmt: object) -> str:
    """Chinese first, then English, for notices that everyone must be able to read."""
    zh, en = LABELS.get(key, (key, key))
    if fmt:
        zh, en = zh.format(**fmt), en.format(**fmt)
    return f"{zh} / {en}"


STATUS_ORDER = ("fail", "near", "no_data", "not_assessable", "pass")


def status_label(status: str | None, lang: str = "zh") -> str:
    if not status:
        return ""
    return t(f"status_{status}", lang) if f"status_{status}" in LABELS else status
