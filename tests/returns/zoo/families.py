"""The zoo's files, one function per layout family. See build.py for the markers E / X / Pct."""

from __future__ import annotations

import datetime as dt

from openpyxl.utils import get_column_letter as L

from tests.returns.zoo.build import (
    MONTHS_ZH,
    QUARTERS_ZH,
    TOWNS,
    E,
    Pct,
    Sheet,
    Values,
    X,
    Zoo,
    fw,
    received,
)

TARGET = "target/plan value, not an actual"
PREV = "previous period / same period last year"
CHANGE = "change or year-on-year growth"
RATE = "completion rate of a target"
CUM = "cumulative year-to-date, not this period's value"
SEAT = "县城 (county seat) figure, not the county (全县) figure"
APPROX = "approximate or bounded value, not exact"
IMPOSSIBLE = "impossible value for a percent"
FERR = "formula error"
OTHER = "figure of another area"
NOTCAT = "not a catalog indicator (look-alike)"
DERIVED = "derived average/summary row; the platform computes rollups itself"


def _signature(zoo_unit: str) -> list[list]:
    return [["填表人：王丽", None, "审核人：陈建国", None, "联系电话：0827-6222xxx"]]


# --- long tables ---------------------------------------------------------------------------------


def long_tables(zoo: Zoo) -> None:
    v = Values("long1")
    g, s, p = (
        v("builtup_green_coverage"),
        v("forest_builtup_green_space_rate_2007"),
        v("park_green_per_capita"),
    )
    n = v("hyg_sewer_network_coverage")
    zoo.add(
        "long",
        "zjj",
        "2014年创卫指标完成情况表.xlsx",
        [
            Sheet(
                "Sheet1",
                [
                    ["平昌县住房和城乡建设局2014年创卫指标完成情况表"],
                    ["填报单位：平昌县住房和城乡建设局（盖章）", None, None, None, "填报日期：2015年1月12日"],
                    ["序号", "指标名称", "计量单位", "目标值", "实际完成", "完成率(%)", "备注"],
                    [
                        1,
                        "建成区绿化覆盖率",
                        "%",
                        X(36, TARGET),
                        E(g, "builtup_green_coverage"),
                        X(round(g / 36 * 100, 1), RATE),
                    ],
                    [
                        2,
                        "建成区绿地率",
                        "%",
                        X(31, TARGET),
                        E(s, "forest_builtup_green_space_rate_2007"),
                        X(round(s / 31 * 100, 1), RATE),
                        "与绿化覆盖率不同口径",
                    ],
                    [
                        3,
                        "人均公园绿地面积",
                        "平方米/人",
                        X(9, TARGET),
                        E(p, "park_green_per_capita"),
                        X(round(p / 9 * 100, 1), RATE),
                    ],
                    [
                        4,
                        "县城下水道管网覆盖率",
                        "%",
                        X(90, TARGET),
                        E(n, "hyg_sewer_network_coverage"),
                        X(round(n / 90 * 100, 1), RATE),
                    ],
                    [],
                    *_signature("zjj"),
                    ["注：完成率=实际完成/目标值×100%。"],
                ],
                ["A1:G1", "A2:D2", "E2:G2"],
            )
        ],
        "2014",
        dt.date(2015, 1, 12),
    )

    v = Values("long2")
    a, d, w, l1 = (
        v("env_api_good_days_ratio"),
        100,
        v("env_water_function_zone_compliance"),
        v("hyg_drinking_source_lvl1_compliance"),
    )
    zoo.add(
        "long",
        "sthjj",
        "2013年5月环境质量月报.xlsx",
        [
            Sheet(
                "5月",
                [
                    ["平昌县环境保护局2013年5月环境质量月报"],
                    ["序号", "监测项目", "单位", "本月", "累计", "备注"],
                    [1, "空气质量优良天数比例", "%", E(a, "env_api_good_days_ratio"), X(v.near(a, 2), CUM)],
                    [
                        2,
                        "饮用水源水质达标率",
                        "%",
                        E(str(d), "drinking_source_compliance"),
                        X("100", CUM),
                        "3个断面",
                    ],
                    [
                        3,
                        "城市水环境功能区水质达标率",
                        "％",
                        E(fw(w), "env_water_function_zone_compliance"),
                        X(fw(v.near(w, 2)), CUM),
                    ],
                    [
                        4,
                        "集中式饮用水水源地一级保护区水质达标率",
                        "%",
                        E(l1, "hyg_drinking_source_lvl1_compliance"),
                        X(l1, CUM),
                    ],
                    [],
                    ["填表人：张敏", None, "审核人：李强", None, "报送日期：2013年6月5日"],
                ],
                ["A1:F1"],
            )
        ],
        "2013-05",
        dt.date(2013, 6, 5),
    )

    v = Values("long3")
    zoo.add(
        "long",
        "cgj",
        "城管局2015年8月创卫指标报表.xlsx",
        [
            Sheet(
                "报表",
                [
                    ["县城市管理局2015年8月创卫指标报表"],
                    ["项目", "计量单位", "数值", "备注"],
                    ["垃圾无害化处理率", "%", X("约95", APPROX), "估算"],
                    [
                        "垃圾密闭清运率",
                        "%",
                        E(v("hyg_closed_garbage_transport"), "hyg_closed_garbage_transport"),
                    ],
                    ["生活垃圾和粪便无害化处理率", "%", None, "待核实"],
                    ["主要街道每日保洁时间", "小时/天", E(16, "hyg_street_cleaning_hours")],
                    ["审核人：", None, "填表人："],
                ],
                ["A1:D1"],
            )
        ],
        "2015-08",
        dt.date(2015, 9, 7),
    )

    v = Values("long4")
    c, u3, smi = v("hyg_vaccination_card_rate"), v("hyg_u3_child_mgmt"), v("hyg_smi_management")
    zoo.add(
        "long",
        "wjw",
        "2014年第二季度创卫指标监测表.xlsx",
        [
            Sheet(
                "二季度",
                [
                    ["平昌县卫生和计划生育局2014年第二季度创卫指标监测表"],
                    ["项目名称", "计量单位", "本期数", "上年同期", "增减(%)"],
                    [
                        "居住满3个月以上的适龄儿童建卡、建证率",
                        "%",
                        E(c, "hyg_vaccination_card_rate"),
                        X(c - 1.5, PREV),
                        X(1.5, CHANGE),
                    ],
                    [
                        "辖区内3岁以下儿童系统管理率",
                        "%",
                        E(u3, "hyg_u3_child_mgmt"),
                        X(round(u3 - 2.1, 1), PREV),
                        X(2.1, CHANGE),
                    ],
                    [
                        "严重精神障碍患者规范管理率",
                        "%",
                        E(smi, "hyg_smi_management"),
                        X(round(smi + 1.2, 1), PREV),
                        X(-1.2, CHANGE),
                    ],
                    ["注：增减为百分点。"],
                ],
                ["A1:E1"],
            )
        ],
        "2014-Q2",
        received("2014-Q2", 9),
    )

    v = Values("long5")
    fc = v("forest_coverage")
    zoo.add(
        "long",
        "lyj",
        "2013年度森林城市指标完成情况.xlsx",
        [
            Sheet(
                "Sheet1",
                [
                    ["平昌县林业局2013年度创建国家森林城市指标完成情况"],
                    ["指标", "单位", "完成值", "目标值", "备注"],
                    ["森林覆盖率", "%", E(fc, "forest_coverage"), X(60, TARGET)],
                    ["林木绿化率", "%", X(round(fc + 4.1, 2), NOTCAT), X(63, TARGET), "含四旁树"],
                    [
                        "建成区绿化覆盖率",
                        "%",
                        E(v("builtup_green_coverage"), "builtup_green_coverage"),
                        X(40, TARGET),
                        "住建局提供",
                    ],
                    [
                        "林业有害生物成灾率",
                        "‰",
                        E(v("forest_pest_disaster_rate"), "forest_pest_disaster_rate"),
                        X("≤4", TARGET),
                    ],
                    [
                        "森林火灾受害率",
                        "‰",
                        E(v("forest_fire_damage_rate"), "forest_fire_damage_rate"),
                        X("≤1", TARGET),
                    ],
                    ["古树名木保护率", "%", E(100, "forest_ancient_tree_protection"), X(100, TARGET)],
                    [
                        "全民义务植树尽责率",
                        "%",
                        E(v("forest_voluntary_planting_rate"), "forest_voluntary_planting_rate"),
                        X(80, TARGET),
                    ],
                ],
                ["A1:E1"],
            )
        ],
        "2013",
        dt.date(2014, 1, 16),
    )

    v = Values("long6")
    zoo.add(
        "long",
        "slj",
        "2014年7月水务指标.csv",
        [
            Sheet(
                "csv",
                [
                    ["平昌县水务局2014年7月指标报表"],
                    ["指标名称", "计量单位", "本月数"],
                    ["城市生活污水集中处理率", "%", E(v("urban_sewage_treatment"), "urban_sewage_treatment")],
                    ["饮用水水源地水质达标率", "%", E(100, "drinking_source_compliance")],
                    ["填报人：刘洋"],
                ],
            )
        ],
        "2014-07",
        received("2014-07", 5),
        kind="csv-gbk",
        note="secondary reporter (水务局) for both indicators",
    )

    v = Values("long7")
    zoo.add(
        "long",
        "sthjj",
        "2015年度环境指标.csv",
        [
            Sheet(
                "csv",
                [
                    ["指标名称", "单位", "数值", "备注"],
                    ["区域环境噪声平均值", "dB(A)", E(v("regional_noise"), "regional_noise")],
                    ["交通干线噪声平均值", "dB(A)", E(v("env_traffic_noise"), "env_traffic_noise")],
                    ["近三年辖区内重大、特大环境污染和生态破坏事故数", "起", E(0, "env_no_major_incident")],
                    ["化学需氧量排放强度", "kg/万元GDP", E(v("eco_cod_intensity"), "eco_cod_intensity")],
                    ["公众对城市环境保护的满意率", "%", X("≥95", APPROX), "抽样调查"],
                    ["工业固体废物处置利用率", "%", E("85.2*", "industrial_solid_waste_use", 85.2)],
                    ["生态环境状况指数", "指数", E(v("eco_demo_ei"), "eco_demo_ei")],
                    ["注：*为初步统计数，以年报为准。"],
                ],
            )
        ],
        "2015",
        dt.date(2016, 1, 14),
        kind="csv-utf8bom",
    )

    v = Values("long8")
    gdp = v("env_gdp_per_capita")
    inc = v("eco_farmer_net_income")
    zoo.add(
        "long",
        "tjj",
        "2013年主要经济指标.xlsx",
        [
            Sheet(
                "2013年",
                [
                    ["平昌县2013年主要经济指标"],
                    ["指标", "单位", "平昌县", "全国平均"],
                    ["人均GDP", "元/人", E(f"{gdp:,}", "env_gdp_per_capita", gdp), X("41,908", OTHER)],
                    ["农民年人均纯收入", "元/人", E(fw(inc), "eco_farmer_net_income", inc), X(8896, OTHER)],
                    ["资料来源：县统计局，全国数据来自国家统计局公报"],
                ],
                ["A1:D1"],
            )
        ],
        "2013",
        dt.date(2014, 2, 18),
    )

    v = Values("long9")
    zoo.add(
        "long",
        "jiangkou",
        "江口镇2014年生态乡镇创建指标.xlsx",
        [
            Sheet(
                "Sheet1",
                [
                    ["江口镇2014年生态乡镇创建指标"],
                    ["序号", "指标名称", "单位", "数值"],
                    [
                        1,
                        "乡镇建成区生活污水集中处理率",
                        "%",
                        E(v("eco_township_sewage_treatment"), "eco_township_sewage_treatment"),
                    ],
                    [
                        2,
                        "农村卫生厕所普及率",
                        "%",
                        E(v("eco_rural_sanitary_toilet"), "eco_rural_sanitary_toilet"),
                    ],
                    ["江口镇人民政府（盖章）", None, None, "2015年1月9日"],
                ],
                ["A1:D1"],
            )
        ],
        "2014",
        dt.date(2015, 1, 9),
        note="a town reporting its own figures",
    )

    v = Values("long10")
    d = v("civ_traffic_death_rate")
    zoo.add(
        "long",
        "jjdd",
        "交警大队2014年创文创模指标.xlsx",
        [
            Sheet(
                "Sheet1",
                [
                    ["平昌县公安局交通警察大队2014年创文创模指标"],
                    ["指标名称", "单位", "本年", "上年", "同比(%)"],
                    [
                        "交通事故死亡率",
                        "人/万台车",
                        E(d, "civ_traffic_death_rate"),
                        X(round(d + 0.4, 2), PREV),
                        X(round(-0.4 / (d + 0.4) * 100, 1), CHANGE),
                    ],
                    ["机动车环保定期检测率", "%", X("#DIV/0!", FERR), X(78.5, PREV), X("#DIV/0!", FERR)],
                ],
                ["A1:E1"],
            )
        ],
        "2014",
        dt.date(2015, 1, 15),
    )

    v = Values("long11")
    zoo.add(
        "long",
        "nyj",
        "农业局2014年生态县指标.xlsx",
        [
            Sheet(
                "指标",
                [
                    ["平昌县农业局2014年生态县建设指标"],
                    ["指标名称", "单位", "实际完成", "备注"],
                    ["秸秆综合利用率", "%", E(Pct(0.852), "eco_straw_utilisation", 85.2)],
                    ["规模化畜禽养殖场粪便综合利用率", "%", E(Pct(0.887), "eco_livestock_manure_use", 88.7)],
                    [
                        "化肥施用强度（折纯）",
                        "kg/公顷",
                        E(v("eco_fertilizer_intensity"), "eco_fertilizer_intensity"),
                    ],
                    ["农村生活用能中清洁能源所占比例", "%", E("52.3%", "eco_rural_clean_energy", 52.3)],
                    [
                        "农村卫生厕所普及率",
                        "%",
                        E(v("eco_rural_sanitary_toilet"), "eco_rural_sanitary_toilet"),
                    ],
                    [
                        "主要农产品中有机、绿色及无公害产品种植面积的比重",
                        "%",
                        X("135%", IMPOSSIBLE),
                        "含复种",
                    ],
                ],
                ["A1:D1"],
            )
        ],
        "2014",
        dt.date(2015, 1, 20),
    )


