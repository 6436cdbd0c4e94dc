"""Great Expectations Data Docs, rendered on demand from the stored validation results, without any CDN.

The pipeline no longer builds a Data Docs site on every run (issue 18: ~1.1 s per county run). GX
keeps every validation result as JSON under `<gx_dir>/gx/uncommitted/validations/<suite>/<run
name>/<run time>/<batch>.json` (the newest `WUCHUANG_GX_KEEP_RESULTS` per suite); this module
renders the page of a result when the office opens it, with GX's own renderer and view
(`ValidationResultsPageRenderer`, `DefaultJinjaPageView` — what GX's site builder runs for each
page), in memory: the dashboards never write into the pipeline's folders. A result's page is
remembered per file (path, size, modification time); GX is imported on the first page rendered, not
for the index, which is built here from the results' own summaries (suite, run time, outcome,
expectations passed), Chinese first and English second.

A county deployment keeps a GX folder per county (`<warehouse>/counties/<code>/gx`): their results
are listed too, newest first, labelled with the county code.

GX's pages load Bootstrap, jQuery, Vega and fonts from public CDNs; offline (and on a county's
intranet) they would render unstyled and their scripts fail. `offline_html` removes every external
script, stylesheet, image and link, inlines GX's own stylesheet and a small table style, and returns
one self-contained page that the Submissions page renders in a sandboxed frame. Plain functions (no
Streamlit import).
"""

from __future__ import annotations

import functools
import html as html_mod
import json
import re
from pathlib import Path

UNCOMMITTED = Path("gx") / "uncommitted"
RESULTS = UNCOMMITTED / "validations"
SITE = UNCOMMITTED / "data_docs" / "local_site"  # GX's static site (no longer built by the pipeline)
INDEX = "index.html"  # the index's name (a virtual page: rendered here, never a file)
MAX_PAGES = 60  # results offered in the picker, newest first
MAX_INDEX = 400  # results listed in the index, newest first (a province keeps ~20 per county)

_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.I | re.S)
_INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.I | re.S)
_EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^>]*/?>", re.I)
_LOCAL_LINK = re.compile(r"<link[^>]*\bhref=[\"'](\./)?static/[^>]*/?>", re.I)
_EXTERNAL_IMG = re.compile(r"<img[^>]*\bsrc=[\"']https?://[^>]*/?>", re.I)
_EXTERNAL_HREF = re.compile(r"\bhref=[\"']https?://[^\"']*[\"']", re.I)
_ANY_URL = re.compile(r"https?://", re.I)
_COUNTY = re.compile(r"^\d{6}$")

BASE_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif; font-size: 14px;
       color: #212121; margin: 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid #e0e0e0; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
