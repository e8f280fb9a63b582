"""``init`` as an operator runs it (the console script): the config file, renewal, the next step."""

from __future__ import annotations

import base64
import shlex
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from authenticator.demo.runner import free_port
from authenticator.server.tls import certificate_expiry, generate_certificate, why_renew, write_private
from tests.support.processes import ChildProcess, ServerProcess, metric_sum

CLI = str(Path(sys.executable).parent / "eks-iam-authenticator")


def _init(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "init", *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def _server_url(kubeconfig: Path) -> str:
    return str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])


def _old_certificate(state: Path, hostname: str, *, issued: datetime) -> bytes:
    """cert.pem and key.pem as an earlier init wrote them, issued at ``issued`` (valid a year)."""
    cert, key = generate_certificate(hostname, "127.0.0.1", now=issued)
    state.mkdir(parents=True, exist_ok=True)
    write_private(state / "key.pem", key)
    write_private(state / "cert.pem", cert, mode=0o644)
    return cert


def test_init_reads_the_config_file_and_flags_override_it(tmp_path: Path) -> None:
    state = tmp_path / "from-config"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"clusterID: from-file\nserver:\n  hostname: webhook.example\n  port: 9443\n  stateDir: {state}\n"
    )
    result = _init("-c", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    kubeconfig = state / "aws-iam-authenticator.kubeconfig"
    assert _server_url(kubeconfig) == "https://webhook.example:9443/authenticate"
    assert "-i from-file" in result.stdout
    assert not (tmp_path / "cert.pem").exists()  # stateDir, not the default "."

    flagged = _init("-c", str(config), "--port", "7443", cwd=tmp_path)
    assert flagged.returncode == 0, flagged.stderr
    assert _server_url(kubeconfig) == "https://webhook.example:7443/authenticate"


def test_init_without_a_cluster_id_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [CLI, "init", "--state-dir", str(tmp_path)], capture_output=True, text=True, timeout=60, env={"PATH": ""}
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "missing clusterID" in result.stderr
    assert not (tmp_path / "cert.pem").exists()


def test_init_renews_an_expired_certificate_and_says_so(tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = _old_certificate(state, "localhost", issued=datetime.now(UTC) - timedelta(days=400))
    result = _init("-i", "c", "--state-dir", str(state))
    assert result.returncode == 0, result.stderr
    new = (state / "cert.pem").read_bytes()
    assert new != old
    assert certificate_expiry(new) > datetime.now(UTC) + timedelta(days=300)
    assert f"renewed {state / 'cert.pem'}" in result.stdout
    assert f"because the old one expired on {certificate_expiry(old):%Y-%m-%d}" in result.stdout


def test_init_renews_a_certificate_expiring_within_30_days(tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = _old_certificate(state, "localhost", issued=datetime.now(UTC) - timedelta(days=355))
    result = _init("-i", "c", "--state-dir", str(state))
    assert result.returncode == 0, result.stderr
    assert (state / "cert.pem").read_bytes() != old
    assert "within 30 days" in result.stdout


def test_init_renews_a_certificate_that_does_not_name_the_new_hostname(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = _init("-i", "c", "--state-dir", str(state), "--hostname", "old.example")
    assert first.returncode == 0, first.stderr
    old = (state / "cert.pem").read_bytes()
    same = _init("-i", "c", "--state-dir", str(state), "--hostname", "old.example")
    assert (state / "cert.pem").read_bytes() == old and "kept" in same.stdout

    moved = _init("-i", "c", "--state-dir", str(state), "--hostname", "new.example")
    assert moved.returncode == 0, moved.stderr
    assert (state / "cert.pem").read_bytes() != old
    assert "because the old one does not name new.example" in moved.stdout


def test_init_renew_replaces_a_valid_certificate(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert _init("-i", "c", "--state-dir", str(state)).returncode == 0
    old_cert, old_key = (state / "cert.pem").read_bytes(), (state / "key.pem").read_bytes()
    result = _init("-i", "c", "--state-dir", str(state), "--renew")
    assert result.returncode == 0, result.stderr
    assert (state / "cert.pem").read_bytes() != old_cert and (state / "key.pem").read_bytes() != old_key
    assert "as --renew asks" in result.stdout
    # The kubeconfig now trusts the new certificate.
    kubeconfig = yaml.safe_load((state / "aws-iam-authenticator.kubeconfig").read_text())
    ca = base64.b64decode(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"])
    assert ca == (state / "cert.pem").read_bytes()


def test_the_printed_server_command_works_when_pasted(tmp_path: Path) -> None:
    port = free_port()
    result = _init("-i", "pasted", "--state-dir", str(tmp_path / "state"), "--port", str(port), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("start the webhook with: "))
    words = shlex.split(line.removeprefix("start the webhook with: "))
    # The program's name, or its full path when that name on PATH is not this installation.
    assert Path(words[0]).name == "eks-iam-authenticator" and words[1:4] == ["server", "-i", "pasted"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Pasted in another directory, the installed command runs it.
    with ChildProcess(words, cwd=elsewhere) as process:
        process.wait_for("Application startup complete")
        # The URL of init's kubeconfig, which the API server would dial.
        health_url = _server_url(tmp_path / "state" / "aws-iam-authenticator.kubeconfig").replace(
            "/authenticate", "/healthz"
        )
        ca = ssl.create_default_context(cafile=str(tmp_path / "state" / "cert.pem"))
        with httpx.Client(verify=ca, timeout=10) as client:
            health = client.get(health_url)
        assert (health.status_code, health.text) == (200, "ok")
    assert not list(elsewhere.iterdir())  # it wrote nothing where it was pasted


def test_server_warns_about_a_certificate_near_its_end_and_exports_its_expiry(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cert = _old_certificate(state, "localhost", issued=datetime.now(UTC) - timedelta(days=355))
    config = tmp_path / "config.yaml"
    config.write_text("clusterID: c\n")
    with ServerProcess(config, state) as server:
        server.wait_for("init --renew")
        server.wait_for("serving the webhook")
        ca = ssl.create_default_context(cafile=str(state / "cert.pem"))
        with httpx.Client(verify=ca, timeout=10) as client:
            metrics = client.get(f"https://localhost:{server.port}/metrics").text
    assert metric_sum(metrics, "certificate_expiry_timestamp_seconds") == certificate_expiry(cert).timestamp()


def test_why_renew_with_the_clock_injected() -> None:
    issued = datetime(2026, 1, 1, tzinfo=UTC)
    cert, _ = generate_certificate("webhook.example", "127.0.0.1", now=issued)
    end = certificate_expiry(cert)
    assert why_renew(cert, "webhook.example", issued + timedelta(days=1)) is None
    assert why_renew(cert, "webhook.example", end - timedelta(days=31)) is None
    assert why_renew(cert, "webhook.example", end - timedelta(days=29)) == (
        f"because the old one expires on {end:%Y-%m-%d}, within 30 days"
    )
    assert why_renew(cert, "webhook.example", end) == f"because the old one expired on {end:%Y-%m-%d}"
    assert why_renew(cert, "other.example", issued) == "because the old one does not name other.example"
    assert why_renew(cert, "127.0.0.1", issued) is None  # the listen address is named too
    assert why_renew(b"not a certificate", "webhook.example", issued) == "because the old one is not a PEM certificate"


def test_server_warns_about_a_certificate_ending_within_a_day_in_plain_words(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cert = _old_certificate(state, "localhost", issued=datetime.now(UTC) - timedelta(days=364, hours=12))
    config = tmp_path / "config.yaml"
    config.write_text("clusterID: c\n")
    with ServerProcess(config, state) as server:
        server.wait_for("init --renew")
        warned = server.seen[-1]
    assert f"expires within a day, on {certificate_expiry(cert):%Y-%m-%d}" in warned, warned
    assert "0 days" not in warned
