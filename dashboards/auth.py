"""Sign-in, roles and the audit log of the dashboards.

Two ways in, both checked against the office's account store (`pipelines.accounts`, a SQLite file
outside the published snapshots):

- **local accounts**: user name and password, verified against an Argon2id hash (argon2-cffi);
  five failures within 15 minutes lock the name for 15 minutes. A sign-in lasts for the browser
  tab's session (a reload asks again).
- **single sign-on** (OpenID Connect) through Streamlit's built-in `st.login`, offered when
  `.streamlit/secrets.toml` has an `[auth]` section. The identity provider proves who the person
  is; the account store says what they may see: the provider's e-mail (or subject) must belong to an
  active account, otherwise the sign-in is refused.

`require_viewer()` runs first in `streamlit_app.py`, before any page, filter or download. Every
`dashboards.data` function reads the viewer's scope (`Viewer.units`, `Viewer.campaigns`) and
filters in SQL, so what a role may see is enforced in the data layer, not by hidden menus.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from dataclasses import dataclass

import streamlit as st

from pipelines import accounts
from pipelines.accounts import ROLE_NAMES, ROLES, SEES_ALL

__all__ = [
    "ROLES",
    "ROLE_NAMES",
    "NotSignedIn",
    "Viewer",
    "audit",
    "current_viewer",
    "require_viewer",
    "sign_out",
]

K_USER = "auth_user"  # signed-in user name
K_MODE = "auth_mode"  # "password" | "sso"
K_VIEWER = "auth_viewer"  # (Viewer, monotonic time it was read from the store)
RECHECK_S = 10.0  # a disabled account or changed role takes effect within this many seconds
NOWHERE = "\x00none"  # the unit scope of a viewer whose units could not be resolved: sees no unit rows

OFFICE_ONLY = {"sql", "approve", "mappings", "users", "audit", "reopen"}


class NotSignedIn(PermissionError):
    """A data function was called without a signed-in viewer (and no explicit scope)."""


@dataclass(frozen=True)
class Viewer:
    username: str
    display_name: str
    role: str  # one of ROLES
    county_code: str
    org_code: str | None  # the clerk's own unit (dept or town); None for leader/office
    campaigns: tuple[str, ...]  # group_lead: its campaigns; () = all
    units: tuple[str, ...]  # org codes it may see; () = all

    @property
    def sees_all(self) -> bool:
        return self.role in SEES_ALL and not self.units and not self.campaigns

    def sees_county(self, county: str | None) -> bool:
        return bool(county) and (not self.county_code or county == self.county_code)

    def sees_unit(self, org: str | None) -> bool:
        return not self.units or (org is not None and org in self.units)

    def sees_campaign(self, campaign: str | None) -> bool:
        return not self.campaigns or (campaign is not None and campaign in self.campaigns)

    def can(self, action: str) -> bool:
        """What the role may do: "sql", "approve", "mappings", "users", "audit", "upload", "download",
        "download_feedback:<org>", "download_lineage:<org>"."""
        if action in OFFICE_ONLY:
            return self.role == "office"
        if action == "upload":
            return self.role in ("office", "dept_clerk", "town_clerk")
        if action in ("read", "download"):
            return True
        kind, _, org = action.partition(":")
        if kind in ("download_feedback", "download_lineage"):
            if self.role == "office":
                return True
            return self.role in ("dept_clerk", "town_clerk") and bool(org) and org == self.org_code
        return False

    def role_name(self, lang: str = "zh") -> str:
        zh, en = ROLE_NAMES.get(self.role, (self.role, self.role))
        return en if lang == "en" else zh


# A scope that sees everything, for code that runs outside a signed-in session (benchmarks, the
# briefing job, tests). Pages never use it.
EVERYTHING = Viewer("system", "system", "office", "", None, (), ())
_acting: contextvars.ContextVar[Viewer | None] = contextvars.ContextVar("wuchuang_acting_as", default=None)


@contextlib.contextmanager
def acting_as(viewer: Viewer) -> Iterator[Viewer]:
    """Outside a Streamlit session (benchmarks, scheduled jobs, tests): `dashboards.data` calls in
    this block use `viewer`'s scope. A signed-in session's own viewer always takes precedence."""
    token = _acting.set(viewer)
    try:
        yield viewer
    finally:
        _acting.reset(token)


def _group_units(account: accounts.Account) -> tuple[str, ...]:
    """A group lead without explicit units sees the units that report the indicators of its campaigns
    (and its working group's lead unit), read from the current snapshot."""
    from dashboards import data  # data imports auth

    try:
        units = data.campaign_units(account.county_code, account.campaigns)
    except Exception:  # no snapshot yet, table missing: see no unit rows rather than every unit
        return (NOWHERE,)
    return tuple(units) or (NOWHERE,)


def viewer_of(account: accounts.Account) -> Viewer:
    units = account.units
    if account.role == "group_lead" and not units:
        units = _group_units(account)
    if account.role in ("dept_clerk", "town_clerk"):
        units = units or ((account.org_code,) if account.org_code else (NOWHERE,))
    return Viewer(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        county_code=account.county_code,
        org_code=account.org_code,
        campaigns=account.campaigns if account.role == "group_lead" else (),
        units=units,
    )


# ---------------------------------------------------------------- single sign-on


def sso_configured() -> bool:
    """True when `.streamlit/secrets.toml` (or `secrets.files`) has an `[auth]` section for st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file, unreadable file
        return False


def _sso_account() -> accounts.Account | None:
    """The account the identity provider's signed-in user maps to (refusals are audited once)."""
    if not sso_configured():
        return None
    try:
        user = st.user
        if not user.get("is_logged_in"):
            return None
        email, sub = user.get("email"), user.get("sub")
    except Exception:
        return None
    account = accounts.user_by_identity(email, sub)
    if account is None or not account.active:
        if not st.session_state.get("auth_sso_refused"):
            st.session_state["auth_sso_refused"] = email or sub or "?"
            reason = "unknown" if account is None else "disabled"
            accounts.record("signin_failed", email or sub, None, {"mode": "sso", "reason": reason})
        return None
    return account


# ---------------------------------------------------------------- the viewer of this session


def _clear() -> None:
    for k in (K_USER, K_MODE, K_VIEWER):
        st.session_state.pop(k, None)


def current_viewer() -> Viewer | None:
    """The signed-in viewer of this session, re-read from the account store every RECHECK_S seconds
    (a disabled account or a role change takes effect then); None when nobody is signed in."""
    try:
        state = st.session_state
        cached = state.get(K_VIEWER)
    except Exception:  # outside a Streamlit session
        return _acting.get()
    if cached is not None and time.monotonic() - cached[1] < RECHECK_S:
        return cached[0]
    name = state.get(K_USER)
    if name is None:
        account = _sso_account()
        if account is None:
            return _acting.get()
        state[K_USER], state[K_MODE] = account.username, "sso"
        accounts.record("signin", account.username, account.role, {"mode": "sso"})
    else:
        account = accounts.get_user(name)
        if account is None or not account.active:
            _clear()
            return None
    viewer = viewer_of(account)
    state[K_VIEWER] = (viewer, time.monotonic())
    return viewer


def audit(event: str, detail: dict | None = None) -> None:
    """Append an event of the signed-in viewer to the audit log (downloads, SQL, approvals …)."""
    v = current_viewer()
    accounts.record(event, v.username if v else None, v.role if v else None, detail or {})


def sign_out() -> None:
    v = current_viewer()
    mode = st.session_state.get(K_MODE)
    if v is not None:
        accounts.record("signout", v.username, v.role, {"mode": mode})
    keep_lang = st.session_state.get("lang_en")
    for k in list(st.session_state.keys()):
        del st.session_state[k]
    if keep_lang:
        st.session_state["lang_en"] = keep_lang
    if mode == "sso":
        st.logout()
    else:
        st.rerun()


_REASONS = {
    "bad": ("用户名或密码不正确", "wrong user name or password"),
    "disabled": ("该账户已停用，请联系创建办", "this account is disabled; ask the office"),
    "locked": (
        f"登录失败次数过多，请 {accounts.LOCKOUT_MINUTES} 分钟后再试",
        f"too many failed sign-ins; try again in {accounts.LOCKOUT_MINUTES} minutes",
    ),
}


def _submit() -> None:
    name = (st.session_state.get("signin_user") or "").strip()
    password = st.session_state.get("signin_password") or ""
    st.session_state["signin_password"] = ""
    if not name or not password:
        st.session_state["signin_error"] = ("请输入用户名和密码", "enter your user name and password")
        return
    account, reason = accounts.verify(name, password)
    if account is None:
        st.session_state["signin_error"] = _REASONS[reason]
        return
    st.session_state.pop("signin_error", None)
    st.session_state[K_USER], st.session_state[K_MODE] = account.username, "password"
    st.session_state.pop(K_VIEWER, None)


def _sign_in_form() -> None:
    """The only thing an unauthenticated visitor sees: no sidebar filters, no figures, no pages."""
    st.markdown(
        "<style>[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl']{display:none}</style>",
        unsafe_allow_html=True,
    )
    _, mid, _ = st.columns([1, 2, 1])
    with mid:
        st.title("五创联动指标监测")
        st.caption("Creation-campaign monitoring")
        st.subheader("登录 / Sign in")
        with st.form("signin", clear_on_submit=False):
            st.text_input("用户名 / User name", key="signin_user", autocomplete="username")
            st.text_input(
                "密码 / Password", key="signin_password", type="password", autocomplete="current-password"
            )
            st.form_submit_button("登录 / Sign in", type="primary", on_click=_submit, width="stretch")
        if err := st.session_state.get("signin_error"):
            st.error(f"{err[0]} / {err[1]}", icon=":material/lock:")
        if sso_configured():
            st.divider()
            if refused := st.session_state.get("auth_sso_refused"):
                st.error(
                    f"统一身份认证账户 {refused} 未开通本平台权限，请联系创建办 / "
                    f"the SSO identity {refused} has no account here; ask the office",
                    icon=":material/person_off:",
                )
            if st.button("统一身份认证登录 / Sign in with SSO", key="signin_sso", width="stretch"):
                st.session_state.pop("auth_sso_refused", None)
                st.login()
        st.caption(
            "账户由创建办开通；忘记密码请联系创建办。/ Accounts are issued by the office; ask it to reset a password."
        )


def require_viewer() -> Viewer:
    """The signed-in viewer; otherwise render the sign-in form and stop the script run."""
    viewer = current_viewer()
    if viewer is None:
        _sign_in_form()
        st.stop()
    return viewer  # type: ignore[return-value]
