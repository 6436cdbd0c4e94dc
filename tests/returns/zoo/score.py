"""Score a parser against the layout zoo.

    .venv/bin/python -m tests.returns.zoo.score            # per-family table
    .venv/bin/python -m tests.returns.zoo.score -v         # plus every wrong, missed and refused item

A loaded value is matched to the zoo by its cell (sheet + A1 reference; the sheet is ignored for
CSV and HTML files, whose "sheet" name is the parser's choice). It is RIGHT when indicator, org,
period and value (within 1e-9) all equal the expected ones. It is WRONG when it loads a trap cell,
when it differs from the expected value of its cell in any of those four, or when the cell holds
no expected value at all. Values of a file the parser rejected count as not loaded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.returns.zoo.build import FAMILIES, ZooFile, build_zoo

TOLERANCE = 1e-9
SHEETLESS = {".csv"}  # plus any file whose content is not a workbook (see _sheetless)


@dataclass
class FamilyScore:
    files: int = 0
    expected: int = 0
    right: int = 0
    wrong: int = 0
    refused_ok: int = 0  # files that had to be refused and were
    refuse_expected: int = 0
    refused_unexpectedly: int = 0  # files with expected values that were rejected

    @property
    def missed(self) -> int:
        return self.expected - self.right

    @property
    def recall(self) -> float:
        return self.right / self.expected if self.expected else 1.0


@dataclass
class Score:
    families: dict[str, FamilyScore] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    not_refused: list[str] = field(default_factory=list)
    per_file: list[str] = field(default_factory=list)  # "family file right/expected wrong"

    @property
    def total(self) -> FamilyScore:
        t = FamilyScore()
        for f in self.families.values():
            for k in vars(t):
                setattr(t, k, getattr(t, k) + getattr(f, k))
        return t


def _sheetless(zf: ZooFile) -> bool:
    return zf.path.suffix.lower() in SHEETLESS or "csv" in zf.note.lower() or "html" in zf.note.lower()


def _rel(zoo_dir: Path, path: Path) -> str:
    try:
        return str(Path(path).relative_to(zoo_dir))
    except ValueError:
        return str(path)


def _reasons(parsed) -> str:
    codes = sorted({p.reason_code for p in parsed.problems if p.scope == "file"})
    return ",".join(codes) or "-"


def score(zoo_dir: Path, files: Iterable[ZooFile], parsed_by_path: dict) -> Score:
    """Compare parse results (`ParsedReturn` per zoo file path) with the zoo's expectations."""
    zoo_dir = Path(zoo_dir)
    out = Score(families={f: FamilyScore() for f in FAMILIES})
    for zf in files:
        fam = out.families.setdefault(zf.family, FamilyScore())
        name = _rel(zoo_dir, zf.path)
        fam.files += 1
        fam.expected += len(zf.expected)
        parsed = parsed_by_path.get(zf.path)
        if parsed is None:
            out.missed.append(f"{name}: not parsed")
            continue
        if zf.expect_refused:
            fam.refuse_expected += 1
        if parsed.rejected:
            if zf.expect_refused:
                fam.refused_ok += 1
                out.refused.append(f"{name}: refused as {_reasons(parsed)} (expected {zf.expect_refused})")
            else:
                fam.refused_unexpectedly += 1
                out.refused.append(
                    f"{name}: REFUSED as {_reasons(parsed)} but holds {len(zf.expected)} values"
                )
                out.missed.extend(
                    f"{name} {e.sheet}!{e.cell} {e.indicator_code}: file refused" for e in zf.expected
                )
            continue
        if zf.expect_refused:
            out.not_refused.append(f"{name}: not refused (expected {zf.expect_refused})")

        sheetless = _sheetless(zf)

        def key(sheet: str | None, cell: str | None, _s=sheetless) -> tuple:
            return (None if _s else sheet, (cell or "").upper())

        expected = {key(e.sheet, e.cell): e for e in zf.expected}
        traps = {key(s, c): why for s, c, why in zf.must_not_load}
        matched: set[tuple] = set()
        for v in parsed.values:
            k = key(v.sheet, v.cell)
            where = f"{name} {v.sheet}!{v.cell}"
            got = f"{v.indicator_code} {v.org_code} {v.period_code} {v.value!r} (raw {v.raw_text!r})"
            if k in traps:
                fam.wrong += 1
                out.wrong.append(f"{where}: loaded a trap ({traps[k]}): {got}")
                continue
            e = expected.get(k)
            if e is None:
                fam.wrong += 1
                out.wrong.append(f"{where}: loaded a cell that holds no expected value: {got}")
                continue
            same = (
                v.indicator_code == e.indicator_code
                and v.org_code == e.subject_org_code
                and v.period_code == e.period_code
                and v.value is not None
                and abs(v.value - e.value) <= TOLERANCE
            )
            if same and k not in matched:
                matched.add(k)
                fam.right += 1
            elif same:
                fam.wrong += 1
                out.wrong.append(f"{where}: loaded twice: {got}")
            else:
                fam.wrong += 1
                want = f"{e.indicator_code} {e.subject_org_code} {e.period_code} {e.value!r}"
                out.wrong.append(f"{where}: expected {want}, loaded {got}")
        n_wrong = sum(1 for line in out.wrong if line.startswith(f"{name} "))
        out.per_file.append(
            f"{zf.family:<20}{len(matched):>4}/{len(zf.expected):<4} wrong {n_wrong:<3} {name}"
        )
        for k, e in expected.items():
            if k not in matched:
                why = _why_missed(parsed, e)
                out.missed.append(
                    f"{name} {e.sheet}!{e.cell} {e.indicator_code} {e.period_code} {e.value!r}: {why}"
                )
    return out


