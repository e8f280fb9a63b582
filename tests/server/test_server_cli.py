"""``server``, ``init`` and ``verify`` as a user runs them: real processes, real TLS."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.processes import ServerProcess
from tests.support.sts_standin import StsStandIn
from tests.support.tokens import make_token

STARTUP_SECONDS = 30


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "authenticator", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("server: {port: 1234}\n", "missing clusterID"),
        ("clusterID: c\nserver: {backendMode: [Nope]}\n", "unknown backend mode 'Nope'"),
        ("clusterID: c\nserver: {backendMode: [MountedFile, EKSConfigMap]}\n", "EKSConfigMap source: not running in"),
        ("clusterID: c\nserver: {backendMode: DynamicFile}\n", "DynamicFile needs server.dynamicfilepath"),
        ("clusterID: c\nserver: {backendMode: [CRD, MountedFile, crd]}\n", "backend mode CRD is listed twice"),
        ("clusterID: c\nserver: {partition: aws-moon}\n", "unknown partition 'aws-moon'"),
        ("clusterID: c\nserver: {awsAuthFile: /nonexistent/aws-auth.yaml}\n", "server.awsAuthFile: no such file"),
        ("clusterID: c\nserver: {mapRoles: {rolearn: x}}\n", "server.mapRoles"),
        ("clusterID: [\n", "not valid YAML"),
        ("clusterID: c\nserver: {mapRoles: [{username: x}]}\n", "MountedFile source: invalid mapping"),
    ],
)
def test_server_start_up_errors_are_one_line_and_exit_1(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    _assert_one_line_failure(_run("server", "-c", str(config), "--state-dir", str(tmp_path / "s")), expected)
    assert not (tmp_path / "s").exists()  # nothing written before the config is known good


def test_server_missing_config_file(tmp_path: Path) -> None:
    _assert_one_line_failure(_run("server", "-c", str(tmp_path / "nope.yaml")), "cannot read config file")


def test_init_writes_cert_key_and_kubeconfig(tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = _run("init", "-i", "demo", "--state-dir", str(state), "--hostname", "localhost", "--port", "4443")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((state / "key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "cert.pem").stat().st_mode) == 0o600
    kubeconfig = state / "aws-iam-authenticator.kubeconfig"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    doc = yaml.safe_load(kubeconfig.read_text())
    assert doc["clusters"][0]["cluster"]["server"] == "https://localhost:4443/authenticate"
    assert f"--authentication-token-webhook-config-file={kubeconfig.resolve()}" in result.stdout
    # a second run keeps the certificate the API server already trusts
    cert = (state / "cert.pem").read_bytes()
    again = _run("init", "-i", "demo", "--state-dir", str(state), "--port", "4443")
    assert again.returncode == 0
    assert (state / "cert.pem").read_bytes() == cert
    assert f"kept {state / 'cert.pem'}" in again.stdout


def test_init_default_state_dir_is_the_current_directory(tmp_path: Path) -> None:
    result = _run("init", "-i", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{tmp_path.resolve() / 'key.pem'}" in result.stdout  # says where, though not asked for a place
    assert {p.name for p in tmp_path.iterdir()} >= {"cert.pem", "key.pem", "aws-iam-authenticator.kubeconfig"}


def test_verify_rejects_a_malformed_token_in_one_line() -> None:
    _assert_one_line_failure(_run("verify", "-i", "demo", "-t", "k8s-aws-v2.nope"), "token rejected (invalid_token)")


def test_verify_rejects_an_expired_token_without_calling_sts() -> None:
    old = make_token(datetime(2020, 1, 1, tzinfo=UTC))
    _assert_one_line_failure(_run("verify", "-i", "demo", "-t", old, "-o", "json"), "expired")


def test_verify_needs_a_cluster_id() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID"}
    result = subprocess.run(
        [sys.executable, "-m", "authenticator", "verify", "-t", make_token()],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    _assert_one_line_failure(result, "missing cluster id")


def test_verify_takes_the_partition_from_the_config_unless_a_flag_names_one(tmp_path: Path) -> None:
    config = tmp_path / "verify.yaml"
    config.write_text("clusterID: c\nserver: {partition: aws-cn}\n")
    token = make_token(datetime.now(UTC))  # names sts.us-east-1.amazonaws.com, a host of partition aws
    result = _run("verify", "-c", str(config), "-t", token)
    _assert_one_line_failure(result, 'unexpected hostname "sts.us-east-1.amazonaws.com"')
    _assert_one_line_failure(_run("verify", "-c", str(config), "--partition", "aws-moon", "-t", token), "aws-moon")


def test_verify_with_an_unusable_ca_bundle_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "verify.yaml"
    missing = tmp_path / "missing-ca.pem"
    server = f"{{stsEndpointOverride: 'https://127.0.0.1:1', stsCABundle: '{missing}'}}"
    config.write_text(f"clusterID: c\nserver: {server}\n")
    _assert_one_line_failure(_run("verify", "-c", str(config), "-t", make_token()), "stsCABundle")


def test_a_bug_is_a_traceback_not_a_one_line_user_error() -> None:
    """Only a UserError is reported in one line: anything else is ours and shows where it happened."""
    script = (
        "import authenticator.server.composition as composition\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('a bug of ours')\n"
        "composition.build_sts_client = broken\n"
        "from authenticator.cli import main\n"
        "raise SystemExit(main(['verify', '-i', 'c', '-t', 'k8s-aws-v1.x']))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "RuntimeError: a bug of ours" in result.stderr
    assert "eks-iam-authenticator verify:" not in result.stderr


ALICE = ("AKIAALICE0000000KEY1", ("111122223333", "arn:aws:iam::111122223333:user/alice", "AIDAALICE0000000001"))


@pytest.fixture
def sts(tmp_path: Path) -> Iterator[StsStandIn]:
    with StsStandIn(tmp_path, dict([ALICE])) as standin:
        yield standin


@pytest.fixture
def server(tmp_path: Path, sts: StsStandIn) -> Iterator[ServerProcess]:
    config = tmp_path / "config.yaml"
    config.write_text(
        "clusterID: demo\nserver:\n  mapUsers:\n"
        "    - {userarn: 'arn:aws:iam::111122223333:user/alice', username: alice, groups: [devs]}\n"
        f"  stsEndpointOverride: {sts.url}\n  stsCABundle: {sts.ca_path}\n"
    )
    with ServerProcess(config, tmp_path / "state") as process:
        yield process


def test_server_serves_tls_and_stops_cleanly_on_sigterm(server: ServerProcess, sts: StsStandIn) -> None:
    server.wait_for("STS endpoint override in use")
    server.wait_for("serving the webhook")
    url = f"https://localhost:{server.port}"
    ca = ssl.create_default_context(cafile=str(server.state / "cert.pem"))
    with httpx.Client(verify=ca, timeout=10) as client:
        health = client.get(url + "/healthz")
        assert (health.status_code, health.text) == (200, "ok")
        assert client.get(url + "/readyz").status_code == 200
        assert "aws_iam_authenticator_authenticate_latency_seconds" in client.get(url + "/metrics").text
        bad = client.post(url + "/authenticate", json={"kind": "TokenReview"})
        assert bad.status_code == 400
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "x"}}
        denied = client.post(url + "/authenticate", json=review)
        assert denied.status_code == 403
        assert denied.json()["status"]["authenticated"] is False
        assert client.get(url + "/authenticate").status_code == 405
        token = make_token(datetime.now(UTC), access_key_id=ALICE[0])
        allowed = client.post(url + "/authenticate", json={**review, "spec": {"token": token}})
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["status"]["user"]["username"] == "alice"
        assert allowed.json()["status"]["user"]["groups"] == ["devs"]
    # the override kept the token's Host and sent the server's own cluster id
    assert sts.seen == [{"host": "sts.us-east-1.amazonaws.com", "cluster": "demo"}]
    assert stat.S_IMODE((server.state / "key.pem").stat().st_mode) == 0o600
    kubeconfig = yaml.safe_load((server.state / "aws-iam-authenticator.kubeconfig").read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://localhost:{server.port}/authenticate"
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    stderr = server.rest()
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(line.get("result") == "invalid_token" for line in lines)
    granted = [line for line in lines if line.get("result") == "success"]
    assert len(granted) == 1
    assert granted[0]["canonical_arn"] == "arn:aws:iam::111122223333:user/alice"
    assert token not in stderr
    assert "Traceback" not in stderr


def _verify_config(tmp_path: Path, sts: StsStandIn) -> str:
    config = tmp_path / "verify.yaml"
    config.write_text(f"clusterID: demo\nserver:\n  stsEndpointOverride: {sts.url}\n  stsCABundle: {sts.ca_path}\n")
    return str(config)


def test_verify_prints_the_identity_as_json(tmp_path: Path, sts: StsStandIn) -> None:
    token = make_token(datetime.now(UTC), access_key_id=ALICE[0])
    result = _run("verify", "-c", _verify_config(tmp_path, sts), "-t", token, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ARN": "arn:aws:iam::111122223333:user/alice",
        "CanonicalARN": "arn:aws:iam::111122223333:user/alice",
        "AccountID": "111122223333",
        "UserID": "AIDAALICE0000000001",
        "SessionName": "",
        "AccessKeyID": ALICE[0],
        "STSEndpoint": "sts.us-east-1.amazonaws.com",
    }
    assert sts.seen == [{"host": "sts.us-east-1.amazonaws.com", "cluster": "demo"}]


def test_verify_text_output_and_sts_refusal(tmp_path: Path, sts: StsStandIn) -> None:
    config = _verify_config(tmp_path, sts)
    ok = _run("verify", "-c", config, "-t", make_token(datetime.now(UTC), access_key_id=ALICE[0]))
    assert ok.returncode == 0, ok.stderr
    assert "CanonicalARN: arn:aws:iam::111122223333:user/alice" in " ".join(ok.stdout.split())
    refused = _run("verify", "-c", config, "-t", make_token(datetime.now(UTC), access_key_id="AKIAUNKNOWN000000001"))
    _assert_one_line_failure(refused, "token rejected (sts_error)")


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = _run("server", "-i", "demo", "--port", port, "--state-dir", str(tmp_path / "s"))
    _assert_one_line_failure(result, f"cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "s").exists()
