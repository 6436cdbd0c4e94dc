"""Asset checks and validation assets end to end with dg.materialize on a temporary warehouse.

A stand-in `departmental_returns` asset writes synthetic core rows; the real checks (attached by
asset key) and the real `quality_results` / `compliance_verdicts` assets run on them. Each scenario
is materialized once per module (clean, structurally dirty, implausible).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest

from pipelines.assets import validation
from pipelines.assets.publishing import build_published_warehouse
from pipelines.catalog import load_catalog
from pipelines.resources import WarehouseResource
from pipelines.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.connection import writer
from pipelines.warehouse.schema import replace_rows
from pipelines.warehouse.tables import core
from tests.validation.helpers import obs

pytestmark = pytest.mark.slow
CATALOG = load_catalog(PROJECT_ROOT / "expectations" / "standards")


def _clean_rows() -> list[dict]:
    c = CATALOG
    rows = [
        obs("builtup_green_coverage", org, "2012", v, catalog=c) for org, v in (("zjj", 38.0), ("lyj", 38.5))
    ]
    rows += [
        obs("hyg_u5_mortality", "wjw", "2012", 9.0, catalog=c),
        obs("hyg_infant_mortality", "wjw", "2012", 7.0, catalog=c),
    ]
    rows += [
        obs("urban_sewage_treatment", "zjj", f"2012-{m:02d}", 85.0 + m / 10, catalog=c, cell=f"G{m + 3}")
        for m in range(1, 13)
    ]
    return rows


def _stub(rows: list[dict]) -> dg.AssetsDefinition:
    @dg.asset(name="departmental_returns")
    def departmental_returns(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as conn:
            files = {r["file_id"]: r for r in rows}
            src = [
                {"file_id": f, "path": r["file_name"], "file_name": r["file_name"], "status": "accepted"}
                for f, r in files.items()
            ]
            replace_rows(conn, core.SOURCE_FILE, src)
            replace_rows(conn, core.OBSERVATION, rows)

    return departmental_returns


def _materialize(rows: list[dict], tmp: Path, publish: bool = False, env: dict | None = None):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WUCHUANG_WAREHOUSE_DIR", str(tmp / "warehouse"))
        mp.setenv("WUCHUANG_RAW_DIR", str(tmp / "raw"))
        mp.setenv("WUCHUANG_GX_DIR", str(tmp / "gx"))
        mp.setenv("WUCHUANG_FEEDBACK_DIR", str(tmp / "feedback"))
        mp.delenv("WUCHUANG_SYSTEMIC_SHARE", raising=False)
        for k, v in (env or {}).items():
            mp.setenv(k, v)
        warehouse = WarehouseResource.from_settings(Settings.from_env())
        assets = [_stub(rows), validation.quality_results, validation.compliance_verdicts]
        if publish:
            assets.append(build_published_warehouse(assets))
        result = dg.materialize(
            [*assets, *validation.checks], resources={"warehouse": warehouse}, raise_on_error=False
        )
    return result, warehouse.database


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    return _materialize(_clean_rows(), tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def dirty_run(tmp_path_factory):
    rows = _clean_rows()
    rows[0] = {**rows[0], "value": 135.0, "raw_text": "135", "cell": "G9"}  # percent 135
    return _materialize(rows, tmp_path_factory.mktemp("dirty"))


@pytest.fixture(scope="module")
def implausible_run(tmp_path_factory):
    rows = _clean_rows()
    rows[1] = {**rows[1], "value": 45.0}  # forestry bureau 45 vs housing bureau 38 (tolerance 2)
    return _materialize(rows, tmp_path_factory.mktemp("implausible"))


CLERK_FILE = "2015-06_sthjj.xlsx"


def _clerk_rows() -> list[dict]:
    """The clean rows plus a monthly days series; in June the clerk typed 340 days into cell G9."""
    rows = _clean_rows()
    for m in range(1, 13):
        value = 340.0 if m == 6 else 25.0
        rows.append(
            {
                **obs(
                    "hyg_aqi_good_days", "sthjj", f"2015-{m:02d}", value, catalog=CATALOG, cell=f"G{m + 3}"
                ),
                "cell": "G9" if m == 6 else f"G{m + 3}",
            }
        )
    return rows


def _write_clerk_file(raw: Path) -> None:
    """The clerk's June workbook in the raw folder, so the feedback can mark the cell."""
    raw.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报表"
    ws["B9"], ws["G9"] = "环境空气质量优良天数", 340
    wb.save(raw / CLERK_FILE)


@pytest.fixture(scope="module")
def clerk_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clerk")
    _write_clerk_file(tmp / "raw")
    result, database = _materialize(_clerk_rows(), tmp, publish=True)
    return result, database, tmp


@pytest.fixture(scope="module")
def systemic_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("systemic")
    result, database = _materialize(_clerk_rows(), tmp, publish=True, env={"WUCHUANG_SYSTEMIC_SHARE": "0.01"})
    return result, database, tmp


def _checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _materialized(result) -> set[str]:
    return {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}


