"""`eks-iam-authenticator demo --keep`: the directory stays, and each step shows a command that
reproduces it (the plugin's, run again here after the demo, mints a token for the same identity)."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.plugin import decode_token

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def kept() -> Iterator[tuple[str, Path]]:
    result = subprocess.run(
        [str(BIN / "eks-iam-authenticator"), "demo", "--keep"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    found = re.search(r"^kept (\S+):", result.stdout, re.MULTILINE)
    assert found, result.stdout
    work = Path(found.group(1))
    try:
        yield result.stdout, work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _steps(out: str) -> dict[str, list[str]]:
    """Each numbered step's title -> its lines."""
    steps: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if re.match(r"==> \d+\. ", line):
            current = steps.setdefault(line[4:], [])
        elif line.startswith("==> "):
            current = []
        else:
            current.append(line)
    return steps


def test_the_directory_is_kept_with_what_the_commands_name(kept: tuple[str, Path]) -> None:
    _, work = kept
    for name in ("server.yaml", "server.log", "state/cert.pem", "state/key.pem", "state/webhook.kubeconfig"):
        assert (work / name).is_file(), name
    assert stat.S_IMODE((work / "aws" / "credentials").stat().st_mode) == 0o600
    assert "serving the webhook" in (work / "server.log").read_text()


def test_every_step_after_the_peer_shows_its_command(kept: tuple[str, Path]) -> None:
    out, work = kept
    steps = _steps(out)
    assert len(steps) == 8, list(steps)
    for title, lines in list(steps.items())[1:]:
        assert lines[0].startswith("    $ "), (title, lines[:2])
    commands = [line[6:] for lines in steps.values() for line in lines if line.startswith("    $ ")]
    assert any(re.match(rf"\S*eks-iam-authenticator server -c {work / 'server.yaml'} --port ", c) for c in commands)
    assert any(c.startswith("kubectl --kubeconfig ") and c.endswith(" auth whoami -o json") for c in commands)


def test_the_token_command_shown_reproduces_the_step(kept: tuple[str, Path]) -> None:
    out, work = kept
    [alice] = [title for title in _steps(out) if title.startswith("5. alice")]
    mint = next(line for line in _steps(out)[alice] if line.startswith("    $ TOKEN=$("))
    command = mint.removeprefix("    $ TOKEN=$(").removesuffix(")")
    # Presigning is offline: the command works with the peers gone.
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(work / "home")}
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    profiles = configparser.ConfigParser()
    profiles.read(work / "aws" / "credentials")
    token = decode_token(result.stdout.strip())
    assert token.access_key_id == profiles["alice"]["aws_access_key_id"]
    assert token.params["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"


def test_the_cat_step_shows_the_file_as_cat_prints_it(kept: tuple[str, Path]) -> None:
    out, work = kept
    [config] = [title for title in _steps(out) if title.startswith("3. ")]
    lines = _steps(out)[config]
    assert lines[0] == f"    $ cat {work / 'server.yaml'}"
    shown = "\n".join(line.removeprefix("    ") for line in lines[1:]).strip("\n")
    assert shown == (work / "server.yaml").read_text().strip("\n")


def test_a_command_of_a_program_the_demo_does_not_install_says_where_to_get_it(kept: tuple[str, Path]) -> None:
    out, _ = kept
    [identities] = [title for title in _steps(out) if title.startswith("2. ")]
    lines = _steps(out)[identities]
    assert any(" aws --endpoint-url " in line for line in lines if line.startswith("    $ "))
    # the AWS CLI is not part of the [demo] extra: the step says how to get it
    assert "    (aws is the AWS CLI, which the demo does not install: pip install awscli)" in lines
