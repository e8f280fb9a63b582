"""The kubeconfig the API server reads to call the webhook (docs/cli.md, "Webhook kubeconfig")."""

from __future__ import annotations

import base64
import ipaddress
import os
from pathlib import Path

from authenticator.server.tls import write_private

__all__ = ["render_webhook_kubeconfig", "webhook_url", "write_webhook_kubeconfig"]

_TEMPLATE = """\
clusters:
  - name: aws-iam-authenticator
    cluster:
      certificate-authority-data: {ca}
      server: {server}
users:
  - name: apiserver
current-context: webhook
contexts:
  - name: webhook
    context: {{cluster: aws-iam-authenticator, user: apiserver}}
"""


def webhook_url(hostname: str, port: int) -> str:
    """``https://<hostname>:<port>/authenticate``; an IPv6 literal goes in brackets."""
    try:
        host = f"[{hostname}]" if ipaddress.ip_address(hostname).version == 6 else hostname
    except ValueError:
        host = hostname
    return f"https://{host}:{port}/authenticate"


def render_webhook_kubeconfig(cert_pem: bytes, hostname: str, port: int) -> str:
    return _TEMPLATE.format(ca=base64.b64encode(cert_pem).decode("ascii"), server=webhook_url(hostname, port))


def write_webhook_kubeconfig(
    path: str | os.PathLike[str], cert_path: str | os.PathLike[str], hostname: str, port: int
) -> Path:
    """Write the kubeconfig (0600) trusting the certificate at ``cert_path``; returns the path."""
    target = Path(path)
    write_private(target, render_webhook_kubeconfig(Path(cert_path).read_bytes(), hostname, port).encode("utf-8"))
    return target
