"""Signing in from a Playwright page (every browser test opens a page signed in: the app shows only
its sign-in form before)."""

from __future__ import annotations

from tests.dashboards.conftest import TEST_PASSWORD


def sign_in(pg, url: str, user: str = "t-office", password: str = TEST_PASSWORD) -> None:
    """Open `url` (a new Streamlit session), sign in as `user` and wait until the form is gone."""
    pg.goto(url)
    pg.get_by_label("用户名 / User name").fill(user)
    pg.get_by_label("密码 / Password").fill(password)
    pg.get_by_role("button", name="登录 / Sign in").click()
    pg.get_by_label("密码 / Password").wait_for(state="detached")
