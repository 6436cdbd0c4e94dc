"""The marts assets on a temporary warehouse with synthetic verdicts and returns: every table filled,
figures traceable to verdicts by SQL, re-running changes nothing."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import duckdb
import pytest

from pipelines import reporting_calendar as rc
from pipelines.assets import marts as marts_assets
from pipelines.resources import WarehouseResource
from pipelines.sample import task_ledger as sample_ledger
from pipelines.settings import Settings
from pipelines.warehouse.tables import marts as marts_tables
from pipelines.warehouse.tables import quality
from tests.marts.conftest import COUNTY, insert, insert_submissions, insert_verdicts, submission, verdict

MONTHS = [f"2013-{m:02d}" for m in range(1, 13)]


def _seed(conn: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    reqs = conn.execute(
        "SELECT requirement_code, indicator_code, is_veto FROM dim.requirement "
        "WHERE edition_code = 'hyg_county_2010' AND comparison = '>=' AND threshold_kind = 'absolute' "
        # Two monthly % requirements read in the county text (not the proxies completing the edition).
        "AND requirement_code IN ('hyg_closed_garbage_transport', 'hyg_garbage_feces_harmless') "
        "ORDER BY is_veto DESC, requirement_code LIMIT 2"
    ).fetchall()
    (improving, ind_a, _), (failing, ind_b, _) = reqs
    rows = []
    for k, p in enumerate(MONTHS):
        rows.append(
            verdict(
                improving,
                p,
                "pass" if k >= 8 else "fail",
                indicator_code=ind_a,
                value=80.0 + k,
                threshold_value=88.0,
                margin=k - 8.0,
                is_veto=True,
            )
        )
        rows.append(
            verdict(
                failing,
                p,
                "fail",
                indicator_code=ind_b,
                value=70.0,
                threshold_value=90.0,
                margin=-20.0,
                weight=2.0,
            )
        )
    for y, v in (("2012", 75.0), ("2013", 86.0)):
        rows.append(
            verdict(improving, y, "fail", indicator_code=ind_a, value=v, threshold_value=88.0, margin=v - 88)
        )
    insert_verdicts(conn, rows)
    org = conn.execute("SELECT org_code FROM dim.assignment WHERE frequency = 'monthly' LIMIT 1").fetchone()[
        0
    ]
    subs = []
    for p in MONTHS[:6]:
        due = rc.due_date(rc.parse_period(p), 5)
        subs.append(submission(org, p, dt.datetime.combine(due, dt.time(9)), due, 0))
    insert_submissions(conn, subs)
    flag = {
        "flag_id": "f1",
        "check_name": "observation_values",
        "expectation": "range",
        "severity": "WARN",
        "observation_id": "o1",
        "org_code": org,
        "indicator_code": "x",
        "period_code": "2013-02",
    }
    outlier = {
        "observation_id": "o1",
        "method": "modified_z",
        "indicator_code": "x",
        "org_code": org,
        "period_code": "2013-02",
        "follow_up": "open",
        "message_zh": "数值异常偏高",
    }
    insert(conn, quality.FLAG, [flag])
    insert(conn, quality.OUTLIER, [outlier])
    return improving, failing


@pytest.fixture(scope="module")
def built(dims_db, tmp_path_factory, profile):
    """Materialise the marts once per module on synthetic verdicts, returns and a sample task ledger."""
    root = tmp_path_factory.mktemp("marts_assets")
    mp = pytest.MonkeyPatch()
    for var, sub in (("WUCHUANG_RAW_DIR", "raw"), ("WUCHUANG_WAREHOUSE_DIR", "warehouse")):
        mp.setenv(var, str(root / sub))
    try:
        settings = Settings.from_env()
        settings.ensure_dirs()
        shutil.copy(dims_db, settings.warehouse_path)
        wh = WarehouseResource.from_settings(settings)
        with wh.get_connection() as conn:
            reqs = _seed(conn)
        sample_ledger.write_sample_task_ledger(
            settings.raw_dir / COUNTY / "cjb" / "任务台账.xlsx", profile, seed=3
        )
        assert dg.materialize(marts_assets.assets, resources={"warehouse": wh}).success
        yield wh, reqs
    finally:
        mp.undo()


def _q(wh, sql, params=()):
    conn = duckdb.connect(wh.database, read_only=True)
    try:
        return conn.execute(sql, list(params)).fetchall()
    finally:
        conn.close()


def test_every_marts_table_is_filled(built):
    wh, _ = built
    for table in (
        "campaign_readiness",
        "requirement_forecast",
        "campaign_forecast",
        "unit_accountability",
        "lagging_unit",
        "plan_schedule",
        "task",
        "task_ledger_error",
        "rectification_item",
        "rectification_event",
    ):
        assert _q(wh, f"SELECT count(*) FROM marts.{table}")[0][0] > 0, table


def test_readiness_traces_back_to_the_verdicts_by_sql(built):
    wh, (improving, failing) = built
    rows = _q(
        wh,
        """
        SELECT r.period_code, r.readiness, r.is_capped, r.n_met, count(v.requirement_code) AS n_verdicts
        FROM marts.campaign_readiness r
        JOIN compliance.verdict v
          ON v.county_code = r.county_code AND v.campaign_code = r.campaign_code
         AND v.period_code = r.period_code AND v.grain = r.grain AND v.subject_org_code = r.county_code
        WHERE r.grain = 'ytd_month' GROUP BY ALL ORDER BY r.period_code
        """,
    )
    assert len(rows) == 12 and all(r[4] == 2 for r in rows)
    jan, dec = rows[0], rows[-1]
    assert (jan[1], jan[3]) == (0.0, 0)
    # December: the veto item passes (weight 1), the other fails (weight 2): 1/3, not capped.
    assert dec[1] == pytest.approx(1 / 3) and dec[2] is False


def test_forecasts_and_rectification_items_keep_their_keys(built):
    wh, (improving, failing) = built
    status = dict(_q(wh, "SELECT requirement_code, status FROM marts.requirement_forecast WHERE is_latest"))
    assert status[improving] == "achieved"
    assert status[failing] == "off_track"
    items = _q(
        wh,
        """
        SELECT i.requirement_code, i.grain, i.opened_period_code, i.closed_period_code, v.status
        FROM marts.rectification_item i JOIN compliance.verdict v
          ON v.requirement_code = i.requirement_code AND v.period_code = i.opened_period_code
         AND v.subject_org_code = i.subject_org_code
        ORDER BY 1, 2
        """,
    )
    assert (improving, "ytd_month", "2013-01", "2013-09", "fail") in items
    assert (failing, "ytd_month", "2013-01", None, "fail") in items


@pytest.mark.slow
def test_rerunning_the_marts_changes_nothing(built):
    wh, _ = built
    tables = [
        "campaign_readiness",
        "requirement_forecast",
        "unit_accountability",
        "plan_schedule",
        "rectification_item",
    ]
    before = {t: _q(wh, f"SELECT * FROM marts.{t} ORDER BY ALL") for t in tables}
    assert dg.materialize(marts_assets.assets, resources={"warehouse": wh}).success
    after = {t: _q(wh, f"SELECT * FROM marts.{t} ORDER BY ALL") for t in tables}
    assert before == after


def test_ledger_and_plan_on_the_synthetic_returns(built):
    wh, _ = built
    got = _q(
        wh,
        "SELECT sum(returns_on_time), sum(returns_missing) FROM marts.unit_accountability "
        "WHERE period_code BETWEEN '2013-01' AND '2013-06' AND returns_received > 0",
    )[0]
    assert got[0] == 6
    kinds = dict(_q(wh, "SELECT item_kind, count(*) FROM marts.plan_schedule GROUP BY 1"))
    assert kinds["phase"] == 3 and kinds["derived_milestone"] == 20 and kinds["task"] >= 38
    assert _q(wh, "SELECT count(*) FROM marts.task_ledger_error")[0][0] == 3


def test_quality_problems_reach_the_ledger_and_open_rectification_items(built):
    wh, _ = built
    defects = _q(
        wh,
        "SELECT org_code, quality_defects FROM marts.unit_accountability WHERE period_code = '2013-02' "
        "AND quality_defects > 0",
    )
    assert len(defects) == 1 and defects[0][1] == 1
    [item] = _q(
        wh,
        "SELECT owner_org_code, problem_ref, description_zh, status FROM marts.rectification_item "
        "WHERE source_kind = 'quality'",
    )
    assert item[0] == defects[0][0] and item[1] == "outlier:o1:modified_z" and "数值异常偏高" in item[2]


def test_veto_cap_check_passes_on_clean_rows_and_fails_on_an_uncapped_row(warehouse):
    clean = {
        "county_code": COUNTY,
        "campaign_code": "hygienic_county",
        "period_code": "2013-06",
        "grain": "ytd_month",
        "readiness": 0.6,
        "readiness_cap": 0.6,
        "n_veto_failed": 1,
    }
    dirty = clean | {"period_code": "2013-07", "readiness": 0.9}
    with warehouse.get_connection() as conn:
        insert(conn, marts_tables.CAMPAIGN_READINESS, [clean])
    ok = marts_assets.readiness_respects_veto_cap(warehouse=warehouse)
    assert ok.passed and ok.metadata["rows"].value == 1
    with warehouse.get_connection() as conn:
        insert(conn, marts_tables.CAMPAIGN_READINESS, [dirty])
    bad = marts_assets.readiness_respects_veto_cap(warehouse=warehouse)
    assert not bad.passed
    assert "1 of 2 rows" in bad.description
    assert "2013-07" in str(bad.metadata["examples"].value)
