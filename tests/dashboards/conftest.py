"""Fixtures for the dashboard tests: a synthetic published warehouse (built once per session) and
environment variables pointing `Settings.from_env()` at it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines import accounts
from pipelines.settings import Settings
from tests.dashboards import synthetic

APP = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"

# Test accounts of every role in each test project's account store (tests only).
TEST_PASSWORD = "test-password-2016"
ZJJ, LYJ, TOWN = f"{synthetic.COUNTY}-zjj", f"{synthetic.COUNTY}-lyj", f"{synthetic.COUNTY}-jiangkou"
TEST_USERS = {
    "t-leader": ("leader", None, ()),
    "t-office": ("office", None, ()),
    "t-forest": ("group_lead", None, ("forest_city",)),
    "t-zjj": ("dept_clerk", ZJJ, ()),
    "t-lyj": ("dept_clerk", LYJ, ()),
    "t-town": ("town_clerk", TOWN, ()),
}


def _accounts(path: Path) -> None:
    for name, (role, org, camps) in TEST_USERS.items():
        if accounts.get_user(name, path=path) is None:
            accounts.add_user(
                name, role, synthetic.COUNTY, password=TEST_PASSWORD, org_code=org, campaigns=camps, path=path
            )


def _env(base: Path) -> dict[str, str]:
    base.mkdir(parents=True, exist_ok=True)
    _accounts(base / "accounts.sqlite")
    return {
        "WUCHUANG_ACCOUNTS_DB": str(base / "accounts.sqlite"),
        "WUCHUANG_RAW_DIR": str(base / "raw"),
        "WUCHUANG_WAREHOUSE_DIR": str(base / "warehouse"),
        "WUCHUANG_FEEDBACK_DIR": str(base / "feedback"),
        "WUCHUANG_TEMPLATES_DIR": str(base / "templates"),
        "WUCHUANG_GX_DIR": str(base / "gx"),
    }


def _build(base: Path, dims_only: bool = False, with_marts: bool = True) -> dict[str, str]:
    env = _env(base)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = Settings.from_env()
        settings.ensure_dirs()
        synthetic.build(settings, dims_only=dims_only, with_marts=with_marts)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return env


@pytest.fixture(scope="session")
def warehouse_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Env vars of a full synthetic published warehouse (dims, returns, verdicts)."""
    return _build(tmp_path_factory.mktemp("dash_full"))


@pytest.fixture(scope="session")
def no_marts_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Env vars of a warehouse with returns and verdicts whose marts and quality tables are still empty."""
    return _build(tmp_path_factory.mktemp("dash_nomarts"), with_marts=False)


@pytest.fixture(scope="session")
def dims_only_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Env vars of a published warehouse holding only the dim schema (later tables not built yet)."""
    return _build(tmp_path_factory.mktemp("dash_dims"), dims_only=True)


@pytest.fixture(scope="session")
def empty_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Env vars of a project where nothing has been published."""
    return _env(tmp_path_factory.mktemp("dash_empty"))


@pytest.fixture
def full(warehouse_env, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for k, v in warehouse_env.items():
        monkeypatch.setenv(k, v)
    return Settings.from_env()


@pytest.fixture
def no_marts(no_marts_env, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for k, v in no_marts_env.items():
        monkeypatch.setenv(k, v)
    return Settings.from_env()


@pytest.fixture
def dims_only(dims_only_env, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for k, v in dims_only_env.items():
        monkeypatch.setenv(k, v)
    return Settings.from_env()


@pytest.fixture
def nothing(empty_env, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for k, v in empty_env.items():
        monkeypatch.setenv(k, v)
    return Settings.from_env()


@pytest.fixture
def as_office():
    """Calls of `dashboards.data` outside a Streamlit session read as the office (everything)."""
    from dashboards import auth

    with auth.acting_as(auth.EVERYTHING) as viewer:
        yield viewer
