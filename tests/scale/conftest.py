"""Fixtures for the province-scale tests: a small synthetic province of two counties."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.sample.__main__ import synthetic_code, write_province
from pipelines.sample.generate import DEFAULT_SEED
from pipelines.settings import Settings

COUNTIES = [synthetic_code(1), synthetic_code(2)]  # 511923 (the bundled profile) and 519001


def province_env(root: Path) -> dict[str, str]:
    """Environment for subprocesses: every data folder and the profiles under `root`."""
    env = dict(os.environ)
    env.update(
        WUCHUANG_RAW_DIR=str(root / "raw"),
        WUCHUANG_WAREHOUSE_DIR=str(root / "warehouse"),
        WUCHUANG_FEEDBACK_DIR=str(root / "feedback"),
        WUCHUANG_TEMPLATES_DIR=str(root / "templates"),
        WUCHUANG_PROFILES_DIR=str(root / "profiles"),
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONDONTWRITEBYTECODE="1",
        WUCHUANG_COUNTY_PARTITIONS="on",
    )
    env.pop("WUCHUANG_GX_DIR", None)
    env.pop("WUCHUANG_EXECUTOR", None)
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return env


@pytest.fixture(scope="session")
def province_source(tmp_path_factory) -> Path:
    """Two counties' profiles and reduced corpora (two units, one year), generated once."""
    root = tmp_path_factory.mktemp("province-source")
    write_province(
        Settings.from_env(),
        root / "raw",
        root / "profiles",
        2,
        seed=DEFAULT_SEED,
        years=[2012],
        units=["sthjj", "wjw"],
    )
    return root


@pytest.fixture
def province(province_source: Path, tmp_path: Path) -> Path:
    """A fresh copy of the two-county province (raw folder and profiles) under tmp_path."""
    import shutil

    shutil.copytree(province_source / "raw", tmp_path / "raw")
    shutil.copytree(province_source / "profiles", tmp_path / "profiles")
    return tmp_path
