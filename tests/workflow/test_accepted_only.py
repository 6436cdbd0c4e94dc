"""WUCHUANG_VERDICTS_ACCEPTED_ONLY: verdicts use only data the office accepted."""

from __future__ import annotations

import pandas as pd

from pipelines.assets.validation import accepted_only
from pipelines.workflow.store import Store


def _store(tmp_path, states: dict[str, str]) -> Store:
    store = Store(tmp_path / "workflow.sqlite")
    with store.tx() as conn:
        for i, (rel, state) in enumerate(states.items()):
            conn.execute(
                "INSERT INTO upload (upload_id, county_code, unit_code, org_code, period_code, file_name, rel_path,"
                " sha256, size_bytes, uploaded_by, uploaded_at, review_state)"
                " VALUES (?, '511923', 'zjj', '511923-zjj', '2016-12', ?, ?, 'x', 1, 'u', 't', ?)",
                (f"u{i}", rel.rsplit("/", 1)[-1], rel, state),
            )
    return store


def _obs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "observation_id": ["a", "b", "c"],
            "file_path": ["511923/zjj/ok.xlsx", "511923/zjj/returned.xlsx", "511923/lyj/dropped.xlsx"],
            "value": [1.0, 2.0, 3.0],
        }
    )


def test_unaccepted_uploads_are_left_out_when_the_setting_is_on(tmp_path, monkeypatch):
    store = _store(tmp_path, {"511923/zjj/ok.xlsx": "accepted", "511923/zjj/returned.xlsx": "returned"})
    monkeypatch.setenv("WUCHUANG_VERDICTS_ACCEPTED_ONLY", "1")
    kept = accepted_only(_obs(), store)
    # the returned upload is out; a file dropped into the raw folder is not under review and stays
    assert list(kept["observation_id"]) == ["a", "c"]


def test_everything_is_used_when_the_setting_is_off(tmp_path, monkeypatch):
    store = _store(tmp_path, {"511923/zjj/returned.xlsx": "submitted"})
    monkeypatch.delenv("WUCHUANG_VERDICTS_ACCEPTED_ONLY", raising=False)
    assert list(accepted_only(_obs(), store)["observation_id"]) == ["a", "b", "c"]
