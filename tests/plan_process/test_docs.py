"""docs/plan_process.md documents every plan-process table as declared, and names paths that exist."""

from __future__ import annotations

import re

from pipelines.plan_process import tables
from pipelines.settings import PROJECT_ROOT


def test_table_docs_match_the_declarations():
    text = (PROJECT_ROOT / "docs" / "plan_process.md").read_text(encoding="utf-8")
    block = text.split("<!-- tables:begin -->\n", 1)[1].split("<!-- tables:end -->", 1)[0]
    assert block == tables.docs_markdown()


def test_paths_named_exist():
    text = (PROJECT_ROOT / "docs" / "plan_process.md").read_text(encoding="utf-8")
    for path in re.findall(r"`((?:pipelines|dashboards|expectations|tests)/[\w./-]*\.(?:py|yaml))`", text):
        assert (PROJECT_ROOT / path).exists(), path
