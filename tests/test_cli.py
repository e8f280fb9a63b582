import subprocess
import sys

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


def test_no_command_prints_help_and_fails() -> None:
    result = run()
    assert result.returncode == 1
    assert "token" in result.stderr
