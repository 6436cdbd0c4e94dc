"""The standards catalog: completeness, shared indicators, editions, variants, malformed input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from pipelines.catalog import CatalogError, load_catalog

# Rows of shared/reference/standards_research.csv per campaign: a lost row is noticed here.
RESEARCHED = {
    "env_model_city": 25,
    "hygienic_county": 41,
    "forest_city": 22,
    "civilized_city": 26,
    "eco_county": 33,
}
# Requirements added for the editions in force in 2011–2016 (issue 13, item 1; docs/standards.md):
# (requirements read in that edition's text, proxies of the nearest edition's requirement).
ADDED_2011_2016 = {
    "forest_city": (9, 5),  # forest_2007: 国家森林城市评价指标 2007
    "hygienic_county": (4, 13),  # hyg_county_2010: 国家卫生县城标准 c.2010
}


def test_catalog_holds_all_147_researched_requirements_per_campaign(catalog):
    counts = {c: 0 for c in RESEARCHED}
    for r in catalog.requirements.values():
        counts[r.campaign] += 1
    added = {c: sum(ADDED_2011_2016.get(c, (0, 0))) for c in RESEARCHED}
    assert {c: counts[c] - added[c] for c in counts} == RESEARCHED
    assert sum(counts.values()) - sum(added.values()) == 147


def test_editions_in_force_2011_2016_are_completed_with_read_values_and_flagged_proxies(catalog):
    for campaign, (_, proxies) in ADDED_2011_2016.items():
        got = [r for r in catalog.requirements.values() if r.campaign == campaign and r.proxy]
        assert len(got) == proxies, campaign
        for r in got:
            target = catalog.requirements[r.proxy_of]
            assert not r.confirmed and r.proxy_note and r.source
            assert (target.indicator, target.comparison, target.threshold) == (
                r.indicator,
                r.comparison,
                r.threshold,
            )
            assert target.edition != r.edition and target.campaign == r.campaign and not target.proxy
    forest_2016 = catalog.requirements_in_force("forest_city", dt.date(2016, 12, 31))
    assert {"forest_coverage", "builtup_green_coverage"} <= {r.indicator for r in forest_2016}
    assert len(forest_2016) == 20
    assert len(catalog.requirements_in_force("hygienic_county", dt.date(2013, 12, 31))) == 24
    assert catalog.editions["hyg_city_2014"].proxy and catalog.editions["hyg_city_2014"].proxy_note


def test_every_requirement_keeps_source_confirmation_and_responsible_unit(catalog):
    for r in catalog.requirements.values():
        assert r.source, r.code
        assert r.responsible, r.code
        assert r.frequency in ("monthly", "quarterly", "annual")
        assert catalog.indicators[r.indicator].unit in catalog.units
    # 30 researched values unconfirmed, 2 forest_2007 values read in an undated copy, 18 proxies.
    assert sum(not r.confirmed for r in catalog.requirements.values()) == 30 + 2 + 18
    assert sum(r.proxy for r in catalog.requirements.values()) == 18


def test_green_coverage_is_one_indicator_with_a_threshold_per_campaign(catalog):
    reqs = catalog.requirements_for_indicator("builtup_green_coverage")
    by_campaign = {(r.campaign, r.edition): r.threshold.value for r in reqs}
    assert by_campaign[("env_model_city", "env_model_2006")] == 35
    assert by_campaign[("hygienic_county", "hyg_city_2014")] == 36
    assert by_campaign[("forest_city", "forest_2019")] == 40


def test_threshold_kinds_are_machine_readable(catalog):
    energy = catalog.requirements["env_industrial_energy_intensity"].threshold
    assert (energy.kind, energy.reference, energy.conditions) == (
        "relative",
        "national_avg",
        ("declining_3y",),
    )
    assert energy.token == "ref:national_avg;declining_3y"
    assert catalog.requirements["hyg_student_myopia_trend"].threshold.reference == "previous_year"
    assert catalog.requirements["hyg_notifiable_disease_incidence"].threshold.reference == "5yr_avg"
    vector = catalog.requirements["hyg_vector_density_grade"]
    assert vector.comparison == "qualitative" and "C" in vector.threshold.pass_values
    infant = catalog.requirements["hyg_infant_mortality"].threshold
    assert (infant.value, infant.or_trend) == (5.6, "declining")
    assert catalog.reference_value("national_avg", "env_industrial_energy_intensity", 2012) is not None


def test_strictly_greater_wording_becomes_strict_comparison(catalog):
    # "原文为“>90”(严格大于)" and "大于98%" must not pass at exactly the threshold.
    assert catalog.requirements["hyg_occ_hazard_declaration"].comparison == ">"
    assert catalog.requirements["env_key_enterprise_compliance"].comparison == ">"
    assert catalog.requirements["env_api_good_days_ratio"].comparison == ">="


def test_veto_items_are_flagged(catalog):
    veto = {r.code for r in catalog.requirements.values() if r.veto}
    assert {"env_no_major_incident", "civ_minors_moral_score", "eco_township_named_share"} <= veto


@pytest.mark.parametrize(
    ("campaign", "day", "edition"),
    [
        ("hygienic_county", dt.date(2014, 12, 31), "hyg_county_2010"),
        ("hygienic_county", dt.date(2015, 1, 1), "hyg_city_2014"),
        ("hygienic_county", dt.date(2021, 6, 1), "hyg_2021"),
        ("eco_county", dt.date(2015, 12, 31), "eco_2007"),
        ("eco_county", dt.date(2016, 1, 1), "eco_demo_2016"),
        ("forest_city", dt.date(2019, 9, 30), "forest_2007"),
        ("forest_city", dt.date(2019, 10, 1), "forest_2019"),
    ],
)
def test_edition_is_chosen_by_period_date(catalog, campaign, day, edition):
    assert catalog.campaigns[campaign].edition_in_force(day).code == edition
    reqs = catalog.requirements_in_force(campaign, day)
    assert reqs and {r.edition for r in reqs} == {edition}


def test_no_edition_before_a_standard_existed(catalog):
    assert catalog.campaigns["hygienic_county"].edition_in_force(dt.date(2009, 12, 31)) is None
    assert catalog.requirements_in_force("hygienic_county", dt.date(2009, 12, 31)) == []


@pytest.mark.parametrize(("terrain", "expected"), [("mountain", 75), ("hill", 45), ("plain", 18)])
def test_terrain_variant_switches_eco_county_forest_requirement(catalog, terrain, expected):
    t = catalog.requirements["eco_forest_coverage"].threshold
    assert t.resolve({"terrain": terrain}) == expected


def test_unknown_variant_class_falls_back_to_researched_value(catalog):
    assert catalog.requirements["eco_forest_coverage"].threshold.resolve({}) == 75


# --- malformed catalogs: each gives a clear message naming file, entry and field -------------


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _first_req(data):
    return data["requirements"][0]


def _set_comparison(data):
    _first_req(data)["comparison"] = "≈"


def _drop_threshold(data):
    del _first_req(data)["threshold"]


def _unknown_indicator(data):
    _first_req(data)["indicator"] = "no_such_indicator"


def _duplicate_code(data):
    data["requirements"][1]["code"] = data["requirements"][0]["code"]


def _empty_value(data):
    _first_req(data)["threshold"] = {"kind": "absolute"}


@pytest.mark.parametrize(
    ("mutate", "entry", "field", "words"),
    [
        (_set_comparison, "env_invest_index", "comparison", "unknown comparison"),
        (_drop_threshold, "env_invest_index", "threshold", "threshold is missing"),
        (_empty_value, "env_invest_index", "threshold.value", "value is missing"),
        (_unknown_indicator, "env_invest_index", "indicator", "unknown indicator"),
        (_duplicate_code, "env_invest_index", "code", "duplicate requirement code"),
    ],
)
def test_malformed_requirement_names_file_entry_and_field(catalog_copy, mutate, entry, field, words):
    _edit(catalog_copy / "requirements" / "env_model_city.yaml", mutate)
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    problems = err.value.problems
    assert any(
        p.file == "requirements/env_model_city.yaml"
        and p.entry == entry
        and p.field == field
        and words in p.message_en
        for p in problems
    ), problems
    assert "requirements/env_model_city.yaml" in str(err.value)


def test_unknown_unit_is_rejected(catalog_copy):
    def fn(data):
        data["indicators"][0]["unit"] = "furlongs"

    _edit(catalog_copy / "indicators.yaml", fn)
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    p = err.value.problems[0]
    assert (
        (p.file, p.field) == ("indicators.yaml", "unit")
        and "furlongs" in p.message_en
        and "未知计量单位" in p.message_zh
    )


def test_overlapping_editions_are_rejected(catalog_copy):
    def fn(data):
        hyg = next(c for c in data["campaigns"] if c["code"] == "hygienic_county")
        hyg["editions"][1]["effective_from"] = "2014-06-01"

    _edit(catalog_copy / "campaigns.yaml", fn)
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    p = err.value.problems[0]
    assert p.file == "campaigns.yaml" and p.entry == "hygienic_county/hyg_city_2014"
    assert "overlaps edition hyg_county_2010" in p.message_en


def test_duplicate_indicator_code_is_rejected(catalog_copy):
    def fn(data):
        data["indicators"].append(dict(data["indicators"][0]))

    _edit(catalog_copy / "indicators.yaml", fn)
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    assert any(p.field == "code" and "duplicate indicator code" in p.message_en for p in err.value.problems)


def test_all_problems_are_reported_together(catalog_copy):
    def fn(data):
        data["requirements"][0]["comparison"] = "≈"
        data["requirements"][1]["indicator"] = "nope"

    _edit(catalog_copy / "requirements" / "env_model_city.yaml", fn)
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    assert len(err.value.problems) == 2


def test_relative_threshold_without_reference_data_is_rejected(catalog_copy):
    (catalog_copy / "reference_series.yaml").write_text("series: []\n", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    assert any(
        p.entry == "env_industrial_energy_intensity" and "national_avg" in p.message_en
        for p in err.value.problems
    )


def test_broken_yaml_names_the_file(catalog_copy):
    (catalog_copy / "campaigns.yaml").write_text("campaigns: [\n", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    assert err.value.problems[0].file == "campaigns.yaml" and "YAML" in err.value.problems[0].message_en


# --- who may report what, and look-alike indicators (issue 11, items 6 and 7) ----------------------


def _indicator(data, code):
    return next(d for d in data["indicators"] if d["code"] == code)


def test_sources_policy_defaults_to_multi_and_single_is_rare_and_justified(catalog):
    sources = {i.code: i.sources for i in catalog.indicators.values()}
    assert set(sources.values()) == {"multi", "single"}
    single = {c for c, s in sources.items() if s == "single"}
    assert {"env_api_good_days_ratio", "hyg_aqi_good_days", "regional_noise"} <= single
    assert len(single) * 4 < len(sources)  # most indicators accept secondary sources
    assert sources["builtup_green_coverage"] == sources["forest_coverage"] == "multi"
    text = (Path(__file__).parents[1] / "expectations/standards/indicators.yaml").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("sources: single")]
    assert len(lines) == len(single) and all("#" in ln for ln in lines)  # each with its reason


def test_unknown_sources_policy_is_rejected(catalog_copy):
    _edit(catalog_copy / "indicators.yaml", lambda d: d["indicators"][0].__setitem__("sources", "many"))
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    p = err.value.problems[0]
    assert (p.file, p.entry, p.field) == ("indicators.yaml", "env_invest_share_gdp", "sources")
    assert "many" in p.message_en and "填报来源" in p.message_zh


def test_lookalikes_are_listed_for_the_known_pairs(catalog):
    pairs = {(i.code, n) for i in catalog.indicators.values() for n in i.not_confused_with}
    assert len(pairs) >= 20
    must = {
        ("builtup_green_coverage", "建成区绿地率"),
        ("urban_sewage_treatment", "城市污水处理率"),
        ("urban_sewage_treatment", "污水处理率"),
        ("forest_coverage", "林木绿化率"),
        ("forest_coverage", "林木覆盖率"),
        ("garbage_harmless", "生活垃圾处理率"),
        ("garbage_harmless", "生活垃圾收集率"),
        ("env_api_good_days_ratio", "空气质量优良天数"),
        ("park_green_per_capita", "公园绿地面积"),
        ("drinking_source_compliance", "水功能区水质达标率"),
    }
    assert must <= pairs
    assert "污水处理率" not in catalog.indicators["urban_sewage_treatment"].aliases
    known = catalog.known_non_catalog_quantities()
    assert known["林木绿化率"] == ("forest_coverage",)
    assert "水功能区水质达标率" in known
    assert "建成区绿地率" not in known  # a name of forest_builtup_green_space_rate_2007
    assert "空气质量优良天数" not in known  # a name of hyg_aqi_good_days


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("绿化覆盖率", "name or alias"),  # an alias of the same indicator
        ("建成区绿化覆盖率（%）", "name or alias"),  # its name, with a bracket
        ("城市建成区绿化覆盖率", "name or alias"),  # equals an alias once brackets are dropped
    ],
)
def test_a_lookalike_cannot_be_a_name_of_the_same_indicator(catalog_copy, name, words):
    _edit(
        catalog_copy / "indicators.yaml",
        lambda d: _indicator(d, "builtup_green_coverage")["not_confused_with"].append(name),
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    p = err.value.problems[0]
    assert (p.file, p.entry, p.field) == ("indicators.yaml", "builtup_green_coverage", "not_confused_with")
    assert name in p.message_en and words in p.message_en and "不能既是" in p.message_zh


def test_a_lookalike_cannot_be_a_requirement_name_of_the_same_indicator(catalog_copy):
    def fn(data):
        data["requirements"][0]["name_zh"] = "环保投资比重(县)"

    _edit(catalog_copy / "requirements" / "env_model_city.yaml", fn)
    _edit(
        catalog_copy / "indicators.yaml",
        lambda d: _indicator(d, "env_invest_share_gdp").__setitem__("not_confused_with", ["环保投资比重"]),
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    assert any(p.field == "not_confused_with" and "requirement" in p.message_en for p in err.value.problems)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("林木绿化率", "list of names"),
        (["林木绿化率", "林木绿化率"], "duplicate"),
        ([""], "invalid"),
        ([12], "invalid"),
    ],
)
def test_malformed_lookalike_lists_are_rejected(catalog_copy, value, words):
    _edit(
        catalog_copy / "indicators.yaml",
        lambda d: _indicator(d, "forest_coverage").__setitem__("not_confused_with", value),
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    p = err.value.problems[0]
    assert (p.entry, p.field) == ("forest_coverage", "not_confused_with") and words in p.message_en


# --- proxies: a malformed proxy is reported with file, entry and field ---------------------------

_PROXY = {
    "code": "forest_test_proxy",
    "edition": "forest_2007",
    "proxy": True,
    "proxy_of": "forest_greenway_density",
    "proxy_note": "2007版数值未读到",
    "source": "test",
}


@pytest.mark.parametrize(
    ("change", "field", "words_en", "words_zh"),
    [
        (
            {"proxy_of": "no_such_requirement"},
            "proxy_of",
            "must name an existing requirement",
            "须指向已有要求",
        ),
        ({"proxy_of": "env_invest_index"}, "proxy_of", "belongs to another campaign", "其他创建项目"),
        ({"proxy_of": "forest_coverage_2007"}, "proxy_of", "same edition", "同一版本"),
        (
            {"proxy_of": "forest_fire_damage_rate_2007", "edition": "forest_2024"},
            "proxy_of",
            "itself a proxy",
            "本身是代用",
        ),
        ({"indicator": "forest_coverage"}, "indicator", "must measure the indicator", "指标须与"),
        ({"confirmed": True}, "confirmed", "cannot be confirmed", "不能标为已确认"),
        ({"proxy_note": ""}, "proxy_note", "must say why", "须说明"),
    ],
)
def test_malformed_proxy_names_file_entry_and_field(catalog_copy, change, field, words_en, words_zh):
    _edit(
        catalog_copy / "requirements" / "forest_city.yaml",
        lambda d: d["requirements"].append({**_PROXY, **change}),
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy)
    assert any(
        p.file == "requirements/forest_city.yaml"
        and p.entry == "forest_test_proxy"
        and p.field == field
        and words_en in p.message_en
        and words_zh in p.message_zh
        for p in err.value.problems
    ), err.value.problems


def test_proxy_copies_the_requirement_it_stands_for_unless_it_says_otherwise(catalog_copy):
    _edit(
        catalog_copy / "requirements" / "forest_city.yaml",
        lambda d: d["requirements"].append({**_PROXY, "edition": "forest_2024", "weight": 2}),
    )
    cat = load_catalog(catalog_copy)
    proxy, target = cat.requirements["forest_test_proxy"], cat.requirements["forest_greenway_density"]
    assert (proxy.indicator, proxy.threshold, proxy.responsible) == (
        target.indicator,
        target.threshold,
        target.responsible,
    )
    assert (proxy.proxy, proxy.proxy_of, proxy.weight, proxy.confirmed) == (
        True,
        "forest_greenway_density",
        2.0,
        False,
    )


# ---- loading once per process (issue 18)


def test_libyaml_loader_reads_every_catalog_file_like_the_pure_python_loader():
    from pipelines.catalog.loader import SAFE_LOADER
    from tests.conftest import STANDARDS

    assert SAFE_LOADER is yaml.CSafeLoader  # the wheel carries libyaml: the fast path is taken
    files = sorted(Path(STANDARDS).rglob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=SAFE_LOADER) == yaml.safe_load(text), f.name


def test_catalog_is_loaded_once_and_read_again_when_a_file_changes(catalog_copy):
    first = load_catalog(catalog_copy)
    assert load_catalog(catalog_copy) is first  # cached: the same object, no parsing
    assert load_catalog(str(catalog_copy)) is first
    path = catalog_copy / "requirements" / "eco_county.yaml"
    code = _first_req(yaml.safe_load(path.read_text(encoding="utf-8")))["code"]
    assert first.requirements[code].weight == 1
    _edit(path, lambda d: _first_req(d).update(weight=3))
    changed = load_catalog(catalog_copy)
    assert changed is not first and changed.requirements[code].weight == 3
    assert load_catalog(catalog_copy) is changed
    (catalog_copy / "extra.yaml").write_text("a: 1\n", encoding="utf-8")  # an added file counts too
    assert load_catalog(catalog_copy) is not changed


def test_a_broken_catalog_is_not_cached(catalog_copy):
    good = load_catalog(catalog_copy)
    path = catalog_copy / "units.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\n  : [unclosed\n", encoding="utf-8")
    for _ in range(2):  # raised every time, not only the first
        with pytest.raises(CatalogError, match="units.yaml"):
            load_catalog(catalog_copy)
    path.write_text(original, encoding="utf-8")
    again = load_catalog(catalog_copy)
    assert again.requirements.keys() == good.requirements.keys()


def test_an_edit_of_the_same_size_within_the_same_clock_tick_is_seen(catalog_copy):
    import os

    path = catalog_copy / "requirements" / "eco_county.yaml"
    code = _first_req(yaml.safe_load(path.read_text(encoding="utf-8")))["code"]
    _edit(path, lambda d: None)  # the dumper's layout first, so the next edit keeps the size
    first = load_catalog(catalog_copy)
    st = path.stat()
    _edit(path, lambda d: _first_req(d).update(weight=3))  # weight 1 -> 3: same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same modification time
    assert path.stat().st_size == st.st_size
    assert load_catalog(catalog_copy).requirements[code].weight == 3 != first.requirements[code].weight
