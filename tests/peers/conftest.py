"""Fixtures for the peer tests: one STS peer per module (moto's state is process-global,
so it is reset before every test), an httpx client that trusts it, and a token presigner."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import httpx
import pytest

from authenticator.demo.sts_peer import StsPeer, utc_now
from tests.support.tokens import botocore_url

STS_HOST = "sts.us-east-1.amazonaws.com"
CLUSTER = "test-cluster"


class Presigner(Protocol):
    """``botocore_url`` for the peer's cluster: a presigned GetCallerIdentity URL."""

    def __call__(
        self,
        access_key_id: str,
        secret: str,
        session_token: str | None = None,
        *,
        cluster_id: str = CLUSTER,
        signed_at: datetime | None = None,
    ) -> str: ...


class CallSts(Protocol):
    """GET a presigned URL from the test's peer the way the verifier does (docs/token.md §5)."""

    def __call__(
        self, presigned_url: str, *, cluster_id: str = CLUSTER, accept_json: bool = True, host: str | None = None
    ) -> httpx.Response: ...


@pytest.fixture(scope="module")
def _peer() -> Iterator[StsPeer]:
    with StsPeer() as peer:
        yield peer


@pytest.fixture
def sts_peer(_peer: StsPeer) -> StsPeer:
    _peer.reset()
    _peer.now = utc_now  # the real clock, whatever the previous test set
    return _peer


@pytest.fixture
def sts_http(sts_peer: StsPeer) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl.create_default_context(cafile=sts_peer.ca_path), timeout=10) as client:
        yield client


@pytest.fixture
def presign() -> Presigner:
    def presign_for(
        access_key_id: str,
        secret: str,
        session_token: str | None = None,
        *,
        cluster_id: str = CLUSTER,
        signed_at: datetime | None = None,
    ) -> str:
        return botocore_url(access_key_id, secret, session_token, cluster_id=cluster_id, signed_at=signed_at)

    return presign_for


@pytest.fixture
def call_sts(sts_http: httpx.Client, sts_peer: StsPeer) -> CallSts:
    def call(
        presigned_url: str, *, cluster_id: str = CLUSTER, accept_json: bool = True, host: str | None = None
    ) -> httpx.Response:
        """Connect to the peer, keep the token's Host header and path+query, send x-k8s-aws-id."""
        parts = urlsplit(presigned_url)
        headers = {"Host": host or parts.netloc, "x-k8s-aws-id": cluster_id}
        if accept_json:
            headers["Accept"] = "application/json"
        return sts_http.get(f"{sts_peer.url}{parts.path}?{parts.query}", headers=headers, follow_redirects=False)

    return call
