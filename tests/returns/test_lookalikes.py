"""Look-alike indicators are never merged (issue 11, item 7).

Every `not_confused_with` pair of the real catalog is tried in both directions, exactly and with the
brackets, units and spacing departments add: the look-alike never matches the indicator it is
listed on, and the indicator's own names never match the look-alike's indicator.
"""

from __future__ import annotations

import pytest

from pipelines.catalog.loader import load_catalog
from pipelines.catalog.model import Catalog, Indicator
from pipelines.returns.matching import IndicatorMatcher, name_key
from tests.conftest import STANDARDS

_CATALOG = load_catalog(STANDARDS)
PAIRS = sorted((i.code, n) for i in _CATALOG.indicators.values() for n in i.not_confused_with)
VARIANTS = ("{}", "{}(%)", "{}（％）", " {} ", "{}%", "{}（2013年）", "{}[注]", "全县{}", "{}(全县)")


@pytest.fixture(scope="module")
def matcher() -> IndicatorMatcher:
    return IndicatorMatcher(_CATALOG)


def _own_code(name: str) -> set[str]:
    """The catalog indicators whose own name (name, alias, requirement name) this is."""
    return {
        c for n, codes in _CATALOG.indicator_names().items() if name_key(n) == name_key(name) for c in codes
    }


def test_there_are_enough_pairs_to_mean_something():
    assert len(PAIRS) >= 20
    assert len({code for code, _ in PAIRS}) >= 10


