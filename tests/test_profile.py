"""County profile: hierarchy, programmes, assignments, variant switch, malformed profiles."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from pipelines.catalog import CatalogError
from pipelines.dimensions import profile_rows
from pipelines.profile import load_profile
from pipelines.warehouse.tables import dim

PROFILE = Path(__file__).resolve().parent.parent / "expectations" / "profiles" / "pingchang.yaml"


def test_hierarchy_has_province_city_county_then_units(profile):
    by_code = {u.code: u for u in profile.org_units}
    county = by_code["511923"]
    assert county.level == "county" and by_code[county.parent].level == "city"
    assert by_code[by_code[county.parent].parent].level == "province"
    assert all(u.parent == "511923" for u in profile.departments + profile.towns)
    assert len(profile.towns) >= 10


def test_five_campaigns_with_plan_dates_and_four_working_groups(profile):
    assert {p.campaign for p in profile.programmes} == {
        "env_model_city",
        "hygienic_county",
        "forest_city",
        "civilized_city",
        "eco_county",
    }
    forest = profile.programme("forest_city")
    assert forest.acceptance.year == 2016 and forest.interim_acceptance.year == 2013
    assert profile.programme("hygienic_county").acceptance.year == 2013
    assert len(profile.working_groups) == 4
    assert [p.code for p in profile.phases] == ["preparation", "implementation", "acceptance"]


def test_every_indicator_has_exactly_one_primary_reporting_unit(catalog, profile):
    assignments = profile.assignments(catalog)
    primaries = {}
    for a in assignments:
        if a.role == "primary":
            assert a.indicator not in primaries, a.indicator
            primaries[a.indicator] = a.org_code
    assert set(primaries) == set(catalog.indicators)
    # triangulation needs the same quantity from two departments
    green = {a.org_code for a in assignments if a.indicator == "builtup_green_coverage"}
    assert {"511923-zjj", "511923-lyj"} <= green
    towns = [a for a in assignments if a.role == "town" and a.indicator == "hyg_immunization_coverage"]
    assert len(towns) == len(profile.towns)


def _with_terrain(tmp_path: Path, terrain: str) -> Path:
    data = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    data["county"]["variants"]["terrain"] = terrain
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("terrain", "threshold"), [("mountain", 75), ("hill", 45)])
def test_terrain_switch_changes_resolved_eco_forest_requirement(catalog, tmp_path, terrain, threshold):
    prof = load_profile(_with_terrain(tmp_path, terrain), catalog)
    rows = profile_rows(catalog, [prof])[dim.COUNTY_REQUIREMENT]
    resolved = {r[1]: r[2] for r in rows}
    assert resolved["eco_forest_coverage"] == threshold
    assert resolved["env_api_good_days_ratio"] == 85  # no variant: unchanged


def test_profile_naming_an_unknown_campaign_or_unit_is_rejected(catalog, tmp_path):
    data = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    data["plan"]["campaigns"][0]["campaign"] = "moon_city"
    data["units"] = [u for u in data["units"] if u["code"] != "sthjj"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_profile(path, catalog)
    text = str(err.value)
    assert "bad.yaml" in text and "unknown campaign" in text and "sthjj" in text


def test_second_county_is_a_data_change(catalog, tmp_path):
    other = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    other["county"].update(code="511921", name_zh="通江县", name_en="Tongjiang County")
    shutil.copy(PROFILE, tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(other, allow_unicode=True), encoding="utf-8")
    from pipelines.profile import load_profiles

    profiles = load_profiles(tmp_path, catalog)
    rows = profile_rows(catalog, profiles)
    counties = {r[0] for r in rows[dim.COUNTY]}
    assert counties == {"511921", "511923"}
    orgs = [r[0] for r in rows[dim.ORG_UNIT]]
    assert len(orgs) == len(set(orgs))  # the shared province and city appear once


def test_profile_is_loaded_once_and_read_again_when_its_file_changes(catalog, tmp_path):
    from tests.conftest import PROFILES

    src = sorted(PROFILES.glob("*.yaml"))[0]
    path = tmp_path / src.name
    shutil.copy(src, path)
    first = load_profile(path, catalog)
    assert load_profile(path, catalog) is first
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["county"]["name_zh"] = data["county"]["name_zh"] + "（改）"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    changed = load_profile(path, catalog)
    assert changed is not first and changed.name_zh.endswith("（改）")
    other = dataclasses.replace(catalog)  # another catalog object: checked against it again
    assert load_profile(path, other) is not changed
