"""Fixtures of the plan-process tests: the real catalog, profile, checklists and points."""

from __future__ import annotations

import pytest

from pipelines.catalog import load_catalog
from pipelines.plan_process import points as pts
from pipelines.profile import load_profiles
from pipelines.settings import Settings


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(Settings.from_env().standards_dir)


@pytest.fixture(scope="session")
def profile(catalog):
    return load_profiles(Settings.from_env().profiles_dir, catalog)[0]


@pytest.fixture(scope="session")
def checklists(catalog):
    return pts.load_checklists(Settings.from_env().standards_dir, set(catalog.campaigns))


@pytest.fixture(scope="session")
def points(profile, checklists):
    return pts.load_points(Settings.from_env().expectations_dir, profile, checklists)
