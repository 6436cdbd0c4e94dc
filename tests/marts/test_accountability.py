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
    # March: 1 due, missing → timeliness 0, completeness 0; no values → no data-quality component (not
    # free marks); 1 of 2 owned failing. The score is the weighted mean of the components that apply.
    assert (mar["timeliness"], mar["completeness"], mar["data_quality"], mar["compliance"]) == (
        0,
        0,
        None,
        0.5,
    )
    assert mar["score"] == pytest.approx(100 * (0.20 * 0.5) / (0.35 + 0.25 + 0.20))
    assert mar["score_components"] == ["timeliness", "completeness", "compliance"]
    apr = rows[(ORG, "2013-04")]
    assert apr["data_quality"] == pytest.approx(1 - 2 / 5)
    # April owns no requirement with a verdict: compliance does not apply (no free 0.20).
    assert apr["compliance"] is None
    assert apr["score"] == pytest.approx(100 * (0.35 + 0.25 + 0.20 * 0.6) / 0.80)
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
    # 8 working days late keeps 1 - 8/10 of the timeliness credit; without a free compliance component
    # the score (65) is below 70.
    assert may["reason_codes"] == ["late_return", "low_score"]
    assert rows[(ORG, "2013-05")]["timeliness"] == pytest.approx(0.2)
    assert may["score"] == pytest.approx(100 * (0.35 * 0.2 + 0.25 + 0.20) / 0.80)
    assert "本月在部门中排名第2/2位" in may["reason_zh"]
    assert "最长超期8个工作日" in may["reason_zh"]
    assert (ORG, "2013-02") not in by  # 3 working days late: under the 5-day notice line
    assert not any(o == OTHER for o, _ in by)
    assert rows[(ORG, "2013-03")]["is_lagging"] and not rows[(ORG, "2013-02")]["is_lagging"]


def test_returns_due_after_the_horizon_are_not_missing():
    rows, _ = _rows(horizon=_due("2013-05") - dt.timedelta(days=1), submissions=[])
    may = rows[(ORG, "2013-05")]
    assert (may["returns_due"], may["returns_not_yet_due"], may["returns_missing"]) == (1, 1, 0)
    # nothing was due from the unit that month: no score, not ranked (never "first with full marks")
    assert may["timeliness"] is None and may["score"] is None
    assert (may["rank"], may["n_ranked"], may["is_ranked"]) == (None, None, False)


TOWN = f"{COUNTY}-jiangkou"
TOWN2 = f"{COUNTY}-xiangtan"


def _unit_inputs(units: dict[str, tuple[str, str]]):
    """units: org → (level, 2013-03 return: 'on_time' | 'late' | 'missing' | 'none' (nothing due))."""
    assignments, subs = [], []
    for org, (_, kind) in units.items():
        if kind == "none":
            continue
        assignments.append(
            {
                "county_code": COUNTY,
                "indicator_code": "x",
                "org_code": org,
                "role": "primary",
                "frequency": "monthly",
            }
        )
        if kind == "on_time":
            subs.append(submission(org, "2013-03", _at(_due("2013-03")), _due("2013-03"), 0))
        elif kind == "late":
            subs.append(
                submission(org, "2013-03", _at(rc.add_working_days(_due("2013-03"), 4)), _due("2013-03"), 4)
            )
    return _inputs(
        assignments=assignments,
        deadlines=[{"county_code": COUNTY, "period_code": "2013-03", "due_date": _due("2013-03")}],
        submissions=subs,
        quarantine=[],
        defects=[],
        verdicts=[],
        requirements=[],
        units=[
            {"org_code": org, "county_code": COUNTY, "level": level, "name_zh": org}
            for org, (level, _) in units.items()
        ],
    )


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        # departments and towns are ranked separately: each has its own first place
        (
            {ORG: ("department", "on_time"), OTHER: ("department", "late"), TOWN: ("town", "late")},
            {ORG: (1, 2), OTHER: (2, 2), TOWN: (1, 1)},
        ),
        (
            {ORG: ("department", "missing"), TOWN: ("town", "on_time"), TOWN2: ("town", "missing")},
            {ORG: (1, 1), TOWN: (1, 2), TOWN2: (2, 2)},
        ),
    ],
)
def test_departments_and_towns_are_ranked_separately(units, expected):
    rows, _ = accountability.ledger_rows(**_unit_inputs(units))
    got = {r["org_code"]: (r["rank"], r["n_ranked"]) for r in rows}
    assert got == expected
    assert {r["org_code"]: r["rank_group"] for r in rows} == {o: lvl for o, (lvl, _) in units.items()}


