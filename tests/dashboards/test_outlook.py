"""The campaign outlook (dashboards.outlook) and the presentation rules (dashboards.present), on
small frames: clean and dirty input."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboards import outlook, present

END = pd.Timestamp("2016-12-31")


def _camps(acceptance: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"campaign_code": ["c"], "name_zh": ["国家森林城市"], "name_en": ["National forest city"],
         "acceptance_date": [pd.Timestamp(acceptance)]}
    )  # fmt: skip


OWNERS = pd.DataFrame(
    {
        "requirement_code": ["r_veto", "r_a", "r_b"],
        "req_name_zh": ["否决要求", "要求甲", "要求乙"],
        "req_name_en": ["Veto req", "Req A", "Req B"],
        "is_veto": [True, False, False],
        "weight": [1.0, 2.0, 1.0],
        "owner_org_code": ["u1", "u2", None],
        "owner_name_zh": ["县林业局", "县住建局", None],
        "owner_name_en": ["Forestry Bureau", "Housing Bureau", None],
        "indicator_code": ["i1", "i2", "i3"],
    }
)
GROUPS = pd.DataFrame(
    {
        "campaign_code": ["c"],
        "lead_org_code": ["u1"],
        "lead_name_zh": ["县林业局"],
        "lead_name_en": ["Forestry Bureau"],
    }
)


def _ready(period: str, status: str, failing: list[str], veto: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign_code": ["c"],
            "period_code": [period],
            "readiness": [0.6 if veto else 0.8],
            "readiness_status": [status],
            "failing_requirement_codes": [failing],
            "veto_failed_codes": [veto or []],
            "veto_no_data_codes": [[]],
        }
    )


def _forecast(status: str, blocking: list[str], veto: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {"campaign_code": ["c"], "projected_status": [status], "blocking_requirement_codes": [blocking],
         "veto_blocking_codes": [veto or []]}
    )  # fmt: skip


def _one(acceptance, ready, forecast=None, outcomes=None, period="2016-12") -> outlook.Outlook:
    return outlook.campaign_outlooks(
        _camps(acceptance), ready, forecast, None, OWNERS, GROUPS, outcomes, period, END
    )[0]


@pytest.mark.parametrize(
    ("projected", "expected"),
    [
        ("on_track", "will_pass"),
        ("at_risk", "at_risk"),
        ("off_track", "will_miss"),
        ("insufficient_data", "at_risk"),
    ],
)
def test_before_the_acceptance_date_the_forecast_decides(projected, expected):
    o = _one("2017-12-31", _ready("2016-12", "not_ready", ["r_a"]), _forecast(projected, ["r_b", "r_a"]))
    assert o.status == expected
    assert o.basis == ("no_forecast" if projected == "insufficient_data" else "forecast")
    assert [d.requirement_code for d in o.deciding] == ["r_a", "r_b"]  # heaviest first
    zh = o.sentence("zh")
    assert "验收日期 2017-12-31" in zh and "要求甲（县住建局）" in zh and "牵头单位 县林业局" in zh
    en = o.sentence("en")
    assert "Req A (Housing Bureau)" in en and "Lead unit: Forestry Bureau" in en


def test_a_failing_veto_never_leaves_will_pass():
    o = _one(
        "2017-12-31",
        _ready("2016-12", "veto_failed", ["r_veto"], ["r_veto"]),
        _forecast("on_track", [], ["r_veto"]),
    )
    assert o.status == "at_risk" and [d.requirement_code for d in o.vetoes] == ["r_veto"]
    assert "一票否决项未达标：否决要求（县林业局）" in o.sentence("zh")


def test_after_the_date_without_a_record_the_outcome_is_derived_and_says_so():
    ready = pd.concat([_ready("2013-12", "not_ready", ["r_a"]), _ready("2016-12", "ready", [])])
    o = _one("2013-12-31", ready)
    assert (o.status, o.basis) == ("missed", "derived")
    assert "未录入验收结果，按验收当月数据推断" in o.sentence("zh")
    assert "no acceptance outcome recorded" in o.sentence("en")
    ready_then = pd.concat([_ready("2013-12", "ready", []), _ready("2016-12", "not_ready", ["r_a"])])
    assert _one("2013-12-31", ready_then).status == "passed"


def test_a_recorded_outcome_wins_and_a_passed_campaign_failing_now_is_in_consolidation():
    rec = pd.DataFrame(
        {"campaign_code": ["c"], "outcome": ["passed"], "decided_date": [pd.Timestamp("2014-01-20")],
         "document": ["川爱卫〔2014〕3号"], "source": ["acceptance_record"]}
    )  # fmt: skip
    ready = pd.concat([_ready("2013-12", "not_ready", ["r_a"]), _ready("2016-12", "not_ready", ["r_b"])])
    o = _one("2013-12-31", ready, outcomes=rec)
    assert (o.status, o.basis) == ("consolidation", "recorded")
    assert "川爱卫〔2014〕3号" in o.sentence("zh")
    ok = pd.concat([_ready("2013-12", "not_ready", ["r_a"]), _ready("2016-12", "ready", [])])
    assert _one("2013-12-31", ok, outcomes=rec).status == "passed"
    failed = rec.assign(outcome="failed")
    assert _one("2013-12-31", ok, outcomes=failed).status == "missed"
    # a record decided after the as-of month is not known yet
    later = rec.assign(decided_date=pd.Timestamp("2017-03-01"))
    assert _one("2013-12-31", ok, outcomes=later).basis == "derived"


def test_decisions_never_list_a_passing_item_and_name_the_owner():
    o = _one(
        "2017-12-31", _ready("2016-12", "not_ready", ["r_a", "r_b"]), _forecast("off_track", ["r_a", "r_b"])
    )
    verdicts = pd.DataFrame(
        {
            "requirement_code": ["r_a", "r_b"],
            "status": ["fail", "near"],
            "margin": [-2.0, 0.5],  # r_b is near but met: not a risk
            "value": [78.0, 80.5],
            "comparison": [">=", ">="],
            "threshold_value": [80.0, 80.0],
            "unit": ["%", "%"],
        }
    )
    ds = outlook.decisions(
        [o], verdicts, None, None, {"c": ("国家森林城市", "National forest city")}, present.value_vs_threshold
    )
    assert [d.what_zh for d in ds] == ["要求甲"]
    assert ds[0].owner_zh == "县住建局" and "现值 78.0%，标准 ≥ 80.0%，差 2.0%" in ds[0].why_zh
    assert outlook.failing(verdicts)["requirement_code"].tolist() == ["r_a"]


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (82.58000000000001, "%", "zh", "82.6%"),
        (4.099999999999994, "分", "zh", "4.1 分"),
        (3.0, "起", "en", "3 cases"),
        (0.123456, "系数", "en", "0.12 coefficient"),
        (1234.5678, "元/人", "zh", "1234.6 元/人"),
        (None, "%", "zh", "—"),
        (float("nan"), "%", "en", "—"),
        (-0.0001, "%", "zh", "0.0%"),
    ],
)
def test_numbers_are_rounded_per_unit_of_measure(value, unit, lang, text):
    assert present.number(value, unit, lang) == text


def test_shares_changes_thresholds_and_dashes():
    assert present.pct(0.85) == "85.0%" and present.pct(None) == "—"
    assert present.pp(0.0) is None and present.pp(0.0123) == "+1.2 pp"  # no "↑ +0.0 pp"
    row = {"comparison": ">=", "threshold_value": 85.0, "unit": "%"}
    assert present.threshold(row, "zh") == "≥ 85.0%"
    assert "定性" in present.threshold({"comparison": "qualitative"}, "zh")
    assert "not known" in present.threshold({"comparison": "<=", "threshold_token": "unknown"}, "en")


def test_problems_catch_codes_noise_and_none_but_not_clean_text():
    assert present.problems("建成区绿化覆盖率 82.6%（县住建局）") == []
    assert present.problems("File 2016年12月报表.xlsx, sheet 填报表") == []
    assert present.problems("org_code")
    assert present.problems("82.58000000000001")
    assert present.problems("None")
    assert present.problems("nan")


def test_a_recorded_chinese_document_title_is_named_in_chinese_mode_only():
    from dashboards.outlook import CJK, Outlook

    o = Outlook(
        "civilized_city",
        "省级文明城市",
        "Provincial civilized city",
        "consolidation",
        "recorded",
        pd.Timestamp("2013-12-31"),
        0.867,
        outcome_document="验收结果：川文明委〔2013〕命名文件",
        outcome_date=pd.Timestamp("2013-12-20"),
    )
    assert "川文明委〔2013〕命名文件" in o.sentence("zh")
    en = o.sentence("en")
    assert "recorded 2013-12-20, document on file" in en and not CJK.search(en.split("Why:")[0])
    o.outcome_document = "Decision No. 12"
    assert "Decision No. 12" in o.sentence("en")
