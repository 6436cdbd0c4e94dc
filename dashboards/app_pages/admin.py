"""用户与审计 Users and audit (office only): accounts, their roles and scope, and the audit log.

The same operations as `wuchuang users …`; every change is written to the audit log by
`pipelines.accounts` with the office user as the actor.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboards import data, i18n, ui
from pipelines import accounts

ui.header("page_admin")
viewer = ui.require("users")
lang = ui.lang()
role_label = {r: (en if lang == "en" else zh) for r, (zh, en) in accounts.ROLE_NAMES.items()}
EVENTS = {
    "signin": ("登录", "sign-in"),
    "signin_failed": ("登录失败", "failed sign-in"),
    "signout": ("退出登录", "sign-out"),
    "download": ("下载", "download"),
    "download_feedback": ("下载反馈工作簿", "feedback workbook download"),
    "sql": ("SQL 查询", "SQL query"),
    "user_added": ("添加账户", "account added"),
    "user_disabled": ("停用账户", "account disabled"),
    "user_enabled": ("启用账户", "account enabled"),
    "password_reset": ("重置密码", "password reset"),
    "role_changed": ("更改角色", "role changed"),
    "approval": ("审核", "review decision"),
    "reopen_period": ("重新开放报告期", "period reopened"),
    "upload": ("上传报表", "return uploaded"),
    "rectification_answer": ("答复整改事项", "rectification answered"),
    "notices_fill": ("生成通知", "notices filled"),
    "notices_send": ("发送通知", "notices sent"),
    "notices_requeue": ("重新发送通知", "notice requeued"),
}
event_label = {k: (en if lang == "en" else zh) for k, (zh, en) in EVENTS.items()}


def _apply(fn, *args, **kwargs) -> None:
    try:
        fn(*args, actor=viewer.username, **kwargs)
    except accounts.AccountError as e:
        st.error(f"{e.zh} / {e.en}", icon=":material/error:")
    else:
        st.success(ui.t("done"), icon=":material/check:")


try:
    county = viewer.county_code or ui.county()
    unit_names = {r.org_code: ui.name(r._asdict()) for r in data.units(county).itertuples()}
    camp_names = {r.campaign_code: ui.name(r._asdict()) for r in data.campaigns(county).itertuples()}
except Exception:  # no snapshot yet: codes are shown
    unit_names, camp_names = {}, {}
orgs = ["", *unit_names]

st.subheader(ui.t("users"))
users = accounts.list_users()
table = pd.DataFrame(
    [
        {
            ui.t("username"): a.username,
            ui.t("display_name"): a.display_name,
            ui.t("role"): role_label.get(a.role, a.role),
            ui.t("org"): unit_names.get(a.org_code or "", a.org_code or ""),
            ui.t("campaigns_scope"): "、".join(camp_names.get(c, c) for c in a.campaigns),
            ui.t("sso_email"): a.email or "",
            ui.t("active"): a.active,
        }
        for a in users
    ]
)
st.dataframe(table, hide_index=True, width="stretch")

left, right = st.columns(2)
with left, st.form("admin_add", clear_on_submit=True):
    st.markdown(f"**{ui.t('add_user')}**")
    username = st.text_input(ui.t("username"))
    display = st.text_input(ui.t("display_name"))
    role = st.selectbox(ui.t("role"), accounts.ROLES, format_func=role_label.get)
    org = st.selectbox(ui.t("org"), orgs, format_func=lambda o: unit_names.get(o, o) or "—")
    camps = st.multiselect(ui.t("campaigns_scope"), list(camp_names), format_func=camp_names.get)
    email = st.text_input(ui.t("sso_email"))
    password = st.text_input(ui.t("new_password"), type="password")
    if st.form_submit_button(ui.t("save"), type="primary"):
        _apply(
            accounts.add_user,
            username,
            role,
            viewer.county_code or (ui.county() or ""),
            display_name=display or None,
            password=password or None,
            org_code=org or None,
            campaigns=tuple(camps),
            email=email or None,
        )

with right, st.form("admin_manage", clear_on_submit=True):
    st.markdown(f"**{ui.t('manage_user')}**")
    names = [a.username for a in users]
    who = st.selectbox(ui.t("username"), names) if names else None
    action = st.radio(
        ui.t("manage_user"),
        ["disable", "enable", "reset_password", "change_role"],
        format_func=ui.t,
        horizontal=True,
        label_visibility="collapsed",
    )
    new_password = st.text_input(ui.t("new_password"), type="password")
    new_role = st.selectbox(ui.t("role"), accounts.ROLES, format_func=role_label.get, key="admin_role")
    new_org = st.selectbox(
        ui.t("org"), orgs, format_func=lambda o: unit_names.get(o, o) or "—", key="admin_org"
    )
    new_camps = st.multiselect(
        ui.t("campaigns_scope"), list(camp_names), format_func=camp_names.get, key="admin_camps"
    )
    if st.form_submit_button(ui.t("save"), type="primary") and who:
        if action in ("disable", "enable"):
            _apply(accounts.set_active, who, action == "enable")
        elif action == "reset_password":
            _apply(accounts.reset_password, who, new_password)
        else:
            _apply(accounts.set_role, who, new_role, org_code=new_org or None, campaigns=tuple(new_camps))

st.subheader(ui.t("audit_log"))
events = accounts.read_audit(500)
if not events:
    st.info(i18n.both("no_rows"), icon=":material/info:")
else:
    log = pd.DataFrame(
        [
            {
                ui.t("time"): e["at"],
                ui.t("username"): e["username"] or "",
                ui.t("role"): role_label.get(e["role"] or "", e["role"] or ""),
                ui.t("event"): event_label.get(e["event"], e["event"]),
                ui.t("detail"): json.dumps(e["detail"], ensure_ascii=False),
            }
            for e in events
        ]
    )
    st.dataframe(log, hide_index=True, width="stretch")
    ui.downloads(log, "audit_log", "admin_audit")
