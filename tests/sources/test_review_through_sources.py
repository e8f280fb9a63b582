"""A whole review, token to Kubernetes user, through each cluster source, with the moto STS peer.

token (botocore presign) -> parse_token -> STSClient against the peer -> Identity -> MappingChain
over EKSConfigMap / CRD (stand-in API server) or DynamicFile -> username and groups.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client as k8s_client

from authenticator.demo.sts_peer import StsPeer
from authenticator.identity import Identity
from authenticator.kube import Backoff
from authenticator.mapping.chain import MappingChain
from authenticator.mapping.sources.configmap import EKSConfigMapSource
from authenticator.mapping.sources.crd import CRDSource
from authenticator.mapping.sources.dynamicfile import DynamicFileSource
from authenticator.partitions import get_partition
from authenticator.sts import STSClient
from authenticator.token import parse_token
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, IAM_IDENTITY_MAPPINGS, KubeApiServer
from tests.support.tokens import botocore_token

CLUSTER = "sources-cluster"
WAIT = 10.0


@pytest.fixture(scope="module")
def peer() -> Iterator[StsPeer]:
    with StsPeer() as sts_peer:
        yield sts_peer


def token_for(key_id: str, secret: str, session_token: str | None = None) -> str:
    return botocore_token(key_id, secret, session_token, cluster_id=CLUSTER)


def verify(peer: StsPeer, token: str) -> Identity:
    presigned = parse_token(token, now=datetime.now(UTC), partition=get_partition("aws"))

    async def call() -> Identity:
        client = STSClient(cluster_id=CLUSTER, endpoint_override=peer.url, ca_bundle=peer.ca_path)
        try:
            return await client.get_caller_identity(presigned)
        finally:
            await client.aclose()

    return asyncio.run(call())


def review(chain: MappingChain, identity: Identity) -> tuple[str, tuple[str, ...]]:
    user = asyncio.run(chain.map(identity))
    return user.username, user.groups


def assumed_identity(peer: StsPeer, role_name: str, session: str) -> tuple[Identity, str]:
    peer.reset()
    alice = peer.create_user("alice")
    role_arn = peer.create_role(role_name)
    creds = peer.assume_role(alice.credentials, role_arn, session)
    identity = verify(peer, token_for(*creds))
    return identity, role_arn


def test_review_through_the_configmap_source(
    peer: StsPeer, standin: KubeApiServer, api_client: k8s_client.ApiClient
) -> None:
    identity, role_arn = assumed_identity(peer, "admins", "alice@example.com")
    assert identity.canonical_arn == role_arn
    standin.apply(
        CONFIGMAPS_KUBE_SYSTEM,
        "aws-auth",
        {"data": {"mapRoles": f"- rolearn: {role_arn}\n  username: admin:{{{{SessionName}}}}\n  groups: [ops]\n"}},
    )
    source = EKSConfigMapSource(api_client=api_client, backoff=Backoff(0.02, 0.2))
    source.start_thread()
    try:
        assert source.wait_until(lambda: source.ready, WAIT)
        assert review(MappingChain([source]), identity) == ("admin:alice-example.com", ("ops",))
    finally:
        source.stop_thread()


def test_review_through_the_crd_source(peer: StsPeer, standin: KubeApiServer, api_client: k8s_client.ApiClient) -> None:
    peer.reset()
    bob = peer.create_user("bob")
    identity = verify(peer, token_for(*bob.credentials))
    standin.apply(IAM_IDENTITY_MAPPINGS, "bob", {"spec": {"arn": bob.arn, "username": "bob", "groups": ["devs"]}})
    source = CRDSource(api_client=api_client, backoff=Backoff(0.02, 0.2))
    source.start_thread()
    try:
        assert source.wait_until(lambda: source.ready, WAIT)
        assert review(MappingChain([source]), identity) == ("bob", ("devs",))
    finally:
        source.stop_thread()


def test_review_through_the_dynamicfile_source(peer: StsPeer, tmp_path: Path) -> None:
    identity, role_arn = assumed_identity(peer, "deployers", "ci-42")
    path = tmp_path / "mappings.json"
    entry = {"rolearn": role_arn, "username": "deploy:{{SessionNameRaw}}", "groups": ["deployers"]}
    path.write_text(json.dumps({"version": "1", "mapRoles": [entry]}))
    assert review(MappingChain([DynamicFileSource(path=str(path))]), identity) == ("deploy:ci-42", ("deployers",))

    # Strict mode keys on the STS UserId the peer really returns for the role (AROA…).
    role_id = peer.client("iam").get_role(RoleName="deployers")["Role"]["RoleId"]
    assert identity.user_id == role_id
    path.write_text(json.dumps({"version": "2", "mapRoles": [entry | {"userid": role_id}]}))
    strict = DynamicFileSource(path=str(path), userid_strict=True)
    found = strict.lookup(identity)
    assert found is not None and found[1].username == "deploy:{{SessionNameRaw}}"