# --- periods as columns --------------------------------------------------------------------------


def periods_as_columns(zoo: Zoo) -> None:
    v = Values("cols1")
    rows = [
        ["平昌县环境保护局2014年环境质量逐月统计表"],
        ["指标名称", "单位", "2014年"],
        [None, None, *MONTHS_ZH],
    ]
    for name, ind in [
        ("空气质量优良天数比例", "env_api_good_days_ratio"),
        ("集中式饮用水水源地水质达标率", "drinking_source_compliance"),
        ("城市水环境功能区水质达标率", "env_water_function_zone_compliance"),
    ]:
        rows.append([name, "%", *[E(v(ind), ind, period=f"2014-{m:02d}") for m in range(1, 13)]])
    rows.append(["填表人：张敏"])
    zoo.add(
        "periods_as_columns",
        "sthjj",
        "2014年环境质量逐月统计表.xlsx",
        [Sheet("2014", rows, ["A1:N1", "A2:A3", "B2:B3", "C2:N2"])],
        None,
        dt.date(2015, 1, 8),
    )

    v = Values("cols2")
    rows = [["县城管局2013年1-6月创卫指标统计"], ["项目", "单位"], [None, None]]
    merges = ["A1:N1", "A2:A3", "B2:B3"]
    for m in range(1, 7):
        col = 3 + 2 * (m - 1)
        rows[1] += [f"{m}月", None]
        rows[2] += ["本月", "累计"]
        merges.append(f"{L(col)}2:{L(col + 1)}2")
    for name, ind in [
        ("生活垃圾无害化处理率", "garbage_harmless"),
        ("垃圾密闭清运率", "hyg_closed_garbage_transport"),
        ("生活垃圾和粪便无害化处理率", "hyg_garbage_feces_harmless"),
    ]:
        row = [name, "%"]
        for m in range(1, 7):
            x = v(ind)
            row += [E(x, ind, period=f"2013-{m:02d}"), X(v.near(x, 1), CUM)]
        rows.append(row)
    zoo.add(
        "periods_as_columns",
        "cgj",
        "2013年1-6月创卫指标.xlsx",
        [Sheet("Sheet1", rows, merges)],
        None,
        dt.date(2013, 7, 5),
    )

    v = Values("cols3")
    rows = [["2015年平昌县儿童保健及精神卫生指标（分季度）"], ["指标", "单位", "目标值", *QUARTERS_ZH]]
    for name, ind, tgt in [
        ("以街道为单位适龄儿童免疫规划疫苗接种率", "hyg_immunization_coverage", 90),
        ("居住满3个月以上的适龄儿童建卡、建证率", "hyg_vaccination_card_rate", 95),
        ("辖区内3岁以下儿童系统管理率", "hyg_u3_child_mgmt", 85),
        ("严重精神障碍患者规范管理率", "hyg_smi_management", 80),
    ]:
        rows.append([name, "%", X(tgt, TARGET), *[E(v(ind), ind, period=f"2015-Q{q}") for q in range(1, 5)]])
    zoo.add(
        "periods_as_columns",
        "wjw",
        "2015年分季度指标.xlsx",
        [Sheet("季报", rows, ["A1:G1"])],
        None,
        dt.date(2016, 1, 12),
    )

    v = Values("cols4")
    rows = [
        ["平昌县林业局森林城市建设主要指标（2012-2014年）"],
        ["指标", "单位", "2012年", "2013年", "2014年", "2015年目标", "备注"],
    ]
    for name, ind, tgt in [
        ("森林覆盖率", "forest_coverage", 62),
        ("道路林木绿化率", "forest_road_greening", 90),
        ("村庄林木覆盖率", "forest_village_tree_coverage", 40),
        ("受保护地区占国土面积比例", "protected_area_ratio", 17),
    ]:
        base = v(ind)
        vals = [round(base + 0.3 * i, 2) for i in range(3)]
        rows.append(
            [name, "%", *[E(x, ind, period=str(2012 + i)) for i, x in enumerate(vals)], X(tgt, TARGET)]
        )
    zoo.add(
        "periods_as_columns",
        "lyj",
        "2012-2014年森林城市指标.xlsx",
        [Sheet("Sheet1", rows, ["A1:G1"])],
        None,
        dt.date(2015, 1, 20),
    )

    v = Values("cols5")
    rows = [["平昌县住房和城乡建设局2016年污水处理情况"], ["指标", "单位", "目标值", *MONTHS_ZH]]
    ind = "urban_sewage_treatment"
    rows.append(
        [
            "城镇生活污水集中处理率",
            "%",
            X(85, TARGET),
            *[E(v(ind), ind, period=f"2016-{m:02d}") for m in range(1, 11)],
            None,
            None,
        ]
    )
    rows.append(["  其中：上年同期", "%", None, *[X(v(ind), PREV) for m in range(1, 11)]])
    zoo.add(
        "periods_as_columns",
        "zjj",
        "2016年污水处理月度统计.xlsx",
        [Sheet("污水处理", rows, ["A1:O1"])],
        None,
        dt.date(2016, 11, 7),
    )

    v = Values("cols6")
    rows = [["平昌县环境保护局2013年重点工业企业监测季报"], ["指标", "单位", *QUARTERS_ZH]]
    for name, ind in [
        ("重点工业企业污染物排放稳定达标率", "industrial_compliance"),
        ("危险废物安全处置率", "env_hazardous_waste_disposal"),
    ]:
        rows.append([name, "%", *[E(v(ind), ind, period=f"2013-Q{q}") for q in range(1, 5)]])
    zoo.add(
        "periods_as_columns",
        "sthjj",
        "2013年工业企业监测季报.xls",
        [Sheet("Sheet1", rows, ["A1:F1"])],
        None,
        dt.date(2014, 1, 10),
        kind="xls",
    )

    v = Values("cols7")
    rows = [["平昌县国民经济主要指标"], ["指标", "单位", "2012年", "2013年", "2014年", "2014年比上年增长(%)"]]
    for name, ind in [("人均GDP", "env_gdp_per_capita"), ("农民年人均纯收入", "eco_farmer_net_income")]:
        base = v(ind)
        vals = [base, int(base * 1.09), int(base * 1.18)]
        rows.append(
            [
                name,
                "元/人",
                *[E(x, ind, period=str(2012 + i)) for i, x in enumerate(vals)],
                X(round((vals[2] / vals[1] - 1) * 100, 1), CHANGE),
            ]
        )
    zoo.add(
        "periods_as_columns",
        "tjj",
        "2012-2014年主要指标.xlsx",
        [Sheet("Sheet1", rows, ["A1:F1"])],
        None,
        dt.date(2015, 2, 10),
    )


