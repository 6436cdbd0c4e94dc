"""Great Expectations Data Docs, shown inside the dashboards without any CDN.

GX writes its Data Docs (`<gx_dir>/gx/uncommitted/data_docs/local_site/`) with Bootstrap, jQuery,
Vega and fonts from public CDNs; offline (and on a county's intranet) they render unstyled and
their scripts fail. `offline_html` removes every external script, stylesheet, image and link,
inlines GX's own local stylesheet and a small table style, and returns one self-contained page that
the Submissions page renders in a sandboxed frame. Plain functions (no Streamlit import).
"""

from __future__ import annotations

import re
from pathlib import Path

SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"

_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.I | re.S)
_INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.I | re.S)
_EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^>]*/?>", re.I)
_LOCAL_LINK = re.compile(r"<link[^>]*\bhref=[\"'](\./)?static/[^>]*/?>", re.I)
_EXTERNAL_IMG = re.compile(r"<img[^>]*\bsrc=[\"']https?://[^>]*/?>", re.I)
_EXTERNAL_HREF = re.compile(r"\bhref=[\"']https?://[^\"']*[\"']", re.I)
_ANY_URL = re.compile(r"https?://", re.I)

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


def pages(gx_dir: Path) -> list[Path]:
    """The site's index, then its validation pages, newest first (empty when never built)."""
    root = site(gx_dir)
    if not (root / "index.html").is_file():
        return []
    runs = sorted(root.glob("validations/**/*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [root / "index.html", *runs]


def offline_html(path: Path, gx_dir: Path) -> str:
    """The page as one self-contained HTML text: nothing is fetched from outside (no CDN)."""
    root = site(gx_dir).resolve()
    path = Path(path).resolve()
    if not path.is_relative_to(root):
        raise ValueError("不在数据文档目录中 / not inside the Data Docs folder")
    html = path.read_text(encoding="utf-8", errors="replace")
    for rx in (_EXTERNAL_SCRIPT, _INLINE_SCRIPT, _EXTERNAL_LINK, _LOCAL_LINK, _EXTERNAL_IMG):
        html = rx.sub("", html)
    html = _EXTERNAL_HREF.sub('href="#"', html)
    html = _ANY_URL.sub("", html)  # any address left (in text or attributes) is not fetched
    local = ""
    css = root / "static" / "styles" / "data_docs_default_styles.css"
    if css.is_file():
        local = _ANY_URL.sub("", css.read_text(encoding="utf-8", errors="replace"))
    style = f"<style>{BASE_CSS}\n{local}</style>"
    return html.replace("</head>", style + "</head>", 1) if "</head>" in html else style + html


def label(path: Path, gx_dir: Path) -> str:
    """A short name of a page: 'index' or '<suite> · <run time>'."""
    rel = Path(path).relative_to(site(gx_dir))
    if rel.name == "index.html":
        return "index"
    parts = rel.parts  # validations/<suite>/<batch>/<run>/<file>
    suite = parts[1] if len(parts) > 1 else rel.stem
    run = parts[3] if len(parts) > 3 else ""
    if len(run) >= 15:
        run = f"{run[0:4]}-{run[4:6]}-{run[6:8]} {run[9:11]}:{run[11:13]}"
    return f"{suite} · {run}".strip(" ·")
