"""Place names: subjects (whole cells) and mentions (titles, sheet and file names) for 平昌县."""

from __future__ import annotations

import time

import pytest

from pipelines.returns.places import PlaceResolver, national_divisions, normalise

COUNTY = "511923"


@pytest.fixture(scope="module")
def r(profile):
    return PlaceResolver([profile])


def kind_name(p):
    return None if p is None else (p.kind, p.level, p.name)


# -- national data ---------------------------------------------------------------------------------------
def test_national_divisions_ship_with_the_package_and_know_bazhong():
    divs = national_divisions()
    by_code = {(d.level, d.adcode): d for d in divs}
    assert len([d for d in divs if d.level == "province"]) >= 34
    assert len([d for d in divs if d.level == "prefecture"]) >= 330
    assert len([d for d in divs if d.level == "county"]) >= 2800
    assert by_code[("prefecture", "511900")].name == "巴中市"
    for code, name in {
        "511902": "巴州区",
        "511903": "恩阳区",
        "511921": "通江县",
        "511922": "南江县",
    }.items():
        assert by_code[("county", code)].name == name
        assert by_code[("county", code)].prefecture == "511900"


def test_building_is_fast_and_lookups_are_microseconds(profile):
    national_divisions()  # the data file is read once per process
    t = time.perf_counter()
    r = PlaceResolver([profile])
    assert time.perf_counter() - t < 0.3
    t = time.perf_counter()
    for i in range(2000):
        r._subject(f"其中：江口镇{i % 3}", None)
    assert (time.perf_counter() - t) / 2000 < 50e-6


# -- subjects --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "全县",
        "合计",
        "总计",
        "县合计",
        "全县合计",
        "县域",
        "平昌县",
        "平昌",
        "合  计",
        "（一）全县",
        "平昌县合计",
    ],
)
def test_county_totals_are_the_county(r, text):
    p = r.subject(text)
    assert (p.kind, p.level, p.name, p.county_code, p.adcode) == (
        "county",
        "county",
        "平昌县",
        COUNTY,
        COUNTY,
    )


@pytest.mark.parametrize("text", ["县城", "城区", "县城区", "建成区", "中心城区", "平昌县城", "平昌县城区"])
def test_seat_is_not_the_county(r, text):
    p = r.subject(text)
    assert (p.kind, p.level, p.county_code) == ("seat", "seat", COUNTY)


@pytest.mark.parametrize(
    "text",
    [
        "江口镇",
        "江口",
        "江口乡",
        "\u00a0\u00a0江口镇",
        "\u3000\u3000江口镇",
        "  江口镇  ",
        "其中：江口镇",
        "其中:江口",
        "1.江口镇",
        "１．江口镇",
        "江  口",
        "平昌县江口镇",
        "江口镇人民政府",
        "江口镇（县城所在地）",
    ],
)
def test_town_names_clean_and_dirty(r, text):
    p = r.subject(text)
    assert (p.kind, p.level, p.name, p.org_code) == ("town", "town", "江口镇", f"{COUNTY}-jiangkou")


def test_all_profile_towns_and_former_names_resolve(r, profile):
    for town in profile.all_towns:
        assert r.subject(town.name_zh).org_code == town.code
        for alias in town.aliases:
            assert r.subject(alias).org_code == town.code, alias
    assert len(profile.all_towns) > 40
    assert r.subject("长垭乡").name == "元石镇"  # merged before the plan period
    assert r.subject("青云乡").name == "青云镇"  # a 乡 made a 镇 keeps matching
    assert r.subject("同州街道办事处").name == "同州街道"
    assert r.subject("六门").name == "六门乡"


def test_stem_shared_by_a_town_and_a_subdistrict_goes_to_the_town(r):
    assert r.subject("江口").name == "江口镇"
    assert r.subject("江口街道").name == "江口街道"
    assert r.subject("江口街道").org_code == f"{COUNTY}-jiangkou_jd"


@pytest.mark.parametrize(
    ("text", "level", "name", "adcode"),
    [
        ("全国", "nation", "全国", None),
        ("全国平均", "nation", "全国", None),
        ("全省", "province", "四川省", "510000"),
        ("本省", "province", "四川省", "510000"),
        ("全市", "prefecture", "巴中市", "511900"),
        ("四川省", "province", "四川省", "510000"),
        ("四川", "province", "四川省", "510000"),
        ("巴中市", "prefecture", "巴中市", "511900"),
        ("巴中", "prefecture", "巴中市", "511900"),
        ("巴州区", "county", "巴州区", "511902"),
        ("恩阳区", "county", "恩阳区", "511903"),
        ("通江县", "county", "通江县", "511921"),
        ("通江", "county", "通江县", "511921"),
        ("南江县", "county", "南江县", "511922"),
        ("达县", "county", "达县", "511721"),  # a plan-period name (达川区 since 2013)
        ("北京", "province", "北京市", "110000"),
    ],
)
def test_other_areas(r, text, level, name, adcode):
    p = r.subject(text)
    assert (p.kind, p.level, p.name, p.adcode, p.county_code) == ("other", level, name, adcode, None)


def test_same_names_elsewhere(r):
    # This county's towns win over same-named counties elsewhere; the full county name does not.
    assert kind_name(r.subject("江口")) == ("town", "town", "江口镇")
    assert kind_name(r.subject("江口县")) == ("other", "county", "江口县")  # 贵州省铜仁市
    assert kind_name(r.subject("龙岗")) == ("town", "town", "龙岗镇")
    assert kind_name(r.subject("龙岗区")) == ("other", "county", "龙岗区")  # 深圳市
    assert kind_name(r.subject("灵山县")) == ("other", "county", "灵山县")  # 广西
    p = r.subject("朝阳区")  # 北京 and 长春: another county, code unknown
    assert (p.kind, p.level, p.adcode) == ("other", "county", None)
    assert r.subject("吉林") is None  # 吉林省 or 吉林市: ambiguous short name


