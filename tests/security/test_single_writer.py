"""One writer at a time, visibly: a second `wuchuang ingest` or `publish` while one runs exits with
the busy code (3) and a Chinese/English message; a full disk or a missing permission is a clear
message (free space checked before the copy), never a raw OSError, and the previous snapshot stays."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
from collections import namedtuple
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse import publish
from tests.security.hostile import publish_tiny

Usage = namedtuple("Usage", "total used free")


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def warehouse(tmp_settings):
    publish_tiny(tmp_settings.warehouse_path, tmp_settings.published_dir)
    return tmp_settings


def hold_lock(warehouse_path: Path) -> subprocess.Popen:
    """Another process holding the writer lock until its stdin closes (as a running ingest would)."""
    code = textwrap.dedent(
        f"""
        import sys
        from pipelines.warehouse import publish
        with publish.writer_lock({str(warehouse_path)!r}):
            print("held", flush=True)
            sys.stdin.readline()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.parametrize("command", [["ingest"], ["publish"], ["publish", "--force"], ["ingest", "--force"]])
def test_a_second_writer_exits_busy_with_a_message(warehouse, capsys, command, monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    before = publish.latest_snapshot(warehouse.published_dir)
    holder = hold_lock(warehouse.warehouse_path)
    try:
        code = cli.main(command)
        err = capsys.readouterr().err
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert code == cli.EXIT_BUSY == 3
    assert "另一个进程" in err and "another process" in err and f"pid {holder.pid}" in err
    assert "Traceback" not in err
    assert publish.latest_snapshot(warehouse.published_dir) == before  # nothing was written


def test_the_lock_is_released_when_its_holder_dies(warehouse, capsys):
    holder = hold_lock(warehouse.warehouse_path)
    holder.kill()
    holder.wait(timeout=30)
    assert cli.main(["publish", "--force"]) == cli.EXIT_OK
    assert cli.main(["publish", "--force"]) == cli.EXIT_OK  # and again: one after the other is fine


def test_writer_lock_in_one_process_refuses_a_second_holder(tmp_path):
    wh = tmp_path / "warehouse" / "warehouse.duckdb"
    with publish.writer_lock(wh):
        with pytest.raises(publish.WarehouseBusy) as info, publish.writer_lock(wh):
            pass
        assert has_chinese(str(info.value)) and "another process" in str(info.value)
    with publish.writer_lock(wh):  # released
        pass


# ------------------------------------------------------------------------------ disk full, permissions


def test_publish_checks_free_space_before_copying(warehouse, monkeypatch, capsys):
    before = publish.latest_snapshot(warehouse.published_dir)
    copies = []
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 1024, 1024))
    monkeypatch.setattr(shutil, "copyfile", lambda *a, **k: copies.append(a))
    with pytest.raises(publish.DiskFullError) as info:
        publish.publish(warehouse.warehouse_path, warehouse.published_dir)
    text = str(info.value)
    assert "磁盘空间不足" in text and "not enough disk space" in text and not copies
    assert str(warehouse.published_dir) not in text
    assert publish.latest_snapshot(warehouse.published_dir) == before
    assert not list(warehouse.published_dir.glob(publish.TMP_PREFIX + "*"))
    assert cli.main(["publish", "--force"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "磁盘空间不足" in err and "Traceback" not in err


def test_publish_with_enough_space_goes_ahead(warehouse, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, 10**12))
    path = publish.publish(warehouse.warehouse_path, warehouse.published_dir)
    assert publish.latest_snapshot(warehouse.published_dir) == path


@pytest.mark.parametrize(
    ("err", "zh", "en"),
    [
        (errno.ENOSPC, "磁盘空间不足", "disk is full"),
        (errno.EDQUOT, "磁盘空间不足", "disk is full"),
        (errno.EACCES, "没有写入权限", "no permission"),
        (errno.EROFS, "没有写入权限", "no permission"),
        (errno.EIO, "失败", "failed"),
    ],
)
def test_system_errors_while_publishing_become_clear_messages(warehouse, monkeypatch, capsys, err, zh, en):
    before = publish.latest_snapshot(warehouse.published_dir)
    secret = f"{Path.home()}/private/warehouse.duckdb"

    def fail(*a, **k):
        raise OSError(err, os.strerror(err), secret)

    monkeypatch.setattr(shutil, "copyfile", fail)
    with pytest.raises(publish.PublishError) as info:
        publish.publish(warehouse.warehouse_path, warehouse.published_dir)
    text = str(info.value)
    assert zh in text and en in text and secret not in text and "warehouse.duckdb" in text
    assert publish.latest_snapshot(warehouse.published_dir) == before
    assert not list(warehouse.published_dir.glob(publish.TMP_PREFIX + "*"))
    assert cli.main(["publish", "--force"]) == cli.EXIT_FAILED
    out = capsys.readouterr().err
    assert zh in out and "Traceback" not in out and secret not in out


def test_a_pointer_write_failure_keeps_the_previous_snapshot(warehouse, monkeypatch):
    before = publish.latest_snapshot(warehouse.published_dir)
    real = publish._write_durably

    def fail(path, text):
        if path.name.endswith(publish.POINTER):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, text)

    monkeypatch.setattr(publish, "_write_durably", fail)
    with pytest.raises(publish.PublishError, match="没有写入权限"):
        publish.publish(warehouse.warehouse_path, warehouse.published_dir)
    assert publish.latest_snapshot(warehouse.published_dir) == before


def test_an_unusable_warehouse_folder_is_a_message_not_a_traceback(tmp_settings, capsys, monkeypatch):
    blocker = tmp_settings.warehouse_path.parent
    shutil.rmtree(blocker, ignore_errors=True)
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    monkeypatch.setattr(type(tmp_settings), "ensure_dirs", lambda self: None)
    code = cli.main(["ingest"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_FAILED and has_chinese(err) and "failed" in err and "Traceback" not in err


def test_step_failures_from_a_full_disk_are_explained():
    text = cli._explain_failure("IO Error: Could not write file: No space left on device")
    assert "磁盘空间不足" in text and "disk is full" in text
    assert cli._explain_failure("division by zero") == "division by zero"