def _why_missed(parsed, e) -> str:
    for p in parsed.problems:
        if p.cell and p.cell.upper() == e.cell.upper():  # sheet may be the parser's name (CSV)
            return f"problem {p.reason_code}: {p.message_en}"
    return "not found"


def report(s: Score, verbose: bool = False, stream=sys.stdout) -> None:
    w = stream.write
    w(
        f"{'family':<20}{'files':>6}{'expected':>9}{'right':>7}{'missed':>7}{'WRONG':>7}{'recall':>8}  refused ok/expected, refused wrongly\n"
    )
    rows = [(k, v) for k, v in s.families.items() if v.files]
    for name, f in [*rows, ("TOTAL", s.total)]:
        w(
            f"{name:<20}{f.files:>6}{f.expected:>9}{f.right:>7}{f.missed:>7}{f.wrong:>7}{f.recall:>8.2f}"
            f"  {f.refused_ok}/{f.refuse_expected}, {f.refused_unexpectedly}\n"
        )
    sections = [("WRONG", s.wrong), ("refused", s.refused), ("not refused", s.not_refused)]
    if verbose:
        sections = [("per file (right/expected)", s.per_file), *sections, ("missed", s.missed)]
    for title, items in sections:
        if items:
            w(f"\n{title} ({len(items)}):\n")
            for line in items:
                w(f"  {line}\n")


def parse_zoo(zoo_dir: Path, files: list[ZooFile], today: dt.date = dt.date(2017, 6, 30)) -> dict:
    """Run the platform's parser on every zoo file (imported here so building needs no parser)."""
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.returns.model import ParseContext
    from pipelines.returns.parse import parse_file
    from pipelines.settings import PROJECT_ROOT

    catalog = load_catalog(PROJECT_ROOT / "expectations" / "standards")
    profile = load_profiles(PROJECT_ROOT / "expectations" / "profiles", catalog)[0]
    ctx = ParseContext(catalog=catalog, profiles=(profile,), raw_dir=Path(zoo_dir), today=today)
    return {zf.path: parse_file(zf.path, ctx) for zf in files}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="list missed values too")
    ap.add_argument("--keep", type=Path, help="build the zoo into this folder and keep it")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zoo-") as tmp:
        zoo_dir = args.keep or Path(tmp)
        files = build_zoo(zoo_dir)
        parsed = parse_zoo(zoo_dir, files)
        s = score(zoo_dir, files, parsed)
        report(s, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