.hide, .d-none, nav, .navbar, .modal, .sticky { display: none !important; }
.text-danger, .fa-times { color: #c62828; } .text-success, .fa-check { color: #2e7d32; }
.card { border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px; margin: 8px 0; }
code, pre { white-space: pre-wrap; word-break: break-word; }
"""


def site(gx_dir: Path) -> Path:
    return Path(gx_dir) / SITE


def _folders(gx_dir: Path) -> list[tuple[str, Path]]:
    """(county code or '', GX folder): the folder itself, then each county's under the warehouse."""
    gx_dir = Path(gx_dir)
    out = [("", gx_dir)]
    counties = gx_dir.parent / "counties"
    if counties.is_dir():
        out += [(c.name, c / "gx") for c in sorted(counties.iterdir()) if _COUNTY.match(c.name)]
    return out


def _run_key(path: Path) -> str:
    """The run time folder of a result (`20261130T235018.693560Z`), which sorts by time."""
    return path.parent.name


def results(gx_dir: Path) -> list[Path]:
    """Every stored validation result (the GX folder's and its counties'), newest first."""
    found = []
    for _, folder in _folders(gx_dir):
        base = folder / RESULTS
        if base.is_dir():
            found += [p for p in base.glob("*/*/*/*.json") if p.is_file()]
    return sorted(found, key=lambda p: (_run_key(p), str(p)), reverse=True)


def pages(gx_dir: Path) -> list[Path]:
    """The index, then the newest `MAX_PAGES` results (empty when nothing was validated yet)."""
    found = results(gx_dir)
    if not found:
        return []
    return [site(gx_dir) / INDEX, *found[:MAX_PAGES]]


def _is_index(path: Path, gx_dir: Path) -> bool:
    return Path(path) == site(gx_dir) / INDEX


def _owner(path: Path, gx_dir: Path) -> tuple[str, Path] | None:
    """(county, GX folder) whose results folder holds `path`, or None (a path outside them)."""
    resolved = Path(path).resolve()
    for county, folder in _folders(gx_dir):
        if resolved.is_relative_to((folder / RESULTS).resolve()) and resolved.suffix == ".json":
            return county, folder
    return None


def _when(run: str) -> str:
    """`20261130T235018.693560Z` -> `2026-11-30 23:50:18` (UTC, to the second)."""
    return (
        f"{run[0:4]}-{run[4:6]}-{run[6:8]} {run[9:11]}:{run[11:13]}:{run[13:15]}" if len(run) >= 15 else run
    )


def label(path: Path, gx_dir: Path) -> str:
    """A short, unique name of a page: 'index' or '<suite> · <run time>' ('<suite> · <county> <run
    time>' for a county's result). Results of a suite stored within the same second (a failing
    validation stores two: gx_runner._run) are told apart by '#1', '#2' in the order they were
    stored: the picker must never show two pages under one name."""
    if _is_index(path, gx_dir):
        return "index"
    owner = _owner(path, gx_dir)
    if owner is None:
        raise ValueError("不在检查结果目录中 / not inside the validation results folder")
    county, folder = owner
    path = Path(path).resolve()
    parts = path.relative_to((folder / RESULTS).resolve()).parts  # suite/run name/run time/file
    when = _when(parts[2]) if len(parts) > 2 else ""
    if len(parts) > 2:
        second = parts[2][:15]
        same = sorted(
            p.resolve() for p in path.parent.parent.glob(f"{second}*/*.json") if p.parent.name[:15] == second
        )
        if len(same) > 1 and path in same:
            when += f" #{same.index(path) + 1}"
    return f"{parts[0]} · {f'{county} ' if county else ''}{when}".strip(" ·")


@functools.lru_cache(maxsize=4096)
def _summary(path: str, size: int, mtime_ns: int) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    stats = data.get("statistics") or {}
    return {
        "suite": data.get("suite_name") or Path(path).parts[-4],
        "success": bool(data.get("success")),
        "evaluated": stats.get("evaluated_expectations"),
        "successful": stats.get("successful_expectations"),
    }


def _stat(path: Path) -> tuple[str, int, int]:
    st = Path(path).stat()
    return str(path), st.st_size, st.st_mtime_ns


def _suite_name(suite: str) -> str:
    from dashboards.i18n_outlook import LABELS

    zh, en = LABELS.get(f"gx_suite_{suite}", (suite.replace("_", " "), suite.replace("_", " ")))
    return f"{zh} / {en}"


def index_html(gx_dir: Path) -> str:
    """The index of the stored results (the newest `MAX_INDEX`): suite, county, run time (UTC),
    outcome and expectations passed, newest first (built from the results' summaries, without GX)."""
    rows = []
    found = results(gx_dir)
    for path in found[:MAX_INDEX]:
        try:
            s = _summary(*_stat(path))
        except (OSError, ValueError):  # pruned or being written meanwhile: not listed
            continue
        owner = _owner(path, gx_dir)
        county = owner[0] if owner else ""
        ok = "通过 / passed" if s["success"] else "未通过 / failed"
        css = "text-success" if s["success"] else "text-danger"
        counts = f"{s['successful']}/{s['evaluated']}" if s["evaluated"] is not None else "—"
        rows.append(
            "<tr>"
            f"<td>{html_mod.escape(_suite_name(s['suite']))}</td>"
            f"<td>{html_mod.escape(county) or '—'}</td>"
            f"<td>{html_mod.escape(_when(_run_key(path)))}</td>"
            f'<td class="{css}">{ok}</td>'
            f"<td>{counts}</td>"
            "</tr>"
        )
    head = (
        "<tr><th>检查套件 / Suite</th><th>县 / County</th><th>运行时间（UTC）/ Run time (UTC)</th>"
        "<th>结果 / Outcome</th><th>通过的期望 / Expectations passed</th></tr>"
    )
    body = "".join(rows) or '<tr><td colspan="5">暂无检查结果 / no validation results yet</td></tr>'
    if len(found) > MAX_INDEX:
        more = len(found) - MAX_INDEX
        body += (
            f'<tr><td colspan="5">另有 {more} 份较早的结果未列出 / {more} older results not listed</td></tr>'
        )
    return (
        "<html><head><title>Data Docs</title></head><body>"
        "<h3>数据质量检查报告目录 / Index of data quality reports</h3>"
        "<p>每次检查运行保存的 Great Expectations 结果；在上方选择一份报告查看详情。"
        " / The Great Expectations results kept from each validation run; choose a report above for"
        " its details.</p>"
        f"<table>{head}{body}</table></body></html>"
    )


@functools.lru_cache(maxsize=64)
def _rendered(path: str, size: int, mtime_ns: int) -> str:
    """GX's Data Docs page of one stored validation result (the site builder's renderer and view)."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    result = ExpectationSuiteValidationResultSchema().load(json.loads(Path(path).read_text(encoding="utf-8")))
    content = ValidationResultsPageRenderer().render(result)
    return DefaultJinjaPageView().render(content, data_context_id=None, show_how_to_buttons=False)


def page_html(path: Path, gx_dir: Path) -> str:
    """The raw Data Docs page (index or a result's), rendered now; refused outside the results."""
    if _is_index(path, gx_dir):
        return index_html(gx_dir)
    if _owner(path, gx_dir) is None:
        raise ValueError("不在检查结果目录中 / not inside the validation results folder")
    try:
        return _rendered(*_stat(path))
    except FileNotFoundError:
        return (
            "<html><body><p>这份报告已被较新的检查结果取代，请重新选择。"
            " / This report was replaced by newer results; please choose again.</p></body></html>"
        )


def _local_css(gx_dir: Path) -> str:
    """GX's own stylesheet for its pages (from the installed package; offline)."""
    try:
        import importlib.resources

        css = importlib.resources.files("great_expectations.render.view").joinpath(
            "static", "styles", "data_docs_default_styles.css"
        )
        return css.read_text(encoding="utf-8", errors="replace")
    except (ImportError, OSError, ValueError):
        return ""


def offline_html(path: Path, gx_dir: Path) -> str:
    """The page as one self-contained HTML text: nothing is fetched from outside (no CDN)."""
    text = page_html(path, gx_dir)
    for rx in (_EXTERNAL_SCRIPT, _INLINE_SCRIPT, _EXTERNAL_LINK, _LOCAL_LINK, _EXTERNAL_IMG):
        text = rx.sub("", text)
    text = _EXTERNAL_HREF.sub('href="#"', text)
    text = _ANY_URL.sub("", text)  # any address left (in text or attributes) is not fetched
    local = "" if _is_index(path, gx_dir) else _ANY_URL.sub("", _local_css(gx_dir))
    style = f"<style>{BASE_CSS}\n{local}</style>"
    return text.replace("</head>", style + "</head>", 1) if "</head>" in text else style + text
