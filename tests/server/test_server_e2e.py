"""End to end on this machine: moto as STS (signature checked), our ``server`` process, and the
kube-apiserver stand-in reading the webhook kubeconfig the server wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from authenticator.demo.apiserver import ApiServerStandIn
from authenticator.demo.sts_peer import PeerUser, StsPeer
from tests.support.processes import ServerProcess
from tests.support.tokens import botocore_token

CLUSTER = "e2e-cluster"


def _token(access_key_id: str, secret: str, session_token: str | None = None, cluster_id: str = CLUSTER) -> str:
    return botocore_token(access_key_id, secret, session_token, cluster_id=cluster_id)


@pytest.fixture(scope="module")
def peer() -> Iterator[StsPeer]:
    with StsPeer() as sts:
        yield sts


class Webhook(NamedTuple):
    server: ServerProcess
    peer: StsPeer
    alice: PeerUser
    role: str

    @property
    def kubeconfig(self) -> str:
        return str(self.server.state / "aws-iam-authenticator.kubeconfig")


@pytest.fixture
def webhook(tmp_path: Path, peer: StsPeer) -> Iterator[Webhook]:
    peer.reset()
    alice = peer.create_user("alice")
    role = peer.create_role("eks-admins")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"clusterID: {CLUSTER}\n"
        "server:\n"
        f"  stsEndpointOverride: {peer.url}\n"
        f"  stsCABundle: {peer.ca_path}\n"
        "  mapUsers:\n"
        f"    - {{userarn: '{alice.arn}', username: alice, groups: [devs]}}\n"
        "  mapRoles:\n"
        f"    - {{rolearn: '{role}', username: 'admin:{{{{SessionName}}}}', groups: [eks-admins]}}\n"
    )
    with ServerProcess(config, tmp_path / "state") as server:
        server.wait_for("serving the webhook")
        yield Webhook(server, peer, alice, role)


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_user_and_assumed_role_through_the_api_server(webhook: Webhook, version: str) -> None:
    alice = webhook.alice
    with ApiServerStandIn(webhook.kubeconfig, webhook_version=version) as apiserver:
        user = apiserver.authenticate(_token(alice.access_key_id, alice.secret_access_key))
        assert user is not None, apiserver.last_review
        assert user["username"] == "alice"
        assert user["groups"] == ["devs", "system:authenticated"]
        assert user["extra"]["canonicalArn"] == [alice.arn]

        session = webhook.peer.assume_role(alice, webhook.role, "jdoe@example.com")
        admin = apiserver.authenticate(_token(session.access_key_id, session.secret_access_key, session.session_token))
        assert admin is not None, apiserver.last_review
        assert admin["username"] == "admin:jdoe-example.com"
        assert admin["groups"] == ["eks-admins", "system:authenticated"]
        assert admin["uid"].startswith("aws-iam-authenticator:123456789012:AROA")


def test_a_token_for_another_cluster_is_refused_by_sts(webhook: Webhook) -> None:
    alice = webhook.alice
    with ApiServerStandIn(webhook.kubeconfig) as apiserver:
        token = _token(alice.access_key_id, alice.secret_access_key, cluster_id="another-cluster")
        assert apiserver.authenticate(token) is None
        assert apiserver.last_review is not None
        assert apiserver.last_review["status"]["authenticated"] is False
