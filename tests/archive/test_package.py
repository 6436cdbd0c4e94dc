"""The sample archive and the inspection package: partial readiness on the sample; for each campaign the
package builds, is byte-for-byte reproducible, lists exactly the accepted evidence (never a returned or
superseded version), its index renders (PDF → PNG with pdftoppm, Chinese text extractable), the Word
index and the indicator sheets open, and no sheet cell is a formula. The archive assets mirror it all
into archive.* tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipelines.archive import package
from pipelines.archive import store as es
from pipelines.archive.service import Archive
from pipelines.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.schema import create_all

AS_OF = dt.date(2016, 12, 31)
ARTIFACTS = PROJECT_ROOT / "tmp" / "artifacts" / "archive"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive_sample")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("WUCHUANG_EVIDENCE_DIR", "WUCHUANG_EVIDENCE_STORE", "WUCHUANG_WORKFLOW_DIR"):
            mp.delenv(var, raising=False)
        mp.setenv("WUCHUANG_RAW_DIR", str(root / "raw"))
        mp.setenv("WUCHUANG_WAREHOUSE_DIR", str(root / "warehouse"))
        settings = Settings.from_env()
        from pipelines.sample.evidence import write_sample_evidence

        assert write_sample_evidence(root / "elsewhere", 20111201) is None  # not the raw folder: nothing
        counts = write_sample_evidence(settings.raw_dir, 20111201)
        again = write_sample_evidence(settings.raw_dir, 20111201)
        archive = Archive.load(settings)
        db = root / "warehouse" / "warehouse.duckdb"
        db.parent.mkdir(parents=True, exist_ok=True)
        _tiny_warehouse(db, archive)
        yield {
            "archive": archive,
            "counts": counts,
            "again": again,
            "db": db,
            "root": root,
            "settings": settings,
        }


def _insert(conn, table: str, row: dict) -> None:
    """Insert `row`, filling NOT NULL columns it does not name with a neutral value of their type."""
    schema, name = table.split(".")
    for col, typ, nullable in conn.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [schema, name],
    ).fetchall():
        if not nullable and col not in row:
            row[col] = (
                0 if "INT" in typ or typ in ("DOUBLE", "FLOAT") else False if typ == "BOOLEAN"
                else dt.date(2000, 1, 1) if typ == "DATE" else dt.datetime(2000, 1, 1) if "TIMESTAMP" in typ
                else [] if typ.endswith("[]") else "x"
            )  # fmt: skip
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def _tiny_warehouse(db: Path, archive: Archive) -> None:
    conn = duckdb.connect(str(db))
    create_all(conn)
    req = next(r for r in archive.catalog.requirements_in_force("eco_county", dt.date(2014, 12, 31)))
    oid = f"abc:511923-{req.responsible}:2014:{req.indicator}:填报表!C5"
    _insert(
        conn,
        "core.source_file",
        {"file_id": "abc", "path": "511923/x/2014年报.xlsx", "file_name": "2014年报.xlsx"},
    )
    _insert(
        conn,
        "core.observation",
        {"observation_id": oid, "file_id": "abc", "county_code": "511923", "org_code": f"511923-{req.responsible}",
         "indicator_code": req.indicator, "period_code": "2014"},
    )  # fmt: skip
    _insert(conn, "dim.requirement", {"requirement_code": req.code, "name_zh": req.name_zh})
    for period, end, value in (
        ("2013", dt.date(2013, 12, 31), 1.0),
        ("2014", dt.date(2014, 12, 31), 2.0),
        ("2016", dt.date(2016, 12, 31), 9.0),
    ):
        _insert(
            conn,
            "compliance.verdict",
            {"county_code": "511923", "requirement_code": req.code, "campaign_code": "eco_county",
             "subject_org_code": "511923", "period_code": period, "grain": "year", "status": "pass", "value": value,
             "comparison": ">=", "threshold_token": "=1+1", "explanation_zh": '=HYPERLINK("x")',
             "observation_ids": [oid], "period_end": end, "is_veto": False},
        )  # fmt: skip
    _insert(
        conn,
        "marts.campaign_readiness",
        {"county_code": "511923", "campaign_code": "eco_county", "period_code": "2014-12", "grain": "ytd_month",
         "period_end": dt.date(2014, 12, 31), "readiness": 0.9},
    )  # fmt: skip
    conn.close()


def test_sample_counts_are_deterministic_and_idempotent(sample):
    assert sample["counts"] == {
        "accepted": 226,
        "submitted": 39,
        "returned": 24,
        "resubmitted": 14,
        "skipped": 0,
    }
    slots_with_items = {
        (r["campaign_code"], r["clause_code"], r["item_code"], r["period_code"])
        for r in sample["archive"].store.rows("SELECT * FROM evidence_item")
    }
    assert sample["again"]["skipped"] == len(slots_with_items) == 291
    assert sample["again"]["accepted"] == sample["again"]["returned"] == sample["again"]["submitted"] == 0


def test_sample_shows_partial_archive_readiness(sample):
    rows = {r["campaign_code"]: r for r in sample["archive"].campaign_rows(None, AS_OF)}
    assert set(rows) == {"env_model_city", "hygienic_county", "forest_city", "civilized_city", "eco_county"}
    for code, r in rows.items():
        assert 0 < r["accepted"] < r["provided"] < r["required"], code
        assert 0.2 < r["share_accepted"] < 0.6, code
        assert r["n_returned"] > 0, code
    assert not rows["hygienic_county"]["is_capped"]  # its prerequisites are all accepted in the sample
    assert all(rows[c]["is_capped"] for c in rows if c != "hygienic_county")
    assert rows["hygienic_county"]["archive_readiness"] == pytest.approx(
        rows["hygienic_county"]["share_accepted"]
    )


@pytest.fixture(scope="module")
def packages(sample):
    conn = duckdb.connect(str(sample["db"]), read_only=True)
    out = {}
    try:
        for prog in sample["archive"].profile.programmes:
            first, cover = package.build(sample["archive"], prog.campaign, conn, AS_OF)
            second, _ = package.build(sample["archive"], prog.campaign, conn, AS_OF)
            out[prog.campaign] = (first, second, cover)
    finally:
        conn.close()
    return out


def test_package_is_reproducible_byte_for_byte(packages):
    for code, (first, second, _cover) in packages.items():
        assert first == second, code


def _evidence_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {
            n: zf.read(n)
            for n in zf.namelist()
            if not n.startswith(package.INDEX_DIR) and not n.endswith(package.SHEET_NAME)
        }


def test_package_holds_exactly_the_accepted_evidence(sample, packages):
    arch = sample["archive"]
    for code, (data, _s, cover) in packages.items():
        latest = arch.latest(code)
        accepted = Counter(v["sha256"] for v in latest if v["review_state"] == "accepted")
        members = _evidence_members(data)
        got = Counter(hashlib.sha256(b).hexdigest() for b in members.values())
        assert got == accepted, code
        everything = {hashlib.sha256(b).hexdigest() for b in members.values()}
        returned = [v for v in latest if v["review_state"] == "returned"]
        waiting = [v for v in latest if v["review_state"] == "submitted"]
        superseded = [
            v for v in es.versions(arch.store, arch.county, code) if v["review_state"] == "superseded"
        ]
        assert returned and waiting
        assert not {v["sha256"] for v in returned + waiting + superseded} & everything, code
        assert cover["accepted"] <= len(members)


def test_zip_listing_is_ordered_by_clause_with_the_index_first(packages):
    data, _s, cover = packages["eco_county"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        infos = zf.infolist()
    assert names == sorted(names)
    assert names[:3] == [
        "00_封面与目录/指标数值与判定.xlsx",
        "00_封面与目录/迎检资料目录.docx",
        "00_封面与目录/迎检资料目录.pdf",
    ]
    folders = [n.split("/")[0] for n in names]
    assert folders[3].startswith("01_组织领导")
    assert {i.date_time for i in infos} == {(2016, 12, 31, 0, 0, 0)}
    assert all(not part.startswith(tuple("=+-@")) for n in names for part in n.split("/"))
    assert any(n.endswith(package.SHEET_NAME) and not n.startswith("00_") for n in names)


def _pdf_of(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read("00_封面与目录/迎检资料目录.pdf")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")
def test_index_pdf_renders_with_chinese_text(packages, tmp_path):
    from PIL import Image

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for code, (data, _s, cover) in packages.items():
        pdf = tmp_path / f"{code}.pdf"
        pdf.write_bytes(_pdf_of(data))
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / code)], check=True
        )
        png = next(tmp_path.glob(f"{code}-*1.png"))
        shutil.copy(png, ARTIFACTS / f"index_{code}.png")
        with Image.open(png) as im:
            grey = im.convert("L")
            dark = sum(1 for p in grey.getdata() if p < 128)
        assert dark > 2000, code  # text drawn, not a blank page
        text = subprocess.run(
            ["pdftotext", "-l", "1", str(pdf), "-"], check=True, capture_output=True
        ).stdout.decode()
        assert "迎检资料目录" in text and cover["campaign"] in text and "封面：准备度摘要" in text, code
        assert f"审核通过 {cover['accepted']} 份" in text


def test_word_index_and_sheets_open_and_hold_no_formula(packages):
    import docx
    import openpyxl

    data, _s, cover = packages["eco_county"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        doc = docx.Document(io.BytesIO(zf.read("00_封面与目录/迎检资料目录.docx")))
        sheets = [zf.read(n) for n in zf.namelist() if n.endswith(package.SHEET_NAME)]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "省级生态县迎检资料目录" in text and "前提条件资料缺失的条款" in text
    assert len(doc.tables) == cover["n_clauses"]
    header = [c.text for c in doc.tables[0].rows[0].cells]
    assert header == ["资料", "期别", "提供单位", "截止日期", "状态", "日期", "文件"]
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert any(c.startswith("01_组织领导") for c in cells)  # file references
    assert any("缺失" in c for c in cells) and any("已审核通过" in c for c in cells)
    assert len(sheets) == 2  # the campaign-wide sheet and the one requirement with values
    for raw in sheets:
        wb = openpyxl.load_workbook(io.BytesIO(raw))
        values = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
        assert values and not [c for c in values if c.data_type == "f"]
        flat = [str(c.value) for c in values]
        assert "2014" in flat and "2016" not in flat  # the latest value up to the acceptance date
        assert any("2014年报.xlsx 填报表!C5" in v for v in flat)  # lineage
        assert '=HYPERLINK("x")' in flat  # text kept as text
        assert not [v for v in flat if re.fullmatch(r"[a-z]+_[a-z0-9_]+", v)]  # no raw codes


def test_cover_summary_matches_readiness(sample, packages):
    _d, _s, cover = packages["eco_county"]
    row = sample["archive"].campaign_rows("eco_county", AS_OF)[0]
    for key in (
        "required",
        "provided",
        "accepted",
        "missing",
        "share_accepted",
        "archive_readiness",
        "is_capped",
    ):
        assert cover[key] == row[key], key
    assert cover["indicator_readiness"] == pytest.approx(0.9)
    assert cover["overall_readiness"] == pytest.approx(0.6)  # capped by the missing prerequisites


def test_cli_writes_the_package(sample, tmp_path, monkeypatch):
    from pipelines.archive_cli import register  # noqa: F401  (the module the CLI registers)
    from pipelines.cli import main

    monkeypatch.setenv("WUCHUANG_RAW_DIR", str(sample["settings"].raw_dir))
    monkeypatch.setenv("WUCHUANG_WAREHOUSE_DIR", str(sample["settings"].warehouse_dir))
    out = tmp_path / "包.zip"
    assert main(["package", "--campaign", "hygienic_county", "--out", str(out), "--as-of", "2016-12-31"]) == 0
    assert zipfile.ZipFile(out).testzip() is None
    assert main(["package", "--campaign", "moon", "--out", str(out)]) == 2


def test_archive_assets_mirror_the_registry_and_readiness(sample, monkeypatch):
    import dagster as dg

    from pipelines.assets import archive as assets
    from pipelines.resources import WarehouseResource

    monkeypatch.setenv("WUCHUANG_RAW_DIR", str(sample["settings"].raw_dir))
    monkeypatch.setenv("WUCHUANG_WAREHOUSE_DIR", str(sample["settings"].warehouse_dir))
    settings = Settings.from_env()
    copy = settings.warehouse_path
    result = dg.materialize(
        [*assets.assets, *assets.checks], resources={"warehouse": WarehouseResource.from_settings(settings)}
    )
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    conn = duckdb.connect(str(copy), read_only=True)
    try:
        n_versions = conn.execute("SELECT count(*) FROM archive.evidence_version").fetchone()[0]
        assert n_versions == len(es.versions(sample["archive"].store, "511923"))
        rows = conn.execute(
            "SELECT campaign_code, required, accepted, is_capped FROM archive.campaign_readiness ORDER BY 1"
        ).fetchall()
        assert len(rows) == 5 and all(0 < a < r for _c, r, a, _k in rows)
        cols = {
            t: {r[0] for r in conn.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'archive' AND table_name = ?", [t]).fetchall()}
            for t in ("evidence_slot", "evidence_version", "clause_readiness", "campaign_readiness")
        }  # fmt: skip
        assert all("county_code" in c for c in cols.values())
        eco = conn.execute(
            "SELECT indicator_readiness, overall_readiness FROM archive.campaign_readiness WHERE campaign_code = 'eco_county'"
        ).fetchone()
        assert eco == (pytest.approx(0.9), pytest.approx(0.6))
    finally:
        conn.close()
