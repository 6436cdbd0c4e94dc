"""Accountability ledger: on-time, late, missing and resubmitted returns; score, rank and 通报."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import reporting_calendar as rc
from pipelines.marts import accountability
from tests.marts.conftest import COUNTY, submission

ORG = f"{COUNTY}-sthjj"
OTHER = f"{COUNTY}-lyj"
MONTHS = ["2013-01", "2013-02", "2013-03", "2013-04", "2013-05"]


def _due(period: str) -> dt.date:
    return rc.due_date(rc.parse_period(period), 5)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0))


def _inputs(**over):
    base = {
        "assignments": [
            {
                "county_code": COUNTY,
                "indicator_code": "air",
                "org_code": ORG,
                "role": "primary",
                "frequency": "monthly",
            },
            {
                "county_code": COUNTY,
                "indicator_code": "noise",
                "org_code": ORG,
                "role": "primary",
                "frequency": "monthly",
            },
            {
                "county_code": COUNTY,
                "indicator_code": "forest",
                "org_code": OTHER,
                "role": "primary",
                "frequency": "monthly",
            },
        ],
        "deadlines": [{"county_code": COUNTY, "period_code": p, "due_date": _due(p)} for p in MONTHS],
        "submissions": [
            # 2013-01 on time; 2013-02 three working days late; 2013-03 missing;
            # 2013-04 on time then a corrected resubmission; 2013-05 eight working days late.
            submission(ORG, "2013-01", _at(_due("2013-01")), _due("2013-01"), 0),
            submission(ORG, "2013-02", _at(rc.add_working_days(_due("2013-02"), 3)), _due("2013-02"), 3),
            submission(ORG, "2013-04", _at(_due("2013-04")), _due("2013-04"), 0, values_quarantined=1),
            submission(
                ORG, "2013-04", _at(rc.add_working_days(_due("2013-04"), 4)), _due("2013-04"), 4, rev=2
            ),
            submission(ORG, "2013-05", _at(rc.add_working_days(_due("2013-05"), 8)), _due("2013-05"), 8),
        ]
        + [submission(OTHER, p, _at(_due(p)), _due(p), 0) for p in MONTHS],
        "quarantine": [
            {
                "quarantine_id": "q1",
                "file_id": "f",
                "org_code": ORG,
                "period_code": "2013-04",
                "scope": "value",
            },
            {
                "quarantine_id": "q2",
                "file_id": "g",
                "org_code": ORG,
                "period_code": "2013-03",
                "scope": "file",
            },
        ],
        "defects": [{"org_code": ORG, "period_code": "2013-04", "n": 1}],
        "verdicts": [
            {
                "county_code": COUNTY,
                "requirement_code": "env_air",
                "subject_org_code": COUNTY,
                "period_code": "2013-03",
                "grain": "ytd_month",
                "status": "fail",
                "margin": -2.0,
                "is_veto": True,
            },
            {
                "county_code": COUNTY,
                "requirement_code": "env_water",
                "subject_org_code": COUNTY,
                "period_code": "2013-03",
                "grain": "ytd_month",
                "status": "pass",
                "margin": 2.0,
                "is_veto": False,
            },
        ],
        "requirements": [
            {
                "requirement_code": "env_air",
                "responsible_short_code": "sthjj",
                "name_zh": "空气质量优良天数比例",
            },
            {"requirement_code": "env_water", "responsible_short_code": "sthjj"},
        ],
        "units": [
            {"org_code": ORG, "county_code": COUNTY, "level": "department", "name_zh": "县生态环境局"},
            {"org_code": OTHER, "county_code": COUNTY, "level": "department", "name_zh": "县林业局"},
        ],
        "horizon": dt.date(2013, 7, 31),
    }
    base.update(over)
    return base


def _rows(**over):
    rows, notices = accountability.ledger_rows(**_inputs(**over))
    return {(r["org_code"], r["period_code"]): r for r in rows}, notices


def test_ledger_counts_on_time_late_missing_and_resubmitted_returns():
    rows, _ = _rows()
    total = {
        k: sum(r[k] for (o, _), r in rows.items() if o == ORG)
        for k in (
            "returns_due",
            "returns_received",
            "returns_on_time",
            "returns_late",
            "returns_missing",
            "resubmissions",
            "resubmitted_returns",
            "working_days_late_total",
        )
    }
    assert total == {
        "returns_due": 5,
        "returns_received": 4,
        "returns_on_time": 2,  # January, and April's first revision
        "returns_late": 2,
        "returns_missing": 1,
        "resubmissions": 1,
        "resubmitted_returns": 1,
        "working_days_late_total": 11,
    }
    assert rows[(ORG, "2013-03")]["missing_period_codes"] == ["2013-03"]
    assert rows[(ORG, "2013-03")]["files_rejected"] == 1
    assert rows[(ORG, "2013-05")]["working_days_late_max"] == 8
    apr = rows[(ORG, "2013-04")]
    assert (apr["values_loaded"], apr["values_quarantined"], apr["quality_defects"]) == (4, 1, 1)


def test_score_formula_and_rank():
    rows, _ = _rows()
    mar = rows[(ORG, "2013-03")]
    # March: 1 due, missing → timeliness 0, completeness 0; no values → quality 1; 1 of 2 owned failing.
    assert (mar["timeliness"], mar["completeness"], mar["data_quality"], mar["compliance"]) == (0, 0, 1, 0.5)
    assert mar["score"] == pytest.approx(100 * (0.20 * 1 + 0.20 * 0.5))
    apr = rows[(ORG, "2013-04")]
    assert apr["data_quality"] == pytest.approx(1 - 2 / 5)
    assert apr["score"] == pytest.approx(100 * (0.35 + 0.25 + 0.20 * 0.6 + 0.20))
    assert mar["rank"] == 2 and rows[(OTHER, "2013-03")]["rank"] == 1 and mar["n_ranked"] == 2


def test_lagging_list_names_missing_late_and_failing_veto_in_chinese():
    rows, notices = _rows()
    by = {(n["org_code"], n["period_code"]): n for n in notices}
    mar = by[(ORG, "2013-03")]
    assert mar["reason_codes"] == ["missing_return", "failing_veto", "low_score"]
    assert "缺报1份报表（2013年3月）" in mar["reason_zh"]
    assert "空气质量优良天数比例（env_air）" in mar["reason_zh"] and mar["reason_zh"].startswith(
        "2013年3月，县生态环境局："
    )
    may = by[(ORG, "2013-05")]
    assert may["reason_codes"] == ["late_return"]
    # 8 working days late keeps 1 - 8/10 of the timeliness credit
    assert rows[(ORG, "2013-05")]["timeliness"] == pytest.approx(0.2)
    assert may["score"] == pytest.approx(100 * (0.35 * 0.2 + 0.25 + 0.20 + 0.20))
    assert "最长超期8个工作日" in may["reason_zh"]
    assert (ORG, "2013-02") not in by  # 3 working days late: under the 5-day notice line
    assert not any(o == OTHER for o, _ in by)
    assert rows[(ORG, "2013-03")]["is_lagging"] and not rows[(ORG, "2013-02")]["is_lagging"]


def test_returns_due_after_the_horizon_are_not_missing():
    rows, _ = _rows(horizon=_due("2013-05") - dt.timedelta(days=1), submissions=[])
    may = rows[(ORG, "2013-05")]
    assert (may["returns_due"], may["returns_not_yet_due"], may["returns_missing"]) == (1, 1, 0)
    assert may["timeliness"] == 1.0
