"""Matching names to indicators, header cells to column roles and texts to org units.

The fuzzy matcher must accept slightly different wording but refuse ambiguous or low-confidence
names with the candidates named, never guessing silently.
"""

from __future__ import annotations

import dataclasses

import pytest

from pipelines.catalog.model import Catalog, Indicator, Requirement, Threshold
from pipelines.returns.matching import (
    AMBIGUITY_MARGIN,
    FUZZY_FLOOR,
    HeaderMatcher,
    IndicatorMatcher,
    OrgMatcher,
    name_key,
    stripped_key,
    unit_names,
)


def _ind(code: str, name: str, aliases: tuple[str, ...] = ()) -> Indicator:
    return Indicator(code, name, code, "%", "monthly", "mean", "number", aliases)


def _req(code: str, indicator: str, name: str) -> Requirement:
    return Requirement(
        code, "c", "e", indicator, name, name, ">=", Threshold("absolute", 1.0), "monthly", "sthjj"
    )


@pytest.fixture(scope="module")
def small_catalog() -> Catalog:
    inds = [
        _ind("urban_garbage", "城市生活垃圾无害化处理率"),
        _ind("rural_garbage", "农村生活垃圾无害化处理率"),
        _ind("green", "建成区绿化覆盖率", ("绿化覆盖率",)),
        _ind("noise", "区域环境噪声平均值"),
    ]
    reqs = [_req("r1", "noise", "城市区域环境噪声平均值(昼间)")]
    return Catalog({}, {}, {i.code: i for i in inds}, {r.code: r for r in reqs}, ())


# --- keys ---


def test_name_key_ignores_whitespace_brackets_punctuation_and_width():
    assert name_key(" 建成区 绿化覆盖率（％）") == name_key("建成区绿化覆盖率(%)")
    assert name_key("“建成区”绿化、覆盖率。") == name_key("建成区绿化覆盖率")
    assert name_key("PM2.5年均浓度") == "pm2.5年均浓度"
    assert stripped_key("建成区绿化覆盖率（%）") == "建成区绿化覆盖率"
    assert stripped_key("人均GDP(且经济持续增长率高于全国平均)") == "人均gdp"


# --- indicators, real catalog ---


def test_exact_names_aliases_and_codes_match_the_real_catalog(catalog):
    m = IndicatorMatcher(catalog)
    ind = catalog.indicators["drinking_source_compliance"]
    assert m.match(ind.name_zh).code == ind.code
    assert m.match(ind.name_zh).method == "exact"
    assert m.match("饮用水源水质达标率").code == ind.code  # alias
    assert m.match(" 饮用水源 水质达标率 ").code == ind.code  # whitespace
    assert m.match("drinking_source_compliance").code == ind.code  # the code itself
    hit = m.match("森林覆盖率（%）")
    assert (hit.code, hit.method) == ("forest_coverage", "exact_stripped")


def test_slightly_different_wording_matches_fuzzily_above_the_floor(catalog):
    m = IndicatorMatcher(catalog)
    hit = m.match("饮用水水质达标率")
    assert hit.ok and hit.code == "drinking_source_compliance"
    assert hit.method == "fuzzy" and hit.score >= FUZZY_FLOOR


def test_low_confidence_names_are_rejected_with_candidates(catalog):
    m = IndicatorMatcher(catalog)
    hit = m.match("覆盖率")  # too short to tell 绿化覆盖率 from 森林覆盖率
    assert not hit.ok and hit.code is None
    assert hit.reason == "unknown_indicator"
    assert {c for c, _ in hit.candidates} >= {"builtup_green_coverage", "forest_coverage"}
    assert "森林覆盖率" in hit.candidates_text(catalog)
    nothing = m.match("本单位食堂满意度")
    assert nothing.reason == "unknown_indicator" and not nothing.ok
    assert m.match("").reason == "unknown_indicator"


def test_matches_are_memoised(catalog):
    m = IndicatorMatcher(catalog)
    assert m.match("饮用水水质达标率") is m.match("饮用水水质达标率")


# --- indicators, small catalog: ambiguity and requirement names ---


def test_ambiguous_fuzzy_names_are_refused_never_guessed(small_catalog):
    m = IndicatorMatcher(small_catalog)
    hit = m.match("镇生活垃圾无害化处理率")  # as close to 城市… as to 农村…
    assert hit.code is None
    assert hit.reason == "ambiguous_indicator"
    codes = [c for c, _ in hit.candidates[:2]]
    assert set(codes) == {"urban_garbage", "rural_garbage"}
    assert hit.candidates[0][1] - hit.candidates[1][1] < AMBIGUITY_MARGIN
    assert "城市生活垃圾无害化处理率" in hit.candidates_text(small_catalog)
    assert "农村生活垃圾无害化处理率" in hit.candidates_text(small_catalog)


def test_a_clear_fuzzy_winner_is_accepted(small_catalog):
    hit = IndicatorMatcher(small_catalog).match("城市生活垃圾无害处理率")
    assert hit.code == "urban_garbage" and hit.method == "fuzzy"


