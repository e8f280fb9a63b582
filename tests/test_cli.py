import subprocess
import sys

import pytest

from authenticator import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "authenticator", *args], capture_output=True, text=True, timeout=60)


def test_version() -> None:
    result = run("version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_unknown_flag_is_one_line_and_exit_1() -> None:
    result = run("token", "--no-such-flag")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "unrecognized arguments: --no-such-flag" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["token", "-i"], "argument -i/--cluster-id: expected one argument"),
        (["token", "-i", "c", "-l", "xml"], "argument -l/--log-format: invalid choice: 'xml'"),
        (["token", "-i", "c", "--cache=yes"], "argument --cache: ignored explicit argument 'yes'"),
        (["--cache", "token", "-i", "c"], "unrecognized arguments: --cache"),
        (["nope"], "argument COMMAND: invalid choice: 'nope'"),
        (["verify"], "the following arguments are required: -t/--token"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_1(argv: list[str], message: str) -> None:
    result = run(*argv)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_no_command_prints_help_and_fails() -> None:
    result = run()
    assert result.returncode == 1
    assert "token" in result.stderr
