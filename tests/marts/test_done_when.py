"""Issue 13's "done when" checks, as the analysts run them: every `-- check:` SQL block of
docs/accountability.md returns no rows on a warehouse built by the marts assets, catches a planted
violation, and (slow) returns no rows on the sample warehouse built like `make run`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import duckdb
import pytest

from pipelines.settings import PROJECT_ROOT
from tests.marts.test_assets import built  # noqa: F401  (module fixture: marts built on synthetic data)

DOC = PROJECT_ROOT / "docs" / "accountability.md"


def checks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    out = {}
    for block in re.findall(r"```sql\n(.*?)```", text, flags=re.S):
        m = re.match(r"-- check: (\w+)", block)
        if m:
            out[m.group(1)] = block
    return out


CHECKS = checks()

#: A planted violation per check: SQL run on a copy of the built warehouse before the check.
PLANTED = {
    "forecast_within_vetoes": [
        "UPDATE marts.campaign_forecast SET projected_status = 'on_track' WHERE as_of_period_code = ("
        " SELECT min(as_of_period_code) FROM marts.requirement_forecast"
        " WHERE is_veto AND status NOT IN ('achieved', 'on_track'))"
    ],
    "on_track_in_time": [
        "UPDATE marts.requirement_forecast SET status = 'on_track', expected_reach_date = target_date + 31"
        " WHERE as_of_period_code = (SELECT min(as_of_period_code) FROM marts.requirement_forecast)"
    ],
    "milestone_evidence": [
        "UPDATE marts.plan_schedule SET status = 'done' WHERE item_id IN ("
        " SELECT min(item_id) FROM marts.plan_schedule WHERE item_kind = 'derived_milestone' AND status = 'overdue')"
    ],
    "readiness_vetoes": [
        "UPDATE marts.campaign_readiness SET readiness_status = 'ready' WHERE grain = 'ytd_month'"
        " AND period_code = '2013-01'"
    ],
    "ranked_on_what_was_due": [
        "UPDATE marts.unit_accountability SET n_ranked = n_ranked + 1 WHERE rank IS NOT NULL"
        " AND org_code = (SELECT min(org_code) FROM marts.unit_accountability WHERE rank IS NOT NULL)"
    ],
    "rectification_in_plan": [
        "UPDATE marts.rectification_item SET opened_date = DATE '2011-12-31' WHERE source_kind = 'verdict'"
    ],
}


def test_every_done_when_rule_has_a_documented_check():
    assert set(CHECKS) == set(PLANTED)


def _run(path, sql: str, setup: list[str] = ()) -> list[tuple]:
    conn = duckdb.connect(str(path))
    try:
        for s in setup:
            conn.execute(s)
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_documented_check_passes_on_a_built_warehouse_and_catches_a_violation(built, tmp_path, name):  # noqa: F811
    wh, _ = built
    assert _run(wh.database, CHECKS[name]) == [], name
    dirty = tmp_path / "dirty.duckdb"
    shutil.copy(wh.database, dirty)
    assert _run(dirty, CHECKS[name], PLANTED[name]), f"{name} did not catch the planted violation"


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory):
    """The bundled sample built like `make run` (generator + monitoring_job) in a temporary folder."""
    root = tmp_path_factory.mktemp("sample_wh")
    env = os.environ | {
        "WUCHUANG_RAW_DIR": str(root / "raw"),
        "WUCHUANG_WAREHOUSE_DIR": str(root / "warehouse"),
        "WUCHUANG_FEEDBACK_DIR": str(root / "feedback"),
        "WUCHUANG_TEMPLATES_DIR": str(root / "templates"),
        "WUCHUANG_GX_DIR": str(root / "gx"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    (root / "dagster_home").mkdir()
    run = [sys.executable, "-m"]
    subprocess.run(
        [*run, "pipelines.sample", "--out", str(root / "raw")], env=env, check=True, cwd=PROJECT_ROOT
    )
    job = "from pipelines.definitions import defs; assert defs.get_job_def('monitoring_job').execute_in_process().success"
    subprocess.run([sys.executable, "-c", job], env=env, check=True, cwd=PROJECT_ROOT, capture_output=True)
    return root / "warehouse" / "warehouse.duckdb"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_documented_check_passes_on_the_sample_warehouse(sample_warehouse, name):
    conn = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        rows = conn.execute(CHECKS[name]).fetchall()
    finally:
        conn.close()
    assert rows == [], f"{name}: {rows[:3]}"