# --- periods as rows ----------------------------------------------------------------------------


def periods_as_rows(zoo: Zoo) -> None:
    v = Values("rows1")
    cols = [
        ("空气质量优良天数比例(%)", "env_api_good_days_ratio"),
        ("集中式饮用水水源地水质达标率(%)", "drinking_source_compliance"),
        ("城市水环境功能区水质达标率(%)", "env_water_function_zone_compliance"),
    ]
    rows = [["2013年平昌县城区环境质量月报汇总"], ["月份", *[c for c, _ in cols]]]
    for m in range(1, 13):
        rows.append([f"{m}月", *[E(v(ind), ind, period=f"2013-{m:02d}") for _, ind in cols]])
    rows.append(["平均", *[X(round(v(ind), 1), DERIVED) for _, ind in cols]])
    zoo.add(
        "periods_as_rows",
        "sthjj",
        "2013年环境质量月报汇总.xlsx",
        [Sheet("汇总", rows, ["A1:D1"])],
        None,
        dt.date(2014, 1, 8),
    )

    v = Values("rows2")
    cols = [
        ("生活垃圾无害化处理率（%）", "garbage_harmless"),
        ("垃圾密闭清运率(%)", "hyg_closed_garbage_transport"),
        ("主要街道每日保洁时间（小时/天）", "hyg_street_cleaning_hours"),
    ]
    rows = [["序号", "月份", *[c for c, _ in cols]]]
    for m in range(1, 10):
        rows.append([m, f"2014年{m}月", *[E(v(ind), ind, period=f"2014-{m:02d}") for _, ind in cols]])
    zoo.add(
        "periods_as_rows",
        "cgj",
        "2014年1-9月环卫作业台账.xlsx",
        [Sheet("台账", rows)],
        None,
        dt.date(2014, 10, 9),
    )

    v = Values("rows3")
    cols = [
        ("适龄儿童免疫规划疫苗接种率(%)", "hyg_immunization_coverage"),
        ("3岁以下儿童系统管理率(%)", "hyg_u3_child_mgmt"),
        ("目标值(%)", None),
    ]
    rows = [["平昌县卫生局2014年儿童保健季度统计"], ["季度", *[c for c, _ in cols]]]
    for q in range(1, 5):
        rows.append(
            [
                f"2014年第{'一二三四'[q - 1]}季度",
                *[E(v(ind), ind, period=f"2014-Q{q}") if ind else X(90, TARGET) for _, ind in cols],
            ]
        )
    zoo.add(
        "periods_as_rows",
        "wjw",
        "2014年儿童保健季度统计.xlsx",
        [Sheet("Sheet1", rows, ["A1:D1"])],
        None,
        dt.date(2015, 1, 12),
    )

    v = Values("rows4")
    ind = "urban_sewage_treatment"
    rows = [["平昌县住建局2015年污水处理月报"], ["月份", "城镇生活污水集中处理率(%)", "目标值(%)"]]
    for m in range(1, 13):
        rows.append([f"{m}月", E(v(ind), ind, period=f"2015-{m:02d}"), X(85, TARGET)])
    zoo.add(
        "periods_as_rows",
        "zjj",
        "2015年污水处理月报.csv",
        [Sheet("csv", rows)],
        None,
        dt.date(2016, 1, 8),
        kind="csv-gbk",
    )

    v = Values("rows5")
    rows = [["时间", "空气质量优良天数比例(%)", "饮用水源水质达标率(%)", "优良天数比例上年同期(%)"]]
    for m in range(1, 7):
        a = v("env_api_good_days_ratio")
        rows.append(
            [
                dt.datetime(2015, m, 1),
                E(a, "env_api_good_days_ratio", period=f"2015-{m:02d}"),
                E(100, "drinking_source_compliance", period=f"2015-{m:02d}"),
                X(v.near(a, 3), PREV),
            ]
        )
    zoo.add(
        "periods_as_rows",
        "sthjj",
        "2015年上半年环境质量.xlsx",
        [Sheet("Sheet1", rows)],
        None,
        dt.date(2015, 7, 6),
    )


