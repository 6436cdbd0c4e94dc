"""The notices outbox on the sample (the synthetic published warehouse over the real 平昌 profile)
with a fixed "today": the expected reminders, sent once to a local SMTP server and a local HTTP
webhook receiver (both started here on 127.0.0.1), a failure retried, nothing sent twice."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines.settings import Settings
from pipelines.workflow import notices
from pipelines.workflow.store import Store
from tests.dashboards.conftest import _build

COUNTY = "511923"
TODAY = dt.date(2017, 1, 4)  # 2016-12 monthly returns are due 2017-01-09: 3 working days ahead


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def env(tmp_path_factory, request):
    base = tmp_path_factory.mktemp("notices")
    values = _build(base)
    port = _free_port()
    profiles = base / "profiles"
    profiles.mkdir()
    src = Settings.from_env().profiles_dir / "pingchang.yaml"
    text = src.read_text(encoding="utf-8").replace("127.0.0.1:18080", f"127.0.0.1:{port}")
    (profiles / "pingchang.yaml").write_text(text, encoding="utf-8")
    values |= {"WUCHUANG_PROFILES_DIR": str(profiles), "WUCHUANG_WORKFLOW_DIR": str(base / "workflow")}
    return values, port


@pytest.fixture
def settings(env, monkeypatch) -> Settings:
    values, _ = env
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("WUCHUANG_NOTICES_SEND", raising=False)
    shutil.rmtree(values["WUCHUANG_WORKFLOW_DIR"], ignore_errors=True)
    return Settings.from_env()


class Robot:
    """A WeCom/DingTalk-style group robot: answers {"errcode": 0}; fails the first post to `fail_path`."""

    def __init__(self, port: int, fail_path: str):
        self.received: list[tuple[str, dict]] = []
        self.fail_path, self.failed = fail_path, 0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                if self.path == robot.fail_path and robot.failed == 0:
                    robot.failed += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                robot.received.append((self.path, body))
                out = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((tuple(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    try:
        yield box, ctl.port
    finally:
        ctl.stop()


def _expected_reminders(run) -> set[str]:
    """Independently: monthly reporters without a 2016-12 return received by TODAY."""
    df = run(
        """SELECT DISTINCT a.org_code FROM dim.assignment a
           WHERE a.county_code = ? AND a.frequency = 'monthly' AND a.org_code NOT IN (
             SELECT org_code FROM core.submission WHERE period_code = '2016-12' AND received_at::DATE <= ?)""",
        [COUNTY, TODAY],
    )
    return set(df["org_code"])


def test_outbox_reminders_sent_once_and_retried(settings, env, smtp):
    _, port = env
    box, smtp_port = smtp
    store = Store.default(settings)
    run = notices.snapshot_runner(settings)

    assert notices.fill_outbox(store, COUNTY, TODAY, run, settings) > 0
    rows = notices.outbox_rows(store, COUNTY)
    reminders = [r for r in rows if r["kind"] == "deadline_reminder"]
    expected = _expected_reminders(run)
    assert expected and {r["unit_code"] for r in reminders} == expected
    assert "511923-wjw" in expected  # the sample's unit that misses its December returns
    for r in reminders:  # both channels, from the profile's contacts
        short = r["unit_code"].split("-", 1)[1]
        assert r["recipient"] in (f"{short}-clerk@example.org", f"http://127.0.0.1:{port}/robot/{short}")
        assert "2016-12" in r["subject"] and "2017-01-09" in r["body"]
    assert len(reminders) == 2 * len(expected)
    kinds = {r["kind"] for r in rows}
    assert {"overdue_return", "overdue_rectification", "rectification_escalation"} <= kinds
    assert "monthly_bulletin" not in kinds  # 2017-01-04 is the 2nd working day of January
    esc = [r for r in rows if r["kind"] == "rectification_escalation" and r["channel"] == "email"]
    assert esc and all(r["recipient"].endswith("-head@example.org") for r in esc)
    assert len({r["idem_key"] for r in rows}) == len(rows)

    # idempotent: the same day again adds nothing
    assert notices.fill_outbox(store, COUNTY, TODAY, run, settings) == 0
    # the bulletin draft for the office from the 6th working day (2017-01-10)
    notices.fill_outbox(store, COUNTY, dt.date(2017, 1, 10), run, settings)
    bulletin = [r for r in notices.outbox_rows(store, COUNTY) if r["kind"] == "monthly_bulletin"]
    assert {r["recipient"] for r in bulletin} == {"cjb@example.org", f"http://127.0.0.1:{port}/robot/cjb"}

    total = len(notices.outbox_rows(store, COUNTY))
    # dry-run by default: nothing sent, nothing changed
    report = notices.send_outbox(store)
    assert len(report.would_send) == total and report.sent == 0 and not box.messages

    senders = {"email": notices.SmtpSender(port=smtp_port), "webhook": notices.WebhookSender(timeout=5)}
    t0 = dt.datetime(2017, 1, 10, 1, 0, tzinfo=dt.UTC)
    with Robot(port, "/robot/wjw") as robot:
        first = notices.send_outbox(store, senders, dry_run=False, at=t0, retry_base_s=60)
        assert first.failed == 1 and first.sent == total - 1
        failed = [r for r in notices.outbox_rows(store, COUNTY) if r["state"] == "failed"]
        assert len(failed) == 1 and "500" in failed[0]["last_error"] and failed[0]["attempts"] == 1
        # not due for a retry yet: nothing is sent
        assert notices.send_outbox(store, senders, dry_run=False, at=t0 + dt.timedelta(seconds=10)).sent == 0
        again = notices.send_outbox(store, senders, dry_run=False, at=t0 + dt.timedelta(minutes=2))
        assert again.sent == 1 and again.failed == 0
        # everything sent: a later run sends nothing
        assert notices.send_outbox(store, senders, dry_run=False, at=t0 + dt.timedelta(hours=1)).sent == 0
        received = list(robot.received)
    rows = notices.outbox_rows(store, COUNTY)
    assert {r["state"] for r in rows} == {"sent"}
    hooks = [r for r in rows if r["channel"] == "webhook"]
    mails = [r for r in rows if r["channel"] == "email"]
    assert len(received) == len(hooks)  # each webhook message once
    assert all(b["msgtype"] == "text" and b["text"]["content"] for _, b in received)
    assert sorted(r[0][0] for r in box.messages) == sorted(r["recipient"] for r in mails)  # each mail once
    assert any("=?utf-8?" in m[1] or "报送提醒" in m[1] for m in box.messages)


def test_interrupted_send_is_not_repeated(settings, smtp):
    box, smtp_port = smtp
    store = Store.default(settings)
    with store.tx() as c:
        c.execute(
            "INSERT INTO outbox (idem_key, kind, county_code, channel, recipient, subject, body, created_for, "
            "created_at, state, next_attempt_at) VALUES ('k1', 'overdue_return', ?, 'email', 'a@example.org', "
            "'s', 'b', '2017-01-04', '2017-01-04', 'sending', '2017-01-04T00:00:00+00:00')",
            (COUNTY,),
        )
    at = dt.datetime(2017, 1, 4, 2, 0, tzinfo=dt.UTC)
    report = notices.send_outbox(store, {"email": notices.SmtpSender(port=smtp_port)}, dry_run=False, at=at)
    assert report.uncertain == 1 and report.sent == 0 and not box.messages
    (row,) = notices.outbox_rows(store, COUNTY)
    assert row["state"] == "uncertain"
    notices.requeue(store, row["msg_id"])
    assert (
        notices.send_outbox(store, {"email": notices.SmtpSender(port=smtp_port)}, dry_run=False, at=at).sent
        == 1
    )
    assert len(box.messages) == 1


def test_dead_after_max_attempts(settings):
    store = Store.default(settings)
    with store.tx() as c:
        c.execute(
            "INSERT INTO outbox (idem_key, kind, county_code, channel, recipient, subject, body, created_for, "
            "created_at) VALUES ('k2', 'overdue_return', ?, 'webhook', 'http://127.0.0.1:9/x', 's', 'b', "
            "'2017-01-04', '2017-01-04')",
            (COUNTY,),
        )
    at = dt.datetime(2017, 1, 4, tzinfo=dt.UTC)
    hook = {"webhook": notices.WebhookSender(timeout=2)}
    for i in range(3):
        notices.send_outbox(store, hook, dry_run=False, at=at + dt.timedelta(days=i), max_attempts=3)
    (row,) = notices.outbox_rows(store, COUNTY)
    assert row["state"] == "dead" and row["attempts"] == 3 and row["last_error"]
