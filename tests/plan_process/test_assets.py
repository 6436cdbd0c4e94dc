"""The plan-process assets on a synthetic warehouse with the sample's 督查 sheets and office records:
sheets ingested with lineage and feedback, problems → rectification items → notices, the failed
first acceptance and the re-application, letters equal to the rule, idempotent rebuilds."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from pipelines.assets import plan_process as assets
from pipelines.catalog import load_catalog
from pipelines.marts import plan
from pipelines.plan_process import letters
from pipelines.profile import load_profiles
from pipelines.resources import WarehouseResource
from pipelines.sample.plan_process import write_sample
from pipelines.workflow import notices
from pipelines.workflow.store import Store
from tests.dashboards import synthetic


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("pp")
    mp = pytest.MonkeyPatch()
    for k, sub in (
        ("RAW", "raw"),
        ("WAREHOUSE", "warehouse"),
        ("FEEDBACK", "feedback"),
        ("TEMPLATES", "templates"),
        ("GX", "gx"),
    ):
        mp.setenv(f"WUCHUANG_{k}_DIR", str(base / sub))
    mp.delenv("WUCHUANG_SUPERVISION_DIR", raising=False)
    mp.delenv("WUCHUANG_WORKFLOW_DIR", raising=False)
    from pipelines.settings import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    synthetic.build(settings)
    counts = write_sample(settings.raw_dir)
    resource = WarehouseResource.from_settings(settings)
    for _ in range(2):  # a rebuild on the same inputs changes nothing
        result = dg.materialize(
            [assets.supervision_inspections, assets.plan_process_records], resources={"warehouse": resource}
        )
        assert result.success
    yield settings, counts
    mp.undo()


def _rows(settings, sql, params=()):
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        cur = conn.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        conn.close()


def test_sheets_are_ingested_with_lineage_and_the_planted_problems_named(built):
    settings, counts = built
    assert counts["supervision_files"] == 21 and (settings.raw_dir.parent / "supervision" / "511923").is_dir()
    files = _rows(settings, "SELECT status, count(*) AS n FROM supervision.file GROUP BY ALL")
    assert {r["status"]: r["n"] for r in files} == {"accepted": 18, "partial": 2, "rejected": 1}
    issues = _rows(
        settings,
        "SELECT reason_code, rel_path, sheet, cell, message_zh, message_en FROM supervision.issue ORDER BY 1",
    )
    assert [i["reason_code"] for i in issues] == ["no_date", "out_of_range", "unknown_point"]
    assert all(i["sheet"] and i["cell"] and i["message_zh"] and i["message_en"] for i in issues)
    fb = _rows(settings, "SELECT feedback_path FROM supervision.file WHERE feedback_path IS NOT NULL")
    assert len(fb) == 3 and all((settings.feedback_dir / r["feedback_path"]).is_file() for r in fb)
    s = _rows(settings, "SELECT count(*) AS n, count(cell) AS c FROM supervision.score")[0]
    assert s["n"] > 1000 and s["n"] == s["c"]  # every spreadsheet score keeps its cell


def test_problems_become_owned_items_and_overdue_ones_go_to_the_notices(built):
    settings, _ = built
    probs = _rows(settings, "SELECT * FROM supervision.problem")
    assert probs and all(p["owner_org_code"] and p["due_date"] > p["opened_date"] for p in probs)
    statuses = {p["status"] for p in probs}
    assert {"closed", "closed_late", "overdue"} <= statuses
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        run = lambda sql, params: conn.execute(sql, params).df()  # noqa: E731
        got = [
            n
            for n in notices.plan_notices(run, "511923", dt.date(2017, 1, 20), notices.NoticeSettings())
            if n.kind == "overdue_supervision"
        ]
    finally:
        conn.close()
    assert {n.subject_key for n in got} == {p["item_id"] for p in probs if p["status"] == "overdue"}


def test_failed_first_acceptance_and_re_application(built):
    settings, counts = built
    assert counts["acceptance_records"] == 7
    recs = _rows(
        settings,
        "SELECT * FROM plan_process.acceptance WHERE campaign_code = 'hygienic_county' ORDER BY attempt",
    )
    assert [(r["attempt"], r["result"]) for r in recs] == [(1, "failed"), (2, "passed")]
    assert recs[1]["reapplication_of"] == recs[0]["record_id"]
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    events = plan.event_rows(profiles)  # reads the store next to the warehouse
    acc = [e for e in events if e["campaign_code"] == "hygienic_county" and e["milestone"] == "acceptance"]
    assert [e["outcome"] for e in acc] == ["failed", "passed"]
    status = {
        r["campaign_code"]: r["status"] for r in _rows(settings, "SELECT * FROM plan_process.campaign_status")
    }
    assert set(status) == {p.campaign for p in profiles[0].programmes}
    assert status["hygienic_county"] in ("consolidating", "at_risk", "re_reviewed")


def test_letters_equal_the_rule_and_signings_are_recorded(built):
    settings, _ = built
    catalog = load_catalog(settings.standards_dir)
    profile = load_profiles(settings.profiles_dir, catalog)[0]
    got = _rows(
        settings,
        "SELECT org_code, requirement_code, target_value, target_rule FROM plan_process.letter_target WHERE year = 2015",
    )
    want = letters.letter_targets(catalog, profile, 2015, {})  # the synthetic warehouse has no 2011 baseline
    assert sorted(
        (r["org_code"], r["requirement_code"], r["target_value"], r["target_rule"]) for r in got
    ) == sorted((r["org_code"], r["requirement_code"], r["target_value"], r["target_rule"]) for r in want)
    signed = _rows(
        settings,
        "SELECT year, count(signed_on) AS s, count(*) AS n FROM plan_process.letter WHERE year <= 2016 GROUP BY 1 ORDER BY 1",
    )
    assert [r["year"] for r in signed] == [2012, 2013, 2014, 2015, 2016]
    assert (
        all(r["s"] == r["n"] for r in signed if r["year"] < 2016) and signed[-1]["s"] == signed[-1]["n"] - 2
    )
    store = Store(settings.warehouse_dir.parent / "workflow" / "workflow.sqlite")
    assert store.one("SELECT count(*) AS n FROM pp_letter_signing WHERE source = 'sample'")["n"] == sum(
        r["s"] for r in signed
    )


def test_the_sample_is_deterministic_and_keeps_office_records(built, tmp_path):
    settings, _ = built
    sup = settings.raw_dir.parent / "supervision"
    before = {p: p.read_bytes() for p in sup.rglob("*.xlsx")}
    store = Store(settings.warehouse_dir.parent / "workflow" / "workflow.sqlite")
    from pipelines.plan_process import store as pstore

    pstore.record_signing(store, "511923", "511923-kx", 2016, "2016-03-01", "office")  # the office's own
    again = write_sample(settings.raw_dir)
    assert {p: p.read_bytes() for p in sup.rglob("*.xlsx")} == before  # unchanged files are not rewritten
    assert again["acceptance_records"] == 7
    row = store.one("SELECT source FROM pp_letter_signing WHERE org_code = '511923-kx' AND year = 2016")
    assert row["source"] == "office"