# --- one sheet per period ------------------------------------------------------------------------


def sheet_per_period(zoo: Zoo) -> None:
    v = Values("sheet1")
    sheets = []
    for m in range(1, 7):
        per = f"2014-{m:02d}"
        sheets.append(
            Sheet(
                f"{m}月",
                [
                    [f"平昌县2014年{m}月环境质量监测结果"],
                    ["监测项目", "数值", "单位"],
                    [
                        "空气质量优良天数比例",
                        E(v("env_api_good_days_ratio"), "env_api_good_days_ratio", period=per),
                        "%",
                    ],
                    ["集中式饮用水水源地水质达标率", E(100, "drinking_source_compliance", period=per), "%"],
                    [
                        "城市水环境功能区水质达标率",
                        E(
                            v("env_water_function_zone_compliance"),
                            "env_water_function_zone_compliance",
                            period=per,
                        ),
                        "%",
                    ],
                ],
                ["A1:C1"],
            )
        )
    zoo.add(
        "sheet_per_period", "sthjj", "2014年上半年环境质量监测月报.xlsx", sheets, None, dt.date(2014, 7, 7)
    )

    v = Values("sheet2")
    sheets = []
    for m in (3, 4, 5):
        per = f"2013-{m:02d}"
        sheets.append(
            Sheet(
                f"2013年{m}月",
                [
                    ["项目", "本月", "单位"],
                    ["垃圾无害化处理率", E(v("garbage_harmless"), "garbage_harmless", period=per), "%"],
                    [
                        "垃圾密闭清运率",
                        E(v("hyg_closed_garbage_transport"), "hyg_closed_garbage_transport", period=per),
                        "%",
                    ],
                    [
                        "主要街道每日保洁时间",
                        E(str(v("hyg_street_cleaning_hours")), "hyg_street_cleaning_hours", period=per),
                        "小时/天",
                    ],
                ],
            )
        )
    zoo.add("sheet_per_period", "cgj", "城管局3-5月报表.xlsx", sheets, None, dt.date(2013, 6, 6))

    v = Values("sheet3")
    sheets = []
    for q in (1, 2, 3):
        per = f"2015-Q{q}"
        sheets.append(
            Sheet(
                QUARTERS_ZH[q - 1],
                [
                    [f"2015年{QUARTERS_ZH[q - 1]}妇幼保健指标"],
                    ["指标", "数值", "单位"],
                    [
                        "辖区内3岁以下儿童系统管理率",
                        E(v("hyg_u3_child_mgmt"), "hyg_u3_child_mgmt", period=per),
                        "%",
                    ],
                    [
                        "居住满3个月以上的适龄儿童建卡、建证率",
                        E(v("hyg_vaccination_card_rate"), "hyg_vaccination_card_rate", period=per),
                        "%",
                    ],
                ],
                ["A1:C1"],
            )
        )
    zoo.add("sheet_per_period", "wjw", "2015年妇幼保健季报.xlsx", sheets, None, dt.date(2015, 10, 12))

    v = Values("sheet4")
    sheets = [
        Sheet("填报说明", [["填报说明"], ["1. 每月5日前报县创建办。"], ["2. 数值保留一位小数。"]]),
    ]
    for m in (10, 11, 12):
        per = f"2012-{m:02d}"
        sheets.append(
            Sheet(
                f"2012年{m}月",
                [
                    ["指标名称", "本期数", "目标值", "单位"],
                    [
                        "城镇生活污水集中处理率",
                        E(v("urban_sewage_treatment"), "urban_sewage_treatment", period=per),
                        X(80, TARGET),
                        "%",
                    ],
                ],
            )
        )
    zoo.add("sheet_per_period", "zjj", "2012年第四季度污水处理月报.xlsx", sheets, None, dt.date(2013, 1, 7))

    v = Values("sheet5")
    sheets = []
    for m in (1, 2, 3):
        per = f"2016-{m:02d}"
        sheets.append(
            Sheet(
                f"{m}月",
                [
                    ["监测项目", "数值", "单位"],
                    [
                        "城市(县城)生活污水集中处理率",
                        E(v("urban_sewage_treatment"), "urban_sewage_treatment", period=per),
                        "%",
                    ],
                    ["集中式饮用水源水质达标率", E(100, "drinking_source_compliance", period=per), "%"],
                ],
            )
        )
    zoo.add(
        "sheet_per_period",
        "slj",
        "2016年一季度水务月报.xlsx",
        sheets,
        None,
        dt.date(2016, 4, 6),
        note="secondary reporter",
    )


