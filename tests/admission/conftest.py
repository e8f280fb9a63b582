"""The aws-auth guard's tests: the real ``server`` process with the guard on, AdmissionReview
bodies as kube-apiserver sends them (admission.k8s.io/v1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import Webhook

ACCOUNT = "739275461218"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-nodes"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cluster-admins"
DEV_ROLE = f"arn:aws:iam::{ACCOUNT}:role/developers"

NODES = f"""\
- rolearn: {NODE_ROLE}
  username: system:node:{{{{EC2PrivateDNSName}}}}
  groups:
    - system:bootstrappers
    - system:nodes
"""
ADMINS = f"""\
- rolearn: {ADMIN_ROLE}
  username: admin:{{{{SessionName}}}}
  groups:
    - eks-admins
"""
DEVS = f"""\
- rolearn: {DEV_ROLE}
  username: dev:{{{{SessionName}}}}
  groups:
    - developers
"""
CLEAN = NODES + ADMINS + DEVS


def server_config(tmp: Path, **admission: object) -> Path:
    lines = ["clusterID: admission-tests", "server:", "  admission:"]
    lines += [f"    {key}: {str(value).lower()}" for key, value in admission.items()]
    path = tmp / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _serve(tmp: Path, **admission: object) -> Iterator[Webhook]:
    with Webhook(server_config(tmp, **admission), tmp / "state") as webhook:
        try:
            yield webhook
        finally:
            webhook.terminate()


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    """The server with the guard on (config file), the requester check on by default."""
    yield from _serve(tmp_path_factory.mktemp("guard"), enabled=True)


@pytest.fixture(scope="module")
def guard_without_requester_check(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    yield from _serve(tmp_path_factory.mktemp("norequester"), enabled=True, protectRequester=False)


def configmap(
    map_roles: str | None = CLEAN,
    *,
    name: str = "aws-auth",
    namespace: str = "kube-system",
    annotations: dict[str, str] | None = None,
    **data: str,
) -> dict[str, Any]:
    values = ({"mapRoles": map_roles} if map_roles is not None else {}) | data
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": values}


def requester(role_arn: str, session: str = "alice") -> dict[str, Any]:
    """userInfo as our TokenReview describes someone who assumed ``role_arn`` (review.py's extra)."""
    role = role_arn.rsplit("/", 1)[1]
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"
    return {
        "username": f"admin:{session}",
        "uid": f"aws-iam-authenticator:{ACCOUNT}:AROAEXAMPLE",
        "groups": ["eks-admins", "system:authenticated"],
        "extra": {
            "arn": [arn],
            "canonicalArn": [role_arn],
            "sessionName": [session],
            "accessKeyId": ["ASIAEXAMPLE"],
            "principalId": ["AROAEXAMPLE"],
        },
    }


def answer(webhook: Webhook, body: dict[str, Any]) -> dict[str, Any]:
    """POST the review; the HTTP status must be 200 and the answer must echo the uid."""
    response = webhook.client.post("/validate/aws-auth", json=body)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["apiVersion"] == "admission.k8s.io/v1"
    assert doc["kind"] == "AdmissionReview"
    assert doc["response"]["uid"] == body["request"]["uid"]
    result: dict[str, Any] = doc["response"]
    return result
