"""Target letters: targets equal the catalog/plan rule; the Word document opens with its Chinese text,
table and East-Asian font; the CLI writes one document per unit."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from docx import Document
from docx.oxml.ns import qn

from pipelines import cli
from pipelines.plan_process import letters

REQ = "hyg_garbage_feces_harmless"  # >= 80 %, 县城市管理局, hygienic county accepted 2013-12-31


def _one(rows, code=REQ):
    return next(r for r in rows if r["requirement_code"] == code)


def test_interim_target_is_on_the_linear_path_to_the_acceptance_date(catalog, profile):
    t = _one(letters.letter_targets(catalog, profile, 2012, {REQ: (2011, 60.0)}))
    frac = (dt.date(2012, 12, 31) - dt.date(2011, 12, 31)).days / (
        dt.date(2013, 12, 31) - dt.date(2011, 12, 31)
    ).days
    expected = 60.0 + (80.0 - 60.0) * frac
    assert t["target_rule"] == "interim_linear" and t["org_code"] == "511923-cgj"
    assert expected <= t["target_value"] < expected + 0.01  # rounded towards the threshold
    assert t["target_text_zh"] == f"≥{t['target_value']:g}%"


def test_other_rules(catalog, profile):
    assert (
        _one(letters.letter_targets(catalog, profile, 2013, {REQ: (2011, 60.0)}))["target_rule"]
        == "threshold"
    )
    assert (
        _one(letters.letter_targets(catalog, profile, 2014, {}))["target_rule"] == "threshold"
    )  # consolidation
    kp = _one(letters.letter_targets(catalog, profile, 2012, {REQ: (2011, 85.0)}))
    assert (kp["target_rule"], kp["target_value"]) == ("keep_passing", 80.0)
    nb = _one(letters.letter_targets(catalog, profile, 2012, {}))
    assert (nb["target_rule"], nb["target_value"]) == ("threshold_no_baseline", 80.0)
    rows = letters.letter_targets(catalog, profile, 2012, {})
    qual = [r for r in rows if r["target_rule"] == "qualitative"]
    assert qual and all(r["target_value"] is None and r["target_text_zh"] for r in qual)
    assert not any("ref:" in r["target_text_zh"] for r in rows)  # no machine tokens in the letter
    assert letters.letter_targets(catalog, profile, 2011, {}) == []  # before the campaigns start
    assert {r["org_code"] for r in letters.letter_targets(catalog, profile, 2013, {}, "511923-cgj")} == {
        "511923-cgj"
    }


def test_evaluate_counts_missing_values_as_unknown_and_compares_to_the_target(catalog, profile):
    rows = letters.letter_targets(catalog, profile, 2012, {REQ: (2011, 60.0)}, "511923-cgj")
    got = letters.evaluate(rows, {(REQ, 2012): {"value": 71.0, "status": "fail", "margin": -9.0}})
    t = _one(got)
    assert t["met"] is True  # 71 ≥ the interim 70.02 although the standard (80) still fails
    assert all(r["met"] is None for r in got if r["requirement_code"] != REQ)


def test_document_opens_with_chinese_text_table_and_font(catalog, profile):
    rows = letters.letter_targets(catalog, profile, 2013, {}, "511923-cgj")
    data = letters.letter_document(
        profile, "511923-cgj", 2013, rows, {c.code: c.name_zh for c in catalog.campaigns.values()},
        [{"task_name": "背街小巷整治", "due_date": dt.date(2013, 6, 30)}], [("生活垃圾无害化处理率", "monthly")], ["江口镇书院街"],
    )  # fmt: skip
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "平昌县“五创联动”工作目标责任书" in text and "（2013年度）" in text
    assert "乙方：县城市管理局" in text and "背街小巷整治" in text and "江口镇书院街" in text
    assert "一、责任目标" in text and "五、考核" in text
    table = doc.tables[0]
    assert len(table.rows) == len(rows) + 1 and table.rows[0].cells[4].text == "2013年目标"
    assert "甲方（盖章）" in doc.tables[-1].rows[0].cells[0].text
    fonts = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for p in doc.paragraphs for r in p.runs}
    assert fonts <= {"SimSun", "SimHei"} and "SimSun" in fonts


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="libreoffice is not installed: text and fonts checked above"
)
def test_document_renders_to_pdf(tmp_path, catalog, profile):  # pragma: no cover - needs libreoffice
    data = letters.letter_document(profile, "511923-cgj", 2013, [], {})
    src = tmp_path / "l.docx"
    src.write_bytes(data)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
        check=True,
        timeout=120,
    )
    assert (tmp_path / "l.pdf").stat().st_size > 1000


def test_cli_writes_one_letter_per_unit(tmp_path, tmp_settings, capsys):
    assert cli.main(["letters", "--year", "2013", "--out", str(tmp_path / "out")]) == 0
    files = sorted((tmp_path / "out").glob("*.docx"))
    assert len(files) >= 10 and any("县城市管理局" in f.name for f in files)
    assert "份目标责任书" in capsys.readouterr().out
    assert cli.main(["letters", "--year", "2013", "--unit", "cgj", "--out", str(tmp_path / "one")]) == 0
    assert [f.name for f in (tmp_path / "one").glob("*.docx")] == ["2013年度目标责任书_县城市管理局.docx"]
    assert cli.main(["letters", "--year", "2005", "--out", str(tmp_path / "none")]) == 1
