"""The guard end to end with the real kubectl: ``kubectl apply`` (and ``--dry-run=server``,
``delete``, ``annotate``) against the API-server stand-in, which calls our server's guard as
kube-apiserver does, through the ValidatingWebhookConfiguration the server wrote (its URL, its
caBundle, failurePolicy Ignore). kubectl prints the denial and the warnings."""

from __future__ import annotations

import base64
import copy
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from tests.admission.conftest import ACCOUNT, ADMIN_ROLE, ADMINS, CLEAN, DEVS, NODES, configmap, requester
from tests.support.deploy import plain_kubectl
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer
from tests.support.processes import Webhook

DENIED = 'admission webhook "aws-auth.eks-iam-authenticator.io" denied the request: aws-auth refused: '
BROKEN = NODES + f"- rolearn: arn:aws:iam::{ACCOUNT}:role/team/devs\n  username: d\n  groups: [system:masters]\n"
WARNED = NODES + ADMINS.replace("eks-admins", "system:masters")


@pytest.fixture
def api(guard: Webhook) -> Iterator[KubeApiServer]:
    """A fresh stand-in whose aws-auth writes go to the guard, as the server's file configures."""
    with KubeApiServer() as standin:
        standin.register_admission(yaml.safe_load((guard.state / "aws-auth-guard.yaml").read_text()))
        yield standin


class Kubectl:
    def __init__(self, api: KubeApiServer, directory: Path) -> None:
        self.directory = directory
        self.kubeconfig = api.write_kubeconfig(directory)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [plain_kubectl(), "--kubeconfig", str(self.kubeconfig), *args]
        return subprocess.run(argv, cwd=self.directory, capture_output=True, text=True, timeout=60, check=False)

    def apply(self, obj: dict[str, Any], *flags: str) -> subprocess.CompletedProcess[str]:
        path = self.directory / "aws-auth.yaml"
        path.write_text(yaml.safe_dump(obj))
        # --validate=false: the stand-in serves no OpenAPI documents to validate against.
        return self("apply", "--validate=false", *flags, "-f", path.name)


@pytest.fixture
def kubectl(api: KubeApiServer, tmp_path: Path) -> Kubectl:
    return Kubectl(api, tmp_path)


def _stored(api: KubeApiServer) -> str | None:
    obj = api.get(CONFIGMAPS_KUBE_SYSTEM, "aws-auth")
    return None if obj is None else str(obj["data"]["mapRoles"])


@pytest.mark.parametrize("flags", [(), ("--dry-run=server",)], ids=["apply", "dry-run"])
def test_a_broken_aws_auth_is_refused_with_the_reason(kubectl: Kubectl, api: KubeApiServer, flags: tuple[str]) -> None:
    done = kubectl.apply(configmap(BROKEN), *flags)
    assert done.returncode == 1
    assert 'Error from server (Forbidden): error when creating "aws-auth.yaml": ' + DENIED in done.stderr
    assert "AA202 mapRoles 6:12 role-arn-has-path" in done.stderr
    assert "Warning: AA701 mapRoles 8:12 system-masters: " in done.stderr
    assert _stored(api) is None
    (call,) = api.admission_calls
    assert call["request"]["dryRun"] is bool(flags)


def test_a_clean_aws_auth_goes_through(kubectl: Kubectl, api: KubeApiServer) -> None:
    dry = kubectl.apply(configmap(CLEAN), "--dry-run=server")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == "configmap/aws-auth created (server dry run)"
    assert dry.stderr == ""
    assert _stored(api) is None
    done = kubectl.apply(configmap(CLEAN))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "configmap/aws-auth created"
    assert _stored(api) == CLEAN
    assert [c["request"]["operation"] for c in api.admission_calls] == ["CREATE", "CREATE"]


def test_a_broken_update_is_refused_and_the_stored_one_kept(kubectl: Kubectl, api: KubeApiServer) -> None:
    assert kubectl.apply(configmap(CLEAN)).returncode == 0
    for flags in (("--dry-run=server",), ()):
        done = kubectl.apply(configmap(BROKEN), *flags)
        assert done.returncode == 1
        assert "error when patching" in done.stderr and DENIED in done.stderr
        assert "AA202 mapRoles 6:12" in done.stderr
    assert _stored(api) == CLEAN
    assert api.admission_calls[-1]["request"]["operation"] == "UPDATE"
    assert api.admission_calls[-1]["request"]["oldObject"]["data"]["mapRoles"] == CLEAN


def test_warnings_are_printed_and_the_change_stored(kubectl: Kubectl, api: KubeApiServer) -> None:
    done = kubectl.apply(configmap(WARNED))
    assert done.returncode == 0
    assert done.stdout.strip() == "configmap/aws-auth created"
    warning = (
        "AA701 mapRoles 9:7 system-masters: system:masters bypasses RBAC and cannot be revoked by editing bindings"
    )
    assert done.stderr.splitlines() == [f"Warning: {warning}"]
    assert _stored(api) == WARNED


def test_kubectl_cannot_lock_its_own_user_out(kubectl: Kubectl, api: KubeApiServer) -> None:
    assert kubectl.apply(configmap(CLEAN)).returncode == 0
    api.user_info = requester(ADMIN_ROLE)  # what our TokenReview said about the kubectl user
    done = kubectl.apply(configmap(NODES + DEVS))
    assert done.returncode == 1
    assert "this change would remove your own access" in done.stderr
    assert _stored(api) == CLEAN


def test_delete_needs_the_annotation(kubectl: Kubectl, api: KubeApiServer) -> None:
    assert kubectl.apply(configmap(CLEAN)).returncode == 0
    refused = kubectl("delete", "configmap", "aws-auth", "-n", "kube-system")
    assert refused.returncode == 1
    assert DENIED + "deleting it removes every node's access" in refused.stderr
    assert _stored(api) == CLEAN
    annotate = kubectl(
        "annotate", "configmap", "aws-auth", "-n", "kube-system", "eks-iam-authenticator.io/allow-delete=true"
    )
    assert annotate.returncode == 0, annotate.stderr
    deleted = kubectl("delete", "configmap", "aws-auth", "-n", "kube-system")
    assert deleted.returncode == 0, deleted.stderr
    assert _stored(api) is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("broken", ["down", "wrong-ca"])
def test_a_guard_that_cannot_be_reached_fails_open(guard: Webhook, tmp_path: Path, broken: str) -> None:
    configuration = yaml.safe_load((guard.state / "aws-auth-guard.yaml").read_text())
    hook = copy.deepcopy(configuration)
    client = hook["webhooks"][0]["clientConfig"]
    if broken == "down":
        client["url"] = f"https://127.0.0.1:{_closed_port()}/validate/aws-auth"
    else:
        client["caBundle"] = base64.b64encode(trustme.CA().cert_pem.bytes()).decode()  # not the server's
    with KubeApiServer() as api:
        api.register_admission(hook)
        done = Kubectl(api, tmp_path).apply(configmap(BROKEN))
        assert done.returncode == 0, done.stderr  # failurePolicy: Ignore - stored unchecked
        assert _stored(api) == BROKEN
        assert len(api.admission_failures) == 1
