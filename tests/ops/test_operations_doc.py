"""docs/operations.md names real paths and the real automation (documentation cannot drift)."""

import re

from pipelines.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "operations.md"


def test_every_path_named_in_the_doc_exists():
    text = DOC.read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:pipelines|tests|dashboards|docs)/[\w./-]+\.(?:py|md))`", text))
    assert paths, "the doc should name its files"
    missing = sorted(p for p in paths if not (PROJECT_ROOT / p).exists())
    assert missing == []


def test_every_sensor_schedule_and_job_named_in_the_doc_is_defined():
    from pipelines.definitions import defs

    text = DOC.read_text(encoding="utf-8")
    for name in ("raw_files_sensor", "rerun_followup_sensor"):
        assert name in text and defs.resolve_sensor_def(name)
    assert "monthly_refresh_schedule" in text and defs.resolve_schedule_def("monthly_refresh_schedule")
    for name in ("monitoring_job", "rerun_returns_job"):
        assert name in text and defs.resolve_job_def(name)
