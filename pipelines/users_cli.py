# ruff: noqa: T201  (a command-line module: it prints)
"""`wuchuang users …`: the office administers the dashboard accounts (see pipelines/accounts.py).

wuchuang users add NAME --role ROLE [--org ORG] [--campaigns a,b] [--units a,b] [--email E] [--sso-only]
wuchuang users list
wuchuang users disable NAME | enable NAME
wuchuang users reset NAME                    new password (asked twice, or --password-stdin)
wuchuang users role NAME --role ROLE [--org ORG] [--campaigns ...] [--units ...]
wuchuang users audit [--limit N] [--user NAME]
wuchuang users demo                          the sample's demo accounts (SAMPLE ONLY; `make run` calls it)

Passwords are never taken on the command line (shell history): they are asked for, or read from
standard input with --password-stdin.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from pipelines import accounts
from pipelines.settings import Settings


def _codes(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (text or "").split(",") if c.strip())


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("新密码 / new password: ")
    if first != getpass.getpass("再输入一次 / again: "):
        raise accounts.AccountError("两次输入的密码不一致", "the two passwords differ")
    return first


def _county(args: argparse.Namespace, settings: Settings) -> str:
    if args.county:
        return args.county
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles

    profiles = load_profiles(settings.profiles_dir, load_catalog(settings.standards_dir))
    return next(iter(profiles))


def _add(args, settings) -> int:
    password = None if args.sso_only else _password(args)
    a = accounts.add_user(
        args.username,
        args.role,
        _county(args, settings),
        display_name=args.name,
        password=password,
        org_code=args.org,
        campaigns=_codes(args.campaigns),
        units=_codes(args.units),
        email=args.email,
        actor=args.actor,
        path=accounts.store_path(settings),
    )
    print(f"已添加 / added: {a.username} ({a.role})")
    return 0


def _list(args, settings) -> int:
    rows = accounts.list_users(accounts.store_path(settings))
    print("用户名 username\t角色 role\t单位 org\t项目 campaigns\t邮箱 email\t状态 state\t登录 sign-in")
    for a in rows:
        state = "启用 active" if a.active else "停用 disabled"
        mode = "密码+SSO" if a.has_password and a.email else ("密码 password" if a.has_password else "SSO")
        print(
            f"{a.username}\t{a.role}\t{a.org_code or '-'}\t{','.join(a.campaigns) or '-'}\t"
            f"{a.email or '-'}\t{state}\t{mode}"
        )
    print(f"({len(rows)} 个账户 accounts)")
    return 0


def _active(active: bool):
    def run(args, settings) -> int:
        a = accounts.set_active(args.username, active, actor=args.actor, path=accounts.store_path(settings))
        print(f"{'已启用 / enabled' if active else '已停用 / disabled'}: {a.username}")
        return 0

    return run


def _reset(args, settings) -> int:
    accounts.reset_password(
        args.username, _password(args), actor=args.actor, path=accounts.store_path(settings)
    )
    print(f"密码已重置 / password reset: {args.username}")
    return 0


def _role(args, settings) -> int:
    a = accounts.set_role(
        args.username,
        args.role,
        org_code=args.org,
        campaigns=_codes(args.campaigns),
        units=_codes(args.units),
        actor=args.actor,
        path=accounts.store_path(settings),
    )
    print(f"角色已更改 / role changed: {a.username} → {a.role}")
    return 0


def _audit(args, settings) -> int:
    for e in reversed(accounts.read_audit(args.limit, args.user, accounts.store_path(settings))):
        print(
            f"{e['at']}\t{e['username'] or '-'}\t{e['event']}\t{json.dumps(e['detail'], ensure_ascii=False)}"
        )
    return 0


def _demo(args, settings) -> int:
    made = accounts.create_demo_accounts(accounts.store_path(settings))
    print(
        f"演示账户（仅示例数据）/ demo accounts (sample only): {', '.join(made) or '已存在 / already there'}"
    )
    return 0


def _guard(func):
    def run(args, settings) -> int:
        try:
            return func(args, settings)
        except accounts.AccountError as e:
            print(str(e), file=sys.stderr)
            return 2

    return run


def register(sub) -> None:
    users = sub.add_parser("users", help="看板账户与审计日志 / dashboard accounts and audit log")
    us = users.add_subparsers(dest="users_command", required=True)

    def common(p, stdin: bool = False):
        p.add_argument("--actor", default="cli", help="操作人（记入审计日志） / who does it (audit log)")
        if stdin:
            p.add_argument(
                "--password-stdin",
                action="store_true",
                help="从标准输入读密码 / read the password from stdin",
            )

    def scope(p, required_role: bool):
        p.add_argument("--role", required=required_role, choices=accounts.ROLES, help="角色 / role")
        p.add_argument("--org", help="所属单位代码 / own unit, e.g. 511923-zjj (clerks)")
        p.add_argument("--campaigns", help="创建项目，逗号分隔 / campaigns, comma-separated (group leads)")
        p.add_argument(
            "--units", help="可见单位，逗号分隔（默认全部或本单位）/ visible units (default all or own)"
        )

    p = us.add_parser("add", help="添加账户 / add an account")
    p.add_argument("username")
    p.add_argument("--name", help="显示名称 / display name")
    p.add_argument("--email", help="单点登录邮箱 / SSO e-mail")
    p.add_argument("--county", help="县代码 / county code (default: the first profile)")
    p.add_argument("--sso-only", action="store_true", help="不设密码，仅单点登录 / no password, SSO only")
    scope(p, True)
    common(p, stdin=True)
    p.set_defaults(func=_guard(_add))

    p = us.add_parser("list", help="列出账户 / list accounts")
    p.set_defaults(func=_guard(_list))

    for name, active in (("disable", False), ("enable", True)):
        p = us.add_parser(name, help="停用账户 / disable" if not active else "启用账户 / enable")
        p.add_argument("username")
        common(p)
        p.set_defaults(func=_guard(_active(active)))

    p = us.add_parser("reset", help="重置密码 / reset a password")
    p.add_argument("username")
    common(p, stdin=True)
    p.set_defaults(func=_guard(_reset))

    p = us.add_parser("role", help="更改角色与范围 / change role and scope")
    p.add_argument("username")
    scope(p, True)
    common(p)
    p.set_defaults(func=_guard(_role))

    p = us.add_parser("audit", help="审计日志 / audit log")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--user")
    p.set_defaults(func=_guard(_audit))

    p = us.add_parser("demo", help="创建示例演示账户（仅示例）/ sample demo accounts (sample only)")
    p.set_defaults(func=_guard(_demo))
