"""The ``ValidatingWebhookConfiguration`` that sends aws-auth changes to the guard.

``init`` and ``server`` write it beside the webhook kubeconfig, with the URL the API server
dials and the webhook's certificate as ``caBundle``, the way they write the kubeconfig
(docs/admission.md, "Installing"). config/deploy carries the same object without the bundle.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

from authenticator.admission import PATH
from authenticator.server.kubeconfig import webhook_url
from authenticator.server.tls import write_private

__all__ = ["FILENAME", "NAME", "WEBHOOK_NAME", "guard_url", "render", "webhook_configuration", "write"]

FILENAME = "aws-auth-guard.yaml"
NAME = "eks-iam-authenticator-aws-auth"
WEBHOOK_NAME = "aws-auth.eks-iam-authenticator.io"
# The object being written on CREATE/UPDATE, the one being deleted on DELETE.
MATCH_EXPRESSION = "(request.operation == 'DELETE' ? oldObject : object).metadata.name == 'aws-auth'"


def guard_url(hostname: str, port: int) -> str:
    """``https://<hostname>:<port>/validate/aws-auth``: the kubeconfig's host, the guard's path."""
    return webhook_url(hostname, port).removesuffix("/authenticate") + PATH


def webhook_configuration(url: str, ca_pem: bytes | None = None) -> dict[str, Any]:
    """The object; ``caBundle`` only when ``ca_pem`` is given."""
    client: dict[str, Any] = {"url": url}
    if ca_pem is not None:
        client["caBundle"] = base64.b64encode(ca_pem).decode("ascii")
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": NAME},
        "webhooks": [
            {
                "name": WEBHOOK_NAME,
                "admissionReviewVersions": ["v1"],
                "clientConfig": client,
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE", "DELETE"],
                        "resources": ["configmaps"],
                        "scope": "Namespaced",
                    }
                ],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "matchConditions": [{"name": "aws-auth-only", "expression": MATCH_EXPRESSION}],
                "matchPolicy": "Equivalent",
                # A guard must never be the reason a broken cluster cannot be repaired.
                "failurePolicy": "Ignore",
                "sideEffects": "None",
                "timeoutSeconds": 5,
            }
        ],
    }


def render(cert_pem: bytes, hostname: str, port: int) -> str:
    header = "# The aws-auth guard (docs/admission.md): apply with kubectl once the webhook serves.\n"
    return header + yaml.safe_dump(webhook_configuration(guard_url(hostname, port), cert_pem), sort_keys=False)


def write(path: str | os.PathLike[str], cert_path: str | os.PathLike[str], hostname: str, port: int) -> Path:
    """Write the object trusting the certificate at ``cert_path`` (0644: nothing in it is secret)."""
    target = Path(path)
    write_private(target, render(Path(cert_path).read_bytes(), hostname, port).encode("utf-8"), mode=0o644)
    return target
