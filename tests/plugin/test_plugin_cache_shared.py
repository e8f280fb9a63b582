"""``--cache`` on a shared machine: what another user can put where the cache lives.

Tests run as one user (often root), so "another user" is a directory of the wrong mode, or a
process whose ``os.geteuid`` says it is someone else than the owner of what it finds.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client_plugin.cache import CachedCredentials, CachedToken, FileCache
from tests.support.plugin import env_credentials, run_plugin

E0 = 1_778_051_289  # epoch seconds
MIN = 60
KEY = {"cluster_id": "mine"}
TOKEN = CachedToken("k8s-aws-v1.mine", E0, E0 + 14 * MIN, None)
CREDS = CachedCredentials("ASIAX", "secret", "tok", E0 + 30 * MIN, "us-east-1", "sts.amazonaws.com", "us-east-1")


def _lines(err: io.StringIO) -> list[str]:
    return err.getvalue().splitlines()


def _only_entry(directory: Path, prefix: str) -> Path:
    (path,) = [p for p in directory.iterdir() if p.name.startswith(prefix)]
    return path


# -- the directory -------------------------------------------------------------------------


def test_symlinked_cache_dir_is_not_followed(tmp_path: Path) -> None:
    # Another user points the cache path at one of the victim's own private directories.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    link = tmp_path / "shared" / "cache"
    link.parent.mkdir()
    link.symlink_to(private)

    err = io.StringIO()
    cache = FileCache(str(link), stderr=err)
    cache.store_token(KEY, TOKEN)
    cache.store_credentials(KEY, CREDS)
    cache.botocore_view()["k"] = {"Credentials": {"AccessKeyId": "ASIAX"}}
    assert list(private.iterdir()) == []
    assert cache.load_token(KEY, E0) is None
    (line,) = _lines(err)
    assert "not using the cache" in line and str(link) in line


def test_symlinked_cache_dir_with_a_trailing_slash_is_not_followed(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (tmp_path / "cache").symlink_to(private)
    cache = FileCache(str(tmp_path / "cache") + os.sep, stderr=io.StringIO())
    cache.store_token(KEY, TOKEN)
    assert list(private.iterdir()) == []


def test_symlinked_cache_dir_through_the_plugin_is_one_warning(home: Path, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    link = tmp_path / "cache-link"
    link.symlink_to(private)
    env = env_credentials(home, EKS_IAM_AUTHENTICATOR_CACHE_DIR=str(link))
    result = run_plugin("-i", "c", "--cache", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["token"].startswith("k8s-aws-v1.")
    assert result.stderr.count("\n") == 1 and "not using the cache" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(private.iterdir()) == []


@pytest.fixture
def someone_else_creates_it_first(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path, int], None]]:
    """Makes ``os.mkdir`` of a chosen path lose the race: the path is created (with a chosen mode)
    just before the cache's own ``mkdir`` runs, as another user could between a check and a create."""
    real_mkdir = os.mkdir
    targets: dict[str, int] = {}

    def racing_mkdir(path: str | os.PathLike[str], mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        normalized = os.path.normpath(os.fspath(path))
        if normalized in targets:
            real_mkdir(normalized)
            os.chmod(normalized, targets.pop(normalized))
        real_mkdir(path, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "mkdir", racing_mkdir)
    yield lambda path, mode: targets.__setitem__(os.path.normpath(str(path)), mode)


@pytest.mark.parametrize(
    ("mode", "uid_offset", "complaint"),
    [
        (0o777, 0, "accessible by other users"),  # wrong mode
        (0o700, 1, "owned by another user"),  # the right mode, but not ours
    ],
)
def test_directory_created_by_someone_else_in_between_is_not_used(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    someone_else_creates_it_first: Callable[[Path, int], None],
    mode: int,
    uid_offset: int,
    complaint: str,
) -> None:
    directory = tmp_path / "parent" / "cache"
    someone_else_creates_it_first(directory, mode)
    if uid_offset:
        real = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: real + uid_offset)  # this process is "someone else" than its owner

    err = io.StringIO()
    cache = FileCache(str(directory), stderr=err)
    assert cache.load_token(KEY, E0) is None  # nothing there yet: a plain miss
    cache.store_token(KEY, TOKEN)
    cache.store_credentials(KEY, CREDS)
    assert directory.is_dir()  # the race did happen
    assert list(directory.iterdir()) == []  # and no credential went into that directory
    (line,) = _lines(err)
    assert complaint in line and "not using the cache" in line


