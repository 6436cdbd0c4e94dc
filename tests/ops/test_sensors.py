"""The drop-folder sensor: new, changed, unchanged, deleted files; restarts; ignored names."""

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.sensors import (
    detect_changes,
    dump_cursor,
    is_candidate,
    parse_cursor,
    raw_files_sensor,
    scan_raw_folder,
)

OLD = time.time() - 3600  # received an hour ago: past the settle window


def drop(raw: Path, rel: str, data: bytes = b"x", mtime: float = OLD) -> Path:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def tick(cursor: str | None) -> dg.SensorResult:
    result = raw_files_sensor(dg.build_sensor_context(cursor=cursor))
    assert isinstance(result, dg.SensorResult)
    return result


def files_in(result: dg.SensorResult) -> set[str]:
    return set(parse_cursor(result.cursor))


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("511923/sthjj/2012年3月.xlsx", True),
        ("report.csv", True),
        ("README.md", False),
        ("manifest.json", False),
        (".hidden.xlsx", False),
        ("511923/.staging/a.xlsx", False),
        ("511923/sthjj/~$2012年3月.xlsx", False),
        ("511923/sthjj/.upload-abc.tmp", False),
        ("a.xlsx.part", False),
        ("a.xlsx.crdownload", False),
        ("511923/sthjj/.~lock.a.xlsx#", False),
        ("~a.xlsx", False),
        ("Thumbs.db", False),
    ],
)
def test_candidate_files(rel, expected):
    assert is_candidate(Path(rel)) is expected


def test_first_tick_on_an_empty_folder_skips(tmp_settings):
    result = tick(None)
    assert not result.run_requests
    assert result.skip_reason is not None
    assert parse_cursor(result.cursor) == {}


def test_new_file_starts_one_run_and_enters_the_cursor(tmp_settings):
    drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx")
    drop(tmp_settings.raw_dir, "511923/wjw/b.csv")
    drop(tmp_settings.raw_dir, "README.md")
    result = tick(None)
    assert len(result.run_requests) == 1
    req = result.run_requests[0]
    assert req.run_key.startswith("raw-")
    assert req.tags["wuchuang/new_files"] == "2"
    assert "511923/sthjj/a.xlsx" in req.tags["wuchuang/files"]
    assert files_in(result) == {"511923/sthjj/a.xlsx", "511923/wjw/b.csv"}


def test_unchanged_files_do_not_start_a_run(tmp_settings):
    drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx")
    first = tick(None)
    second = tick(first.cursor)
    assert not second.run_requests
    assert second.skip_reason is not None
    assert second.cursor == first.cursor


def test_changed_file_starts_a_new_run_with_a_new_key(tmp_settings):
    path = drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx", b"one")
    first = tick(None)
    drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx", b"two, corrected", mtime=OLD + 60)
    second = tick(first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].tags["wuchuang/changed_files"] == "1"
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert parse_cursor(second.cursor)["511923/sthjj/a.xlsx"] == (
        path.stat().st_size,
        path.stat().st_mtime_ns,
    )


def test_same_size_touched_file_counts_as_changed(tmp_settings):
    drop(tmp_settings.raw_dir, "a.xlsx", b"abc")
    first = tick(None)
    drop(tmp_settings.raw_dir, "a.xlsx", b"abd", mtime=OLD + 1)
    assert len(tick(first.cursor).run_requests) == 1


def test_deleted_file_is_forgotten_without_a_run(tmp_settings):
    drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx")
    gone = drop(tmp_settings.raw_dir, "511923/sthjj/b.xlsx")
    first = tick(None)
    gone.unlink()
    second = tick(first.cursor)
    assert not second.run_requests
    assert files_in(second) == {"511923/sthjj/a.xlsx"}
    # and a file put back later is new again
    drop(tmp_settings.raw_dir, "511923/sthjj/b.xlsx")
    assert len(tick(second.cursor).run_requests) == 1


def test_restart_with_the_saved_cursor_neither_repeats_nor_misses(tmp_settings):
    drop(tmp_settings.raw_dir, "a.xlsx")
    saved = tick(None).cursor  # the daemon stops here; cursor stored in DAGSTER_HOME
    drop(tmp_settings.raw_dir, "b.xlsx")  # dropped while the daemon was down
    after_restart = tick(saved)
    assert len(after_restart.run_requests) == 1
    assert after_restart.run_requests[0].tags["wuchuang/files"] == "b.xlsx"
    assert not tick(after_restart.cursor).run_requests


def test_a_crash_before_the_cursor_is_saved_asks_for_the_same_run_key(tmp_settings):
    drop(tmp_settings.raw_dir, "a.xlsx")
    first = tick(None)
    again = tick(None)  # cursor never stored: Dagster dedups by run key, so no second run
    assert again.run_requests[0].run_key == first.run_requests[0].run_key


