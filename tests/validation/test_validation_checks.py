"""The `-- validation check:` SQL blocks of docs/accountability.md return no rows on verdicts, coverage
and quarantine written by the real code, and each catches a planted violation."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from pipelines import reporting_calendar as rc
from pipelines.settings import PROJECT_ROOT
from pipelines.validation import compliance
from pipelines.validation.compliance import YEAR, YTD
from pipelines.validation.store import replace_frame
from pipelines.warehouse.schema import create_all
from pipelines.warehouse.tables import compliance as ct
from pipelines.warehouse.tables import core
from tests.validation.helpers import obs

DOC = PROJECT_ROOT / "docs" / "accountability.md"


def checks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    out = {}
    for block in re.findall(r"```sql\n(.*?)```", text, flags=re.S):
        m = re.match(r"-- validation check: (\w+)", block)
        if m:
            out[m.group(1)] = block
    return out


CHECKS = checks()
PLANTED = {
    "stale_flagged": "UPDATE compliance.verdict SET is_stale = false WHERE is_stale",
    "coverage_matches_verdicts": "UPDATE compliance.coverage SET n_assessed = n_assessed + 1",
    "variant_decides_flagged": "UPDATE compliance.verdict SET variant_decides = false WHERE variant_decides",
    "quarantined_not_published": (
        "INSERT INTO core.quarantine (quarantine_id, file_id, scope, reason_code, message_zh, message_en) "
        "SELECT 'check:observation_values:' || observation_id, file_id, 'value', 'out_of_range', 'x', 'x' "
        "FROM core.observation LIMIT 1"
    ),
}


def test_every_check_is_documented_and_planted():
    assert set(CHECKS) == set(PLANTED)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, catalog, profile):
    prim = {a.indicator: a.org_code for a in profile.assignments(catalog) if a.role == "primary"}
    rows = [
        obs("builtup_green_coverage", prim["builtup_green_coverage"], "2011", 30.0, catalog=catalog),
        obs("forest_coverage", prim["forest_coverage"], "2013", 50.0, catalog=catalog),
        obs("forest_coverage", prim["forest_coverage"], "2012", 95.0, catalog=catalog),
    ]
    periods = [(YEAR, rc.parse_period(p)) for p in ("2012", "2013")]
    periods += [
        (YTD, p)
        for p in rc.periods_between(
            rc.parse_period("2012-11").start, rc.parse_period("2014-02").end, "monthly"
        )
    ]
    verdicts = compliance.compute_verdicts(pd.DataFrame(rows), catalog, [profile], periods=periods)
    assert any(v["is_stale"] for v in verdicts) and any(v["variant_decides"] for v in verdicts)
    path = tmp_path_factory.mktemp("checks") / "w.duckdb"
    conn = duckdb.connect(str(path))
    create_all(conn, [ct.VERDICT, ct.COVERAGE, core.OBSERVATION, core.QUARANTINE])
    replace_frame(conn, ct.VERDICT, verdicts)
    replace_frame(conn, ct.COVERAGE, compliance.coverage_rows(verdicts))
    replace_frame(conn, core.OBSERVATION, rows)
    conn.close()
    return path


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_check_passes_on_real_rows_and_catches_a_planted_violation(warehouse, tmp_path, name):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    conn = duckdb.connect(str(copy))
    try:
        assert conn.execute(CHECKS[name]).fetchall() == []
        conn.execute(PLANTED[name])
        assert conn.execute(CHECKS[name]).fetchall() != []
    finally:
        conn.close()
