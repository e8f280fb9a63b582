"""The real ``server`` started with a broken aws-auth section: what /readyz and the log say, and
where (the file's line:column, as ``aws-auth lint`` reports it); 400s and uvicorn's lines logged."""

from __future__ import annotations

import json
import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.aws_auth import configmap
from tests.support.processes import ServerProcess

AWS_AUTH = str(Path(sys.executable).parent / "aws-auth")

GOOD = """\
mapRoles: |
  - rolearn: arn:aws:iam::111122223333:role/admins
    username: admin
    groups:
      - system:masters
"""
# GOOD with its groups key one space short: a YAML error inside mapRoles.
BROKEN = GOOD.replace("    groups:", "   groups:")
USERS = """\
mapUsers: |
  - userarn: arn:aws:iam::111122223333:user/alice
    username: alice
"""


def _lint_position(path: Path) -> tuple[int, int]:
    result = subprocess.run([AWS_AUTH, "lint", str(path)], capture_output=True, text=True, timeout=60)
    found = re.search(rf"^{re.escape(str(path))}:(\d+):(\d+): AA001 ", result.stdout, re.MULTILINE)
    assert found, result.stdout + result.stderr
    return int(found.group(1)), int(found.group(2))


@pytest.fixture
def aws_auth(tmp_path: Path) -> Path:
    path = tmp_path / "aws-auth.yaml"
    path.write_text(configmap(BROKEN + USERS))
    return path


@pytest.fixture
def server(tmp_path: Path, aws_auth: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config.yaml"
    config.write_text(f"clusterID: c\nserver:\n  awsAuthFile: {aws_auth}\n")
    with ServerProcess(config, tmp_path / "state") as process:
        process.wait_for("Application startup complete")
        yield process


def _client(server: ServerProcess) -> httpx.Client:
    ca = ssl.create_default_context(cafile=str(server.state / "cert.pem"))
    return httpx.Client(base_url=f"https://localhost:{server.port}", verify=ca, timeout=10)


def _log(server: ServerProcess) -> list[dict[str, object]]:
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    return [json.loads(line) for line in server.rest().splitlines() if line.startswith("{")]


def test_readyz_of_a_section_broken_from_the_start_says_nothing_is_served(
    server: ServerProcess, aws_auth: Path
) -> None:
    line, column = _lint_position(aws_auth)
    with _client(server) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    [problem] = ready.text.splitlines()[1:]
    assert problem.startswith("MountedFile mapRoles: mapRoles is not valid YAML: ")
    assert problem.endswith(f"(line {line}, column {column}) (nothing is served from this section)")
    assert "last good" not in ready.text
    logged = [entry["msg"] for entry in _log(server)]
    failed = [m for m in logged if isinstance(m, str) and "mapRoles failed to load" in m]
    assert failed and f"(line {line}, column {column})" in failed[0] and "no good value to keep" in failed[0]
    assert "MountedFile: aws-auth mapUsers applied (1 entry)" in logged


def test_readyz_after_a_good_value_says_it_is_served(server: ServerProcess, aws_auth: Path) -> None:
    aws_auth.write_text(configmap(GOOD + USERS))
    server.wait_for("mapRoles applied (1 entry)")
    aws_auth.write_text(configmap(BROKEN + USERS) + "\n")  # another size: the poller sees a change
    server.wait_for("keeping the last good mapRoles (1 entry)")
    with _client(server) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.text.splitlines()[1].endswith("(serving the last good value)"), ready.text


def test_a_400_is_logged_with_its_reason_never_its_body(server: ServerProcess) -> None:
    body = b'{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"nottoken": "s3cr3t-body"}}'
    with _client(server) as client:
        assert client.post("/authenticate", content=body).status_code == 400
        assert client.post("/authenticate", content=b"s3cr3t-not-json").status_code == 400
    lines = _log(server)
    malformed = [e for e in lines if e.get("result") == "malformed_request"]
    assert [e["msg"] for e in malformed] == [
        "malformed request: spec.token is missing",
        "malformed request: body is not JSON",
    ]
    assert all(e["status"] == 400 and e["level"] == "warning" for e in malformed)
    assert "s3cr3t" not in json.dumps(lines)


def test_uvicorn_lines_are_logged_under_our_logger_name(server: ServerProcess) -> None:
    lines = _log(server)
    names = {e["logger"] for e in lines}
    assert "uvicorn.error" not in names and "uvicorn" not in names
    started = [e for e in lines if e["msg"] == "Application startup complete."]
    stopped = [e for e in lines if str(e["msg"]).startswith("Finished server process")]
    assert started and stopped
    assert {started[0]["logger"], stopped[0]["logger"], started[0]["level"]} == {"authenticator.server.http", "info"}
