"""WatchedFile: what the file-backed sources that follow edits (DynamicFile, the backend mode
file) learn of their file at each poll."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from authenticator.mapping.sources._poll import GONE, UnreadableFile, WatchedFile


def test_new_then_unchanged_then_changed(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text("one")
    watched = WatchedFile(str(path))
    assert watched.changed_text() == "one"
    assert watched.changed_text() is None
    path.write_text("two, longer")
    assert watched.changed_text() == "two, longer"


def test_gone_is_said_once_then_the_file_is_read_again_when_back(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    watched = WatchedFile(str(path))
    assert watched.changed_text() is GONE and watched.missing
    assert watched.changed_text() is None
    path.write_text("back")
    assert watched.changed_text() == "back" and not watched.missing
    path.unlink()
    assert watched.changed_text() is GONE


def test_an_unreadable_file_is_read_again_at_the_next_poll_though_its_stat_is_the_same(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(b"\xff not UTF-8")
    stat = os.stat(path)
    watched = WatchedFile(str(path))
    with pytest.raises(UnreadableFile, match="cannot read"):
        watched.changed_text()
    path.write_bytes(b"fixed \xc3\xa9 ok")  # same size, same mtime: the stat alone would not tell
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert watched.changed_text() == "fixed é ok"


def test_a_stat_that_fails_is_one_line(tmp_path: Path) -> None:
    watched = WatchedFile(str(tmp_path / "not-a-dir" / "f.json"))
    (tmp_path / "not-a-dir").write_text("a file, so the path through it is not a directory")
    with pytest.raises(UnreadableFile, match=r"^cannot stat .*: Not a directory$"):
        watched.changed_text()
