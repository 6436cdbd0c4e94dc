"""Accounts, roles and the audit log of the dashboards (no Streamlit here: the CLI uses it too).

One small SQLite file, **outside the published snapshots** (default `<warehouse_dir>/accounts.sqlite`,
override with `WUCHUANG_ACCOUNTS_DB`): a snapshot is copied, published and read by anyone with the
SQL console, so nothing about people may live in it.

- `users`: one row per person. Passwords are stored only as Argon2id hashes (argon2-cffi's
  `PasswordHasher`, its recommended parameters; a hash made with older parameters is re-hashed at
  the next sign-in). A user who signs in only through single sign-on has no password hash; the
  identity provider's e-mail (or subject) is matched against `email`.
- `audit_log`: append-only; SQLite triggers refuse every UPDATE and DELETE of it. Sign-ins (and
  refused ones), downloads, SQL queries, approvals and account or role changes are recorded.

Roles (see `ROLES`): leader reads everything; office reads everything and may use the SQL console,
approve, edit import mappings and administer users; a working-group lead sees its campaigns (and
the units that report for them); a department or town clerk sees its own unit; an inspector
(督查员) reads everything and records inspections on 督查检查, nothing else.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines.settings import Settings

ROLES = ("leader", "office", "group_lead", "dept_clerk", "town_clerk", "inspector")
ROLE_NAMES = {
    "leader": ("领导", "Leader"),
    "office": ("创建办", "Office / analyst"),
    "group_lead": ("创建组组长", "Working-group lead"),
    "dept_clerk": ("部门填报员", "Department clerk"),
    "town_clerk": ("乡镇填报员", "Town clerk"),
    "inspector": ("督查员", "Inspector"),
}
SEES_ALL = ("leader", "office", "inspector")
CLERKS = ("dept_clerk", "town_clerk")
MIN_PASSWORD = 10
LOCKOUT_FAILURES = 5  # failed sign-ins of one user name within LOCKOUT_MINUTES lock it for that long
LOCKOUT_MINUTES = 15

_HASHER = PasswordHasher()
# Verified when the user name is unknown, so that an unknown name costs as much time as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    county_code   TEXT NOT NULL,
    org_code      TEXT,
    campaigns     TEXT NOT NULL DEFAULT '',
    units         TEXT NOT NULL DEFAULT '',
    email         TEXT,
    password_hash TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (lower(email)) WHERE email IS NOT NULL;
CREATE TABLE IF NOT EXISTS audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    username  TEXT,
    role      TEXT,
    event     TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_user_at ON audit_log (username, at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""


class AccountError(ValueError):
    """A refused account change, with a Chinese and an English message."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    county_code: str
    org_code: str | None
    campaigns: tuple[str, ...]
    units: tuple[str, ...]
    email: str | None
    active: bool
    has_password: bool


def store_path(settings: Settings | None = None) -> Path:
    """The accounts file: WUCHUANG_ACCOUNTS_DB, else accounts.sqlite beside (never inside) the snapshots."""
    value = os.environ.get("WUCHUANG_ACCOUNTS_DB")
    if value:
        return Path(value).expanduser().resolve()
    return (settings or Settings.from_env()).warehouse_dir / "accounts.sqlite"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    path = path or store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        yield conn
    finally:
        conn.close()


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p for p in (text or "").split(",") if p)


def _account(row: tuple) -> Account:
    username, display, role, county, org, camps, units, email, pw, active = row
    return Account(
        username,
        display,
        role,
        county,
        org,
        _split(camps),
        _split(units),
        email,
        bool(active),
        pw is not None,
    )


_COLS = "username, display_name, role, county_code, org_code, campaigns, units, email, password_hash, active"


def _check(role: str, org_code: str | None, campaigns: tuple[str, ...]) -> None:
    if role not in ROLES:
        raise AccountError(
            f"未知角色：{role}（可选 {', '.join(ROLES)}）", f"unknown role {role!r} (one of {ROLES})"
        )
    if role in CLERKS and not org_code:
        raise AccountError("填报员必须指定所属单位（--org）", "a clerk needs its own unit (--org)")
    if role == "group_lead" and not campaigns:
        raise AccountError(
            "创建组组长必须指定创建项目（--campaigns）", "a group lead needs its campaigns (--campaigns)"
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"密码至少 {MIN_PASSWORD} 个字符", f"a password needs at least {MIN_PASSWORD} characters"
        )


def hash_password(password: str) -> str:
    _check_password(password)
    return _HASHER.hash(password)


