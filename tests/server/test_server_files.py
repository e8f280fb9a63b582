"""The TLS files in stateDir and the webhook kubeconfig (docs/cli.md)."""

from __future__ import annotations

import base64
import ipaddress
import stat
from pathlib import Path

import yaml
from cryptography import x509

from authenticator.server.kubeconfig import render_webhook_kubeconfig, webhook_url, write_webhook_kubeconfig
from authenticator.server.tls import ensure_certificate


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_cert_and_key(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path / "state", "webhook.example", "127.0.0.1")
    assert files.generated
    assert files.cert_path == tmp_path / "state" / "cert.pem"
    assert _mode(files.key_path) == 0o600
    cert = x509.load_pem_x509_certificate(files.cert_path.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["webhook.example"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 360 <= lifetime.days <= 366
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    # the key in key.pem is the certificate's key
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(files.key_path.read_bytes(), password=None)
    assert key.public_key() == cert.public_key()


def test_ip_hostname_gets_an_ip_san_and_unspecified_address_none(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path, "10.0.0.5", "0.0.0.0")
    cert = x509.load_pem_x509_certificate(files.cert_path.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5")]
    assert sans.get_values_for_type(x509.DNSName) == []


def test_existing_files_are_reused(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path, "localhost", "127.0.0.1")
    cert, key = first.cert_path.read_bytes(), first.key_path.read_bytes()
    second = ensure_certificate(tmp_path, "localhost", "127.0.0.1")
    assert not second.generated
    assert (second.cert_path.read_bytes(), second.key_path.read_bytes()) == (cert, key)


def test_a_lone_cert_is_replaced_by_a_new_pair(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("stale")
    files = ensure_certificate(tmp_path, "localhost", "127.0.0.1")
    assert files.generated
    x509.load_pem_x509_certificate(files.cert_path.read_bytes())


def test_kubeconfig_format_is_exactly_cli_md(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path, "localhost", "127.0.0.1")
    path = write_webhook_kubeconfig(tmp_path / "out" / "webhook.kubeconfig", files.cert_path, "localhost", 21362)
    assert _mode(path) == 0o600
    ca = base64.b64encode(files.cert_path.read_bytes()).decode()
    assert path.read_text() == (
        "clusters:\n"
        "  - name: aws-iam-authenticator\n"
        "    cluster:\n"
        f"      certificate-authority-data: {ca}\n"
        "      server: https://localhost:21362/authenticate\n"
        "users:\n"
        "  - name: apiserver\n"
        "current-context: webhook\n"
        "contexts:\n"
        "  - name: webhook\n"
        "    context: {cluster: aws-iam-authenticator, user: apiserver}\n"
    )
    doc = yaml.safe_load(path.read_text())
    assert base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]) == files.cert_path.read_bytes()
    assert doc["contexts"][0]["context"] == {"cluster": "aws-iam-authenticator", "user": "apiserver"}


def test_ipv6_hostname_is_bracketed() -> None:
    assert webhook_url("::1", 8443) == "https://[::1]:8443/authenticate"
    assert "server: https://[::1]:8443/authenticate" in render_webhook_kubeconfig(b"x", "::1", 8443)
