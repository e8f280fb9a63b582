import ast
import subprocess
import sys
from pathlib import Path

import pytest

from authenticator import __version__

REPO = Path(__file__).resolve().parent.parent


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


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_imports_between_the_packages_go_one_way() -> None:
    # The binary's entry point (authenticator.cli) uses the plugin; the plugin uses nothing of
    # the server but the shared partition table, the settings' defaults and the base of user
    # errors; nothing else in authenticator uses the plugin.
    for path in sorted((REPO / "client_plugin").rglob("*.py")):
        server = {name for name in _imported(path) if name.split(".")[0] == "authenticator"}
        assert server <= {"authenticator.partitions", "authenticator.defaults", "authenticator.errors"}, path
    for path in sorted((REPO / "authenticator").rglob("*.py")):
        if path != REPO / "authenticator" / "cli.py":
            assert not {name for name in _imported(path) if name.split(".")[0] == "client_plugin"}, path
    assert "client_plugin.flags" in _imported(REPO / "authenticator" / "cli.py")
