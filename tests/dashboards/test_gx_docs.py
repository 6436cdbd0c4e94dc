"""GX Data Docs rendered without any CDN (dashboards.gx_docs)."""

from __future__ import annotations

import pytest

from dashboards import gx_docs

PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" type="text/css" href="./static/styles/data_docs_default_styles.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script>$(function(){ fetch("https://greatexpectations.io/x") })</script>
</head><body><img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png">
<a href="https://greatexpectations.io/newsletter">newsletter</a>
<table><tr><th>列</th><td>值</td></tr></table></body></html>"""


def _site(tmp_path):
    root = gx_docs.site(tmp_path)
    (root / "static" / "styles").mkdir(parents=True)
    (root / "static" / "styles" / "data_docs_default_styles.css").write_text(".local-style { color: red }")
    (root / "index.html").write_text(PAGE)
    run = root / "validations" / "observation_values" / "__none__" / "20261130T235018.693560Z"
    run.mkdir(parents=True)
    (run / "warehouse-observation.html").write_text(PAGE)
    return root


def test_offline_html_fetches_nothing_and_keeps_the_content(tmp_path):
    root = _site(tmp_path)
    pages = gx_docs.pages(tmp_path)
    assert [p.name for p in pages] == ["index.html", "warehouse-observation.html"]
    html = gx_docs.offline_html(pages[0], tmp_path)
    assert "http://" not in html and "https://" not in html  # no CDN, no beacon, no image from outside
    assert "<script" not in html.lower()
    assert ".local-style" in html and "border-collapse" in html  # GX's own and our table style inlined
    assert "<th>列</th><td>值</td>" in html
    assert gx_docs.label(pages[1], tmp_path) == "observation_values · 2026-11-30 23:50"
    with pytest.raises(ValueError):
        gx_docs.offline_html(root.parent / "outside.html", tmp_path)


def test_no_site_no_pages(tmp_path):
    assert gx_docs.pages(tmp_path) == []
