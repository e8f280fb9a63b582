"""Fixtures for the peer tests: one STS peer per module (moto's state is process-global,
so it is reset before every test), an httpx client that trusts it, and a token presigner."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from authenticator.demo.sts_peer import StsPeer, utc_now
from tests.support.tokens import botocore_url

STS_HOST = "sts.us-east-1.amazonaws.com"
CLUSTER = "test-cluster"

Presigner = Callable[..., str]


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


def _call_sts(
    client: httpx.Client,
    peer: StsPeer,
    presigned_url: str,
    *,
    cluster_id: str = CLUSTER,
    accept_json: bool = True,
    host: str | None = None,
) -> httpx.Response:
    """GET the presigned URL from the peer the way the verifier does (docs/token.md §5): connect to
    the peer, keep the token's Host header and path+query, send x-k8s-aws-id."""
    parts = urlsplit(presigned_url)
    headers = {"Host": host or parts.netloc, "x-k8s-aws-id": cluster_id}
    if accept_json:
        headers["Accept"] = "application/json"
    return client.get(f"{peer.url}{parts.path}?{parts.query}", headers=headers, follow_redirects=False)


CallSts = Callable[..., httpx.Response]


@pytest.fixture
def presign() -> Presigner:
    return functools.partial(botocore_url, cluster_id=CLUSTER)


@pytest.fixture
def call_sts(sts_http: httpx.Client, sts_peer: StsPeer) -> CallSts:
    def call(presigned_url: str, **kwargs: object) -> httpx.Response:
        return _call_sts(sts_http, sts_peer, presigned_url, **kwargs)  # type: ignore[arg-type]

    return call
