"""Documentation that names tables and paths must match the tree."""

from __future__ import annotations

import re

from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse import docs


def test_warehouse_docs_are_up_to_date():
    current = (PROJECT_ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8")
    assert current == docs.render(), "run: python -m pipelines.warehouse.docs > docs/warehouse.md"


def test_readme_opens_with_the_two_commands_and_ci_calls_the_test_one():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert blocks[0].strip().splitlines()[:2] == ["make run", "make test"]
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nmake test\n" in ci


def test_paths_named_in_readme_exist():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for path in re.findall(
        r"`((?:pipelines|dashboards|expectations|docs|tests|bench|scripts)/[\w./-]*)`", readme
    ):
        assert (PROJECT_ROOT / path).exists(), path