# --- subjects x indicators cross-tabs -------------------------------------------------------------


def crosstabs(zoo: Zoo) -> None:
    ind = "hyg_immunization_coverage"
    v = Values("x1")
    rows = [
        ["平昌县2014年第三季度各乡镇免疫规划疫苗接种率统计表"],
        ["序号", "乡镇", "应种人数", "实种人数", "免疫规划疫苗接种率(%)"],
    ]
    for i, (code, name) in enumerate(TOWNS, start=1):
        due = v.rng.randint(300, 1500)
        done = int(due * v.rng.uniform(0.9, 0.99))
        rows.append([i, name, due, done, E(round(done / due * 100, 1), ind, org=code)])
    rows.append([None, "合计", 9876, 9321, E(94.4, ind)])
    rows.append(["填表人：周红", None, None, "2014年10月11日"])
    zoo.add(
        "crosstab",
        "wjw",
        "2014年三季度各乡镇接种率.xlsx",
        [Sheet("Sheet1", rows, ["A1:E1"])],
        "2014-Q3",
        dt.date(2014, 10, 11),
    )

    ind = "eco_township_sewage_treatment"
    v = Values("x2")
    rows = [
        ["2015年全县乡镇建成区生活污水处理情况"],
        ["乡镇", "污水处理设施(座)", "乡镇建成区生活污水集中处理率(%)", "目标值(%)"],
    ]
    rows.append(["全县", 14, E(v(ind), ind), X(60, TARGET)])
    for code, name in TOWNS:
        rows.append([name, v.rng.randint(1, 2), E(v(ind), ind, org=code), X(60, TARGET)])
    zoo.add(
        "crosstab",
        "zjj",
        "2015年乡镇污水处理情况.xlsx",
        [Sheet("2015年", rows, ["A1:D1"])],
        "2015",
        dt.date(2016, 1, 15),
    )

    ind = "eco_rural_sanitary_toilet"
    v = Values("x3")
    rows = [["平昌县2013年农村卫生厕所普及情况"], ["乡镇", "农村卫生厕所普及率(%)", "上年(%)"]]
    for code, name in TOWNS:
        shown = name[:-1] if code in ("jiangkou", "xiangtan", "sima") else name  # 江口 for 江口镇
        x = v(ind)
        rows.append([shown, E(x, ind, org=code), X(round(x - 3.2, 1), PREV)])
    rows.append(["平昌县", E(v(ind), ind), X(61.0, PREV)])
    zoo.add(
        "crosstab",
        "nyj",
        "2013年农村改厕统计.xlsx",
        [Sheet("Sheet1", rows, ["A1:C1"])],
        "2013",
        dt.date(2014, 1, 20),
    )

    ind = "hyg_immunization_coverage"
    v = Values("x4")
    rows = [
        ["平昌县2016年第一季度免疫规划接种情况"],
        ["乡  镇", "免疫规划疫苗接种率(%)", None],
        [None, "本期", "上年同期"],
    ]
    for code, name in TOWNS:
        spaced = "\u3000".join(name) if len(name) == 3 else name  # 江　口　镇
        x = v(ind)
        rows.append([spaced, E(x, ind, org=code), X(v.near(x, 1), PREV)])
    rows.append(["合　计", E(v(ind), ind), X(93.1, PREV)])
    zoo.add(
        "crosstab",
        "wjw",
        "2016年一季度接种情况.xlsx",
        [Sheet("一季度", rows, ["A1:C1", "A2:A3", "B2:C2"])],
        "2016-Q1",
        dt.date(2016, 4, 12),
    )

    ind = "eco_township_sewage_treatment"
    v = Values("x5")
    rows = [["平昌县住建局2014年城镇污水处理统计"], ["地区", "乡镇建成区生活污水集中处理率(%)", "备注"]]
    rows.append(["县城（城区）", X(86.5, SEAT), "县城污水处理厂"])
    for code, name in TOWNS[:8]:
        rows.append([name, E(v(ind), ind, org=code)])
    rows.append(["全县", E(v(ind), ind), "不含县城"])
    zoo.add(
        "crosstab",
        "zjj",
        "2014年城镇污水处理统计.xlsx",
        [Sheet("Sheet1", rows, ["A1:C1"])],
        "2014",
        dt.date(2015, 1, 14),
    )

    v = Values("x6")
    rows = [["2014年各县（区）森林资源主要指标"], ["县（区）", "森林覆盖率(%)", "林木绿化率(%)"]]
    for name in ("巴州区", "恩阳区", "通江县", "南江县", "平昌县"):
        fc = v("forest_coverage")
        cell = E(fc, "forest_coverage") if name == "平昌县" else X(fc, OTHER)
        rows.append([name, cell, X(round(fc + 3, 2), NOTCAT)])
    rows.append(["全市", X(58.3, OTHER), X(61.9, NOTCAT)])
    zoo.add(
        "crosstab",
        "lyj",
        "2014年各县区森林资源指标.xlsx",
        [Sheet("Sheet1", rows, ["A1:C1"])],
        "2014",
        dt.date(2015, 2, 3),
    )


