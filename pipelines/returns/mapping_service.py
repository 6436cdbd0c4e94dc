"""What the CLI (`wuchuang mappings …`) and the dashboard page 导入映射 share: the parse context,
the files refused for their layout, applying one mapping to a file, and the tidy rows a mapping gives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.returns.layouts import mapped
from pipelines.returns.model import REASONS, ParseContext, ParsedReturn
from pipelines.settings import Settings

# Refusals a mapping can cure: the layout was not read.
LAYOUT_REASONS = ("no_header", "ambiguous_layout", "no_indicator")


def context(
    settings: Settings, mappings_dir: Path | None = None, today: dt.date | None = None
) -> ParseContext:
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles

    catalog = load_catalog(settings.standards_dir)
    profiles = tuple(load_profiles(settings.profiles_dir, catalog))
    return ParseContext(
        catalog, profiles, settings.raw_dir, today or dt.date.today(), mappings_dir=mappings_dir
    )


def mappings_dir(settings: Settings | None = None) -> Path:
    """Where mappings are saved: $WUCHUANG_MAPPINGS_DIR, else <expectations>/mappings."""
    d = mapped.default_dir()
    if settings is not None and mapped.ENV_DIR not in os.environ:
        d = settings.expectations_dir / "mappings"
    return d


def refused_files(conn) -> list[dict]:
    """Files of the published warehouse refused because their layout was not read, newest first."""
    reasons = list(LAYOUT_REASONS)
    rows = conn.execute(
        """
        SELECT file_id, path, file_name, received_at, org_code, reason_codes, message_zh, message_en
        FROM core.source_file
        WHERE status = 'rejected' AND len(list_intersect(reason_codes, ?::VARCHAR[])) > 0
        ORDER BY received_at DESC NULLS LAST, file_name
        """,
        [reasons],
    ).fetchall()
    cols = (
        "file_id",
        "path",
        "file_name",
        "received_at",
        "org_code",
        "reason_codes",
        "message_zh",
        "message_en",
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


def apply(
    path: Path, mapping: mapped.Mapping, ctx: ParseContext, sheet_name: str | None = None
) -> ParsedReturn:
    """Parse a file with this mapping forced on one sheet (default: the first sheet it fits, else the
    first visible one), whatever that sheet's fingerprint: for previews and `mappings apply`."""
    from pipelines.returns.parse import parse_file
    from pipelines.returns.readers import ReadError, read_book

    try:
        book = read_book(path)
    except ReadError:
        return parse_file(path, ctx)
    use_name = book.file_format != "csv"
    sheets = [s for s in book.sheets if s.is_visible and s.name != "_meta"]
    target = next((s for s in sheets if s.name == sheet_name), None)
    if target is None:
        target = next((s for s in sheets if mapped.fingerprint(s, use_name) == mapping.fingerprint), None)
    if target is None and sheets:
        target = sheets[0]
    with tempfile.TemporaryDirectory(prefix="wuchuang-mapping-") as tmp:
        if target is not None:
            fp = mapped.fingerprint(target, use_name)
            mapped.save_mapping(Path(tmp), dataclasses.replace(mapping, fingerprint=fp, path=None))
        return parse_file(path, dataclasses.replace(ctx, mappings_dir=Path(tmp)))


@dataclass
class TidyRow:
    indicator: str  # Chinese name
    indicator_en: str
    unit: str
    subject: str  # the reporting unit or town, by name
    subject_en: str
    period: str
    value: str
    sheet: str
    cell: str


def tidy_rows(result: ParsedReturn, ctx: ParseContext) -> list[TidyRow]:
    """The values a parse loads, with names instead of codes."""
    cat = ctx.catalog
    orgs = {u.code: u for p in ctx.profiles for u in p.org_units}
    out = []
    for v in result.values:
        ind = cat.indicators.get(v.indicator_code)
        org = orgs.get(v.org_code)
        value = v.value_text if v.value is None else f"{v.value:g}"
        out.append(
            TidyRow(
                ind.name_zh if ind else v.indicator_code,
                ind.name_en if ind else v.indicator_code,
                v.unit,
                getattr(org, "name_zh", None) or v.org_code,
                getattr(org, "name_en", None) or v.org_code,
                v.period_code,
                value or "",
                v.sheet,
                v.cell,
            )
        )
    return out


def problem_lines(result: ParsedReturn, lang: str = "zh") -> list[str]:
    out = []
    for p in result.problems:
        where = "!".join(x for x in (p.sheet, p.cell) if x)
        msg = p.message_en if lang == "en" else p.message_zh
        out.append(f"{where}: {msg}" if where else msg)
    return out


def reason_text(code: str, lang: str = "zh") -> str:
    zh, en = REASONS.get(code, (code, code))
    return en if lang == "en" else zh
