"""Notices: an outbox of messages, filled from the published snapshot and sent by e-mail (SMTP) or
to a group robot (WeCom / DingTalk webhook JSON). Dry-run unless `WUCHUANG_NOTICES_SEND=1`.

`fill_outbox(store, county, today)` adds, for the day `today` (never twice: each message has an
idempotency key `kind:county:subject:channel:recipient`, unique in the outbox):

- `deadline_reminder`: a return due within `remind_working_days` working days and not received
  (to the unit's clerk: e-mail and the unit's group robot);
- `overdue_return`: a return past its due date (within `overdue_window_days`) and not received;
- `overdue_rectification`: an open rectification item past its due date (to the owner's clerk);
- `rectification_escalation`: the same item `escalate_after_working_days` working days later, to
  the unit head;
- `overdue_supervision`: a problem found at an inspection (督查, `supervision.problem`) still open past
  its due date (to the clerk of the point's responsible unit);
- `monthly_bulletin`: from the refresh day (`bulletin_working_day`-th working day) of a month, the
  draft 通报 of the previous month for the creation office.

Recipients come from the county profile: `contacts:` of each unit and of `organisation.office`
(`clerk` and `head` e-mail addresses, `robot` webhook URL). Settings (profile `notices:` section,
all optional) are in `NoticeSettings`.

`send_outbox(store, senders, dry_run)` sends what is pending (or failed and due for a retry):
each row is claimed (`pending`/`failed` → `sending`) in a transaction before sending, then marked
`sent`; a failure is recorded (`attempts`, `last_error`) and retried with exponential back-off
until `max_attempts` (then `dead`). A row left `sending` by a crash is marked `uncertain` and not
sent again automatically (the office can re-queue it on the 通知 page): never sent twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pandas as pd
import yaml

from pipelines.settings import Settings
from pipelines.workflow import duties
from pipelines.workflow.store import Store, now

KINDS = {
    "deadline_reminder": ("报送提醒", "Deadline reminder"),
    "overdue_return": ("逾期未报", "Overdue return"),
    "overdue_rectification": ("整改逾期", "Overdue rectification"),
    "rectification_escalation": (
        "整改逾期（升级至单位负责人）",
        "Overdue rectification (escalated to the head)",
    ),
    "monthly_bulletin": ("月度通报（草稿）", "Monthly bulletin (draft)"),
    "overdue_supervision": ("督查问题整改逾期", "Overdue rectification of an inspection finding"),
}
STATES = {
    "pending": ("待发送", "pending"),
    "sending": ("发送中", "sending"),
    "sent": ("已发送", "sent"),
    "failed": ("发送失败，将重试", "failed, will retry"),
    "dead": ("多次失败，已停止", "failed, given up"),
    "uncertain": ("发送中断，需人工确认", "interrupted, check by hand"),
}


@dataclass(frozen=True)
class NoticeSettings:
    remind_working_days: int = 3
    overdue_window_days: int = 31
    escalate_after_working_days: int = 5
    bulletin_working_day: int = 6
    max_attempts: int = 5
    retry_base_s: int = 60
    channels: tuple[str, ...] = ("email", "webhook")


@dataclass
class Contacts:
    units: dict[str, dict] = field(default_factory=dict)  # org_code -> {clerk, head, robot, name_zh}
    office: dict = field(default_factory=dict)


def load_profile_notices(settings: Settings, county: str) -> tuple[NoticeSettings, Contacts]:
    """Notice settings and contacts from the county's profile YAML (unknown keys ignored)."""
    for path in sorted(Path(settings.profiles_dir).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if str((data.get("county") or {}).get("code")) != county:
            continue
        conf = data.get("notices") or {}
        fields = NoticeSettings.__dataclass_fields__
        ns = NoticeSettings(
            **{k: (tuple(v) if k == "channels" else int(v)) for k, v in conf.items() if k in fields}
        )
        contacts = Contacts()
        for u in data.get("units") or []:
            if u.get("contacts"):
                contacts.units[f"{county}-{u['code']}"] = {**u["contacts"], "name_zh": u.get("name_zh", "")}
        office = (data.get("organisation") or {}).get("office") or {}
        contacts.office = {**(office.get("contacts") or {}), "name_zh": office.get("name_zh", "")}
        return ns, contacts
    return NoticeSettings(), Contacts()


def _targets(contact: dict, who: str, channels: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    if "email" in channels and contact.get(who):
        out.append(("email", str(contact[who])))
    if "webhook" in channels and contact.get("robot"):
        out.append(("webhook", str(contact["robot"])))
    return out


def _freq_zh(freq: str) -> str:
    return {"monthly": "月报", "quarterly": "季报", "annual": "年报"}.get(freq, freq)


@dataclass(frozen=True)
class Notice:
    kind: str
    subject_key: str
    unit_code: str | None
    who: str  # clerk | head | office
    subject: str
    body: str


def plan_notices(
    run: Callable[[str, list], pd.DataFrame], county: str, today: dt.date, ns: NoticeSettings
) -> list[Notice]:
    """The notices due on `today` from a snapshot (`run(sql, params)`), before choosing recipients."""
    out: list[Notice] = []
    due = duties.due_returns(run, county, today, lookback_days=ns.overdue_window_days, lookahead_days=31)
    for r in due.itertuples(index=False):
        unit = r.org_code
        name = r.org_name_zh or unit
        if r.due_state == "due" and 0 <= r.working_days_left <= ns.remind_working_days:
            out.append(
                Notice(
                    "deadline_reminder",
                    f"{unit}:{r.period_code}",
                    unit,
                    "clerk",
                    f"【报送提醒】{name} {r.period_code} {_freq_zh(r.frequency)}将于 {r.due_date} 截止",
                    f"{name}：{r.period_code} {_freq_zh(r.frequency)}应于 {r.due_date}（还有 {r.working_days_left} 个工作日）"
                    f"前报送，请登录平台“我的任务”下载填报表并上传。\n"
                    f"Reminder: the {r.frequency} return for {r.period_code} is due on {r.due_date} "
                    f"({r.working_days_left} working days left).",
                )
            )
        elif r.due_state == "overdue":
            late = -int(r.working_days_left)
            out.append(
                Notice(
                    "overdue_return",
                    f"{unit}:{r.period_code}",
                    unit,
                    "clerk",
                    f"【逾期未报】{name} {r.period_code} {_freq_zh(r.frequency)}已逾期",
                    f"{name}：{r.period_code} {_freq_zh(r.frequency)}截止日期为 {r.due_date}，已逾期 {late} 个工作日，"
                    f"请尽快报送。\nOverdue: the {r.frequency} return for {r.period_code} was due on "
                    f"{r.due_date} ({late} working days late).",
                )
            )
    try:
        items = run(
            "SELECT item_id, owner_org_code, due_date, description_zh, description_en, requirement_code, "
            "indicator_code, opened_period_code FROM marts.rectification_item "
            "WHERE county_code = ? AND status IN ('open', 'overdue') AND due_date < ? "
            "AND owner_org_code IS NOT NULL ORDER BY due_date, item_id",
            [county, today],
        )
    except Exception:  # the mart is not built in this snapshot
        items = pd.DataFrame()
    for r in items.itertuples(index=False):
        due_date = pd.Timestamp(r.due_date).date()
        late = duties.working_days_between(due_date, today)
        what = r.description_zh or r.requirement_code or r.indicator_code or r.item_id
        out.append(
            Notice(
                "overdue_rectification",
                r.item_id,
                r.owner_org_code,
                "clerk",
                f"【整改逾期】{what}",
                f"整改事项“{what}”（{r.opened_period_code} 起）应于 {due_date} 前完成，已逾期 {late} 个工作日。"
                f"请在“我的任务”中提交整改说明和佐证材料。\nOverdue rectification: "
                f"{r.description_en or r.item_id}, due {due_date} ({late} working days overdue).",
            )
        )
        if late >= ns.escalate_after_working_days:
            out.append(
                Notice(
                    "rectification_escalation",
                    r.item_id,
                    r.owner_org_code,
                    "head",
                    f"【整改逾期·请单位负责人督办】{what}",
                    f"整改事项“{what}”应于 {due_date} 前完成，已逾期 {late} 个工作日（超过 "
                    f"{ns.escalate_after_working_days} 个工作日），请单位负责人督办。\nEscalated: "
                    f"{r.description_en or r.item_id} is {late} working days overdue.",
                )
            )
    out += _overdue_supervision(run, county, today)
    nth = _working_day_of_month(today)
    if nth >= ns.bulletin_working_day:
        prev = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        try:
            lag = run(
                "SELECT unit_name_zh, org_code, score, reason_zh FROM marts.lagging_unit "
                "WHERE county_code = ? AND period_code = ? ORDER BY rank, org_code",
                [county, prev],
            )
        except Exception:
            lag = pd.DataFrame()
        lines = [
            f"{i + 1}. {r.unit_name_zh or r.org_code}：{r.reason_zh}" for i, r in enumerate(lag.itertuples())
        ]
        out.append(
            Notice(
                "monthly_bulletin",
                prev,
                None,
                "office",
                f"【通报草稿】{prev} 责任单位报送与整改情况",
                f"{prev} 通报草稿（待创建办审定后印发）：\n"
                + ("\n".join(lines) if lines else "本月无需通报的单位。")
                + f"\nDraft bulletin for {prev}: {len(lines)} unit(s) listed.",
            )
        )
    return out


def _overdue_supervision(
    run: Callable[[str, list], pd.DataFrame], county: str, today: dt.date
) -> list[Notice]:
    """`overdue_supervision`: a problem found at an inspection (supervision.problem, issue 17) still open past
    its due date, to the clerk of the point's responsible unit (包保单位)."""
    try:
        rows = run(
            "SELECT item_id, owner_org_code, due_date, opened_date, description_zh, description_en "
            "FROM supervision.problem WHERE county_code = ? AND closed_date IS NULL AND due_date < ? "
            "AND owner_org_code IS NOT NULL ORDER BY due_date, item_id",
            [county, today],
        )
    except Exception:  # the table is not in this snapshot
        return []
    out = []
    for r in rows.itertuples(index=False):
        due_date = pd.Timestamp(r.due_date).date()
        late = duties.working_days_between(due_date, today)
        out.append(
            Notice(
                "overdue_supervision",
                r.item_id,
                r.owner_org_code,
                "clerk",
                f"【督查整改逾期】{r.description_zh}",
                f"{pd.Timestamp(r.opened_date).date()} 督查发现的问题“{r.description_zh}”应于 {due_date} 前整改到位，"
                f"已逾期 {late} 个工作日，请整改后报县创建办复查。\nOverdue: {r.description_en}, due {due_date} "
                f"({late} working days overdue).",
            )
        )
    return out


def _working_day_of_month(day: dt.date) -> int:
    """Which working day of its month `day` is (counting `day` itself when it is one)."""
    return duties.working_days_between(day.replace(day=1) - dt.timedelta(days=1), day)


def fill_outbox(
    store: Store,
    county: str,
    today: dt.date,
    run: Callable[[str, list], pd.DataFrame],
    settings: Settings | None = None,
) -> int:
    """Add the notices due on `today` to the outbox; returns how many rows were new."""
    settings = settings or Settings.from_env()
    ns, contacts = load_profile_notices(settings, county)
    new = 0
    created = now()
    with store.tx() as c:
        for n in plan_notices(run, county, today, ns):
            contact = contacts.office if n.who == "office" else contacts.units.get(n.unit_code or "", {})
            who = "clerk" if n.who == "office" else n.who
            targets = _targets(contact, who, ns.channels)
            for channel, recipient in targets:
                key = f"{n.kind}:{county}:{n.subject_key}:{channel}:{recipient}"
                cur = c.execute(
                    "INSERT OR IGNORE INTO outbox (idem_key, kind, county_code, unit_code, channel, recipient, "
                    "recipient_name, subject, body, created_for, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        key,
                        n.kind,
                        county,
                        n.unit_code,
                        channel,
                        recipient,
                        contact.get("name_zh", ""),
                        n.subject,
                        n.body,
                        today.isoformat(),
                        created,
                    ),
                )
                new += cur.rowcount
    return new


# ------------------------------------------------------------------------------------ senders


class SendError(RuntimeError):
    pass


@dataclass
class SmtpSender:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "wuchuang@example.org"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpSender:
        e = os.environ.get
        return cls(
            host=e("WUCHUANG_SMTP_HOST", "127.0.0.1"),
            port=int(e("WUCHUANG_SMTP_PORT", "25")),
            sender=e("WUCHUANG_SMTP_FROM", "wuchuang@example.org"),
            user=e("WUCHUANG_SMTP_USER") or None,
            password=e("WUCHUANG_SMTP_PASSWORD") or None,
            starttls=e("WUCHUANG_SMTP_STARTTLS", "") in ("1", "true", "yes"),
        )

    def send(self, recipient: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = recipient
        msg["Subject"] = subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP: {type(exc).__name__}: {exc}"[:300]) from None


@dataclass
class WebhookSender:
    """Group robot: POST {"msgtype": "text", "text": {"content": ...}} — the format WeCom (企业微信)
    and DingTalk (钉钉) robots both accept; success is HTTP 200 with errcode 0 (when given)."""

    timeout: float = 10.0

    def send(self, recipient: str, subject: str, body: str) -> None:
        payload = json.dumps(
            {"msgtype": "text", "text": {"content": f"{subject}\n{body}"}}, ensure_ascii=False
        ).encode("utf-8")
        req = urllib.request.Request(
            recipient,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read(65536).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            raise SendError(f"webhook: {type(exc).__name__}: {exc}"[:300]) from None
        try:
            answer = json.loads(text) if text.strip() else {}
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("errcode", 0) not in (0, "0"):
            raise SendError(f"webhook errcode {answer.get('errcode')}: {answer.get('errmsg', '')}"[:300])


def dry_run_default() -> bool:
    return os.environ.get("WUCHUANG_NOTICES_SEND", "").strip().lower() not in ("1", "true", "yes", "on")


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    uncertain: int = 0
    would_send: list[dict] = field(default_factory=list)


def send_outbox(
    store: Store,
    senders: dict[str, object] | None = None,
    dry_run: bool | None = None,
    at: dt.datetime | None = None,
    max_attempts: int = NoticeSettings.max_attempts,
    retry_base_s: int = NoticeSettings.retry_base_s,
    stale_after_s: int = 600,
) -> SendReport:
    """Send pending notices (and failed ones due for a retry). Dry-run: nothing is sent or changed,
    the report lists what would be sent."""
    dry_run = dry_run_default() if dry_run is None else dry_run
    senders = senders or {"email": SmtpSender.from_env(), "webhook": WebhookSender()}
    at = at or dt.datetime.now(dt.UTC)
    stamp = at.isoformat(timespec="seconds")
    report = SendReport()
    stale = (at - dt.timedelta(seconds=stale_after_s)).isoformat(timespec="seconds")
    if not dry_run:
        with store.tx() as c:
            cur = c.execute(
                "UPDATE outbox SET state = 'uncertain', last_error = coalesce(last_error, '') || "
                "' 发送过程中断，未自动重发 / interrupted while sending, not resent' "
                "WHERE state = 'sending' AND next_attempt_at < ?",
                (stale,),
            )
            report.uncertain = cur.rowcount
    due = store.rows(
        "SELECT * FROM outbox WHERE (state = 'pending' OR (state = 'failed' AND next_attempt_at <= ?)) "
        "ORDER BY msg_id",
        (stamp,),
    )
    for row in due:
        if dry_run:
            report.would_send.append(row)
            continue
        with store.tx() as c:  # claim: only one sender process gets the row
            cur = c.execute(
                "UPDATE outbox SET state = 'sending', next_attempt_at = ? WHERE msg_id = ? AND state = ?",
                (stamp, row["msg_id"], row["state"]),
            )
            if cur.rowcount != 1:
                continue
        sender = senders.get(row["channel"])
        try:
            if sender is None:
                raise SendError(f"no sender for channel {row['channel']}")
            sender.send(row["recipient"], row["subject"], row["body"])
        except Exception as exc:
            attempts = row["attempts"] + 1
            state = "dead" if attempts >= max_attempts else "failed"
            retry = at + dt.timedelta(seconds=retry_base_s * 2 ** (attempts - 1))
            with store.tx() as c:
                c.execute(
                    "UPDATE outbox SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ? WHERE msg_id = ?",
                    (state, attempts, str(exc)[:500], retry.isoformat(timespec="seconds"), row["msg_id"]),
                )
            report.dead += state == "dead"
            report.failed += state == "failed"
            continue
        with store.tx() as c:
            c.execute(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL "
                "WHERE msg_id = ?",
                (now(), row["msg_id"]),
            )
        report.sent += 1
    return report


def requeue(store: Store, msg_id: int) -> None:
    """The office re-queues a failed, dead or uncertain notice by hand."""
    with store.tx() as c:
        c.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = NULL WHERE msg_id = ? "
            "AND state IN ('failed', 'dead', 'uncertain')",
            (msg_id,),
        )


def outbox_rows(store: Store, county: str, limit: int = 500) -> list[dict]:
    return store.rows(
        "SELECT * FROM outbox WHERE county_code = ? ORDER BY msg_id DESC LIMIT ?", (county, limit)
    )


def snapshot_runner(settings: Settings) -> Callable[[str, list], pd.DataFrame]:
    """`run(sql, params)` on a read-only connection to the latest published snapshot."""
    from pipelines.warehouse.publish import connect_readonly

    conn = connect_readonly(settings.published_dir)

    def run(sql: str, params: list) -> pd.DataFrame:
        return conn.execute(sql, params).df()

    return run
