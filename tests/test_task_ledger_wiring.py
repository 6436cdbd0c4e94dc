"""The sample's task ledger (任务台账) is read by the plan mart and is not mistaken for a return."""

from __future__ import annotations

import datetime as dt

from pipelines.marts.task_ledger import read_task_ledgers
from pipelines.returns.load import scan_raw_folder
from pipelines.sample.__main__ import write_task_ledger


def test_sample_task_ledger_is_read_as_tasks_and_skipped_as_a_return(tmp_path, catalog, profile):
    path = write_task_ledger(tmp_path, profile, seed=7)
    assert path.exists() and "任务台账" in path.name
    assert path not in scan_raw_folder(tmp_path)
    tasks, errors = read_task_ledgers(tmp_path, [profile], catalog.campaigns.values(), dt.date(2016, 12, 31))
    assert len(tasks) >= 30
    assert errors, "the sample ledger plants malformed rows that must be reported"


def test_rewriting_an_unchanged_task_ledger_keeps_the_file(tmp_path, profile):
    path = write_task_ledger(tmp_path, profile, seed=7)
    before = path.stat().st_mtime_ns
    write_task_ledger(tmp_path, profile, seed=7)
    assert path.stat().st_mtime_ns == before