# --- panels ---------------------------------------------------------------------------------------


def panels(zoo: Zoo) -> None:
    ind = "eco_township_sewage_treatment"
    v = Values("p1")
    rows = [["乡镇", "年份", "乡镇建成区生活污水集中处理率(%)", "污水处理厂(座)"]]
    for y in (2013, 2014, 2015):
        rows.append(["全县", f"{y}年", E(v(ind), ind, period=str(y)), 12])
    for code, name in TOWNS[:6]:
        for y in (2013, 2014, 2015):
            rows.append([name, y, E(v(ind), ind, period=str(y), org=code), 1])
    zoo.add(
        "panel", "zjj", "乡镇污水处理面板2013-2015.xlsx", [Sheet("数据", rows)], None, dt.date(2016, 1, 20)
    )

    ind = "eco_rural_sanitary_toilet"
    v = Values("p2")
    rows = [
        ["平昌县各乡镇农村卫生厕所普及率（2012-2014年）"],
        ["乡镇", "年份", "农村卫生厕所普及率(%)", "卫生厕所户数(户)"],
    ]
    merges = ["A1:D1"]
    for code, name in TOWNS:
        start = len(rows) + 1
        for i, y in enumerate((2012, 2013, 2014)):
            rows.append(
                [
                    name if i == 0 else None,
                    str(y),
                    E(v(ind), ind, period=str(y), org=code),
                    v.rng.randint(2000, 9000),
                ]
            )
        merges.append(f"A{start}:A{start + 2}")
    zoo.add(
        "panel",
        "nyj",
        "2012-2014年乡镇改厕.xlsx",
        [Sheet("Sheet1", rows, merges)],
        None,
        dt.date(2015, 1, 25),
    )

    ind = "hyg_immunization_coverage"
    v = Values("p3")
    rows = [["乡镇", "季度", "免疫规划疫苗接种率(%)"]]
    for code, name in TOWNS:
        for q in (1, 2):
            rows.append([name, f"2016年{QUARTERS_ZH[q - 1]}", E(v(ind), ind, period=f"2016-Q{q}", org=code)])
    zoo.add(
        "panel", "wjw", "2016年上半年乡镇接种率.xlsx", [Sheet("Sheet1", rows)], None, dt.date(2016, 7, 11)
    )

    v = Values("p4")
    rows = [["地区", "年份", "森林覆盖率(%)"]]
    for area in ("平昌县", "巴中市", "四川省", "全国"):
        for y in (2012, 2013, 2014):
            x = v("forest_coverage") if area != "全国" else 21.63
            rows.append(
                [area, y, E(x, "forest_coverage", period=str(y)) if area == "平昌县" else X(x, OTHER)]
            )
    zoo.add("panel", "lyj", "森林覆盖率对比2012-2014.xlsx", [Sheet("对比", rows)], None, dt.date(2015, 1, 28))


# --- yearbook tables -----------------------------------------------------------------------------