def test_requirement_names_map_to_their_indicator(small_catalog):
    m = IndicatorMatcher(small_catalog)
    assert m.match("城市区域环境噪声平均值(昼间)").code == "noise"
    assert m.match("城市区域环境噪声平均值").code == "noise"  # without the bracket


def test_a_name_shared_by_two_indicators_is_ambiguous_even_when_exact(small_catalog):
    inds = dict(small_catalog.indicators)
    inds["green2"] = _ind("green2", "公园绿化覆盖率", ("绿化覆盖率",))
    cat = dataclasses.replace(small_catalog, indicators=inds)
    hit = IndicatorMatcher(cat).match("绿化覆盖率")
    assert hit.reason == "ambiguous_indicator" and hit.code is None
    assert {c for c, _ in hit.candidates} == {"green", "green2"}


# --- header columns ---


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("指标名称", "name"),
        ("考核指标", "name"),
        ("项目", "name"),
        ("本期数值", "value"),
        ("本月数", "value"),
        ("完成值", "value"),
        ("年度值", "value"),
        ("本期完成数", "value"),  # fuzzy
        ("计量单位", "unit"),
        ("单位", "unit"),
        ("指标代码", "code"),
        ("报告期", "period"),
        ("序号", "seq"),
        ("备注", "remark"),
        ("目标值", "target"),
        ("标准值", "target"),
        ("标准要求", "target"),
        ("上期数值", "previous"),
        ("上年同期", "previous"),
    ],
)
def test_header_cells_get_their_column_role(text, role):
    hit = HeaderMatcher().match(text)
    assert hit is not None and hit.role == role


def test_header_unit_hint_and_non_headers():
    h = HeaderMatcher()
    assert h.match("本期数值（%）").unit_hint == "%"
    assert h.match("本期数值（%）").role == "value"
    assert h.match("平昌县环境保护局2012年3月环境质量指标完成情况表") is None
    assert h.match("85.3") is None
    assert h.match("集中式饮用水水源地水质达标率") is None


def test_target_and_previous_columns_are_never_value_columns():
    h = HeaderMatcher()
    for text in ("目标值", "标准值", "上期", "上期数值", "上年同期", "目标"):
        assert h.match(text).role != "value", text


# --- org units ---


def test_current_and_old_unit_names_are_found_in_titles(profile):
    m = OrgMatcher([profile])
    assert m.find("平昌县环境保护局2012年3月环境质量指标完成情况表").org_code == "511923-sthjj"
    assert m.find("县环保局月报").org_code == "511923-sthjj"
    assert m.find("县卫生局2012年报表").org_code == "511923-wjw"
    assert m.find("县住建局").org_code == "511923-zjj"
    assert m.find("县建设局").org_code == "511923-zjj"
    assert m.find("县综合行政执法局").org_code == "511923-cgj"
    assert m.find("县文广新局").org_code == "511923-wglj"
    assert m.find("县委宣传部").org_code == "511923-wmb"
    assert m.find("县林业局报表").org_code == "511923-lyj"
    assert m.find("江口镇2012年3月").org_code == "511923-jiangkou"


def test_unit_from_short_code_in_file_names(profile):
    m = OrgMatcher([profile])
    assert m.find("2012-03_sthjj_县生态环境局").org_code == "511923-sthjj"
    assert m.find("sthjj_2012-03").org_code == "511923-sthjj"
    assert m.find("2012年3月环境质量月报").org_code is None
    assert m.by_folder("511923", "sthjj") == "511923-sthjj"
    assert m.by_folder("511923", "nope") is None


def test_two_different_units_named_equally_long_is_no_answer(profile):
    m = OrgMatcher([profile])
    hit = m.find("县林业局 县水务局")  # two units, same name length
    assert hit.org_code is None
    assert set(hit.candidates) == {"511923-lyj", "511923-slj"}
    # the longest name wins over a shorter one
    assert m.find("县林业局、县生态环境局联合报表").org_code == "511923-sthjj"


def test_profile_aliases_include_old_names_and_keep_defaults(profile):
    sthjj = next(u for u in profile.departments if u.short_code == "sthjj")
    assert "县环境保护局" in sthjj.aliases
    assert "环境保护局" in unit_names(sthjj)  # without the leading 县
    tjj = next(u for u in profile.departments if u.short_code == "tjj")
    assert tjj.aliases == ()


def test_a_unit_name_shared_by_two_counties_is_resolved_by_county(profile):
    other = dataclasses.replace(
        profile,
        code="511922",
        name_zh="南江县",
        org_units=tuple(
            dataclasses.replace(u, code=u.code.replace("511923", "511922"), county="511922")
            for u in profile.org_units
        ),
    )
    m = OrgMatcher([profile, other])
    assert m.find("县林业局").org_code is None  # both counties have one
    assert m.find("县林业局", county="511922").org_code == "511922-lyj"
    assert m.find("南江县林业局报表").org_code == "511922-lyj"
