"""The archive summaries other pages call (dashboards/archive_view.py): scoped by the viewer, in both
languages, without raw codes; a clerk sees only its own unit's owed documents."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dashboards import archive_data as ad
from dashboards import archive_view as av
from dashboards import auth
from pipelines.archive import intake
from pipelines.archive import store as es
from tests.archive.conftest import pdf_bytes

AS_OF = dt.date(2016, 12, 31)
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # snake_case codes must never show


@pytest.fixture
def seeded(arch, monkeypatch):
    ad._archive.cache_clear()
    for slot in arch.slots_of("eco_county"):
        if slot.clause_code == "eco_org" and slot.period_code in ("once", "2012Q1"):
            made = intake.submit(
                arch.store,
                arch.paths.store,
                slot,
                pdf_bytes(slot.key[2] + slot.period_code),
                "x.pdf",
                "cjb",
                "t",
            )
            es.review(arch.store, made["version_id"], "accepted", "office")
    yield arch
    ad._archive.cache_clear()


CLERK = auth.Viewer("c", "c", "dept_clerk", "511923", "511923-sthjj", (), ("511923-sthjj",))
LEAD = auth.Viewer("g", "g", "group_lead", "511923", None, ("forest_city",), ())


def test_campaign_summary_in_both_languages(seeded):
    zh = av.campaign_summary(auth.EVERYTHING, "511923", "eco_county", AS_OF, "zh")
    en = av.campaign_summary(auth.EVERYTHING, "511923", "eco_county", AS_OF, "en")
    assert zh["accepted"] == en["accepted"] == 2
    assert zh["is_capped"] and "封顶 60.0%" in zh["text"] and "组织领导" in zh["text"]
    assert "capped at 60.0%" in en["text"] and "Organisation and leadership" in en["text"]
    assert not CODE.search(zh["text"]) and not CODE.search(en["text"])
    assert av.campaign_summary(LEAD, "511923", "eco_county", AS_OF) is None  # not its campaign


def test_overview_frame_is_scoped_and_has_no_codes(seeded):
    everything = av.overview_frame(auth.EVERYTHING, "511923", "en", AS_OF)
    assert len(everything) == 5 and list(everything.columns)[0] == "Campaign"
    text = everything.to_string()
    assert not CODE.search(text) and "None" not in text and "nan" not in text
    assert len(av.overview_frame(LEAD, "511923", "zh", AS_OF)) == 1


def test_unit_owed_shows_only_the_clerks_unit(seeded):
    mine = av.unit_owed(CLERK, "511923", "511923-sthjj", "zh", AS_OF)
    assert len(mine) > 0 and "逾期" in mine.columns
    assert not CODE.search(mine.to_string())
    with pytest.raises(ad.OutOfScope):
        av.unit_owed(CLERK, "511923", "511923-wjw", "zh", AS_OF)
    rows = ad.slot_rows(CLERK, "511923", None, owed_only=True, as_of=AS_OF)
    assert {r["provider_org_code"] for r in rows} == {"511923-sthjj"}


def test_briefing_lines(seeded):
    zh = av.briefing_lines(auth.EVERYTHING, "511923", "zh", AS_OF)
    en = av.briefing_lines(auth.EVERYTHING, "511923", "en", AS_OF)
    assert len(zh) == len(en) == 6  # five campaigns and the units owing the most
    assert zh[-1].startswith("逾期未交档案资料最多的单位") and en[-1].startswith(
        "Units with the most overdue"
    )
    assert any(line.startswith("省级生态县：") for line in zh)


def test_clerk_cannot_review_download_others_or_build_the_package(seeded):
    v = es.versions(seeded.store, "511923", "eco_county")[0]  # provided by the office (cjb)
    assert ad.file_bytes(CLERK, "511923", v["version_id"]) is None
    assert (
        ad.file_bytes(auth.EVERYTHING, "511923", v["version_id"])[1]
        == (seeded.paths.store / v["store_path"]).read_bytes()
    )
    with pytest.raises(ad.OutOfScope):
        ad.review(CLERK, "511923", v["version_id"], "accepted", "")
    with pytest.raises(ad.OutOfScope):
        ad.build_package(CLERK, "511923", "eco_county")
    assert ad.pending(CLERK, "511923", "eco_county") == []
    slots = ad.upload_slots(CLERK, "511923", "eco_county")
    assert slots and {s.provider_short for s in slots} == {"sthjj"}
    wjw_slot = next(s for s in seeded.slots_of("hygienic_county") if s.provider_short == "wjw")
    with pytest.raises(ad.OutOfScope):
        ad.submit(CLERK, "511923", wjw_slot.key, pdf_bytes(), "x.pdf", None)