def yearbooks(zoo: Zoo) -> None:
    v = Values("y1")
    ind_rows = [
        ("一、经济发展", None, None),
        ("\u3000\u3000人均GDP", "元/人", "env_gdp_per_capita"),
        ("\u3000\u3000农民年人均纯收入", "元/人", "eco_farmer_net_income"),
        ("二、资源能源", None, None),
        ("\u3000\u3000单位GDP能耗", "吨标煤/万元", None),
        ("\u3000\u3000万元GDP用水量", "m³/万元", "water_per_gdp"),
        ("三、社会事业", None, None),
        ("\u3000\u3000人均预期寿命", "岁", "hyg_life_expectancy"),
    ]
    rows = [
        ["表2-1  平昌县主要经济社会指标（2014年）"],
        ["指标", "计量单位", "全县", None, "县城", None],
        [None, None, "本年", "上年", "本年", "上年"],
    ]
    for name, unit, ind in ind_rows:
        if unit is None:
            rows.append([name])
            continue
        if ind is None:  # energy intensity: written as 0.85 etc.
            ind = "energy_per_gdp"
            x = 0.85
        else:
            x = v(ind)
        rows.append(
            [
                name,
                unit,
                E(x, ind),
                X(round(x * 0.93, 2), PREV),
                X(round(x * 1.4, 2), SEAT),
                X(round(x * 1.3, 2), SEAT),
            ]
        )
    rows.append(["注：人均GDP按常住人口计算；县城指城区范围。"])
    rows.append(["资料来源：县统计局"])
    zoo.add(
        "yearbook",
        "tjj",
        "统计年鉴2015-表2-1.xlsx",
        [Sheet("2-1", rows, ["A1:F1", "A2:A3", "B2:B3", "C2:D2", "E2:F2"])],
        "2014",
        dt.date(2015, 6, 30),
    )

    v = Values("y2")
    cols = [
        ("区域环境噪声平均值", "dB(A)", "regional_noise"),
        ("交通干线噪声平均值", "dB(A)", "env_traffic_noise"),
        ("工业固体废物处置利用率", "%", "industrial_solid_waste_use"),
        ("环境保护投资指数", "%", "env_invest_share_gdp"),
    ]
    rows = [
        ["表6-3  环境保护主要指标"],
        ["年份", *[c for c, _, _ in cols]],
        ["单位", *[u for _, u, _ in cols]],
    ]
    for y in (2013, 2014, 2015):
        rows.append(
            [
                f"{y}年",
                *[
                    E(
                        round(v.rng.uniform(1.2, 2.2), 2) if ind == "env_invest_share_gdp" else v(ind),
                        ind,
                        period=str(y),
                    )
                    for _, _, ind in cols
                ],
            ]
        )
    rows.append(["注：环境保护投资指数为环保投资占GDP比重。"])
    zoo.add(
        "yearbook",
        "sthjj",
        "环境统计年报表6-3.xlsx",
        [Sheet("6-3", rows, ["A1:E1"])],
        None,
        dt.date(2016, 1, 25),
    )

    v = Values("y3")
    rows = [["表8-2  卫生事业主要指标（2013年）"], ["指标", "单位", "本年", "上年", "增减"]]
    for name, unit, ind in [
        ("一、妇幼保健", None, None),
        ("\u3000\u3000婴儿死亡率", "‰", "hyg_infant_mortality"),
        ("\u3000\u30005岁以下儿童死亡率", "‰", "hyg_u5_mortality"),
        ("\u3000\u3000孕产妇死亡率", "1/10万", "hyg_maternal_mortality"),
        ("二、医疗资源", None, None),
        ("\u3000\u3000每千常住人口医疗卫生机构床位数", "张/千人", "hyg_beds_per_1000"),
    ]:
        if unit is None:
            rows.append([name])
            continue
        x = v(ind)
        rows.append([name, unit, E(x, ind), X(round(x + 0.31, 2), PREV), X(-0.31, CHANGE)])
    rows.append(["注：孕产妇死亡率单位为1/10万。"])
    zoo.add(
        "yearbook",
        "wjw",
        "2013年卫生统计表8-2.xlsx",
        [Sheet("8-2", rows, ["A1:E1"])],
        "2013",
        dt.date(2014, 3, 10),
    )

    v = Values("y4")
    nb = "\u00a0\u00a0"
    rows = [["表3-5  林业主要指标（2016年）"], ["指标名称", "单位", "全县", "其中：城区"]]
    rows.append(["一、森林资源"])
    fc = v("forest_coverage")
    rows.append([nb + "森林覆盖率", "%", E(fc, "forest_coverage"), X(34.5, SEAT)])
    rows.append(["二、森林保护"])
    rows.append(
        [nb + "林业有害生物成灾率", "‰", E(v("forest_pest_disaster_rate"), "forest_pest_disaster_rate"), "—"]
    )
    rows.append([nb + "森林火灾受害率", "‰", E(v("forest_fire_damage_rate"), "forest_fire_damage_rate"), "—"])
    rows.append(["注：森林覆盖率含国家特别规定的灌木林。"])
    zoo.add(
        "yearbook",
        "lyj",
        "林业统计表3-5（2016）.xlsx",
        [Sheet("3-5", rows, ["A1:D1"])],
        "2016",
        dt.date(2017, 1, 18),
    )

    v = Values("y5")
    rows = [["表5-4  城市建设主要指标（2012年）"], ["指标", "单位", "本年", "上年"]]
    rows.append(["一、园林绿化"])
    for name, unit, ind in [
        ("\u3000建成区绿化覆盖率", "%", "builtup_green_coverage"),
        ("\u3000城市建成区绿地率", "%", "forest_builtup_green_space_rate_2007"),
        ("\u3000人均公园绿地面积", "m²/人", "park_green_per_capita"),
    ]:
        x = v(ind)
        rows.append([name, unit, E(x, ind), X(round(x - 0.8, 2), PREV)])
    rows.append(["注：绿地率与绿化覆盖率统计口径不同。"])
    zoo.add(
        "yearbook",
        "zjj",
        "城市建设统计表5-4.xls",
        [Sheet("5-4", rows, ["A1:D1"])],
        "2012",
        dt.date(2013, 2, 5),
        kind="xls",
    )


# --- place traps ----------------------------------------------------------------------------------


