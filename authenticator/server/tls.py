"""The webhook's self-signed certificate and key, kept in the state directory.

The API server trusts exactly this certificate (it is the ``certificate-authority-data`` of
the webhook kubeconfig), so it is its own CA: CA:TRUE, and SANs for the hostname the API
server dials and the address the server listens on.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CERT_FILENAME", "KEY_FILENAME", "TlsFiles", "ensure_certificate", "generate_certificate"]

CERT_FILENAME = "cert.pem"
KEY_FILENAME = "key.pem"
VALIDITY = timedelta(days=365)

_log = logging.getLogger("authenticator.server.tls")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert_path: Path
    key_path: Path
    generated: bool  # False when existing files were reused


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _subject_alt_names(hostname: str, address: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for value in (hostname, address):
        ip = _ip(value)
        if ip is not None:
            if ip.is_unspecified:  # 0.0.0.0 / :: is a listen address, never a name to dial
                continue
            name: x509.GeneralName = x509.IPAddress(ip)
        elif value:
            name = x509.DNSName(value)
        else:
            continue
        if name not in names:
            names.append(name)
    return names


def generate_certificate(hostname: str, address: str, *, now: datetime | None = None) -> tuple[bytes, bytes]:
    """A new (cert PEM, key PEM): ECDSA P-256, self-signed, valid for a year from ``now``."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname or address or "eks-iam-authenticator")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate a little clock skew on the API server
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    sans = _subject_alt_names(hostname, address)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` atomically with ``mode`` from the first byte (no window where it is readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_certificate(state_dir: str | os.PathLike[str], hostname: str, address: str) -> TlsFiles:
    """``cert.pem`` and ``key.pem`` in ``state_dir``: reused when both exist, else generated."""
    directory = Path(state_dir)
    cert_path, key_path = directory / CERT_FILENAME, directory / KEY_FILENAME
    if cert_path.is_file() and key_path.is_file():
        _check_reused(cert_path, hostname, address)
        return TlsFiles(cert_path, key_path, generated=False)
    if cert_path.exists() or key_path.exists():
        _log.warning("only one of %s and %s exists; generating both anew", cert_path, key_path)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_pem, key_pem = generate_certificate(hostname, address)
    write_private(key_path, key_pem)
    write_private(cert_path, cert_pem, mode=0o644)
    _log.info("generated a self-signed certificate", extra={"fields": {"cert": str(cert_path)}})
    return TlsFiles(cert_path, key_path, generated=True)


def _check_reused(cert_path: Path, hostname: str, address: str) -> None:
    """Warn (not fail) when a reused certificate does not name the hostname: the API server would refuse it."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        _log.warning("cannot read the subject alternative names of %s", cert_path)
        return
    wanted = [n for n in _subject_alt_names(hostname, "") if n not in sans]
    if wanted:
        _log.warning("reused certificate %s does not name %s", cert_path, hostname)