@pytest.mark.parametrize(("code", "lookalike"), PAIRS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_lookalike_never_matches_the_indicator_it_is_not(matcher, code, lookalike, variant):
    hit = matcher.match(variant.format(lookalike))
    assert hit.code != code, (variant.format(lookalike), hit)


@pytest.mark.parametrize(("code", "lookalike"), PAIRS)
def test_a_lookalike_is_refused_or_matches_its_own_catalog_indicator(matcher, code, lookalike):
    hit = matcher.match(lookalike)
    own = _own_code(lookalike)
    if own:  # e.g. 建成区绿地率 is forest_builtup_green_space_rate_2007's name
        assert hit.code in own and hit.method == "exact"
    else:  # a known non-catalog quantity
        assert hit.code is None and hit.reason == "lookalike_indicator"
        assert hit.lookalike == lookalike and code in hit.lookalike_of
        zh, en = hit.lookalike_message(_CATALOG)
        assert f"“{lookalike}”不是" in zh and _CATALOG.indicators[code].name_zh in zh
        assert code in en


@pytest.mark.parametrize(("code", "lookalike"), PAIRS)
def test_the_indicators_own_names_never_match_the_lookalike(matcher, code, lookalike):
    ind = _CATALOG.indicators[code]
    other = _own_code(lookalike)
    for name in ind.names:
        for variant in ("{}", "{}(%)", " {} "):
            hit = matcher.match(variant.format(name))
            assert hit.code == code, (variant.format(name), hit)
            assert hit.code not in other


@pytest.mark.parametrize(
    ("name", "not_code"),
    [
        ("建成区绿地率(%)", "builtup_green_coverage"),
        ("建成区绿地率（％）", "builtup_green_coverage"),
        ("城市污水处理率(%)", "urban_sewage_treatment"),
        ("县城污水处理率（%）", "urban_sewage_treatment"),
        ("污水处理率", "urban_sewage_treatment"),
        ("林木绿化率(%)", "forest_coverage"),
        ("全县林木覆盖率", "forest_coverage"),
        ("生活垃圾处理率(%)", "garbage_harmless"),
        ("生活垃圾收集率", "garbage_harmless"),
        ("空气质量优良天数(天)", "env_api_good_days_ratio"),
        ("公园绿地面积(公顷)", "park_green_per_capita"),
        ("水功能区水质达标率(%)", "drinking_source_compliance"),
        ("农村生活污水集中处理率", "urban_sewage_treatment"),  # would fuzzy-match at 90 without the list
        ("农村生活垃圾无害化处理率", "garbage_harmless"),  # idem
    ],
)
def test_the_issues_examples(matcher, name, not_code):
    hit = matcher.match(name)
    assert hit.code != not_code


def test_exact_names_win_over_lookalikes(matcher):
    assert matcher.match("建成区绿化覆盖率").code == "builtup_green_coverage"
    assert matcher.match("建成区绿地率").code == "forest_builtup_green_space_rate_2007"
    assert matcher.match("城市生活污水集中处理率").code == "urban_sewage_treatment"
    assert matcher.match("空气质量优良天数").code == "hyg_aqi_good_days"
    assert matcher.match("空气质量优良天数比例").code == "env_api_good_days_ratio"
    assert matcher.match("森林覆盖率").code == "forest_coverage"


def test_the_message_names_both_quantities(matcher):
    hit = matcher.match("林木绿化率")
    zh, en = hit.lookalike_message(_CATALOG)
    assert zh.startswith("“林木绿化率”不是“森林覆盖率”[forest_coverage]")
    assert "'森林覆盖率' [forest_coverage]" in en
    near = matcher.match("林木绿化率(%)")
    assert near.reason == "lookalike_indicator"
    assert "林木绿化率" in near.lookalike_message(_CATALOG)[0]


# --- the fuzzy rule on a small catalog: no bridge between look-alikes ------------------------------


def _ind(code: str, name: str, aliases=(), not_confused_with=()) -> Indicator:
    return Indicator(
        code, name, code, "%", "annual", "last", "number", tuple(aliases), tuple(not_confused_with)
    )


@pytest.fixture(scope="module")
def small() -> IndicatorMatcher:
    inds = [
        _ind("green_cover", "建成区绿化覆盖率", not_confused_with=["建成区绿地率"]),
        _ind("sewage", "城镇生活污水集中处理率", ["生活污水集中处理率"], ["污水处理率", "城市污水处理率"]),
        _ind("forest", "森林覆盖率", not_confused_with=["林木绿化率"]),
    ]
    return IndicatorMatcher(Catalog({}, {}, {i.code: i for i in inds}, {}, ()))


def test_a_typo_of_a_lookalike_is_refused_not_bridged(small):
    hit = small.match("建成区绿地率%")
    assert hit.code is None and hit.reason == "lookalike_indicator" and hit.lookalike_of == ("green_cover",)
    hit = small.match("城市污水的处理率")
    assert hit.code is None and hit.reason == "lookalike_indicator"


def test_a_typo_of_the_indicator_still_matches(small):
    hit = small.match("建成区绿化复盖率")  # 复 for 覆
    assert hit.code == "green_cover" and hit.method == "fuzzy"
    assert small.match("城镇生活污水集中处理率(县城)").code == "sewage"


def test_without_the_list_the_fuzzy_matcher_would_have_bridged():
    """The control: the same names without `not_confused_with` do match fuzzily, so the refusals
    above are the look-alike rule at work, not a floor that happens to be high enough."""
    bare = IndicatorMatcher(
        Catalog(
            {},
            {},
            {"sewage": _ind("sewage", "城镇生活污水集中处理率", ["生活污水集中处理率"])},
            {},
            (),
        )
    )
    hit = bare.match("农村生活污水集中处理率")
    assert hit.code == "sewage"
    listed = IndicatorMatcher(
        Catalog(
            {},
            {},
            {
                "sewage": _ind(
                    "sewage", "城镇生活污水集中处理率", ["生活污水集中处理率"], ["农村生活污水集中处理率"]
                )
            },
            {},
            (),
        )
    )
    refused = listed.match("农村生活污水集中处理率")
    assert refused.code is None and refused.reason == "lookalike_indicator"
    near = listed.match("农村生活污水集中处理率(%)")
    assert near.code is None and near.reason == "lookalike_indicator"