def places(zoo: Zoo) -> None:
    v = Values("pl1")
    rows = [
        ["巴中市2014年创建森林城市主要指标完成情况"],
        ["指标", "单位", "完成值", "目标值"],
        ["森林覆盖率", "%", X(v("forest_coverage"), OTHER), X(60, TARGET)],
        ["森林火灾受害率", "‰", X(v("forest_fire_damage_rate"), OTHER), X(1, TARGET)],
    ]
    zoo.add(
        "place",
        "lyj",
        "巴中市2014年森林城市指标.xlsx",
        [Sheet("Sheet1", rows, ["A1:D1"])],
        "2014",
        dt.date(2015, 2, 2),
        refused="other_area",
    )

    v = Values("pl2")
    rows = [
        ["通江县环境保护局2013年6月环境质量月报"],
        ["监测项目", "单位", "本月"],
        ["空气质量优良天数比例", "%", X(v("env_api_good_days_ratio"), OTHER)],
        ["集中式饮用水水源地水质达标率", "%", X(100, OTHER)],
    ]
    zoo.add(
        "place",
        "sthjj",
        "通江县2013年6月环境质量月报.xlsx",
        [Sheet("Sheet1", rows, ["A1:C1"])],
        "2013-06",
        dt.date(2013, 7, 8),
        refused="other_area",
    )

    v = Values("pl3")
    rows = [
        ["四川省2014年卫生统计主要指标"],
        ["指标", "单位", "2014年"],
        ["婴儿死亡率", "‰", X(v("hyg_infant_mortality"), OTHER)],
        ["孕产妇死亡率", "1/10万", X(v("hyg_maternal_mortality"), OTHER)],
        ["每千常住人口医疗卫生机构床位数", "张/千人", X(v("hyg_beds_per_1000"), OTHER)],
    ]
    zoo.add(
        "place",
        "wjw",
        "四川省卫生统计主要指标2014.xlsx",
        [Sheet("Sheet1", rows, ["A1:C1"])],
        "2014",
        dt.date(2015, 3, 2),
        refused="other_area",
    )

    v = Values("pl4")
    rows = [["2014年平昌县环境质量与全市、全省对比"], ["指标", "单位", "平昌县", "巴中市", "四川省", "全国"]]
    for name, unit, ind in [
        ("区域环境噪声平均值", "dB(A)", "regional_noise"),
        ("交通干线噪声平均值", "dB(A)", "env_traffic_noise"),
    ]:
        rows.append([name, unit, E(v(ind), ind), X(v(ind), OTHER), X(v(ind), OTHER), X(v(ind), OTHER)])
    zoo.add(
        "place",
        "sthjj",
        "2014年环境质量对比.xlsx",
        [Sheet("对比", rows, ["A1:F1"])],
        "2014",
        dt.date(2015, 1, 22),
    )


# --- formats by content ---------------------------------------------------------------------------


def formats(zoo: Zoo) -> None:
    v = Values("f1")
    rows = [
        ["平昌县环境保护局2014年8月环境质量月报"],
        ["监测项目", "单位", "本月"],
        ["空气质量优良天数比例", "%", E(v("env_api_good_days_ratio"), "env_api_good_days_ratio")],
        ["集中式饮用水水源地水质达标率", "%", E(100, "drinking_source_compliance")],
    ]
    zoo.add(
        "format",
        "sthjj",
        "2014年8月环境质量.xls",
        [Sheet("csv", rows)],
        "2014-08",
        dt.date(2014, 9, 5),
        kind="csv-as-xls",
        note="CSV (GBK) saved with an .xls name",
    )

    v = Values("f2")
    gdp = v("env_gdp_per_capita")
    rows = [
        ["平昌县2013年国民经济和社会发展主要指标"],
        ["指标", "单位", "2013年"],
        ["人均GDP", "元/人", E(gdp, "env_gdp_per_capita")],
        ["农民年人均纯收入", "元/人", E(v("eco_farmer_net_income"), "eco_farmer_net_income")],
    ]
    zoo.add(
        "format",
        "tjj",
        "2013年主要指标（网站导出）.xls",
        [Sheet("html", rows)],
        "2013",
        dt.date(2014, 3, 3),
        kind="html-as-xls",
        note="HTML table (gb2312) saved as .xls",
    )

    v = Values("f3")
    rows = [
        ["平昌县卫生局2015年第一季度报表"],
        ["指标名称", "计量单位", "本期", "上期"],
        [
            "严重精神障碍患者规范管理率",
            "%",
            E(v("hyg_smi_management"), "hyg_smi_management"),
            X(v("hyg_smi_management"), PREV),
        ],
        [
            "辖区内3岁以下儿童系统管理率",
            "%",
            E(fw(v("hyg_u3_child_mgmt")), "hyg_u3_child_mgmt"),
            X(v("hyg_u3_child_mgmt"), PREV),
        ],
    ]
    zoo.add(
        "format",
        "wjw",
        "2015年一季度报表.xls",
        [Sheet("Sheet1", rows, ["A1:D1"])],
        "2015-Q1",
        dt.date(2015, 4, 13),
        kind="xls",
    )


# --- files to refuse ------------------------------------------------------------------------------


def refusals(zoo: Zoo) -> None:
    rows = [
        ["县城市管理局办公用品领用登记表"],
        ["日期", "物品名称", "数量", "领用人"],
        ["2014年3月2日", "A4纸", 5, "王丽"],
        ["2014年3月9日", "签字笔", 20, "陈建国"],
    ]
    zoo.add(
        "refuse",
        "cgj",
        "办公用品领用登记表.xlsx",
        [Sheet("Sheet1", rows, ["A1:D1"])],
        None,
        dt.date(2014, 3, 20),
        refused="no_indicator",
    )

    rows = [
        ["平昌县住房和城乡建设局2014年工作总结"],
        ["一、主要工作完成情况"],
        ["全年完成城市道路改造3.2公里，新增绿地5.6公顷。"],
        ["二、存在问题"],
    ]
    zoo.add(
        "refuse",
        "zjj",
        "2014年工作总结.xlsx",
        [Sheet("总结", rows)],
        None,
        dt.date(2015, 1, 6),
        refused="no_indicator",
    )

    rows = [
        ["平昌县环境保护局2015年3月环境质量月报"],
        ["监测项目", "单位", "本月"],
        ["空气质量优良天数比例", "%", None],
        ["集中式饮用水水源地水质达标率", "%", None],
    ]
    zoo.add(
        "refuse",
        "sthjj",
        "2015年3月环境质量月报（空表）.xlsx",
        [Sheet("Sheet1", rows, ["A1:C1"])],
        "2015-03",
        dt.date(2015, 4, 3),
        refused="empty",
    )


ALL = (
    long_tables,
    periods_as_columns,
    periods_as_rows,
    sheet_per_period,
    crosstabs,
    panels,
    yearbooks,
    places,
    formats,
    refusals,
)
