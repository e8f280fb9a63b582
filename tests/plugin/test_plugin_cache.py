"""``--cache``: hits without botocore, the reuse window, foreign and unsafe entries, concurrency."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client_plugin.cache import CachedCredentials, CachedToken, FileCache, canonical_key
from client_plugin.cli import execute
from tests.support.plugin import PLUGIN, decode_token, env_credentials, imported_modules, run_plugin

T0 = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
E0 = int(T0.timestamp())  # the cache keeps epoch seconds
MIN = 60


def _cache_dir(home: Path) -> Path:
    return home / ".kube" / "cache" / "eks-iam-authenticator"


def _written(cache: FileCache, store: Callable[[], None]) -> Path:
    """The one entry file ``store`` writes: found by listing the directory, as its name is the cache's own."""
    directory = Path(cache.directory)
    before = set(directory.iterdir()) if directory.exists() else set()
    store()
    (path,) = set(directory.iterdir()) - before
    return path


def _token_of(stdout: str) -> str:
    token = json.loads(stdout)["status"]["token"]
    assert isinstance(token, str)
    return token


# -- the fast path, in real processes ------------------------------------------------


def test_second_call_is_served_from_cache_without_importing_botocore(home: Path) -> None:
    env = env_credentials(home, AWS_REGION="us-west-2", PYTHONPROFILEIMPORTTIME="1")
    first = run_plugin("-i", "cached", "--cache", env=env)
    second = run_plugin("-i", "cached", "--cache", env=env)
    assert first.returncode == 0 and second.returncode == 0, second.stderr

    first_modules, second_modules = imported_modules(first.stderr), imported_modules(second.stderr)
    assert "botocore.session" in first_modules  # the check can see botocore when it is there
    assert not {m for m in second_modules if m.split(".")[0] == "botocore"}
    assert not {m for m in first_modules | second_modules if m.split(".")[0] in ("fastapi", "httpx", "kubernetes")}
    assert _token_of(second.stdout) == _token_of(first.stdout)
    assert (
        json.loads(second.stdout)["status"]["expirationTimestamp"]
        == json.loads(first.stdout)["status"]["expirationTimestamp"]
    )

    files = list(_cache_dir(home).iterdir())
    assert [f.name.startswith("token-") for f in files] == [True]
    assert _cache_dir(home).stat().st_mode & 0o777 == 0o700
    assert files[0].stat().st_mode & 0o777 == 0o600
    # Long-term keys are never copied to disk.
    assert "SECRET" not in files[0].read_text()