def add_user(
    username: str,
    role: str,
    county_code: str,
    *,
    display_name: str | None = None,
    password: str | None = None,
    org_code: str | None = None,
    campaigns: tuple[str, ...] = (),
    units: tuple[str, ...] = (),
    email: str | None = None,
    actor: str = "cli",
    path: Path | None = None,
) -> Account:
    """Create an account. Without a password it can sign in only through single sign-on (by e-mail)."""
    username = username.strip()
    if not username or "," in username:
        raise AccountError("用户名不能为空或含逗号", "a user name must be non-empty without commas")
    if password is None and not email:
        raise AccountError("需要密码或单点登录邮箱", "a password or an SSO e-mail is needed")
    _check(role, org_code, campaigns)
    if role in CLERKS and not units:
        units = (org_code,)  # type: ignore[assignment]
    pw = hash_password(password) if password is not None else None
    now = _now()
    with connect(path) as conn:
        try:
            conn.execute(
                f"INSERT INTO users ({_COLS}, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,1,?,?)",
                [
                    username,
                    display_name or username,
                    role,
                    county_code,
                    org_code,
                    ",".join(campaigns),
                    ",".join(units),
                    email,
                    pw,
                    now,
                    now,
                ],
            )
        except sqlite3.IntegrityError as e:
            raise AccountError(
                f"用户名或邮箱已存在：{username}", f"user name or e-mail exists: {username}"
            ) from e
        _record(conn, actor, None, "user_added", {"user": username, "role": role, "org": org_code})
    return get_user(username, path=path)  # type: ignore[return-value]


def get_user(username: str, path: Path | None = None) -> Account | None:
    with connect(path) as conn:
        row = conn.execute(f"SELECT {_COLS} FROM users WHERE username = ?", [username]).fetchone()
    return _account(row) if row else None


def user_by_identity(
    email: str | None, subject: str | None = None, path: Path | None = None
) -> Account | None:
    """The active account an SSO identity maps to: by e-mail (case-insensitive), else by user name = subject."""
    with connect(path) as conn:
        row = None
        if email:
            row = conn.execute(f"SELECT {_COLS} FROM users WHERE lower(email) = lower(?)", [email]).fetchone()
        if row is None and subject:
            row = conn.execute(f"SELECT {_COLS} FROM users WHERE username = ?", [subject]).fetchone()
    return _account(row) if row else None


def list_users(path: Path | None = None) -> list[Account]:
    with connect(path) as conn:
        rows = conn.execute(f"SELECT {_COLS} FROM users ORDER BY role, username").fetchall()
    return [_account(r) for r in rows]


def _update(username: str, sets: dict, event: str, detail: dict, actor: str, path: Path | None) -> Account:
    with connect(path) as conn:
        cols = ", ".join(f"{k} = ?" for k in sets)
        n = conn.execute(
            f"UPDATE users SET {cols}, updated_at = ? WHERE username = ?", [*sets.values(), _now(), username]
        ).rowcount
        if not n:
            raise AccountError(f"没有这个用户：{username}", f"no such user: {username}")
        _record(conn, actor, None, event, {"user": username, **detail})
    return get_user(username, path=path)  # type: ignore[return-value]


def set_active(username: str, active: bool, actor: str = "cli", path: Path | None = None) -> Account:
    event = "user_enabled" if active else "user_disabled"
    return _update(username, {"active": int(active)}, event, {}, actor, path)


def reset_password(username: str, password: str, actor: str = "cli", path: Path | None = None) -> Account:
    return _update(username, {"password_hash": hash_password(password)}, "password_reset", {}, actor, path)


def set_role(
    username: str,
    role: str,
    *,
    org_code: str | None = None,
    campaigns: tuple[str, ...] = (),
    units: tuple[str, ...] = (),
    actor: str = "cli",
    path: Path | None = None,
) -> Account:
    _check(role, org_code, campaigns)
    if role in CLERKS and not units:
        units = (org_code,)  # type: ignore[assignment]
    sets = {"role": role, "org_code": org_code, "campaigns": ",".join(campaigns), "units": ",".join(units)}
    return _update(username, sets, "role_changed", {"role": role, "org": org_code}, actor, path)


