"""The stale-data banner (issue 13, item 6): shown when a file arrived after the published snapshot
or the last run failed after it, with the reason, Chinese first; absent when the data are current."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from dashboards import freshness
from dashboards.freshness import FailedRun, Freshness

T0 = dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)


def _f(**kw) -> Freshness:
    base = {
        "published_at": T0,
        "newest_file": "wjw/2026-02_卫健局.xlsx",
        "newest_file_at": T0 - dt.timedelta(hours=1),
        "files_after_publish": 0,
        "failed_run": None,
    }
    return Freshness(**{**base, **kw})


def test_current_data_show_no_banner():
    assert freshness.notice(_f()) is None


def test_nothing_published_shows_no_banner():
    assert freshness.notice(_f(published_at=None, files_after_publish=3)) is None


def test_a_file_received_after_publishing_is_announced():
    zh, en = freshness.notice(_f(newest_file_at=T0 + dt.timedelta(minutes=30), files_after_publish=2))
    assert "已收到 2 个新报表文件" in zh and "wjw/2026-02_卫健局.xlsx" in zh and "尚未发布" in zh
    assert "2 new return file(s)" in en and "not published yet" in en


def test_a_failed_run_after_publishing_gives_its_reason():
    run = FailedRun(
        T0 + dt.timedelta(hours=2), "abc", "系统性数据问题：12/100 个数值未通过", "systemic: 12/100 failed"
    )
    zh, en = freshness.notice(_f(failed_run=run))
    assert zh.startswith("最近一次数据更新") and "失败" in zh and "系统性数据问题" in zh
    assert "failed" in en and "systemic: 12/100 failed" in en


def test_a_failure_before_the_last_publish_is_history():
    run = FailedRun(T0 - dt.timedelta(hours=2), "abc", "旧错误", "old error")
    assert freshness.notice(_f(failed_run=run)) is None


def test_both_reasons_are_shown_together():
    run = FailedRun(T0 + dt.timedelta(hours=2), "abc", "原因", "reason")
    zh, en = freshness.notice(
        _f(failed_run=run, newest_file_at=T0 + dt.timedelta(hours=1), files_after_publish=1)
    )
    assert "失败" in zh and "已收到 1 个新报表文件" in zh
    assert "failed" in en and "1 new return file(s)" in en


def _publish(published: Path, when: dt.datetime) -> None:
    published.mkdir(parents=True)
    name = "warehouse-20260305T080000000000Z-0123abcd"
    (published / f"{name}.duckdb").write_bytes(b"")
    (published / f"{name}.json").write_text(json.dumps({"published_at": when.isoformat()}), encoding="utf-8")
    (published / "CURRENT").write_text(f"{name}.duckdb", encoding="utf-8")


def test_gather_compares_the_raw_folder_with_the_manifest(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    published, raw = tmp_path / "published", tmp_path / "raw"
    _publish(published, T0)
    (raw / "wjw").mkdir(parents=True)
    old, new = raw / "wjw" / "old.xlsx", raw / "wjw" / "new.xlsx"
    for p, t in ((old, T0 - dt.timedelta(days=1)), (new, T0 + dt.timedelta(minutes=5))):
        p.write_bytes(b"x")
        os.utime(p, (t.timestamp(), t.timestamp()))
    (raw / "README.md").write_text("not a return", encoding="utf-8")
    f = freshness.gather(published, raw)
    assert f.published_at == T0 and f.files_after_publish == 1 and f.newest_file == "wjw/new.xlsx"
    assert f.failed_run is None
    zh, _ = freshness.notice(f)
    assert "wjw/new.xlsx" in zh
    new.unlink()
    assert freshness.notice(freshness.gather(published, raw)) is None


def test_gather_without_a_snapshot_or_folder_never_raises(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    f = freshness.gather(tmp_path / "none", tmp_path / "nothing")
    assert f.published_at is None and freshness.notice(f) is None
