"""Help and habits of both console scripts: ``--version``, a help line for every option, examples
at the end of every subcommand's help, and shell completion scripts (shtab) — run as processes."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator import __version__
from authenticator.cli import build_parser as plugin_parser
from authenticator.lint.cli import build_parser as lint_parser

BIN = Path(sys.executable).parent
COMMANDS = {"eks-iam-authenticator": plugin_parser, "aws-auth": lint_parser}


def run(command: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([str(BIN / command), *argv], capture_output=True, text=True, timeout=60, check=False, env=env)


def _subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every subcommand's words (("token",), ("add", "role"), ...), depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name)
                yield from _subcommands(sub, (*path, name))


def _all() -> list[tuple[str, tuple[str, ...]]]:
    return [(command, words) for command, build in COMMANDS.items() for words in [(), *_subcommands(build())]]


@pytest.mark.parametrize("command", COMMANDS)
def test_version(command: str) -> None:
    done = run(command, "--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{command} {__version__}\n", "")


@pytest.mark.parametrize(("command", "words"), _all(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)
def test_every_option_has_help_and_the_help_ends_with_examples(command: str, words: tuple[str, ...]) -> None:
    done = run(command, *words, "--help")
    assert done.returncode == 0 and done.stderr == ""
    text = done.stdout
    # every option and positional is followed by its help text, on its line or the next
    options = text.split("\noptions:\n", 1)[1].split("\n\n")[0]
    positionals = text.split("\npositional arguments:\n", 1)[1].split("\n\n")[0] if "positional arg" in text else ""
    for block in (options, positionals):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            if not line.startswith("  ") or line.startswith("    "):
                continue  # a help line, or a continuation of one
            has_help = re.search(r"\S {2,}\S", line.strip()) is not None
            next_is_help = i + 1 < len(lines) and lines[i + 1].startswith(" " * 8)
            assert has_help or next_is_help, f"{command} {' '.join(words)}: no help for {line.strip()!r}"
    # ...and the help ends with one or two examples of this very command
    tail = text.rstrip("\n").rsplit("\n\nexamples:\n", 1)
    assert len(tail) == 2, f"{command} {' '.join(words)}: no examples"
    examples = tail[1].split("\n")
    assert 1 <= len(examples) <= 2
    for example in examples:
        assert example.startswith("  ") and re.search(rf"\b{command} {' '.join(words[:1])}\b", example), example


def test_token_help_comes_from_the_flag_table() -> None:
    from client_plugin.flags import FLAGS

    text = run("eks-iam-authenticator", "token", "--help").stdout
    for flag in FLAGS:
        assert flag.help.split("(")[0].strip()[:30] in " ".join(text.split())
    assert text.rstrip().endswith("--token-only")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
def test_completion_script(command: str, shell: str) -> None:
    done = run(command, "completion", shell)
    assert done.returncode == 0 and done.stderr == ""
    script = done.stdout
    assert script.endswith("\n")
    for sub in _subcommands(COMMANDS[command]()):
        if len(sub) == 1:
            assert sub[0] in script
    if shell != "tcsh":  # shtab's tcsh script completes subcommands and their arguments only
        assert "--version" in script


def test_bash_completion_completes_subcommands_and_flags(tmp_path: Path) -> None:
    """Load the bash script into bash and ask it, as a TAB would."""
    bash = shutil.which("bash")
    assert bash is not None
    script = tmp_path / "aws-auth.bash"
    script.write_text(run("aws-auth", "completion", "bash").stdout)
    probe = f"""
source {script}
COMP_WORDS=(aws-auth li); COMP_CWORD=1; COMP_LINE="aws-auth li"; COMP_POINT=${{#COMP_LINE}}
_shtab_aws_auth aws-auth li aws-auth; echo "1:${{COMPREPLY[*]}}"
COMP_WORDS=(aws-auth lint --allow); COMP_CWORD=2; COMP_LINE="aws-auth lint --allow"; COMP_POINT=${{#COMP_LINE}}
_shtab_aws_auth aws-auth --allow lint; echo "2:${{COMPREPLY[*]}}"
"""
    done = subprocess.run([bash, "--norc", "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.strip().split("\n"))
    assert lines["1"].split() == ["lint"]
    assert lines["2"].split() == ["--allow-empty"]


def test_completion_of_an_unknown_shell_is_a_usage_error() -> None:
    done = run("eks-iam-authenticator", "completion", "cmd.exe")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "invalid choice" in done.stderr
    done = run("aws-auth", "completion", "cmd.exe")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "invalid choice" in done.stderr
