"""Pure builders: Plotly figures, small analytics, exports and the briefing — called directly."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dashboards import analytics, briefing, charts, exports, i18n


def _verdicts(rows):
    cols = [
        "campaign_code",
        "period_code",
        "requirement_code",
        "indicator_code",
        "status",
        "weight",
        "is_veto",
        "margin",
    ]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------ charts


def test_every_figure_uses_a_cjk_font_first():
    fig = charts.readiness_trend(
        pd.DataFrame({"campaign_code": ["a"], "period_code": ["2016-01"], "readiness": [0.5]}),
        {"a": "甲"},
        "达标率",
    )
    assert fig.layout.font.family.startswith('"Noto Sans CJK SC"')
    assert fig.layout.title.text == "达标率"


def test_readiness_trend_has_one_line_per_campaign_with_chinese_names():
    df = pd.DataFrame(
        {
            "campaign_code": ["a", "a", "b", "b"],
            "period_code": ["2016-01", "2016-02", "2016-01", "2016-02"],
            "readiness": [0.4, 0.5, 0.7, 0.8],
        }
    )
    fig = charts.readiness_trend(df, {"a": "国家森林城市", "b": "省级卫生县城"}, "t")
    assert [t.name for t in fig.data] == ["国家森林城市", "省级卫生县城"]
    assert list(fig.data[1].y) == [0.7, 0.8]
    assert fig.layout.yaxis.tickformat == ".0%"


def test_status_bars_stack_counts_in_status_colours():
    counts = pd.DataFrame(
        {"campaign_code": ["a", "a", "b"], "status": ["pass", "fail", "pass"], "n": [3, 2, 5]}
    )
    fig = charts.status_bars(counts, {"a": "甲"}, {"pass": "达标", "fail": "未达标"}, "t")
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["达标"].x) == [3, 5] and list(by_name["达标"].y) == ["甲", "b"]
    assert by_name["未达标"].marker.color == charts.STATUS_COLORS["fail"]
    assert fig.layout.barmode == "stack"


def _obs():
    dates = pd.date_range("2015-01-31", periods=8, freq="ME")
    return pd.DataFrame(
        {
            "date": list(dates) * 2,
            "value": [30, 31, 32, 33, 34, 35, 36, 70] + [20, 21, 22, 23, 24, 25, 26, 27],
            "org_label": ["住建局"] * 8 + ["林业局"] * 8,
            "file_name": ["a.xlsx"] * 16,
            "sheet": ["填报表"] * 16,
            "cell": [f"G{i}" for i in range(16)],
            "revision_no": [1] * 16,
        }
    )


def test_indicator_series_draws_units_thresholds_forecast_and_outliers():
    obs = _obs()
    thresholds = pd.DataFrame(
        {
            "label": ["创模", "森林城市"],
            "threshold_value": [35.0, 40.0],
            "start": pd.to_datetime(["2015-01-01", "2015-01-01"]),
            "end": pd.to_datetime(["2016-12-31", "2016-12-31"]),
        }
    )
    fc = pd.DataFrame(
        {
            "date": pd.to_datetime(["2015-08-31", "2016-12-31"]),
            "value": [36.0, 40.0],
            "low": [36.0, 37.0],
            "high": [36.0, 43.0],
        }
    )
    mask = pd.Series([False] * 7 + [True] + [False] * 8)
    fig = charts.indicator_series(obs, thresholds, "绿化覆盖率", "%", fc, mask, "预测", "异常值")
    names = [t.name for t in fig.data]
    assert names[:2] == ["住建局", "林业局"]
    assert "创模 35%" in names and "森林城市 40%" in names
    assert "预测" in names and "预测 95%" in names
    outlier = next(t for t in fig.data if t.name == "异常值")
    assert list(outlier.y) == [70]
    assert "a.xlsx · 填报表!G0 · rev 1" in fig.data[0].text[0]  # lineage in the hover


def test_indicator_series_without_forecast_or_outliers_has_only_series_and_thresholds():
    fig = charts.indicator_series(
        _obs(), pd.DataFrame(columns=["label", "threshold_value", "start", "end"]), "t"
    )
    assert [t.name for t in fig.data] == ["住建局", "林业局"]


def test_timeliness_heatmap_shows_missing_as_missing_late_by_working_days_and_on_time_green():
    cells = pd.DataFrame(
        {
            "unit": ["环保局", "环保局", "城管局", "城管局", "林业局"],
            "period": ["2016-01", "2016-02", "2016-01", "2016-02", "2016-02"],
            "return_status": ["on_time", "late", "missing", "late", "late"],
            "working_days_late": [0, 3, np.nan, 12, 1],
        }
    )
    fig = charts.timeliness_heatmap(cells, "t", "缺报")
    hm = fig.data[0]
    assert list(hm.y) == ["城管局", "林业局", "环保局"] and list(hm.x) == ["2016-01", "2016-02"]
    z = {(y, x): hm.z[i][j] for i, y in enumerate(hm.y) for j, x in enumerate(hm.x)}
    text = {(y, x): hm.text[i][j] for i, y in enumerate(hm.y) for j, x in enumerate(hm.x)}
    assert text[("城管局", "2016-01")] == "缺报" and z[("城管局", "2016-01")] == 5  # missing, not blank
    assert np.isnan(z[("林业局", "2016-01")]) and text[("林业局", "2016-01")] == ""  # nothing due: blank
    assert z[("环保局", "2016-01")] == 0 and text[("环保局", "2016-01")] == ""  # on time
    assert text[("环保局", "2016-02")] == "3" and z[("环保局", "2016-02")] == 2  # 3–5 working days
    assert z[("城管局", "2016-02")] == 4 and z[("林业局", "2016-02")] == 1
    on_time_colour = hm.colorscale[0][1]
    assert (
        on_time_colour == charts.HEAT_BANDS[0][1] and on_time_colour.lower() == "#c8e6c9"
    )  # green, not orange


def test_ranking_bars_colour_by_score():
    r = pd.DataFrame({"label": ["甲", "乙", "丙"], "score": [95.0, 70.0, 40.0]})
    fig = charts.ranking_bars(r, "label", "t")
    assert list(fig.data[0].y) == ["丙", "乙", "甲"]
    assert list(fig.data[0].marker.color) == ["#c62828", "#f9a825", "#2e7d32"]


def test_quality_trend_and_failure_rates():
    df = pd.DataFrame(
        {"period_code": ["2016-02", "2016-01"], "values_loaded": [90, 100], "values_quarantined": [10, 0]}
    )
    fig = charts.quality_trend(df, {"loaded": "入库", "quarantined": "隔离", "share": "占比"}, "t")
    assert list(fig.data[0].x) == ["2016-01", "2016-02"]
    assert list(fig.data[2].y) == [0.0, 0.1]
    q = pd.DataFrame(
        {
            "period_code": ["2016-01", "2016-01"],
            "dimension": ["validity", "completeness"],
            "failure_rate": [0.1, 0.2],
        }
    )
    assert {t.name for t in charts.failure_rate_trend(q, "t").data} == {"validity", "completeness"}


def test_file_status_bars_label_statuses():
    fig = charts.file_status_bars(
        pd.DataFrame({"status": ["accepted", "rejected"], "n": [10, 2]}), {"accepted": "已接收"}, "t"
    )
    assert list(fig.data[0].x) == ["已接收", "rejected"]


def test_gantt_has_bars_and_milestone_diamonds():
    bars = pd.DataFrame(
        {
            "label": ["准备阶段", "实施阶段"],
            "start": ["2011-12-01", "2012-03-01"],
            "end": ["2012-02-29", "2014-12-31"],
            "group": ["阶段"] * 2,
        }
    )
    ms = pd.DataFrame({"label": ["通过验收"], "date": ["2014-12-31"], "group": ["全部"]})
    fig = charts.gantt(bars, ms, "甘特图")
    assert fig.data[0].type == "bar" and list(fig.data[0].y) == ["准备阶段", "实施阶段"]
    assert fig.data[-1].marker.symbol == "diamond"
    assert charts.gantt(bars.iloc[0:0], ms, "t").data[0].marker.symbol == "diamond"


# ------------------------------------------------------------------ analytics


def test_readiness_weights_and_veto_cap():
    v = _verdicts(
        [
            ("c", "2016-01", "r1", "i1", "pass", 2.0, False, 1.0),
            ("c", "2016-01", "r2", "i2", "fail", 1.0, False, -1.0),
            ("c", "2016-01", "r3", "i3", "not_assessable", 1.0, False, None),
            ("c", "2016-01", "r4", "i4", "near", 1.0, False, 0.0),  # near with margin >= 0 is met
        ]
    )
    r = analytics.readiness(v).iloc[0]
    assert r["readiness"] == pytest.approx(3 / 4) and not r["veto_failed"]
    v.loc[1, "is_veto"] = True
    capped = analytics.readiness(v).iloc[0]
    assert capped["veto_failed"] and capped["readiness"] == pytest.approx(analytics.VETO_CAP)


def test_readiness_of_nothing_is_an_empty_frame():
    assert analytics.readiness(_verdicts([])).empty


def test_theil_sen_ignores_one_wild_point():
    x = np.arange(10.0)
    y = 2 * x + 1
    y[5] = 100
    slope, intercept = analytics.theil_sen(x, y)
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(1.0)


def test_forecast_projects_to_the_date_with_a_widening_band():
    dates = pd.date_range("2015-01-31", periods=12, freq="ME")
    values = pd.Series(np.linspace(30, 41, 12) + np.tile([0.3, -0.3], 6))
    fc = analytics.forecast(dates, values, pd.Timestamp("2016-12-31"))
    assert fc["date"].iloc[-1] == pd.Timestamp("2016-12-31")
    assert fc["value"].iloc[-1] == pytest.approx(53, abs=1.5)
    widths = fc["high"] - fc["low"]
    assert widths.iloc[-1] > widths.iloc[0] > 0
    assert analytics.forecast(dates[:3], values[:3], pd.Timestamp("2016-12-31")) is None


def test_outliers_flag_only_the_far_point():
    s = pd.Series([30, 31, 32, 31, 30, 70.0])
    assert list(analytics.outliers(s)) == [False] * 5 + [True]
    assert not analytics.outliers(pd.Series([5.0] * 6)).any()


def test_status_changes_since_last_month():
    h = _verdicts(
        [
            ("c", "2016-11", "r1", "i1", "fail", 1, False, -1),
            ("c", "2016-12", "r1", "i1", "pass", 1, False, 1),
            ("c", "2016-11", "r2", "i2", "pass", 1, False, 1),
            ("c", "2016-12", "r2", "i2", "pass", 1, False, 1),
        ]
    )
    ch = analytics.status_changes(h, "2016-12")
    assert ch.to_dict("records") == [
        {
            "requirement_code": "r1",
            "campaign_code": "c",
            "indicator_code": "i1",
            "before": "fail",
            "after": "pass",
        }
    ]
    assert analytics.status_changes(h, "2016-11").empty


def test_timeliness_ranking_orders_by_a_transparent_score():
    subs = pd.DataFrame(
        {
            "submission_id": ["a1", "a2", "b1", "b2", "b2r"],
            "org_code": ["a", "a", "b", "b", "b"],
            "org_name_zh": ["甲", "甲", "乙", "乙", "乙"],
            "org_name_en": ["A", "A", "B", "B", "B"],
            "revision_no": [1, 1, 1, 1, 2],
            "is_on_time": [True, True, True, False, False],
            "working_days_late": [0, 0, 0, 5, 7],
            "values_loaded": [10, 10, 10, 10, 10],
            "values_quarantined": [0, 0, 0, 0, 0],
        }
    )
    r = analytics.timeliness_ranking(subs)
    assert list(r["org_code"]) == ["a", "b"]
    assert r.iloc[0]["score"] == 100.0
    b = r.iloc[1]
    assert (b["on_time"], b["late"], b["resubmissions"]) == (1, 1, 1)
    assert b["score"] == pytest.approx(50 - 2 * 2.5)


# ------------------------------------------------------------------ exports and briefing


def test_csv_has_a_bom_for_excel_and_keeps_chinese():
    data = exports.csv_bytes(pd.DataFrame({"单位": ["县环保局"], "值": [1.5]}))
    assert data.startswith(b"\xef\xbb\xbf") and "县环保局" in data.decode("utf-8-sig")


def test_xlsx_round_trips_lists_and_dates():
    df = pd.DataFrame({"codes": [["a", "b"]], "when": [pd.Timestamp("2016-12-01", tz="UTC")], "名称": ["甲"]})
    back = pd.read_excel(io.BytesIO(exports.xlsx_bytes(df)), engine="calamine")
    assert back.loc[0, "codes"] == "a, b" and back.loc[0, "名称"] == "甲"


def _sample_briefing(coverage=None) -> exports.Briefing:
    camps = pd.DataFrame(
        {"campaign_code": ["c"], "name_zh": ["国家森林城市"], "acceptance_date": [pd.Timestamp("2017-12-31")]}
    )
    history = _verdicts(
        [
            ("c", "2016-11", "r1", "i1", "fail", 1, True, -2),
            ("c", "2016-12", "r1", "i1", "fail", 1, True, -1),
            ("c", "2016-11", "r2", "i2", "fail", 1, False, -1),
            ("c", "2016-12", "r2", "i2", "pass", 1, False, 1),
        ]
    )
    verdicts = history[history["period_code"] == "2016-12"].assign(
        req_name_zh=["建成区绿化覆盖率", "林木覆盖率"],
        value=[38.0, 31.0],
        comparison=[">=", ">="],
        threshold_value=[40.0, 30.0],
    )
    expected = pd.DataFrame(
        {
            "org_code": ["x", "y", "z"],
            "org_name_zh": ["县城管局", "县卫健局", "县环保局"],
            "return_status": ["late", "missing", "on_time"],
            "working_days_late": [6, None, 0],
        }
    )
    return briefing.build(
        "平昌县",
        "2016-12",
        "2016年12月",
        camps,
        verdicts,
        history,
        expected,
        pd.Timestamp("2016-12-31"),
        coverage=coverage,
    )


def test_briefing_has_status_risks_late_units_and_changes():
    b = _sample_briefing()
    sections = dict(b.sections)
    assert b.title == "平昌县“五创联动”工作月度简报（2016年12月）"
    assert (
        "达标率 50.0%" in sections["一、各创建项目进展"][0]
        and "距验收 365 天" in sections["一、各创建项目进展"][0]
    )
    assert sections["二、主要风险"][0].startswith("【否决项】国家森林城市｜建成区绿化覆盖率")
    assert sections["三、迟报、漏报单位"] == ["县城管局：迟报 6 个工作日", "县卫健局：未报送"]
    assert "林木覆盖率：未达标 → 达标" in sections["四、较上月变化"][0]


def test_each_readiness_figure_in_the_briefing_says_what_it_is_judged_on():
    cov = pd.DataFrame(
        {
            "campaign_code": ["c"],
            "period_code": ["2016-12"],
            "label_zh": ["按 22 项中的 18 项评价（含代用标准 2 项）"],
        }
    )
    line = dict(_sample_briefing(cov).sections)["一、各创建项目进展"][0]
    assert "达标率 50.0%" in line and "按 22 项中的 18 项评价（含代用标准 2 项）" in line
    assert "项评价" not in dict(_sample_briefing().sections)["一、各创建项目进展"][0]


def test_briefing_pdf_embeds_a_cjk_font():
    font = exports.find_cjk_font()
    if font is None:
        pytest.skip("no CJK font on this machine (Debian: fonts-noto-cjk); the page then offers Word")
    pdf = exports.briefing_pdf(_sample_briefing(), font)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    assert b"FontFile" in pdf  # the font is embedded (subset), so Chinese renders anywhere


def test_find_cjk_font_returns_none_when_no_font_dir_has_one(tmp_path):
    assert exports.find_cjk_font((tmp_path,)) is None


def test_briefing_docx_is_a_word_document_with_the_text():
    from docx import Document

    doc = Document(io.BytesIO(exports.briefing_docx(_sample_briefing())))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "一、各创建项目进展" in text and "县卫健局：未报送" in text


def test_every_label_has_chinese_and_english():
    for key, (zh, en) in i18n.LABELS.items():
        assert zh and en, key
    assert i18n.t("page_overview") == "总览" and i18n.t("page_overview", "en") == "Overview"
    assert i18n.both("no_rows") == "当前筛选条件下没有数据 / No data for the current filters"


def test_plan_gantt_groups_by_campaign_with_distinct_done_overdue_pending_marks_and_a_today_line():
    items = pd.DataFrame(
        [
            {
                "row": "",
                "kind": "bar",
                "name": "实施阶段",
                "start": "2012-01-01",
                "end": "2013-12-31",
                "status": None,
            },
            {
                "row": "c1",
                "kind": "bar",
                "name": "森林",
                "start": "2012-01-01",
                "end": "2016-12-31",
                "status": None,
            },
            {
                "row": "c1",
                "kind": "mark",
                "name": "启动",
                "start": None,
                "end": "2012-01-01",
                "status": "done",
            },
            {
                "row": "c1",
                "kind": "mark",
                "name": "申报",
                "start": None,
                "end": "2013-06-30",
                "status": "overdue",
            },
            {
                "row": "c2",
                "kind": "bar",
                "name": "卫生",
                "start": "2012-01-01",
                "end": "2013-12-31",
                "status": None,
            },
            {
                "row": "c2",
                "kind": "mark",
                "name": "验收",
                "start": None,
                "end": "2017-12-31",
                "status": "planned",
            },
        ]
    )
    labels = {"done": "已完成", "overdue": "已逾期", "pending": "待完成", "today": "今天"}
    fig = charts.plan_gantt(
        items, {"": "全县", "c1": "森林城市", "c2": "卫生县城"}, labels, "t", pd.Timestamp("2016-12-31")
    )
    marks = {t.name: t for t in fig.data if t.type == "scatter"}
    assert set(marks) == {"已完成", "已逾期", "待完成"}
    assert list(marks["已完成"].y) == ["森林城市"] and list(marks["已逾期"].y) == ["森林城市"]
    assert list(marks["待完成"].y) == ["卫生县城"]
    symbols = {n: t.marker.symbol for n, t in marks.items()}
    colors = {n: t.marker.color for n, t in marks.items()}
    assert (
        len(set(symbols.values())) == 3 and len(set(colors.values())) == 3
    )  # told apart by shape and colour
    assert list(fig.layout.yaxis.categoryarray) == ["全县", "森林城市", "卫生县城"]  # one row per campaign
    assert any(s.x0 == pd.Timestamp("2016-12-31") for s in fig.layout.shapes)  # the today line
    assert charts.plan_state("closed_late") == "done" and charts.plan_state(None) == "pending"
