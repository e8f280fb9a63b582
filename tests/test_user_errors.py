"""One base for the errors a user can cause: each command line turns those (and the library errors
that mean bad input or an unreachable peer) into one line on stderr, and lets a bug through with
its traceback."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from authenticator.demo import runner
from authenticator.demo._tls import serving
from authenticator.demo.runner import free_port
from authenticator.errors import UserError
from authenticator.lint import cli as lint_cli
from authenticator.lint import live
from client_plugin import cli as plugin_cli
from client_plugin.errors import PluginError
from client_plugin.flags import parse_token_argv


def _one_error_line(text: str, prefix: str) -> None:
    assert text.startswith(prefix), text
    assert text.count("\n") == 1 and text.endswith("\n"), text
    assert "Traceback" not in text


def test_plugin_error_is_a_user_error() -> None:
    assert issubclass(PluginError, UserError)
    assert str(PluginError("two\n  lines")) == "two lines"


# -- the token plugin ---------------------------------------------------------------------------


def _plugin_args() -> SimpleNamespace:
    args = parse_token_argv(["token", "-i", "c"], {})
    assert args is not None
    return args


def _execute(monkeypatch: pytest.MonkeyPatch, failure: BaseException) -> tuple[int, str, str]:
    def fail(*_: object, **__: object) -> str:
        raise failure

    monkeypatch.setattr(plugin_cli, "_token_output", fail)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = plugin_cli.execute(_plugin_args(), env={}, stdout=stdout, stderr=stderr, clock=lambda: 0.0)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize(
    "failure",
    [PluginError("no AWS credentials\nfound"), PermissionError(13, "denied")],
)
def test_plugin_expected_failures_are_one_line(monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    code, out, err = _execute(monkeypatch, failure)
    assert (code, out) == (1, "")
    _one_error_line(err, "eks-iam-authenticator: error: ")


@pytest.mark.parametrize("bug", [KeyError("Expiration"), TypeError("bad operand"), AttributeError("nope")])
def test_plugin_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch, bug: Exception) -> None:
    with pytest.raises(type(bug)):
        _execute(monkeypatch, bug)


# -- aws-auth lint --live -----------------------------------------------------------------------


class _Forbidden(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}'
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: u, user: {token: not-a-secret}}]\n"
        "contexts: [{name: test, context: {cluster: c, user: u}}]\n"
    )
    return path


@pytest.fixture
def forbidding_apiserver() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def closed_port() -> int:
    # A port just bound and closed: nothing listens there, so a connection is refused at once.
    return free_port()


def _live(kubeconfig: Path, *extra: str) -> tuple[int, str]:
    err = io.StringIO()
    code = lint_cli.main(["lint", "--live", "--kubeconfig", str(kubeconfig), *extra], stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def test_live_refused_by_the_api_server(tmp_path: Path, forbidding_apiserver: str) -> None:
    code, err = _live(_kubeconfig(tmp_path / "kubeconfig", forbidding_apiserver))
    assert code == 2
    _one_error_line(err, "aws-auth: error: --live: the API server answered 403")


def test_live_unreachable_api_server(tmp_path: Path, closed_port: int) -> None:
    code, err = _live(_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{closed_port}"))
    assert code == 2
    _one_error_line(err, "aws-auth: error: --live: cannot read kube-system/aws-auth: ")


@pytest.mark.parametrize(
    ("kubeconfig_text", "extra"),
    [
        ("clusters: [\n", ()),  # not YAML
        (None, ("--context", "absent")),  # a context the file does not have
    ],
)
def test_live_unusable_kubeconfig(tmp_path: Path, kubeconfig_text: str | None, extra: tuple[str, ...]) -> None:
    path = _kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:1")
    if kubeconfig_text is not None:
        path.write_text(kubeconfig_text)
    code, err = _live(path, *extra)
    assert code == 2
    _one_error_line(err, f"aws-auth: error: --live: cannot load kubeconfig {path}: ")


def test_live_bug_keeps_its_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(**_: object) -> str:
        raise KeyError("data")

    monkeypatch.setattr(live, "fetch_live_manifest", bug)
    with pytest.raises(KeyError):
        _live(tmp_path / "kubeconfig")


# -- aws-auth resolve ---------------------------------------------------------------------------


def test_resolve_unreadable_file_is_exit_2(tmp_path: Path) -> None:
    err = io.StringIO()
    argv = ["resolve", str(tmp_path / "missing.yaml"), "--arn", "arn:aws:iam::111122223333:user/alice"]
    assert lint_cli.main(argv, stdout=io.StringIO(), stderr=err) == 2
    _one_error_line(err.getvalue(), f"aws-auth: error: {tmp_path / 'missing.yaml'}: ")


# -- eks-iam-authenticator demo -----------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [runner.DemoError("kubectl failed: forbidden"), httpx.ConnectError("connection refused")],
)
def test_demo_failed_step_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], failure: Exception
) -> None:
    def fail(*_: object) -> int:
        raise failure

    monkeypatch.setattr(runner, "_run", fail)
    assert runner.run(argparse.Namespace()) == 1
    _one_error_line(capsys.readouterr().err, "eks-iam-authenticator: error: demo: ")


def test_demo_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*_: object) -> int:
        raise RuntimeError("StsPeer is not started")

    monkeypatch.setattr(runner, "_run", bug)
    with pytest.raises(RuntimeError):
        runner.run(argparse.Namespace())
