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
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CERT_FILENAME",
    "KEY_FILENAME",
    "RENEW_WITHIN",
    "Renew",
    "TlsFiles",
    "certificate_expiry",
    "ensure_certificate",
    "generate_certificate",
    "why_renew",
]

CERT_FILENAME = "cert.pem"
KEY_FILENAME = "key.pem"
VALIDITY = timedelta(days=365)
RENEW_WITHIN = timedelta(days=30)  # init replaces, and server warns about, a certificate this close to its end

# When ensure_certificate replaces existing files: never (server: the API server trusts exactly the
# certificate it has), when stale (init: expired, expiring within RENEW_WITHIN, or not naming the
# hostname), always (init --renew).
Renew = Literal["never", "stale", "always"]

_log = logging.getLogger("authenticator.server.tls")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert_path: Path
    key_path: Path
    generated: bool  # False when existing files were reused
    not_after: datetime  # the certificate's expiry
    replaced: str | None = None  # why existing files were replaced ("because the old one expired on ..."), or None


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


def certificate_expiry(cert_pem: bytes) -> datetime:
    """The certificate's ``notAfter`` (UTC). ValueError when it is not a PEM certificate."""
    return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc


def why_renew(cert_pem: bytes, hostname: str, now: datetime) -> str | None:
    """Why an existing certificate should not be kept (for ``init``: "because the old one ..."), or
    None: unreadable, expired, expiring within RENEW_WITHIN, or not naming ``hostname`` (the API
    server would refuse it)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        return "because the old one is not a PEM certificate"
    end = cert.not_valid_after_utc
    if end <= now:
        return f"because the old one expired on {end:%Y-%m-%d}"
    if end - now <= RENEW_WITHIN:
        return f"because the old one expires on {end:%Y-%m-%d}, within {RENEW_WITHIN.days} days"
    if _missing_names(cert, hostname):
        return f"because the old one does not name {hostname}"
    return None


def ensure_certificate(
    state_dir: str | os.PathLike[str],
    hostname: str,
    address: str,
    *,
    renew: Renew = "never",
    now: datetime | None = None,
) -> TlsFiles:
    """``cert.pem`` and ``key.pem`` in ``state_dir``: generated when missing, replaced as ``renew``
    says, else reused (with a warning when the reused certificate does not name ``hostname``)."""
    now = now or datetime.now(UTC)
    directory = Path(state_dir)
    cert_path, key_path = directory / CERT_FILENAME, directory / KEY_FILENAME
    replaced: str | None = None
    if cert_path.is_file() and key_path.is_file():
        cert_pem = cert_path.read_bytes()
        replaced = "as --renew asks" if renew == "always" else None
        if renew == "stale":
            replaced = why_renew(cert_pem, hostname, now)
        if replaced is None:
            if renew == "never":
                _check_reused(cert_pem, cert_path, hostname)
            return TlsFiles(cert_path, key_path, generated=False, not_after=_expiry_or(cert_pem, now))
    elif cert_path.exists() or key_path.exists():
        _log.warning("only one of %s and %s exists; generating both anew", cert_path, key_path)
        replaced = f"because only one of {CERT_FILENAME} and {KEY_FILENAME} existed"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_pem, key_pem = generate_certificate(hostname, address, now=now)
    write_private(key_path, key_pem)
    write_private(cert_path, cert_pem)  # 0600 like the key (docs/cli.md): only the server reads it
    _log.info("generated a self-signed certificate", extra={"fields": {"cert": str(cert_path.resolve())}})
    return TlsFiles(cert_path, key_path, generated=True, not_after=certificate_expiry(cert_pem), replaced=replaced)


def _expiry_or(cert_pem: bytes, default: datetime) -> datetime:
    try:
        return certificate_expiry(cert_pem)
    except ValueError:  # reused as it is (server): TLS itself will say what is wrong with it
        return default


def _missing_names(cert: x509.Certificate, hostname: str) -> bool:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return bool(_subject_alt_names(hostname, ""))
    return any(n not in sans for n in _subject_alt_names(hostname, ""))


def _check_reused(cert_pem: bytes, cert_path: Path, hostname: str) -> None:
    """Warn (not fail) when a reused certificate does not name the hostname: the API server would refuse it."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        _log.warning("cannot read the certificate %s", cert_path)
        return
    if _missing_names(cert, hostname):
        _log.warning("reused certificate %s does not name %s", cert_path, hostname)
