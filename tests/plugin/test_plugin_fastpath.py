"""The token command's flags are declared once (client_plugin.flags.FLAGS): the argparse-free parser
and authenticator.cli's argparse parser are both built from that table and agree wherever the fast
one answers; a cache hit through the installed command imports only the standard library."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authenticator.cli import build_parser
from client_plugin.flags import FLAGS, parse_token_argv
from tests.support.plugin import KUBECTL_EXEC_INFO, PLUGIN, env_credentials, imported_modules

# Every spelling in the table, bare and with "=value"; values valid and not; words the fast
# path must leave to argparse.
_WORDS = [
    *(name for flag in FLAGS for name in flag.names),
    *(f"{name}=v" for flag in FLAGS for name in flag.names),
    "token", "c1", "arn:aws:iam::1:role/r", "json", "text", "bad", "debug", "f.yaml", "--cluster-id=c2", "-i=c3",
    "-ic4", "-x", "--", "-", "--reg", "--cache=", "-1", "", "-h", "--help", "version", "server",
]  # fmt: skip

ENVS = [{}, {"KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID": "from-env", "DEFAULT_ROLE": "arn:aws:iam::1:role/d"}]


def _argparse(argv: list[str], env: dict[str, str]) -> dict[str, object] | None:
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return vars(build_parser(env).parse_args(argv))
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
def test_kubeconfig_spellings_take_the_fast_path(argv: list[str], env: dict[str, str]) -> None:
    fast = parse_token_argv(argv, env)
    assert fast is not None
    assert vars(fast) == _argparse(argv, env)


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "--help"],
        ["token", "--reg", "x"],
        ["token", "-i"],
        ["token", "-i", "-x"],
        ["version"],
        ["token", "x"],
        ["--cache", "token"],  # a token flag before the subcommand
        ["token", "--cache=1"],
        ["token", "-l", "xml"],
    ],
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
    expected = _argparse(argv, env)
    assert expected is not None, f"argparse rejects {argv} but the fast path accepted it"
    assert vars(fast) == expected


def test_argparse_token_flags_are_the_tables() -> None:
    # No flag reaches the token command but through FLAGS: the help lists exactly the table's spellings.
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser({}).parse_args(["token", "--help"])
    options = out.getvalue().split("options:", 1)[1]
    spelled = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", options))
    assert spelled == {name for flag in FLAGS for name in flag.names} | {"-h", "--help"}


def test_usage_mistake_through_the_installed_command_is_argparses_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [PLUGIN, "token", "--bogus"], env=env_credentials(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "eks-iam-authenticator: error: unrecognized arguments: --bogus\n"


@pytest.mark.parametrize("exec_info", [None, KUBECTL_EXEC_INFO[0] + "\n"])
def test_cache_hit_imports_only_the_stdlib_and_the_fast_path(tmp_path: Path, exec_info: str | None) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = env_credentials(home, PYTHONPROFILEIMPORTTIME="1")
    if exec_info is not None:  # as kubectl always sets it
        env["KUBERNETES_EXEC_INFO"] = exec_info
    command = [PLUGIN, "token", "-i", "fast", "--cache"]  # the console script, as kubectl runs it
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    start_up = subprocess.run([sys.executable, "-c", "pass"], env=env, capture_output=True, text=True, timeout=60)
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
    hit = imported_modules(second.stderr) - imported_modules(start_up.stderr)
    ours = {name for name in hit if name.split(".")[0] in ("authenticator", "client_plugin")}
    assert {name.split(".")[0] for name in hit - ours} <= sys.stdlib_module_names
    assert {"authenticator.cli", "client_plugin.flags", "client_plugin.cli"} <= ours  # the check sees the dispatch
    # Of the server's package only the entry module and two import-free leaves (the base of user
    # errors, the settings' defaults): nothing of the verifier, mapping or server.
    assert {name for name in ours if name.startswith("authenticator")} == {
        "authenticator",
        "authenticator.cli",
        "authenticator.defaults",
        "authenticator.errors",
    }
    assert not {"client_plugin.credentials", "client_plugin.presign"} & ours  # the signing path