def _recent_failures(conn: sqlite3.Connection, username: str) -> int:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=LOCKOUT_MINUTES)).isoformat(timespec="seconds")
    last_ok = conn.execute(
        "SELECT max(at) FROM audit_log WHERE username = ? AND event = 'signin'", [username]
    ).fetchone()[0]
    return conn.execute(
        "SELECT count(*) FROM audit_log WHERE username = ? AND event = 'signin_failed' AND at >= ? AND at > ? "
        "AND json_extract(detail, '$.reason') = 'bad'",
        [username, since, last_ok or ""],
    ).fetchone()[0]


def verify(username: str, password: str, path: Path | None = None) -> tuple[Account | None, str]:
    """Check a local sign-in. Returns (account, "ok") or (None, reason): "bad", "disabled", "locked".

    Every outcome is written to the audit log. The hash is verified even for unknown names."""
    with connect(path) as conn:
        row = conn.execute(f"SELECT {_COLS} FROM users WHERE username = ?", [username]).fetchone()
        if row and _recent_failures(conn, username) >= LOCKOUT_FAILURES:
            _record(conn, username, row[2], "signin_failed", {"reason": "locked", "mode": "password"})
            return None, "locked"
        stored = row[8] if row else None
        try:
            _HASHER.verify(stored or _DUMMY_HASH, password)
            ok = stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            _record(
                conn,
                username,
                row[2] if row else None,
                "signin_failed",
                {"reason": "bad", "mode": "password"},
            )
            return None, "bad"
        if not row[9]:
            _record(conn, username, row[2], "signin_failed", {"reason": "disabled", "mode": "password"})
            return None, "disabled"
        if _HASHER.check_needs_rehash(stored):
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?", [_HASHER.hash(password), username]
            )
        _record(conn, username, row[2], "signin", {"mode": "password"})
    return _account(row), "ok"


# ---------------------------------------------------------------- audit log


def _record(
    conn: sqlite3.Connection, username: str | None, role: str | None, event: str, detail: dict
) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, username, role, event, detail) VALUES (?,?,?,?,?)",
        [_now(), username, role, event, json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)],
    )


def record(
    event: str,
    username: str | None,
    role: str | None = None,
    detail: dict | None = None,
    path: Path | None = None,
) -> None:
    """Append one event to the audit log."""
    with connect(path) as conn:
        _record(conn, username, role, event, detail or {})


def read_audit(limit: int = 500, username: str | None = None, path: Path | None = None) -> list[dict]:
    """The newest `limit` audit events (newest first), optionally of one user."""
    with connect(path) as conn:
        rows = conn.execute(
            "SELECT id, at, username, role, event, detail FROM audit_log WHERE (? IS NULL OR username = ?) "
            "ORDER BY id DESC LIMIT ?",
            [username, username, limit],
        ).fetchall()
    return [
        {"id": i, "at": at, "username": u, "role": r, "event": e, "detail": json.loads(d)}
        for i, at, u, r, e, d in rows
    ]


# ---------------------------------------------------------------- sample demo accounts (sample only)

SAMPLE_COUNTY = "511923"
# SAMPLE ONLY: the demo accounts `make run` creates for the bundled 平昌 sample. Never for real data.
DEMO_ACCOUNTS = (
    # username, role, display name, org, campaigns, password
    ("demo-leader", "leader", "演示·县领导", None, (), "demo-leader-2016"),
    ("demo-office", "office", "演示·创建办", None, (), "demo-office-2016"),
    ("demo-forest", "group_lead", "演示·森林城市创建组", None, ("forest_city",), "demo-forest-2016"),
    ("demo-zjj", "dept_clerk", "演示·住建局填报员", f"{SAMPLE_COUNTY}-zjj", (), "demo-zjj-2016"),
    ("demo-lyj", "dept_clerk", "演示·林业局填报员", f"{SAMPLE_COUNTY}-lyj", (), "demo-lyj-2016"),
    ("demo-town", "town_clerk", "演示·江口镇填报员", f"{SAMPLE_COUNTY}-jiangkou", (), "demo-town-2016"),
    ("demo-inspector", "inspector", "演示·督查员", None, (), "demo-inspector-2016"),
)


def create_demo_accounts(path: Path | None = None) -> list[str]:
    """Create the sample's demo accounts that do not exist yet (SAMPLE ONLY); returns the names created."""
    made = []
    for username, role, display, org, camps, password in DEMO_ACCOUNTS:
        if get_user(username, path=path) is None:
            add_user(
                username,
                role,
                SAMPLE_COUNTY,
                display_name=display,
                password=password,
                org_code=org,
                campaigns=camps,
                actor="sample",
                path=path,
            )
            made.append(username)
    return made