def test_directory_owned_by_another_user_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "cache"
    FileCache(str(directory), stderr=io.StringIO()).store_token(KEY, TOKEN)
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    err = io.StringIO()
    cache = FileCache(str(directory), stderr=err)
    assert cache.load_token(KEY, E0) is None
    assert "owned by another user" in err.getvalue() and len(_lines(err)) == 1


def test_the_owner_is_injectable(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    FileCache(str(directory), stderr=io.StringIO()).store_token(KEY, TOKEN)
    assert FileCache(str(directory), stderr=io.StringIO(), uid=os.geteuid()).load_token(KEY, E0) == TOKEN
    err = io.StringIO()
    assert FileCache(str(directory), stderr=err, uid=os.geteuid() + 1).load_token(KEY, E0) is None
    assert "owned by another user" in err.getvalue()


def test_a_file_at_the_cache_path_is_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "cache"
    path.write_text("not a directory")
    err = io.StringIO()
    cache = FileCache(str(path), stderr=err)
    assert cache.load_token(KEY, E0) is None
    cache.store_token(KEY, TOKEN)
    assert path.read_text() == "not a directory"
    (line,) = _lines(err)
    assert "not using the cache" in line


# -- entries ------------------------------------------------------------------------------


def test_swapped_botocore_entry_is_not_used(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    err = io.StringIO()
    view = FileCache(str(directory), stderr=err).botocore_view()
    view["role-a"] = {"Credentials": {"AccessKeyId": "ASIAA"}}
    mine = _only_entry(directory, "botocore-")
    view["role-b"] = {"Credentials": {"AccessKeyId": "ASIAB"}}
    (theirs,) = [p for p in directory.iterdir() if p.name.startswith("botocore-") and p != mine]
    assert view["role-a"] == {"Credentials": {"AccessKeyId": "ASIAA"}}

    os.replace(theirs, mine)  # role-b's credentials under role-a's file name
    assert "role-a" not in view
    with pytest.raises(KeyError):
        view["role-a"]
    (line,) = _lines(err)
    assert "not written for this key" in line and "ignoring it" in line

    view["role-a"] = {"Credentials": {"AccessKeyId": "ASIAA2"}}  # a fresh entry replaces it
    assert view["role-a"] == {"Credentials": {"AccessKeyId": "ASIAA2"}}


def test_botocore_entry_that_records_no_key_is_not_used(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    err = io.StringIO()
    view = FileCache(str(directory), stderr=err).botocore_view()
    view["role-a"] = {"Credentials": {"AccessKeyId": "ASIAA"}}
    path = _only_entry(directory, "botocore-")
    entry = json.loads(path.read_text())
    assert entry["key"] == "role-a"
    del entry["key"]
    path.write_text(json.dumps(entry))
    assert "role-a" not in view
    assert "not written for this key" in err.getvalue()


def test_swapped_token_entry_is_one_warning(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    err = io.StringIO()
    cache = FileCache(str(directory), stderr=err)
    cache.store_token(KEY, TOKEN)
    mine = _only_entry(directory, "token-")
    mine.write_text(mine.read_text().replace("'mine'", "'theirs'"))
    assert cache.load_token(KEY, E0) is None
    assert cache.load_token(KEY, E0) is None
    (line,) = _lines(err)  # however often it is met
    assert "not written for this key" in line


def _botocore_lookup(cache: FileCache, key: str) -> object:
    view = cache.botocore_view()
    if key not in view:  # as botocore's providers ask: ``in``, then index
        return None
    return view[key]


_KINDS: dict[str, tuple[str, Callable[[FileCache], None], Callable[[FileCache], object]]] = {
    "token": ("token-", lambda c: c.store_token(KEY, TOKEN), lambda c: c.load_token(KEY, E0)),
    "creds": ("creds-", lambda c: c.store_credentials(KEY, CREDS), lambda c: c.load_credentials(KEY, E0)),
    "botocore": (
        "botocore-",
        lambda c: c.botocore_view().__setitem__("k", {"v": 1}),
        lambda c: _botocore_lookup(c, "k"),
    ),
}


class Stored:
    """A cache with one entry of a kind written, and where it lies."""

    def __init__(self, tmp_path: Path, kind: str) -> None:
        prefix, self.store, self.load = _KINDS[kind]
        self.err = io.StringIO()
        self.cache = FileCache(str(tmp_path / "cache"), stderr=self.err)
        self.store(self.cache)
        self.entry = _only_entry(tmp_path / "cache", prefix)

    def replace_with_fifo(self) -> None:
        self.entry.unlink()
        os.mkfifo(self.entry, 0o600)


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_symlink_at_an_entry_path_is_skipped_with_one_warning(tmp_path: Path, kind: str) -> None:
    it = Stored(tmp_path, kind)
    elsewhere = tmp_path / "elsewhere"
    os.replace(it.entry, elsewhere)  # a valid entry, if the link were followed
    it.entry.symlink_to(elsewhere)

    assert it.load(it.cache) is None
    (line,) = _lines(it.err)
    assert str(it.entry) in line and "ignoring it" in line
    it.store(it.cache)  # the fresh entry replaces the link, not what it points to
    assert not it.entry.is_symlink() and it.load(it.cache) is not None
    assert len(_lines(it.err)) == 1


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_fifo_at_an_entry_path_is_skipped_with_one_warning(tmp_path: Path, kind: str) -> None:
    it = Stored(tmp_path, kind)
    it.replace_with_fifo()
    # Someone holds the FIFO open for writing, so that even a blocking open returns.
    writer = os.open(it.entry, os.O_RDWR | os.O_NONBLOCK)
    try:
        assert it.load(it.cache) is None
    finally:
        os.close(writer)
    (line,) = _lines(it.err)
    assert "not a regular file" in line and "ignoring it" in line
    it.store(it.cache)
    assert it.entry.is_file() and it.load(it.cache) is not None


def test_fifo_at_an_entry_path_with_no_writer_does_not_block(tmp_path: Path) -> None:
    it = Stored(tmp_path, "token")
    it.replace_with_fifo()

    results: list[object] = []
    reader = threading.Thread(target=lambda: results.append(it.load(it.cache)), daemon=True)
    reader.start()
    reader.join(timeout=30)  # a guard against hanging the suite, not a measure of speed
    if reader.is_alive():
        os.close(os.open(it.entry, os.O_WRONLY | os.O_NONBLOCK))  # releases the blocked open
        reader.join(timeout=30)
        pytest.fail("opening a FIFO entry blocked until someone wrote to it")
    assert results == [None]
    assert "not a regular file" in it.err.getvalue()


def test_symlink_at_an_entry_path_through_the_plugin_is_a_warning_not_an_error(home: Path) -> None:
    env = env_credentials(home)
    first = run_plugin("-i", "c", "--cache", env=env)
    assert first.returncode == 0
    directory = home / ".kube" / "cache" / "eks-iam-authenticator"
    entry = _only_entry(directory, "token-")
    elsewhere = home / "elsewhere"
    os.replace(entry, elsewhere)
    entry.symlink_to(elsewhere)

    result = run_plugin("-i", "c", "--cache", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["token"].startswith("k8s-aws-v1.")
    assert result.stderr.count("\n") == 1 and "ignoring it" in result.stderr
    assert "Traceback" not in result.stderr
    assert entry.is_file() and not entry.is_symlink()
