"""Cross-indicator rules: the loader refuses bad files clearly; each rule kind on clean and dirty data."""

from __future__ import annotations

import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.validation import rules
from tests.validation.helpers import frame, obs

RULES_FILE = PROJECT_ROOT / "expectations" / "rules" / "validation_rules.yaml"
TOWNS = ["jiangkou", "xiangtan", "sima"]


def _rule(catalog, profile, text: str, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return rules.load_rules(path, catalog, [profile])


def _evaluate(rows, ruleset, catalog, profile):
    results, violations = rules.evaluate_rules(frame(rows, catalog), ruleset, catalog, [profile])
    return {r.key: r for r in results}, violations


def test_committed_rules_file_loads(catalog, profile):
    ruleset = rules.load_rules(RULES_FILE, catalog, [profile])
    kinds = {r.kind for r in ruleset.rules}
    assert kinds == set(rules.KINDS)
    assert ruleset.bounds["hyg_life_expectancy"] == (60.0, 90.0)


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ("left: no_such_code\n    operator: '<='\n    right: builtup_green_coverage", "left", "no_such_code"),
        ("left: hyg_u5_mortality\n    operator: '=>'\n    right: hyg_infant_mortality", "operator", "=>"),
        (
            "left: hyg_u5_mortality\n    operator: '<='\n    right: __import__('os')",
            "right",
            "invalid expression",
        ),
    ],
)
def test_loader_names_file_rule_and_field(catalog, profile, tmp_path, body, field, needle):
    text = f"rules:\n  - id: r1\n    kind: compare\n    {body}\n    message_zh: 中\n    message_en: en\n"
    with pytest.raises(rules.RulesError) as err:
        _rule(catalog, profile, text, tmp_path)
    msg = str(err.value)
    assert f"rules.yaml › rules/r1 › {field}" in msg
    assert needle in msg
    assert "校验规则文件" in msg and "validation rules file" in msg


def test_loader_refuses_unknown_kind_missing_message_and_unknown_unit(catalog, profile, tmp_path):
    text = (
        "rules:\n"
        "  - {id: a, kind: magic, indicator: builtup_green_coverage, message_zh: 中, message_en: en}\n"
        "  - {id: b, kind: compare, left: hyg_u5_mortality, operator: '>=', right: hyg_infant_mortality}\n"
        "  - {id: c, kind: triangulation, indicator: builtup_green_coverage, orgs: [zjj, nobody], message_zh: 中, message_en: en}\n"
    )
    with pytest.raises(rules.RulesError) as err:
        _rule(catalog, profile, text, tmp_path)
    fields = {(p.entry, p.field) for p in err.value.problems}
    assert {
        ("rules/a", "kind"),
        ("rules/b", "message_zh"),
        ("rules/b", "message_en"),
        ("rules/c", "orgs"),
    } <= fields


def test_compare_rule_component_le_total(catalog, profile):
    ruleset = rules.load_rules(RULES_FILE, catalog, [profile])
    rows = [
        obs("hyg_u5_mortality", "wjw", "2012", 8.0, catalog=catalog),
        obs("hyg_infant_mortality", "wjw", "2012", 6.0, catalog=catalog),
        obs("hyg_u5_mortality", "wjw", "2013", 5.0, catalog=catalog),
        obs("hyg_infant_mortality", "wjw", "2013", 6.5, catalog=catalog, cell="G7"),
    ]
    by_key, violations = _evaluate(rows, ruleset, catalog, profile)
    r = by_key["u5_mortality_ge_infant_mortality"]
    assert (r.n_checked, r.n_failed) == (2, 1)
    assert list(r.failed["period_code"]) == ["2013"]
    v = next(v for v in violations if v["rule_id"] == "u5_mortality_ge_infant_mortality")
    assert (v["org_code"], v["left_value"], v["right_value"], v["operator"]) == ("511923", 5.0, 6.5, ">=")
    assert len(v["observation_ids"]) == 2 and "5岁以下" in v["message_zh"]


def test_compare_rule_with_expression_and_tolerance(catalog, profile):
    ruleset = rules.load_rules(RULES_FILE, catalog, [profile])
    rows = [  # 2012-02 has 29 days: 90% → 26.1 days; 27 is within ±2, 20 is not
        obs("hyg_aqi_good_days", "sthjj", "2012-02", 27.0, catalog=catalog),
        obs("env_api_good_days_ratio", "sthjj", "2012-02", 90.0, catalog=catalog),
        obs("hyg_aqi_good_days", "sthjj", "2012-03", 20.0, catalog=catalog),
        obs("env_api_good_days_ratio", "sthjj", "2012-03", 90.0, catalog=catalog),
    ]
    r = _evaluate(rows, ruleset, catalog, profile)[0]["aqi_good_days_match_api_ratio"]
    assert (r.n_checked, list(r.failed["period_code"])) == (2, ["2012-03"])


