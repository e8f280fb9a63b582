"""The requester check reads what our own TokenReview says: moto as STS, our server process
answering the TokenReview of an assumed-role token (through the API-server stand-in reading the
webhook kubeconfig), and that user info - ``extra`` as review.py fills it - in the AdmissionReview
the same server's guard judges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator.demo.apiserver import ApiServerStandIn
from authenticator.demo.sts_peer import StsPeer
from tests.admission.conftest import NODES, answer, configmap
from tests.support.admission import review
from tests.support.processes import Webhook
from tests.support.tokens import botocore_token

CLUSTER = "admission-identity"


@pytest.fixture(scope="module")
def peer() -> Iterator[StsPeer]:
    with StsPeer() as sts:
        yield sts


def test_the_guard_knows_the_user_our_token_review_described(tmp_path: Path, peer: StsPeer) -> None:
    peer.reset()
    alice = peer.create_user("alice")
    role = peer.create_role("eks-admins")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"clusterID: {CLUSTER}\n"
        "server:\n"
        f"  stsEndpointOverride: {peer.url}\n"
        f"  stsCABundle: {peer.ca_path}\n"
        f"  mapRoles: [{{rolearn: '{role}', username: 'admin:{{{{SessionName}}}}', groups: [eks-admins]}}]\n"
        "  admission: {enabled: true}\n"
    )
    session = peer.assume_role(alice, role, "jdoe")
    token = botocore_token(session.access_key_id, session.secret_access_key, session.session_token, cluster_id=CLUSTER)
    with Webhook(config, tmp_path / "state") as webhook:
        with ApiServerStandIn(str(webhook.state / "aws-iam-authenticator.kubeconfig")) as apiserver:
            user = apiserver.authenticate(token)
        assert user is not None, apiserver.last_review
        assert user["username"] == "admin:jdoe"

        admins = f"- rolearn: {role}\n  username: admin:{{{{SessionName}}}}\n  groups: [eks-admins]\n"
        old = configmap(NODES + admins)
        unmapped = answer(webhook, review("UPDATE", configmap(NODES), old, user=user))
        assert unmapped["allowed"] is False
        assert (
            f"this change would remove your own access ({role} would no longer be mapped)"
            in (unmapped["status"]["message"])
        )
        # Someone the old object does not map (a cluster admin by certificate) may make the change.
        other = {"username": "kubernetes-admin", "groups": ["system:masters"]}
        assert answer(webhook, review("UPDATE", configmap(NODES), old, user=other))["allowed"] is True
        webhook.terminate()