@pytest.mark.parametrize(
    "text",
    [
        "城市污水处理率",
        "城区绿化覆盖率",
        "建成区绿地率",
        "县城生活垃圾无害化处理率",
        "全县森林覆盖率",
        "江口镇污水处理率",
        "平昌县生态环境局",
        "2014年",
        "PM10",
        "",
        None,
        "城关镇",  # not a town of 平昌县 and not the seat
        "合计（万元）数据",
    ],
)
def test_indicator_names_and_other_cells_are_not_subjects(r, text):
    assert r.subject(text) is None


def test_without_a_profile_only_national_names(profile):
    r = PlaceResolver([])
    assert r.subject("全县") is None and r.subject("江口镇") is None
    assert kind_name(r.subject("江口")) == ("other", "county", "江口县")
    assert kind_name(r.subject("巴中市")) == ("other", "prefecture", "巴中市")


def test_county_argument_selects_the_profile(profile):
    r = PlaceResolver([profile])
    assert r.subject("全县", county=COUNTY).county_code == COUNTY
    # An unknown county code is never guessed: national names only.
    assert r.subject("全县", county="999999") is None
    assert kind_name(r.subject("巴中市", county="999999")) == ("other", "prefecture", "巴中市")


# -- mentions --------------------------------------------------------------------------------------------
def ms(r, text):
    return [(m.kind, m.level, m.name, m.matched) for m in r.mentions(text)]


def test_mentions_titles(r):
    assert ms(r, "巴中市2013年环境质量公报") == [("other", "prefecture", "巴中市", "巴中市")]
    assert ms(r, "平昌县统计年鉴2014") == [("county", "county", "平昌县", "平昌县")]
    assert ms(r, "四川省各市州PM10浓度") == [("other", "province", "四川省", "四川省")]
    assert ms(r, "全国城市空气质量") == [("other", "nation", "全国", "全国")]
    assert ms(r, "全省21个市州") == [("other", "province", "四川省", "全省")]
    assert ms(r, "江口镇2014年3月") == [("town", "town", "江口镇", "江口镇")]
    assert ms(r, "江口2014") == [("town", "town", "江口镇", "江口")]


def test_mentions_prefer_the_most_specific_and_longest(r):
    assert ms(r, "四川省巴中市平昌县2014年") == [("county", "county", "平昌县", "四川省巴中市平昌县")]
    assert ms(r, "巴中市平昌生态环境局2014年报表") == [("county", "county", "平昌县", "巴中市平昌")]
    assert ms(r, "平昌县与通江县对比") == [
        ("county", "county", "平昌县", "平昌县"),
        ("other", "county", "通江县", "通江县"),
    ]


def test_mentions_seat_versus_county(r):
    assert ms(r, "平昌县城污水处理厂") == [("seat", "seat", "平昌县城", "平昌县城")]
    assert ms(r, "县城建成区绿化覆盖率")[0][:2] == ("seat", "seat")
    assert ms(r, "平昌县城乡居民收入") == [("county", "county", "平昌县", "平昌县")]
    assert ms(r, "县城市管理局2014年工作总结") == []
    assert ms(r, "全县城镇化率") == [("county", "county", "平昌县", "全县")]
    # The seat of another area is that area, not this county's seat.
    assert ms(r, "巴中市城区空气质量") == [("other", "prefecture", "巴中市", "巴中市")]
    assert ms(r, "通江县城区") == [("other", "county", "通江县", "通江县")]


def test_mentions_ignore_short_names_inside_words(r):
    assert ms(r, "长江口水质") == []
    assert ms(r, "大同小异") == []
    assert ms(r, "中山路改造") == []
    assert ms(r, "洞庭湖南岸") == []
    assert ms(r, "城市污水处理率") == []
    assert ms(r, "2014年四川各市州") == [("other", "province", "四川省", "四川")]


def test_mentions_full_width_and_spaces(r):
    assert ms(r, "（巴中市）２０１３年　环境质量") == [("other", "prefecture", "巴中市", "巴中市")]
    assert ms(r, "平 昌 县 统计年鉴") == [("county", "county", "平昌县", "平昌县")]


def test_foreign(r):
    assert r.foreign("巴中市2013年环境质量公报").name == "巴中市"
    assert r.foreign("四川省各市州PM10浓度").level == "province"
    assert r.foreign("通江县2014年监测月报").name == "通江县"
    assert r.foreign("巴中市各县区：通江县").name == "通江县"  # the most specific other area
    assert r.foreign("平昌县2014年监测月报") is None
    assert r.foreign("巴中市平昌县2014年") is None
    assert r.foreign("江口镇污水处理") is None
    assert r.foreign("2014年监测月报") is None


def test_memoised_results_are_stable(r):
    a = r.mentions("巴中市2013年环境质量公报")
    a.clear()
    assert len(r.mentions("巴中市2013年环境质量公报")) == 1
    assert r.subject("江口") is r.subject("江口")


def test_normalise():
    assert normalise("\u00a0江口\u3000镇 ") == "江口镇"
    assert normalise("ＰＭ１０（％）") == "PM10(%)"
    assert normalise(None) == ""