def test_non_current_values_are_not_evaluated(catalog, profile):
    ruleset = rules.load_rules(RULES_FILE, catalog, [profile])
    rows = [
        obs("hyg_u5_mortality", "wjw", "2012", 1.0, catalog=catalog, current=False),
        obs("hyg_u5_mortality", "wjw", "2012", 8.0, catalog=catalog, revision=2),
        obs("hyg_infant_mortality", "wjw", "2012", 6.0, catalog=catalog),
    ]
    r = _evaluate(rows, ruleset, catalog, profile)[0]["u5_mortality_ge_infant_mortality"]
    assert (r.n_checked, r.n_failed) == (1, 0)


def test_town_vs_county_range(catalog, profile):
    ruleset = rules.load_rules(RULES_FILE, catalog, [profile])
    rows = [
        obs("hyg_immunization_coverage", t, "2012-Q1", v, catalog=catalog)
        for t, v in zip(TOWNS, (92, 95, 97), strict=True)
    ]
    rows += [
        obs("hyg_immunization_coverage", t, "2012-Q2", v, catalog=catalog)
        for t, v in zip(TOWNS, (92, 95, 97), strict=True)
    ]
    rows += [
        obs("hyg_immunization_coverage", "wjw", "2012-Q1", 94.0, catalog=catalog),  # inside 92–97
        obs("hyg_immunization_coverage", "wjw", "2012-Q2", 99.5, catalog=catalog),  # above 97 + 1
    ]
    r = _evaluate(rows, ruleset, catalog, profile)[0]["immunization_county_within_towns"]
    assert (r.n_checked, list(r.failed["period_code"])) == (2, ["2012-Q2"])


def test_each_town_reaches_the_catalog_threshold(catalog, profile):
    ruleset = rules.load_rules(RULES_FILE, catalog, [profile])
    threshold = catalog.requirements["hyg_immunization_coverage"].threshold.value  # 90, not typed twice
    rows = [
        obs(
            "hyg_immunization_coverage", "jiangkou", "2012-Q1", threshold, catalog=catalog
        ),  # ≥: passes at exactly
        obs("hyg_immunization_coverage", "sima", "2012-Q1", threshold - 0.1, catalog=catalog),
    ]
    r = _evaluate(rows, ruleset, catalog, profile)[0]["immunization_each_town_reaches_threshold"]
    assert (r.n_checked, list(r.failed["org_code"])) == (2, ["511923-sima"])


def test_triangulation_between_two_departments(catalog, profile):
    ruleset = rules.load_rules(RULES_FILE, catalog, [profile])
    rows = [
        obs("builtup_green_coverage", "zjj", "2012", 38.0, catalog=catalog),
        obs("builtup_green_coverage", "lyj", "2012", 39.5, catalog=catalog),  # within ±2
        obs("builtup_green_coverage", "zjj", "2013", 40.0, catalog=catalog, cell="G5"),
        obs("builtup_green_coverage", "lyj", "2013", 45.0, catalog=catalog),  # 5 apart
        obs(
            "builtup_green_coverage", "zjj", "2014", 41.0, catalog=catalog
        ),  # only one department: not evaluated
    ]
    by_key, violations = _evaluate(rows, ruleset, catalog, profile)
    r = by_key["builtup_green_coverage_zjj_vs_lyj"]
    assert r.check_name == rules.TRIANGULATION_CHECK
    assert (r.n_checked, list(r.failed["period_code"])) == (2, ["2013"])
    assert r.failed.iloc[0]["cell"] == "G5"
    v = next(v for v in violations if v["rule_id"] == "builtup_green_coverage_zjj_vs_lyj")
    assert v["difference"] == pytest.approx(-5.0) and v["tolerance"] == 2.0


def test_holds_applies_tolerance_in_the_passing_direction():
    assert rules.holds(10.5, "<=", 10.0, 0.5)
    assert not rules.holds(10.6, "<=", 10.0, 0.5)
    assert rules.holds(9.5, ">=", 10.0, 0.5)
    assert not rules.holds(10.0, ">", 10.0, 0.0)
    assert rules.holds(10.0, ">=", 10.0, 0.0)
