"""Evidence requirements: the shipped files load clean; every kind of mistake is reported, in Chinese
and English, all at once; slots expand over the campaign's run with the right units and due dates."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from pipelines.archive import catalog as ec
from tests.conftest import STANDARDS


@pytest.fixture(scope="module")
def evidence(catalog, profile):
    return ec.load_evidence(
        STANDARDS / "evidence", set(catalog.campaigns), {u.short_code for u in profile.org_units}
    )


def test_every_campaign_has_its_evidence_requirements_with_sources(evidence, catalog):
    assert set(evidence) == set(catalog.campaigns)
    for ev in evidence.values():
        cats = {c.category for c in ev.clauses}
        assert {"organisation", "planning", "publicity", "mechanism"} <= cats, ev.campaign
        assert any(c.prerequisite for c in ev.clauses), ev.campaign
        for c in ev.clauses:
            assert c.source, c.code
            for it in c.items:
                assert it.source or it.assumed, (c.code, it.code)
                assert it.kind in ec.KINDS and it.period in ec.PERIODS
        assert ev.requirement_items, ev.campaign


def test_slots_cover_every_requirement_with_its_responsible_unit(evidence, catalog, profile):
    slots = ec.slots(evidence, catalog, profile)
    for prog in profile.programmes:
        reqs = catalog.requirements_in_force(prog.campaign, prog.acceptance)
        mine = [s for s in slots if s.campaign_code == prog.campaign and s.category == "indicator"]
        assert {s.clause_code for s in mine} == {r.code for r in reqs}
        for r in reqs:
            got = {s.provider_short for s in mine if s.clause_code == r.code}
            assert got == {r.responsible}
            assert all(s.prerequisite == bool(r.veto) for s in mine if s.clause_code == r.code)
        years = {s.period_code for s in mine}
        assert years == {str(y) for y in range(prog.start.year, prog.acceptance.year + 1)}
    units = {u.code for u in profile.org_units}
    assert all(s.provider_org_code in units for s in slots)


def test_due_dates_come_from_plan_milestones_or_period_ends(evidence, catalog, profile):
    slots = ec.slots(evidence, catalog, profile, "hygienic_county")
    plan = next(s for s in slots if s.item_code == "campaign_plan")
    assert plan.due_date == dt.date(2012, 1, 31)  # milestone plans_drafted
    q = [s for s in slots if s.item_code == "meeting_minutes"]
    assert [s.period_code for s in q] == [
        "2012Q1",
        "2012Q2",
        "2012Q3",
        "2012Q4",
        "2013Q1",
        "2013Q2",
        "2013Q3",
        "2013Q4",
    ]
    assert q[1].due_date == dt.date(2012, 6, 30)
    lead = next(s for s in slots if s.item_code == "annual_plan")
    assert lead.provider_short == "awb"  # the hygiene working group's lead unit


def test_period_expansion_clips_to_the_run():
    assert [c for c, _ in ec._periods("monthly", dt.date(2012, 11, 15), dt.date(2013, 2, 1))] == [
        "2012-11",
        "2012-12",
        "2013-01",
        "2013-02",
    ]
    assert ec._periods("once", dt.date(2012, 1, 1), dt.date(2013, 12, 31)) == [
        ("once", dt.date(2013, 12, 31))
    ]


DIRTY = """campaign: hygienic_county
clauses:
  - code: hyg_org
    order: 1
    category: organisation
    name_zh: 组织
    name_en: Org
    prerequisite: maybe
    source: x
    items:
      - {code: a, kind: selfie, title_zh: 甲, title_en: A, count: 0, period: weekly, provider: nobody, source: s}
      - {code: a, kind: plan, title_zh: 乙, title_en: B, count: 1, period: once, provider: office}
  - code: hyg_org
    order: 1
    category: indicator
    name_zh: 重复
    name_en: Dup
    source: y
    items: []
requirement_items:
  - {code: data, kind: report, title_zh: "{bogus}", title_en: x, count: 1, period: yearly, provider: responsible, source: s}
"""


def test_dirty_requirements_report_every_problem_in_both_languages(tmp_path, catalog, profile):
    folder = tmp_path / "evidence"
    shutil.copytree(STANDARDS / "evidence", folder)
    (folder / "hygienic_county.yaml").write_text(DIRTY, encoding="utf-8")
    (folder / "nowhere.yaml").write_text("campaign: moon_city\nclauses: []\n", encoding="utf-8")
    (folder / "broken.yaml").write_text("campaign: [unclosed\n", encoding="utf-8")
    with pytest.raises(ec.EvidenceError) as err:
        ec.load_evidence(folder, set(catalog.campaigns), {u.short_code for u in profile.org_units})
    fields = {(p.entry, p.field) for p in err.value.problems}
    for want in [
        ("hyg_org.a", "kind"),
        ("hyg_org.a", "count"),
        ("hyg_org.a", "period"),
        ("hyg_org.a", "provider"),
        ("hyg_org.a", "code"),  # duplicate item code
        ("hyg_org", "prerequisite"),
        ("hyg_org", "order"),
        ("hyg_org", "category"),
        ("hyg_org", "items"),
        ("requirement_items.data", "title_zh"),
        ("", "campaign"),  # moon_city
        ("", ""),  # YAML syntax
    ]:
        assert want in fields, want
    assert ("hyg_org.a", "source") in fields  # the second item has no source and is not assumed
    for p in err.value.problems:
        assert p.message_zh and p.message_en and p.message_zh != p.message_en
    assert "档案资料要求有" in str(err.value) and "problem(s)" in str(err.value)


def test_clean_copy_loads(tmp_path, catalog):
    folder = tmp_path / "evidence"
    shutil.copytree(STANDARDS / "evidence", folder)
    assert len(ec.load_evidence(folder, set(catalog.campaigns))) == 5
