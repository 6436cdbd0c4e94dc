"""The real-world test bed: public Chinese statistical spreadsheets in ../shared/corpus/ (issue 11).

Every file must either load its hand-read known values for this county or be refused with a specific
reason in Chinese and English — never a crash, never a wrong number. None of the corpus files holds
平昌县's own figures (they are national, provincial and city statistics), so the right outcome for
each is a refusal that says why: another area's data (`other_area`), no indicator of the catalog
(`no_indicator`), or no readable table (`no_header` for the transposed, headerless or undecodable
ones). The files are read where they lie (they carry no licence for redistribution); the suite is
skipped when the corpus is absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from pipelines.returns.model import REASONS, ParseContext
from pipelines.returns.parse import parse_file

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="shared/corpus is not beside the checkout")

# Files whose table is of other areas (provinces, cities, the nation): refused as other_area.
OTHER_AREA = {
    "dicol__主要城市年度数据.xls",
    "dicol__分省年度数据.xls",
    "dsia__分省月度数据.csv",
    "renjy__分省年度数据.csv",
    "hades__maincity.csv",
    "xiehui__主要城市年度数据.csv",
    "xiehui__主要城市年度数据.xls",
    "gkd__ExportData.xls",
}
ALLOWED = {"other_area", "no_indicator", "no_header"}


def _rows() -> list[dict[str, str]]:
    if not MANIFEST.exists():
        return []
    with MANIFEST.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def corpus_ctx(tmp_path_factory, catalog, profile):
    raw = tmp_path_factory.mktemp("corpus") / "raw"
    folder = raw / profile.code / "tjj"  # dropped into the statistics bureau's folder
    folder.mkdir(parents=True)
    return ParseContext(catalog=catalog, profiles=(profile,), raw_dir=raw, today=dt.date(2026, 1, 1)), folder


def test_manifest_lists_every_file_and_the_bytes_are_unchanged():
    rows = _rows()
    assert len(rows) >= 30
    for row in rows:
        data = (CORPUS / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["file"].split("/")[-1])
def test_corpus_file_is_refused_with_a_specific_reason_never_loaded_as_ours(corpus_ctx, row):
    ctx, folder = corpus_ctx
    src = CORPUS / row["file"]
    dst = folder / src.name
    shutil.copyfile(src, dst)
    os.utime(dst, (1.7e9, 1.7e9))
    r = parse_file(dst, ctx)
    assert r.values == [], [(v.indicator_code, v.cell, v.raw_text) for v in r.values[:5]]
    file_problems = [p for p in r.problems if p.scope == "file"]
    assert len(file_problems) == 1, r.problems[:5]
    p = file_problems[0]
    assert p.reason_code in ALLOWED, p
    assert p.reason_code != "parse_error"
    zh, en = REASONS[p.reason_code]
    assert zh in p.message_zh and en in p.message_en and src.name in p.message_zh
    if src.name in OTHER_AREA:
        assert p.reason_code == "other_area", p.message_zh
        assert "平昌县" in p.message_zh
