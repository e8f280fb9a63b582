"""The README's two set-up commands: each one line, the first in its own virtual environment."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```sh\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)
    assert block, "README.md has no ```sh block"
    return block.group(1).splitlines()


def test_the_demo_command_installs_into_its_own_virtual_environment() -> None:
    demo, _ = _setup_commands()
    steps = [shlex.split(step) for step in demo.split("&&")]
    assert steps[0][:3] == ["python3", "-m", "venv"], demo
    venv = steps[0][3]
    # Every later step runs a program of that environment: nothing is installed anywhere else.
    assert all(step[0].startswith(f"{venv}/bin/") for step in steps[1:]), demo
    assert steps[-1] == [f"{venv}/bin/eks-iam-authenticator", "demo"]


def test_the_test_command_needs_no_program_outside_the_test_extra() -> None:
    _, tests = _setup_commands()
    assert tests.startswith("python3 -m venv ") and tests.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get" not in ci and "faketime" not in ci
