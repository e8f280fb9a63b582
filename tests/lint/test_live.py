"""--live reads kube-system/aws-auth through the kubernetes client and a kubeconfig.

The API server here is a minimal HTTP stand-in on 127.0.0.1:0 that serves the one ConfigMap
the client asks for; the client, its kubeconfig loading and its request are the real ones.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from authenticator.demo._tls import serving
from authenticator.lint.cli import main
from authenticator.lint.document import load_targets
from authenticator.lint.live import manifest_text

MAP_ROLES = (
    "- rolearn: arn:aws:iam::739275461218:role/teams/admin\n"
    '  username: "admin:{{SessionName}}"\n'
    "  groups:\n"
    "  - admins\n"
)


class _Handler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.path.split("?")[0] != "/api/v1/namespaces/kube-system/configmaps/aws-auth":
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                "data": {"mapRoles": MAP_ROLES},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Handler)) as server:
        path = tmp_path / "kubeconfig"
        path.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
            f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{server.server_address[1]}'}}}}]\n"
            "users: [{name: u, user: {token: not-a-secret}}]\n"
            "contexts: [{name: test, context: {cluster: c, user: u}}]\n"
        )
        yield path


def test_live_lints_the_cluster_configmap(kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _Handler.requests = []
    out = io.StringIO()
    code = main(["lint", "--live", "--kubeconfig", str(kubeconfig)], stdout=out, stderr=io.StringIO())
    assert _Handler.requests == ["/api/v1/namespaces/kube-system/configmaps/aws-auth"]
    assert code == 1
    line = out.getvalue().split("\n")[0]
    assert line.startswith("kube-system/aws-auth:8:16: AA202 error role-arn-has-path")


def test_live_unreachable_is_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-kubeconfig"
    err = io.StringIO()
    assert main(["lint", "--live", "--kubeconfig", str(missing)], stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().startswith("aws-auth: error: --live:")


def test_manifest_text_keeps_sections_as_blocks() -> None:
    text = manifest_text("aws-auth", "kube-system", {"mapRoles": MAP_ROLES, "mapAccounts": ""})
    assert "  mapRoles: |\n    - rolearn: arn:aws:iam::739275461218:role/teams/admin\n" in text
    (target,) = load_targets("live", text)
    assert target.sections["mapRoles"].map.kind == "literal"