def _sql(database: str, sql: str) -> list[tuple]:
    con = duckdb.connect(database, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_clean_returns_pass_every_check(clean_run):
    result, _ = clean_run
    checks = _checks(result)
    assert set(checks) == {
        "observation_structure",
        "observation_values",
        "cross_indicator_rules",
        "triangulation",
        "value_outliers",
    }
    assert all(e.passed for e in checks.values()), {
        k: e.description for k, e in checks.items() if not e.passed
    }
    assert checks["observation_values"].metadata["n_checked"].value == 16
    assert {"quality_results", "compliance_verdicts"} <= _materialized(result)


def test_clean_run_stores_quality_results_and_verdicts(clean_run):
    _, database = clean_run
    n_results, n_failed = _sql(database, "SELECT count(*), sum(n_failed) FROM quality.check_result")[0]
    assert n_results > 0 and n_failed == 0
    assert (
        _sql(
            database,
            "SELECT count(*) FROM quality.check_result WHERE org_code = '511923-zjj' AND period_code = '2012-03'",
        )[0][0]
        > 0
    )
    status, value, ids = _sql(
        database,
        "SELECT status, value, observation_ids FROM compliance.verdict "
        "WHERE requirement_code = 'env_builtup_green_coverage' AND period_code = '2012'",
    )[0]
    assert (status, value, len(ids)) == ("pass", 38.0, 1)
    with writer(Path(database)) as conn:  # the assets closed the single writer
        assert conn.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 16


def test_dirty_structure_fails_the_blocking_check_with_examples(dirty_run):
    result, _ = dirty_run
    ev = _checks(result)["observation_values"]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR
    assert "1/16" in ev.description and "allowed 0.00%" in ev.description
    example = ev.metadata["examples"].value[0]
    assert (example["file"], example["sheet"], example["cell"], example["value"]) == (
        "2012_zjj.xlsx",
        "填报表",
        "G9",
        135.0,
    )
    assert "0 ≤ value ≤ 100" in example["bound"]


def test_dirty_structure_blocks_downstream_assets(dirty_run):
    result, _ = dirty_run
    assert not ({"compliance_verdicts", "quality_results"} & _materialized(result))


def test_implausible_values_warn_without_blocking(implausible_run):
    result, database = implausible_run
    checks = _checks(result)
    tri = checks["triangulation"]
    assert not tri.passed and tri.severity == dg.AssetCheckSeverity.WARN
    assert tri.metadata["examples"].value[0]["org_code"] == "511923-zjj"
    assert checks["observation_structure"].passed and checks["observation_values"].passed
    assert {"quality_results", "compliance_verdicts"} <= _materialized(result)
    rows = _sql(database, "SELECT rule_id, period_code, difference FROM quality.rule_violation")
    assert rows == [("builtup_green_coverage_zjj_vs_lyj", "2012", pytest.approx(-7.0))]
    flags = _sql(database, "SELECT check_name, cell FROM quality.flag")
    assert ("triangulation", "G4") in flags


def test_a_clerks_impossible_value_is_quarantined_and_the_rest_publishes(clerk_run):
    result, database, tmp = clerk_run
    ev = _checks(result)["observation_values"]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.WARN
    assert ev.metadata["values_quarantined"].value == 1
    assert "quarantined" in ev.description
    assert {"quality_results", "compliance_verdicts", "published_warehouse"} <= _materialized(result)
    assert list((tmp / "warehouse" / "published").glob("warehouse-*.duckdb"))
    (q,) = _sql(
        database,
        "SELECT file_name, sheet, cell, raw_text, scope, reason_code, message_zh, message_en FROM core.quarantine",
    )
    assert q[:6] == (CLERK_FILE, "填报表", "G9", "340", "value", "out_of_range")
    assert CLERK_FILE in q[6] and "填报表" in q[6] and "G9" in q[6] and "共 30 天" in q[6]
    assert "G9" in q[7] and "2015-06 has 30 days" in q[7]
    # the bad value is gone from the observations, the other 27 are published and assessed
    assert _sql(database, "SELECT count(*) FROM core.observation")[0][0] == 27
    assert _sql(database, "SELECT count(*) FROM core.observation WHERE value = 340")[0][0] == 0
    status, n = _sql(
        database,
        "SELECT status, n_observations FROM compliance.verdict "
        "WHERE requirement_code = 'hyg_aqi_good_days' AND period_code = '2015' AND subject_org_code = '511923'",
    )[0]
    assert n == 11
    assert (
        _sql(database, f"SELECT status FROM core.source_file WHERE file_name = '{CLERK_FILE}'")[0][0]
        == "partial"
    )
    # quality results of the published run are clean: the value left before they were computed
    assert (
        _sql(
            database,
            "SELECT coalesce(sum(n_failed), 0) FROM quality.check_result "
            "WHERE check_name = 'observation_values'",
        )[0][0]
        == 0
    )


def test_the_clerks_feedback_names_the_cell(clerk_run):
    _, _, tmp = clerk_run
    (path,) = list((tmp / "feedback").rglob("*_反馈.xlsx"))
    assert CLERK_FILE.removesuffix(".xlsx") in path.name
    wb = openpyxl.load_workbook(path)
    summary = [[c for c in row if c is not None] for row in wb["反馈汇总"].iter_rows(values_only=True)]
    problem = next(r for r in summary if "G9" in r)
    assert "填报表" in problem and any("共 30 天" in str(c) and "G9" in str(c) for c in problem)
    assert any("部分接收" in str(c) for r in summary for c in r)
    cell = wb["填报表"]["G9"]
    assert cell.comment is not None and "G9" in cell.comment.text


def test_a_systemic_failure_stops_the_run_and_quarantines_nothing(systemic_run):
    result, database, tmp = systemic_run
    ev = _checks(result)["observation_values"]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR
    assert "systemic" in ev.description and "1.0%" in ev.description
    assert not ({"compliance_verdicts", "published_warehouse"} & _materialized(result))
    assert not list((tmp / "warehouse" / "published").glob("warehouse-*.duckdb"))
    with writer(Path(database)) as conn:
        assert conn.execute("SELECT count(*) FROM core.quarantine").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM core.observation").fetchone()[0] == 28
