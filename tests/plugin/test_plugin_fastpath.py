"""The argparse-free parser agrees with authenticator.cli's argparse parser wherever it answers."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plugin_support import KUBECTL_EXEC_INFO, imported_modules

from authenticator.cli import build_parser
from client_plugin.fastpath import parse_token_argv

_WORDS = [
    "token", "-i", "--cluster-id", "c1", "--region", "us-west-2", "-r", "--role", "arn:aws:iam::1:role/r",
    "--cache", "--token-only", "--forward-session-name", "-e", "--external-id", "ext", "-s", "--session-name",
    "sess", "--profile", "dev", "-l", "--log-format", "json", "text", "bad", "-v", "--log-verbosity", "debug",
    "-c", "--config", "f.yaml", "--cluster-id=c2", "--region=eu-west-1", "--cache=1", "-i=c3", "-x", "--",
    "--reg", "-1", "", "-h", "--help", "version", "server",
]  # fmt: skip

ENVS = [{}, {"KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID": "from-env", "DEFAULT_ROLE": "arn:aws:iam::1:role/d"}]


def _argparse(argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, object] | None:
    for name in ("KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID", "DEFAULT_ROLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return vars(build_parser().parse_args(argv))
    except SystemExit:
        return None


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "-i", "my-cluster"],
        ["token", "-i", "my-cluster", "--cache"],
        ["token", "--cluster-id", "my-cluster", "--region", "eu-west-1", "--token-only"],
        ["-i", "my-cluster", "token", "-r", "arn:aws:iam::1:role/r", "-e", "x", "-s", "s", "--forward-session-name"],
        ["token", "-i", "c", "--profile", "dev", "--cluster-id=other", "-l", "json", "-v", "debug", "-c", "f"],
    ],
)
@pytest.mark.parametrize("env", ENVS)
def test_kubeconfig_spellings_take_the_fast_path(
    argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = parse_token_argv(argv, env)
    assert fast is not None
    assert vars(fast) == _argparse(argv, env, monkeypatch)


@pytest.mark.parametrize(
    "argv",
    [["token", "--help"], ["token", "--reg", "x"], ["token", "-i"], ["token", "-i", "-x"], ["version"], ["token", "x"]],
)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert parse_token_argv(argv, {}) is None


@settings(max_examples=400, deadline=None)
@given(argv=st.lists(st.sampled_from(_WORDS), max_size=8), env_index=st.integers(0, 1))
def test_agrees_with_argparse(argv: list[str], env_index: int) -> None:
    env = ENVS[env_index]
    fast = parse_token_argv(argv, env)
    if fast is None:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = _argparse(argv, env, monkeypatch)
    assert expected is not None, f"argparse rejects {argv} but the fast path accepted it"
    assert vars(fast) == expected


def test_main_falls_back_to_argparse_errors() -> None:
    code = "import sys; from client_plugin.fastpath import main; sys.exit(main(['token', '--bogus']))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "unrecognized arguments: --bogus" in result.stderr


@pytest.mark.parametrize("exec_info", [None, KUBECTL_EXEC_INFO[0] + "\n"])
def test_fast_cache_hit_imports_neither_argparse_nor_botocore(tmp_path: Path, exec_info: str | None) -> None:
    from plugin_support import env_credentials

    home = tmp_path / "home"
    home.mkdir()
    code = "import sys; from client_plugin.fastpath import main; sys.exit(main())"
    command = [sys.executable, "-c", code, "token", "-i", "fast", "--cache"]
    env = env_credentials(home, PYTHONPROFILEIMPORTTIME="1")
    if exec_info is not None:  # as kubectl always sets it
        env["KUBERNETES_EXEC_INFO"] = exec_info
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert first.stdout == second.stdout

    def top_level(stderr: str) -> set[str]:
        return imported_modules(stderr, top_level=True)

    assert "botocore" in top_level(first.stderr)
    assert {"json", "datetime"} <= top_level(first.stderr)  # the check can see them when they are there
    # json and datetime cost ~6 ms of start-up on every kubectl command.
    assert not {"argparse", "botocore", "dataclasses", "typing", "json", "datetime", "tempfile"} & top_level(
        second.stderr
    )
