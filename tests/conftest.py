"""Shared fixtures. Tests never touch the real data/ folders: `tmp_settings` points every path at
a temporary directory through the environment variables that `Settings.from_env()` reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.settings import PROJECT_ROOT, Settings

STANDARDS = PROJECT_ROOT / "expectations" / "standards"
PROFILES = PROJECT_ROOT / "expectations" / "profiles"


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(STANDARDS)


@pytest.fixture(scope="session")
def profile(catalog):
    return load_profiles(PROFILES, catalog)[0]


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the standards folder, for tests that break it on purpose."""
    dst = tmp_path / "standards"
    shutil.copytree(STANDARDS, dst)
    return dst


@pytest.fixture
def tmp_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose data folders live under tmp_path (catalog and profiles stay the real ones)."""
    monkeypatch.setenv("WUCHUANG_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("WUCHUANG_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("WUCHUANG_FEEDBACK_DIR", str(tmp_path / "feedback"))
    monkeypatch.setenv("WUCHUANG_TEMPLATES_DIR", str(tmp_path / "templates"))
    monkeypatch.setenv("WUCHUANG_GX_DIR", str(tmp_path / "gx"))
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings
