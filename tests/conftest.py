"""Shared fixtures. Tests never touch the real data/ folders: `tmp_settings` points every path at
a temporary directory through the environment variables that `Settings.from_env()` reads."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pipelines.catalog import load_catalog
from pipelines.profile import load_profiles
from pipelines.settings import PROJECT_ROOT, Settings

STANDARDS = PROJECT_ROOT / "expectations" / "standards"
PROFILES = PROJECT_ROOT / "expectations" / "profiles"


def pytest_configure(config):
    """Tests never write the project's Dagster instance (`.dagster_home`, which the Makefile
    exports): each test process (each xdist worker) gets a Dagster home of its own. Two workers
    creating the instance's SQLite storage at the same moment left two schema heads in it, and
    `make run` after `make test` then failed to open the instance."""
    home = os.environ.get("DAGSTER_HOME", "")
    if not home or Path(home).resolve() == (PROJECT_ROOT / ".dagster_home").resolve():
        private = Path(tempfile.mkdtemp(prefix="wuchuang-dagster-home-"))
        (private / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(private)


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
