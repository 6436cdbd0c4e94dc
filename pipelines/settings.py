"""Paths and tunables, resolved once from the project root and environment variables.

Every other module takes a `Settings` instead of computing paths itself. Environment variables
(all optional) override the defaults, which is how tests point the pipeline at temporary folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Where the project reads and writes. Build with `Settings.from_env()`."""

    root: Path
    raw_dir: Path
    warehouse_dir: Path
    standards_dir: Path
    profiles_dir: Path
    expectations_dir: Path
    feedback_dir: Path
    templates_dir: Path
    gx_dir: Path
    keep_snapshots: int = 3

    @property
    def warehouse_path(self) -> Path:
        """The writer's database: only the Dagster pipeline opens it."""
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        """Immutable read-only snapshots for dashboards and SQL, plus the CURRENT pointer."""
        return self.warehouse_dir / "published"

    @classmethod
    def from_env(cls) -> Settings:
        root = _path("WUCHUANG_ROOT", PROJECT_ROOT)
        data = root / "data"
        expectations = _path("WUCHUANG_EXPECTATIONS_DIR", root / "expectations")
        warehouse_dir = _path("WUCHUANG_WAREHOUSE_DIR", data / "warehouse")
        return cls(
            root=root,
            raw_dir=_path("WUCHUANG_RAW_DIR", data / "raw"),
            warehouse_dir=warehouse_dir,
            standards_dir=_path("WUCHUANG_STANDARDS_DIR", expectations / "standards"),
            profiles_dir=_path("WUCHUANG_PROFILES_DIR", expectations / "profiles"),
            expectations_dir=expectations,
            feedback_dir=_path("WUCHUANG_FEEDBACK_DIR", data / "feedback"),
            templates_dir=_path("WUCHUANG_TEMPLATES_DIR", data / "templates"),
            gx_dir=_path("WUCHUANG_GX_DIR", warehouse_dir / "gx"),
            keep_snapshots=int(os.environ.get("WUCHUANG_KEEP_SNAPSHOTS", "3")),
        )

    def ensure_dirs(self) -> None:
        for d in (self.raw_dir, self.warehouse_dir, self.published_dir, self.feedback_dir):
            d.mkdir(parents=True, exist_ok=True)
