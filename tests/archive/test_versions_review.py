"""Re-uploads are versions, never overwrites; the office accepts or returns (with a comment) the latest
version only; every action is an event."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.archive import intake
from pipelines.archive import store as es
from tests.archive.conftest import pdf_bytes, slot_of

AS_OF = dt.date(2016, 12, 31)
SLOT = ("hygienic_county", "hyg_planning", "campaign_plan", "once")  # provided by awb (lead unit)


def _up(arch, text, item_id=None, name="规划.pdf"):
    s = slot_of(arch, *SLOT)
    return intake.submit(
        arch.store, arch.paths.store, s, pdf_bytes(text), name, "awb", "clerk", item_id=item_id
    )


def test_reupload_is_a_new_version_and_the_old_one_is_kept(arch):
    first = _up(arch, "draft")
    es.review(arch.store, first["version_id"], "returned", "office", "缺少批复 / approval missing")
    second = _up(arch, "final", item_id=first["item_id"], name="规划（修改）.pdf")
    assert second["version"] == 2 and second["item_id"] == first["item_id"]
    vs = es.versions(arch.store, arch.county)
    assert [(v["version"], v["review_state"]) for v in vs] == [(2, "submitted"), (1, "superseded")]
    old = vs[1]
    assert (arch.paths.store / old["store_path"]).read_bytes() == pdf_bytes("draft")  # nothing lost
    assert old["review_comment"] == "缺少批复 / approval missing"
    latest = es.latest_versions(arch.store, arch.county)
    assert [v["version"] for v in latest] == [2]


def test_identical_reupload_is_refused(arch):
    first = _up(arch, "same")
    with pytest.raises(es.ArchiveError) as err:
        _up(arch, "same", item_id=first["item_id"])
    assert err.value.code == "duplicate"


def test_return_needs_a_comment_and_only_a_submitted_version_is_reviewed(arch):
    made = _up(arch, "x")
    with pytest.raises(es.ArchiveError) as err:
        es.review(arch.store, made["version_id"], "returned", "office", "   ")
    assert err.value.code == "comment_required"
    es.review(arch.store, made["version_id"], "accepted", "office")
    with pytest.raises(es.ArchiveError):
        es.review(arch.store, made["version_id"], "returned", "office", "too late")
    with pytest.raises(es.ArchiveError):
        es.review(arch.store, "nope", "accepted", "office")
    with pytest.raises(es.ArchiveError):
        es.review(arch.store, made["version_id"], "deleted", "office")


def test_an_accepted_item_reuploaded_goes_back_to_review(arch):
    made = _up(arch, "v1")
    es.review(arch.store, made["version_id"], "accepted", "office")
    _up(arch, "v2", item_id=made["item_id"])
    states = [v["review_state"] for v in es.versions(arch.store, arch.county)]
    assert states == ["submitted", "superseded"]
    rows = arch.clause_rows("hygienic_county")
    plan = next(r for r in rows if r["clause_code"] == "hyg_planning")
    assert plan["accepted"] == 0 and plan["provided"] == 1


def test_every_action_is_an_event(arch):
    made = _up(arch, "a")
    es.review(arch.store, made["version_id"], "returned", "office", "请补充签字")
    _up(arch, "b", item_id=made["item_id"])
    actions = [e["action"] for e in reversed(es.events(arch.store, arch.county))]
    assert actions == ["submitted", "returned", "superseded", "submitted"]
    actors = [e["actor"] for e in reversed(es.events(arch.store, arch.county))]
    assert actors == ["clerk", "office", "clerk", "clerk"]


def test_a_formula_like_name_never_reaches_the_package_and_a_damaged_file_is_never_served(arch):
    import io
    import zipfile

    from pipelines.archive import package

    made = _up(arch, "formula", name="=SUM(A1)+cmd.pdf")  # a legal file name that looks like a formula
    es.review(arch.store, made["version_id"], "accepted", "office")
    data, _cover = package.build(arch, "hygienic_county", None, AS_OF)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        index = zf.read("00_封面与目录/迎检资料目录.docx")
    assert any(n.startswith("02_创建规划与实施方案/一次性_") for n in names)
    assert not any(part.lstrip().startswith(tuple("=+-@")) for n in names for part in n.split("/"))
    import docx

    doc = docx.Document(io.BytesIO(index))
    text = "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    )
    assert "一次性_创建省级卫生县城规划及县政府批复_第1份_v1.pdf" in text and "SUM(A1)" not in text
    # The stored file altered on disk: the package refuses it rather than ship a wrong document.
    v = arch.store.one("SELECT * FROM evidence_version WHERE version_id = ?", (made["version_id"],))
    (arch.paths.store / v["store_path"]).write_bytes(b"%PDF-1.4 tampered")
    with pytest.raises(es.ArchiveError) as err:
        package.build(arch, "hygienic_county", None, AS_OF)
    assert err.value.code == "damaged"


def test_without_a_cjk_font_the_package_says_so_instead_of_drawing_boxes(arch, monkeypatch, tmp_path):
    from dashboards import exports
    from pipelines.archive import package
    from pipelines.archive_cli import _guard, _package

    monkeypatch.setattr(exports, "find_cjk_font", lambda *a, **k: None)
    with pytest.raises(package.NoFont) as err:
        package.build(arch, "hygienic_county", None, AS_OF)
    assert "fonts-noto-cjk" in str(err.value)

    class Args:
        campaign, out, as_of, county = "hygienic_county", str(tmp_path / "p.zip"), "2016-12-31", None

    assert _guard(_package)(Args, arch.settings) == 3
    assert not (tmp_path / "p.zip").exists()
