"""The rules file is loaded once per process and content (issue 18) and never served stale: a changed
file (also of the same size, with its modification time put back), another catalog or profile
object, or a broken file is loaded afresh."""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest

from pipelines.profile import load_profiles
from pipelines.settings import PROJECT_ROOT
from pipelines.validation import quality, rules

RULES = PROJECT_ROOT / "expectations" / "rules" / "validation_rules.yaml"


@pytest.fixture
def setup(tmp_path, catalog, monkeypatch):
    path = tmp_path / "validation_rules.yaml"
    shutil.copyfile(RULES, path)
    profiles = load_profiles(PROJECT_ROOT / "expectations" / "profiles", catalog)
    loads = []
    real = rules.load_rules
    monkeypatch.setattr(rules, "load_rules", lambda *a, **k: loads.append(a) or real(*a, **k))
    monkeypatch.setattr(quality, "_RULESETS", {})
    return path, profiles, loads


def test_loaded_once_while_nothing_changes(setup, catalog):
    path, profiles, loads = setup
    first = quality.ruleset_for(path, catalog, profiles)
    assert quality.ruleset_for(path, catalog, profiles) is first
    assert len(loads) == 1
    assert first == rules.load_rules(RULES, catalog, profiles)  # what a load from scratch gives


def test_a_same_size_edit_with_the_old_mtime_is_loaded_afresh(setup, catalog):
    path, profiles, loads = setup
    first = quality.ruleset_for(path, catalog, profiles)
    text = path.read_text(encoding="utf-8")
    tol = next(r for r in first.rules if r.kind == "triangulation")
    stat = path.stat()
    # change one rule's id to another of the same length
    changed = text.replace(f"id: {tol.id}", f"id: {tol.id[:-1]}{'x' if tol.id[-1] != 'x' else 'y'}", 1)
    assert changed != text and len(changed.encode()) == len(text.encode())
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = quality.ruleset_for(path, catalog, profiles)
    assert len(loads) == 2 and second != first
    assert {r.id for r in second.rules} != {r.id for r in first.rules}


def test_other_objects_or_a_broken_file_are_not_served_the_old_rules(setup, catalog):
    path, profiles, loads = setup
    first = quality.ruleset_for(path, catalog, profiles)
    quality.ruleset_for(path, dataclasses.replace(catalog), profiles)
    assert len(loads) == 2
    quality.ruleset_for(path, catalog, [dataclasses.replace(profiles[0]), *profiles[1:]])
    assert len(loads) == 3
    path.write_text("rules: [", encoding="utf-8")
    with pytest.raises(rules.RulesError):
        quality.ruleset_for(path, catalog, profiles)
    path.unlink()
    with pytest.raises(rules.RulesError):
        quality.ruleset_for(path, catalog, profiles)
    shutil.copyfile(RULES, path)
    assert quality.ruleset_for(path, catalog, profiles) == first