def test_cache_dir_env_override(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "cache"
    env = env_credentials(home, EKS_IAM_AUTHENTICATOR_CACHE_DIR=str(elsewhere))
    assert run_plugin("-i", "c", "--cache", env=env).returncode == 0
    assert len(list(elsewhere.glob("token-*.txt"))) == 1
    assert not _cache_dir(home).exists()


def test_a_different_key_is_a_different_entry(home: Path) -> None:
    env = env_credentials(home)
    a = run_plugin("-i", "cluster-a", "--cache", env=env)
    b = run_plugin("-i", "cluster-b", "--cache", env=env)
    c = run_plugin("-i", "cluster-a", "--cache", env={**env, "AWS_ACCESS_KEY_ID": "AKIAOTHERKEYEXAMPLE0"})
    tokens = {_token_of(r.stdout) for r in (a, b, c)}
    assert len(tokens) == 3
    assert len(list(_cache_dir(home).glob("token-*.txt"))) == 3


def test_without_cache_flag_nothing_is_written(home: Path) -> None:
    assert run_plugin("-i", "c", env=env_credentials(home)).returncode == 0
    assert not (home / ".kube").exists()


# -- unsafe or unreadable entries -------------------------------------------------------


def test_group_readable_cache_file_is_refused_and_replaced(home: Path) -> None:
    env = env_credentials(home, PYTHONPROFILEIMPORTTIME="1")
    first = run_plugin("-i", "c", "--cache", env=env)
    (entry,) = _cache_dir(home).glob("token-*.txt")
    entry.chmod(0o640)

    second = run_plugin("-i", "c", "--cache", env=env)
    assert second.returncode == 0
    warnings = [line for line in second.stderr.splitlines() if not line.startswith("import time:")]
    assert len(warnings) == 1 and "readable by other users" in warnings[0] and "warning" in warnings[0]
    assert "botocore.session" in imported_modules(second.stderr)  # it signed afresh
    assert _token_of(second.stdout).startswith("k8s-aws-v1.")
    assert entry.stat().st_mode & 0o777 == 0o600  # the fresh entry replaced the unsafe one
    assert first.returncode == 0


def test_group_accessible_cache_dir_is_not_used(home: Path) -> None:
    env = env_credentials(home)
    assert run_plugin("-i", "c", "--cache", env=env).returncode == 0
    _cache_dir(home).chmod(0o755)
    result = run_plugin("-i", "c", "--cache", env=env)
    assert result.returncode == 0
    assert "not using the cache" in result.stderr
    assert result.stderr.count("\n") == 1


def test_directory_at_an_entry_path_is_skipped_not_an_error(home: Path) -> None:
    env = env_credentials(home)
    assert run_plugin("-i", "c", "--cache", env=env).returncode == 0
    (entry,) = _cache_dir(home).glob("token-*.txt")
    entry.unlink()
    entry.mkdir()  # a directory where the file should be: an odd entry, like a FIFO or a link
    result = run_plugin("-i", "c", "--cache", env=env)
    assert result.returncode == 0, result.stderr
    assert _token_of(result.stdout).startswith("k8s-aws-v1.")
    # One line for the odd entry, one for the fresh entry that cannot replace a directory.
    skipped, unwritten = result.stderr.splitlines()
    assert "is not a regular file; ignoring it" in skipped
    assert "cannot write cache file" in unwritten and "Traceback" not in result.stderr


# -- the reuse window, with an injected clock -------------------------------------------------


def _args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "cluster_id": "clock-cluster",
        "region": "us-west-2",
        "profile": None,
        "role": None,
        "external_id": None,
        "session_name": None,
        "forward_session_name": False,
        "token_only": True,
        "cache": True,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def _run_at(instant: datetime, env: dict[str, str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert execute(_args(), env=env, stdout=out, stderr=err, clock=lambda: instant.timestamp()) == 0, err.getvalue()
    return out.getvalue().strip()


@pytest.fixture
def clock_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # botocore reads the process environment; keep it to the test's own.
    env = env_credentials(home)
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_token_reused_while_a_minute_is_left(clock_env: dict[str, str]) -> None:
    first = _run_at(T0, clock_env)
    assert decode_token(first).params["X-Amz-Date"] == "20260506T070809Z"
    assert _run_at(T0 + timedelta(minutes=12, seconds=59), clock_env) == first
    later = _run_at(T0 + timedelta(minutes=13, seconds=1), clock_env)
    assert later != first
    assert decode_token(later).params["X-Amz-Date"] == "20260506T072110Z"


def test_token_never_outlives_the_credentials_that_signed_it(
    clock_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Temporary env credentials that botocore sees expiring in 5 minutes.
    real_now = datetime.now(UTC).replace(microsecond=0)
    env = {
        **clock_env,
        "AWS_SESSION_TOKEN": "tok",
        "AWS_CREDENTIAL_EXPIRATION": (real_now + timedelta(minutes=5)).isoformat(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    first = _run_at(real_now, env)
    assert _run_at(real_now + timedelta(minutes=3), env) == first
    assert _run_at(real_now + timedelta(minutes=4, seconds=30), env) != first


def test_entries_signed_in_the_future_are_ignored(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"), stderr=io.StringIO())
    key = {"k": 1}
    cache.store_token(key, CachedToken("k8s-aws-v1.x", E0 + 60 * MIN, E0 + 74 * MIN, None))
    assert cache.load_token(key, E0) is None
    assert cache.load_token(key, E0 + 60 * MIN) is not None


def test_foreign_entry_is_ignored(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"), stderr=io.StringIO())
    mine, theirs = {"cluster_id": "mine"}, {"cluster_id": "theirs"}
    mine_path = _written(cache, lambda: cache.store_token(mine, CachedToken("k8s-aws-v1.x", E0, E0 + 14 * MIN, None)))
    theirs_path = _written(
        cache, lambda: cache.store_token(theirs, CachedToken("k8s-aws-v1.theirs", E0, E0 + 14 * MIN, None))
    )
    # Someone copies another key's entry under my key's file name.
    os.replace(theirs_path, mine_path)
    assert cache.load_token(mine, E0) is None
    cache.store_token(mine, CachedToken("k8s-aws-v1.mine", E0, E0 + 14 * MIN, None))
    hit = cache.load_token(mine, E0)
    assert hit is not None and hit.token == "k8s-aws-v1.mine"


def test_credentials_are_reused_only_while_they_outlive_a_token(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"), stderr=io.StringIO())
    creds = CachedCredentials(
        "ASIAX", "secret", "tok", E0 + 30 * MIN, "us-east-1", "sts.us-east-1.amazonaws.com", "us-east-1"
    )
    cache.store_credentials({"k": 1}, creds)
    assert cache.load_credentials({"k": 1}, E0) == creds
    assert cache.load_credentials({"k": 1}, E0 + 15 * MIN) == creds
    assert cache.load_credentials({"k": 1}, E0 + 15 * MIN + 1) is None
    assert cache.load_credentials({"k": 2}, E0) is None


def test_token_entry_is_plain_lines_with_epoch_seconds(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"), stderr=io.StringIO())
    key = {"cluster_id": "c", "files": {"/h/.aws/config": [1, 2, 3, 4]}}
    path = _written(
        cache, lambda: cache.store_token(key, CachedToken("k8s-aws-v1.x", E0, E0 + 14 * MIN, E0 + 30 * MIN + 0.9))
    )
    assert path.name.startswith("token-") and path.suffix == ".txt"
    assert path.read_text().splitlines() == [
        "eks-iam-authenticator token 2",
        f"key {canonical_key(key)}",
        "token k8s-aws-v1.x",
        f"signed_at {E0}",
        f"expires_at {E0 + 14 * MIN}",
        f"credentials_expire_at {E0 + 30 * MIN}",  # truncated: never later than the credentials
    ]
    assert cache.load_token(key, E0) == CachedToken("k8s-aws-v1.x", E0, E0 + 14 * MIN, E0 + 30 * MIN)


def test_token_is_reused_until_a_minute_before_the_expiry_kubectl_was_told(tmp_path: Path) -> None:
    # Credentials ending at 5 min: kubectl was told 4 min (client_plugin.expiry), and the cache
    # follows that instant with its usual minute of margin, even for an entry that claims 14 min.
    cache = FileCache(str(tmp_path / "c"), stderr=io.StringIO())
    cache.store_token({"k": 1}, CachedToken("k8s-aws-v1.x", E0, E0 + 14 * MIN, E0 + 5 * MIN))
    hit = cache.load_token({"k": 1}, E0 + 3 * MIN)
    assert hit is not None and hit.expiry() == E0 + 4 * MIN
    assert cache.load_token({"k": 1}, E0 + 3 * MIN + 1) is None


_VALID = (
    "eks-iam-authenticator token 2\nkey {KEY}\ntoken k8s-aws-v1.x\n"
    "signed_at {E}\nexpires_at {X}\ncredentials_expire_at -\n"
)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[: len(t) // 2],  # torn
        lambda t: t.rstrip("\n"),
        lambda t: t + "extra 1\n",
        lambda t: t.replace("token 2", "token 1"),
        lambda t: t.replace("signed_at ", "signed_at +"),
        lambda t: t.replace("expires_at ", "expires_at 1_"),
        lambda t: t.replace("credentials_expire_at -", "credentials_expire_at x"),
        lambda t: t.replace("credentials_expire_at -", "credentials_expire_at ²"),
        lambda t: t.replace("token k8s-aws-v1.x", "token "),
        lambda t: t.replace("\nsigned_at", "\nsigned-at"),
        lambda t: '{"version": 1, "kind": "token"}',
        lambda t: "\ufffe" + t,
    ],
)
def test_corrupt_token_entry_is_a_warning_and_a_miss(tmp_path: Path, mangle: Callable[[str], str]) -> None:
    err = io.StringIO()
    cache = FileCache(str(tmp_path / "c"), stderr=err)
    key = {"k": 1}
    path = _written(cache, lambda: cache.store_token(key, CachedToken("k8s-aws-v1.x", E0, E0 + 14 * MIN, None)))
    valid = _VALID.format(KEY=canonical_key(key), E=E0, X=E0 + 14 * MIN)
    assert path.read_text() == valid and cache.load_token(key, E0) is not None  # the mangling is what breaks it
    path.write_text(mangle(valid))
    assert cache.load_token(key, E0) is None
    assert "not a valid cache entry" in err.getvalue() and err.getvalue().count("\n") == 1


def test_token_entry_that_is_not_utf8_is_a_warning_and_a_miss(tmp_path: Path) -> None:
    err = io.StringIO()
    cache = FileCache(str(tmp_path / "c"), stderr=err)
    path = _written(cache, lambda: cache.store_token({"k": 1}, CachedToken("k8s-aws-v1.x", E0, E0 + 14 * MIN, None)))
    path.write_bytes(b"\xff\xfe")
    assert cache.load_token({"k": 1}, E0) is None
    assert "not a valid cache entry" in err.getvalue()


def test_corrupt_credentials_entry_is_a_warning_and_a_miss(tmp_path: Path) -> None:
    err = io.StringIO()
    cache = FileCache(str(tmp_path / "c"), stderr=err)
    creds = CachedCredentials("ASIAX", "secret", "tok", E0 + 30 * MIN, "us-east-1", "sts.amazonaws.com", "us-east-1")
    path = _written(cache, lambda: cache.store_credentials({"k": 1}, creds))
    path.write_text('{"version": 2, "kind": "cre')
    assert cache.load_credentials({"k": 1}, E0) is None
    assert "not valid JSON" in err.getvalue()


def test_foreign_credentials_entry_is_ignored(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"), stderr=io.StringIO())
    creds = CachedCredentials("ASIAX", "secret", "tok", E0 + 30 * MIN, "us-east-1", "sts.amazonaws.com", "us-east-1")
    mine_path = _written(cache, lambda: cache.store_credentials({"k": "mine"}, creds))
    theirs_path = _written(cache, lambda: cache.store_credentials({"k": "theirs"}, creds))
    os.replace(theirs_path, mine_path)
    assert cache.load_credentials({"k": "mine"}, E0) is None


_KEY_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text("ab'\"\\\n:,{}", max_size=3),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text("ab'\n:", max_size=2), inner, max_size=2),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(a=_KEY_VALUES, b=_KEY_VALUES)
def test_canonical_key_is_one_line_and_tells_keys_apart_as_json_does(a: object, b: object) -> None:
    assert "\n" not in canonical_key(a) and "\r" not in canonical_key(a)
    same_json = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert (canonical_key(a) == canonical_key(b)) == same_json
    assert canonical_key(a) == canonical_key(json.loads(json.dumps(a)))  # stable across a copy


def test_canonical_key_ignores_insertion_order() -> None:
    assert canonical_key({"a": 1, "b": {"y": None, "x": "1"}}) == canonical_key({"b": {"x": "1", "y": None}, "a": 1})
    assert canonical_key({"a": True}) != canonical_key({"a": 1})


# -- concurrency ------------------------------------------------------------------------------


def test_concurrent_plugin_runs_leave_one_valid_entry(home: Path) -> None:
    env = env_credentials(home, AWS_REGION="us-west-2")
    procs = [
        subprocess.Popen(
            [PLUGIN, "token", "-i", "race", "--cache"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outputs]
    tokens = {_token_of(out) for out, _ in outputs}

    files = sorted(p.name for p in _cache_dir(home).iterdir())
    assert len(files) == 1 and files[0].startswith("token-"), files  # no temporary files left behind
    stored = (_cache_dir(home) / files[0]).read_text().splitlines()[2].removeprefix("token ")
    assert stored in tokens

    again = run_plugin("-i", "race", "--cache", env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
    assert _token_of(again.stdout) == stored
    assert "botocore" not in imported_modules(again.stderr)


def test_concurrent_writers_and_readers_never_see_a_torn_entry(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"), stderr=io.StringIO())
    key = {"k": "race"}
    written = {f"k8s-aws-v1.{n}-{i}" for n in range(4) for i in range(40)}
    seen: list[str | None] = []
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        for i in range(40):
            cache.store_token(key, CachedToken(f"k8s-aws-v1.{n}-{i}", E0, E0 + 14 * MIN, None))

    def reader() -> None:
        try:
            for _ in range(200):
                hit = cache.load_token(key, E0)
                seen.append(hit.token if hit else None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)] + [
        threading.Thread(target=reader) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert set(seen) - {None} <= written
    final = cache.load_token(key, E0)
    assert final is not None and final.token in written
    assert [p.name for p in Path(cache.directory).iterdir() if p.name.startswith(".tmp")] == []
