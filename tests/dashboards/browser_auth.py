"""Shared pieces of the browser tests: the Streamlit server on a free localhost port, Debian's
chromium through Playwright, and signing in from a page (the app shows only its sign-in form before)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT
from tests.dashboards.conftest import APP, TEST_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, what: str) -> None:
    """Wait until `url` answers (60 s), failing with the log's tail when the process dies."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start; see {log}:\n{log.read_text()[-2000:]}")
        time.sleep(0.3)


@contextlib.contextmanager
def streamlit_app(env: dict[str, str], log: Path, *extra: str, port: int | None = None) -> Iterator[str]:
    """`streamlit run` of the dashboards on 127.0.0.1 with `env` added; yields its URL."""
    port = port or free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.address=127.0.0.1",
        f"--server.port={port}", "--server.headless=true", "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false", "--global.developmentMode=false", *extra,
    ]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            cmd, env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}, cwd=PROJECT_ROOT, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc, log, "streamlit")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def chromium(args: list[str]) -> Iterator[object]:
    """Debian's chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            yield b
        finally:
            b.close()


def sign_in(pg, url: str, user: str = "t-office", password: str = TEST_PASSWORD) -> None:
    """Open `url` (a new Streamlit session), sign in as `user` and wait until the form is gone."""
    pg.goto(url)
    pg.get_by_label("用户名 / User name").fill(user)
    pg.get_by_label("密码 / Password").fill(password)
    pg.get_by_role("button", name="登录 / Sign in").click()
    pg.get_by_label("密码 / Password").wait_for(state="detached")