def test_file_still_being_written_waits_for_the_next_tick(tmp_settings):
    drop(tmp_settings.raw_dir, "a.xlsx", mtime=time.time())  # modified just now
    result = tick(None)
    assert not result.run_requests
    assert "仍在写入" in result.skip_reason.skip_message
    assert files_in(result) == set()


def test_changed_file_still_being_written_keeps_its_old_fingerprint():
    previous = {"a.xlsx": (3, 1_000)}
    now = 10_000_000_000
    changes = detect_changes(previous, {"a.xlsx": (9, now)}, now_ns=now, settle_seconds=5)
    assert changes.settling == ["a.xlsx"] and not changes.to_ingest
    assert changes.cursor == previous


def test_detect_changes_classifies_every_case():
    previous = {"same": (1, 1), "edited": (1, 1), "gone": (1, 1)}
    current = {"same": (1, 1), "edited": (2, 2), "fresh": (1, 1)}
    changes = detect_changes(previous, current, now_ns=10**12, settle_seconds=0)
    assert changes.new == ["fresh"]
    assert changes.changed == ["edited"]
    assert changes.deleted == ["gone"]
    assert changes.to_ingest == ["edited", "fresh"]
    assert changes.cursor == current


def test_unreadable_cursor_counts_as_empty(tmp_settings):
    assert parse_cursor("not json") == {}
    assert parse_cursor('{"a": 3}') == {}
    assert parse_cursor(None) == {}
    assert parse_cursor(dump_cursor({"a/b.xlsx": (1, 2)})) == {"a/b.xlsx": (1, 2)}


def test_scan_skips_hidden_folders_and_temp_files(tmp_path):
    drop(tmp_path, "511923/sthjj/a.xlsx")
    drop(tmp_path, "511923/sthjj/.upload-1.tmp")
    drop(tmp_path, ".git/config")
    drop(tmp_path, "manifest.json")
    assert set(scan_raw_folder(tmp_path)) == {"511923/sthjj/a.xlsx"}
    assert scan_raw_folder(tmp_path / "missing") == {}


