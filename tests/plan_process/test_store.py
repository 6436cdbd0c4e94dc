"""Office records in the workflow store: signings with scans through the attachment gate, inspections
from the form (every item scored within its range, a deduction needs its problem)."""

from __future__ import annotations

import pytest

from pipelines.plan_process import store as pstore
from pipelines.workflow.store import Store

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "wf" / "workflow.sqlite")


def test_signing_with_a_scan(store):
    pstore.record_signing(
        store,
        "511923",
        "511923-cgj",
        2013,
        "2013-01-25",
        "office",
        "张三",
        "平创联〔2013〕1号",
        ("签字.pdf", PDF),
    )
    (row,) = pstore.signings(store, "511923")
    assert row["signed_on"] == "2013-01-25" and row["scan_name"] == "签字.pdf"
    assert pstore.attachment_file(store, row["scan_path"]).read_bytes() == PDF
    assert pstore.attachment_file(store, "../../etc/passwd") is None


@pytest.mark.parametrize(
    ("name", "data", "word"),
    [
        ("scan.pdf", b"PK\x03\x04renamed workbook", "不符"),
        ("scan.exe", PDF, "不接受"),
        ("../scan.pdf", PDF, "文件名不合法"),
        ("CON.pdf", PDF, "文件名不合法"),
        ("scan.pdf", b"", "为空或过大"),
    ],
)
def test_bad_attachments_are_refused(store, name, data, word):
    with pytest.raises(pstore.PlanProcessError) as e:
        pstore.record_signing(store, "511923", "511923-cgj", 2013, "2013-01-25", "office", scan=(name, data))
    assert word in e.value.zh
    assert pstore.signings(store) == []


def test_signing_date_outside_the_year_is_refused(store):
    with pytest.raises(pstore.PlanProcessError, match="不在 2013 年度"):
        pstore.record_signing(store, "511923", "511923-cgj", 2013, "2015-01-25", "office")


def test_form_inspection_rules(store, checklists):
    cl = checklists["toilet"]
    full = {i.code: (i.max_score, "") for i in cl.items}
    iid = pstore.record_inspection(
        store, "511923", "p_wc_jk_1", "2016-06-12", full, cl, "office", photos=[("a.png", PNG)]
    )
    insp, scores = pstore.form_inspections(store, "511923")
    assert [i["inspection_id"] for i in insp] == [iid] and len(scores) == len(cl.items)
    assert "a.png" in insp[0]["photos_json"]
    first = cl.items[0]
    with pytest.raises(pstore.PlanProcessError, match="扣分须写明问题"):
        pstore.record_inspection(
            store,
            "511923",
            "p_wc_jk_1",
            "2016-06-12",
            full | {first.code: (first.max_score - 5, "")},
            cl,
            "office",
        )
    with pytest.raises(pstore.PlanProcessError, match="得分须在"):
        pstore.record_inspection(
            store,
            "511923",
            "p_wc_jk_1",
            "2016-06-12",
            full | {first.code: (first.max_score + 1, "x")},
            cl,
            "office",
        )
    with pytest.raises(pstore.PlanProcessError, match="未评分"):
        pstore.record_inspection(store, "511923", "p_wc_jk_1", "2016-06-12", {}, cl, "office")
    assert len(pstore.form_inspections(store, "511923")[0]) == 1