def test_a_unit_with_nothing_due_is_not_ranked_first_with_full_marks():
    inputs = _unit_inputs({ORG: ("department", "late"), OTHER: ("department", "none")})
    # OTHER owns a requirement whose verdict is not assessable: a ledger row, but nothing due
    inputs["verdicts"] = [
        {
            "county_code": COUNTY,
            "requirement_code": "f",
            "subject_org_code": COUNTY,
            "period_code": "2013-03",
            "grain": "ytd_month",
            "status": "no_data",
            "margin": None,
            "is_veto": False,
        }
    ]
    inputs["requirements"] = [{"requirement_code": "f", "responsible_short_code": "lyj"}]
    rows, _ = accountability.ledger_rows(**inputs)
    by = {r["org_code"]: r for r in rows}
    # OTHER is judged on what it owes: its requirement without data is not met (compliance 0), not
    # "nothing failing, full marks"; it ranks after the late unit.
    assert by[OTHER]["requirements_owned"] == 1 and by[OTHER]["requirements_no_data"] == 1
    assert by[OTHER]["score_components"] == ["compliance"] and by[OTHER]["score"] == 0
    assert (by[ORG]["rank"], by[OTHER]["rank"], by[ORG]["n_ranked"]) == (1, 2, 2)
    inputs["verdicts"] = []
    rows, _ = accountability.ledger_rows(**inputs)
    assert {r["org_code"] for r in rows} == {ORG}  # no row at all when nothing is due or owned


# ------------------------------------------------------------------ issue 17: supervision component, letters


def test_supervision_component_scores_and_timeliness():
    from pipelines.marts.accountability import supervision_component

    assert supervision_component(None, 3, 1) is None  # not inspected: neither earns nor costs
    assert supervision_component(90.0, 0, 0) == pytest.approx(0.9)
    assert supervision_component(90.0, 4, 1) == pytest.approx(0.9 * 0.75)
    assert supervision_component(120.0, 1, 1) == 0.0  # capped to 0..1, all problems late


def test_combined_ranking_weights_supervision_and_ranks_groups_apart():
    import datetime as dt

    from pipelines.marts.accountability import SUPERVISION_WEIGHT, supervision_unit_scores

    d = dt.date(2016, 6, 12)
    insp = [
        {"county_code": "c", "unit_code": "c-a", "inspected_on": d, "score_pct": 100.0},
        {"county_code": "c", "unit_code": "c-b", "inspected_on": d, "score_pct": 60.0},
        {"county_code": "c", "unit_code": "c-t", "inspected_on": d, "score_pct": 80.0},
    ]
    probs = [
        {
            "county_code": "c",
            "owner_org_code": "c-b",
            "opened_date": d,
            "status": "overdue",
            "is_repeat": True,
        }
    ]
    ledger = [
        {"county_code": "c", "org_code": "c-a", "period_code": "2016-05", "score": 80.0, "rank_group": "department", "is_ranked": True},
        {"county_code": "c", "org_code": "c-b", "period_code": "2016-05", "score": 100.0, "rank_group": "department", "is_ranked": True},
        {"county_code": "c", "org_code": "c-c", "period_code": "2016-05", "score": 90.0, "rank_group": "department", "is_ranked": True},
    ]  # fmt: skip
    rows = {r["org_code"]: r for r in supervision_unit_scores(insp, probs, ledger, levels={"c-t": "town"})}
    w = SUPERVISION_WEIGHT
    assert rows["c-a"]["combined_score"] == pytest.approx(100 * (w * 1.0 + (1 - w) * 0.8))
    assert rows["c-b"]["supervision_component"] == 0.0  # its only problem is overdue
    assert rows["c-b"]["combined_score"] == pytest.approx(100 * (1 - w))
    assert rows["c-c"]["combined_score"] == 90.0 and rows["c-c"]["supervision_component"] is None
    # 90 (ledger only) > 85 (c-a: full marks at inspection, 80 in the ledger) > 75 (c-b: its problem overdue)
    assert [rows[o]["rank"] for o in ("c-c", "c-a", "c-b")] == [1, 2, 3] and rows["c-b"]["n_repeat"] == 1
    assert rows["c-t"]["rank_group"] == "town" and rows["c-t"]["rank"] == 1 and rows["c-t"]["n_ranked"] == 1


def test_letter_rows_count_targets_without_a_value_as_not_met():
    from pipelines.marts.accountability import letter_rows

    targets = [
        {"county_code": "c", "org_code": "c-a", "year": 2013, "met": True},
        {"county_code": "c", "org_code": "c-a", "year": 2013, "met": None},
        {"county_code": "c", "org_code": "c-a", "year": 2014, "met": None},
    ]
    signed = {("c", "c-a", 2013): {"signed_on": "2013-01-25", "document_no": "1号", "source": "office"}}
    rows = {r["year"]: r for r in letter_rows(targets, signed, {"c-a": "甲局"}, {"c-a": 2})}
    assert (
        rows[2013]["share_met"] == 0.5
        and rows[2013]["n_assessed"] == 1
        and rows[2013]["signed_on"] == "2013-01-25"
    )
    assert rows[2014]["share_met"] is None and rows[2014]["signed_on"] is None  # nothing to judge yet
    assert rows[2013]["n_points"] == 2 and rows[2013]["unit_name_zh"] == "甲局"