def test_sensor_and_schedule_are_registered_and_on_by_default():
    from pipelines.definitions import defs

    sensor = defs.resolve_sensor_def("raw_files_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    assert sensor.job_name == "monitoring_job"
    schedule = defs.resolve_schedule_def("monthly_refresh_schedule")
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert defs.resolve_job_def("rerun_returns_job") is not None


def test_county_mode_asks_one_run_per_affected_county():
    from pipelines.sensors import county_run_requests

    now = 10**12
    previous = {"511923/sthjj/a.xlsx": (1, 1), "519001/wjw/b.xlsx": (1, 1)}
    current = {
        "511923/sthjj/a.xlsx": (2, 2),  # changed
        "511923/wjw/c.xlsx": (1, 1),  # new, same county
        "519001/wjw/b.xlsx": (1, 1),  # unchanged: its county gets no run
        "519002/fgj/d.xlsx": (1, 1),  # new, another county
        "loose.xlsx": (1, 1),  # outside every county folder
        "999999/x/e.xlsx": (1, 1),  # a folder that is no known county
    }
    changes = detect_changes(previous, current, now_ns=now, settle_seconds=0)
    requests, stray = county_run_requests(changes, {"511923", "519001", "519002"})
    assert [r.partition_key for r in requests] == ["511923", "519002"]
    assert stray == ["999999/x/e.xlsx", "loose.xlsx"]
    first = requests[0]
    assert first.tags["wuchuang/county"] == "511923"
    assert first.tags["wuchuang/new_files"] == "1" and first.tags["wuchuang/changed_files"] == "1"
    assert first.run_key.startswith("raw-511923-")
    # The same changes ask for the same run keys (a daemon restart does not start them twice) ...
    again, _ = county_run_requests(
        detect_changes(previous, current, now_ns=now, settle_seconds=0), {"511923", "519001", "519002"}
    )
    assert [r.run_key for r in again] == [r.run_key for r in requests]
    # ... and another change to the county asks for a new one.
    current["511923/wjw/c.xlsx"] = (5, 5)
    changed, _ = county_run_requests(
        detect_changes(previous, current, now_ns=now, settle_seconds=0), {"511923", "519001", "519002"}
    )
    assert changed[0].run_key != requests[0].run_key and changed[1].run_key == requests[1].run_key


@pytest.mark.parametrize(("mode", "n_profiles", "expected"), [
    ("auto", 1, False), ("auto", 2, True), ("on", 1, True), ("off", 2, False),
])  # fmt: skip
def test_county_mode_is_on_for_several_profiles_or_when_asked(
    tmp_path, monkeypatch, mode, n_profiles, expected
):
    from pipelines.warehouse import counties

    for i in range(n_profiles):
        (tmp_path / f"c{i}.yaml").write_text(f'county:\n  code: "51900{i}"\n', encoding="utf-8")
    monkeypatch.setenv("WUCHUANG_COUNTY_PARTITIONS", mode)
    assert counties.partitioned(tmp_path) is expected
    assert counties.county_codes(tmp_path) == [f"51900{i}" for i in range(n_profiles)]


def test_a_profile_without_a_county_code_is_refused(tmp_path):
    from pipelines.warehouse import counties

    (tmp_path / "bad.yaml").write_text("county:\n  name_zh: 无代码县\n", encoding="utf-8")
    with pytest.raises(counties.CountyError, match="county.code"):
        counties.county_codes(tmp_path)


def _forget_states():
    from pipelines import sensors

    sensors._STATE_CACHE.clear()


def test_the_cursor_stays_small_and_names_a_state_file(tmp_settings):
    for i in range(300):
        drop(tmp_settings.raw_dir, f"511923/u{i % 7}/2014年{i % 12 + 1}月-{i}.xlsx")
    result = tick(None)
    assert len(result.cursor) < 120  # stored by Dagster with every tick: never the whole map
    state = json.loads(result.cursor)
    assert state["v"] == 2 and state["files"] == 300
    path = tmp_settings.warehouse_dir / "sensor-state" / f"{state['state']}.json.gz"
    assert path.is_file()
    _forget_states()  # as after a daemon restart: read from the file
    assert len(files_in(result)) == 300


def test_a_steady_tick_keeps_the_stored_cursor_and_writes_nothing(tmp_settings):
    drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx")
    first = tick(None)
    folder = tmp_settings.warehouse_dir / "sensor-state"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    second = tick(first.cursor)
    assert second.cursor == first.cursor and not second.run_requests
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # only its time is touched


def test_a_missing_or_damaged_state_file_counts_as_an_empty_cursor(tmp_settings):
    import gzip

    drop(tmp_settings.raw_dir, "511923/sthjj/a.xlsx")
    first = tick(None)
    path = next((tmp_settings.warehouse_dir / "sensor-state").glob("*.json.gz"))
    _forget_states()
    path.write_bytes(gzip.compress(b'{"511923/sthjj/a.xlsx":[1,1],"x.xlsx":[2,2]}'))  # not its digest
    assert parse_cursor(first.cursor) == {}
    path.write_bytes(b"garbage")
    assert parse_cursor(first.cursor) == {}
    path.unlink()
    again = tick(first.cursor)  # one extra run, idempotent: the ingest skips content it has
    assert len(again.run_requests) == 1 and files_in(again) == {"511923/sthjj/a.xlsx"}


def test_a_crash_before_dagster_saves_the_cursor_leaves_the_old_state_readable(tmp_settings):
    drop(tmp_settings.raw_dir, "a.xlsx")
    saved = tick(None).cursor
    for i in range(30):  # many ticks with changes whose cursors were never saved
        drop(tmp_settings.raw_dir, f"b{i}.xlsx")
        tick(saved)
    _forget_states()
    states = list((tmp_settings.warehouse_dir / "sensor-state").glob("*.json.gz"))
    assert len(states) <= 20  # pruned
    # the saved cursor's own state is the one the latest ticks touched last: still there
    assert set(parse_cursor(saved)) == {"a.xlsx"}
    assert not list((tmp_settings.warehouse_dir / "sensor-state").glob(".*.tmp"))


def test_an_inline_cursor_of_the_earlier_version_is_still_read(tmp_settings):
    drop(tmp_settings.raw_dir, "a.xlsx")
    drop(tmp_settings.raw_dir, "b.xlsx")
    from pipelines.sensors import scan_raw_folder as scan

    fp = scan(tmp_settings.raw_dir)["a.xlsx"]
    legacy = json.dumps({"a.xlsx": list(fp)})
    result = tick(legacy)
    assert result.run_requests[0].tags["wuchuang/files"] == "b.xlsx"
    assert json.loads(result.cursor)["v"] == 2


def test_scan_walks_symlinked_and_unicode_names_like_before(tmp_path):
    drop(tmp_path, "511923/住建局/2014年3月 报表（终稿）.xlsx")
    drop(tmp_path, "511923/住建局/~$2014年3月.xlsx")
    drop(tmp_path, "511923/住建局/.hidden/a.xlsx")
    drop(tmp_path, "511923/住建局/平昌县任务台账.xlsx")
    (tmp_path / "511923" / "link").symlink_to(tmp_path / "511923" / "住建局")  # not followed
    assert set(scan_raw_folder(tmp_path)) == {"511923/住建局/2014年3月 报表（终稿）.xlsx"}


@pytest.mark.parametrize(("value", "expected"), [("", 30), ("10", 10), ("1", 5), ("soon", 30)])
def test_the_tick_interval_is_configurable_with_a_floor(monkeypatch, value, expected):
    from pipelines.sensors import sensor_interval_seconds

    monkeypatch.setenv("WUCHUANG_SENSOR_INTERVAL_SECONDS", value)
    assert sensor_interval_seconds() == expected
