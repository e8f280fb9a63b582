"""Properties of /authenticate as a public parser (the verifier's own properties are in
tests/test_token_rules.py): whatever the body or the token, the app built by ``build_app`` answers
a TokenReview with 200, 400, 403, 413 or 429, never 500; a token is allowed only if it passes every
local rule of docs/token.md; a locally rejected token never reaches STS; a denial never echoes the
token. The STS behind it is the HTTPS stand-in, answering every well-formed request (it checks
no signature). The app's clock is fixed at NOW, so the tokens never age during a run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authenticator.partitions import get_partition
from authenticator.server.composition import build_app
from authenticator.server.config import ServerConfig
from authenticator.token import PRESIGN_LIFETIME, TokenRejected, parse_token
from tests.support import tokens as tc
from tests.support.processes import review_body
from tests.support.sts_standin import ARN, StsStandIn
from tests.support.tokens import WEBHOOK_CLUSTER as CLUSTER
from tests.support.tokens import mint_token

AWS = get_partition("aws")
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
GOOD_TOKEN = mint_token(now=NOW - timedelta(minutes=1))
GOOD_URL = tc.decode(GOOD_TOKEN)
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StsStandIn]:
    with StsStandIn(tmp_path_factory.mktemp("sts")) as running:
        yield running


@pytest.fixture(scope="module")
def client(standin: StsStandIn) -> Iterator[TestClient]:
    config = ServerConfig(
        cluster_id=CLUSTER,
        sts_endpoint_override=standin.url,
        sts_ca_bundle=str(standin.ca_path),
        map_users=[{"userarn": ARN, "username": "mapped", "groups": ["devs"]}],
        sts_timeout=5,
        verification_cache_ttl=0,  # every accepted example goes to STS
    )
    app, _ = build_app(config, clock=lambda: NOW)
    with TestClient(app) as running:
        yield running


def _check_answer(response: httpx.Response, token: str | None = None) -> dict[str, Any]:
    status = response.status_code
    assert status in (200, 400, 403, 413, 429), status
    body: dict[str, Any] = response.json()
    assert body["kind"] == "TokenReview"
    assert isinstance(body["status"]["authenticated"], bool)
    assert body["status"]["authenticated"] is (status == 200)
    if token and len(token) > 24:
        assert token not in response.text
    assert "X-Amz-Signature=" not in response.text
    return body


def _locally_valid(token: str) -> bool:
    try:
        request = parse_token(token, now=NOW, partition=AWS)
    except TokenRejected:
        return False
    # docs/token.md: what passes is a GetCallerIdentity on an STS host of the partition, still fresh.
    assert request.host.startswith("sts") and request.host.endswith(".amazonaws.com")
    assert request.expires_at - request.signed_at == PRESIGN_LIFETIME
    assert "Action=GetCallerIdentity" in request.url
    return True


def _review_and_check(client: TestClient, standin: StsStandIn, token: str) -> None:
    before = standin.calls
    valid = _locally_valid(token)
    response = client.post("/authenticate", json=review_body(token))
    body = _check_answer(response, token)
    if valid:
        assert response.status_code == 200, body
        assert standin.calls == before + 1
    else:
        assert response.status_code == 403
        assert str(body["status"]["error"]).startswith("input token was not properly formatted")
        assert standin.calls == before  # never reached STS


@st.composite
def mutations(draw: st.DrawFn, base: str) -> str:
    text = base
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "duplicate", "case"]))
        chunk = draw(st.text(alphabet=st.sampled_from(list("&;=%?#@:/.+-_ Aa0\r\n\t\u00e9\x00\ud7ff")), min_size=1))
        if op == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + len(chunk) :]
        elif op == "replace":
            text = text[:pos] + chunk + text[pos + len(chunk) :]
        elif op == "truncate":
            text = text[:pos]
        elif op == "duplicate":
            text = text[:pos] + text[pos : pos + 20] + text[pos:]
        else:
            text = text[:pos] + text[pos:].swapcase()
    return text


@st.composite
def still_valid(draw: st.DrawFn, base: str) -> str:
    """``base`` changed in ways every local rule still accepts: the query's parameters in another
    order, other hex digits in the signature (only STS could tell)."""
    head, _, query = base.partition("?")
    params = draw(st.permutations(query.split("&")))
    params = [
        "X-Amz-Signature=" + draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
        if p.startswith("X-Amz-Signature=")
        else p
        for p in params
    ]
    return head + "?" + "&".join(params)


def _encode(url: str) -> str:
    return tc.encode(url.encode("utf-8", "surrogatepass"))  # hypothesis text may hold lone surrogates


def test_the_good_token_is_allowed(client: TestClient, standin: StsStandIn) -> None:
    _review_and_check(client, standin, GOOD_TOKEN)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_token_strings(client: TestClient, standin: StsStandIn, token: str) -> None:
    _review_and_check(client, standin, token)
    _review_and_check(client, standin, "k8s-aws-v1." + token)


@SETTINGS
@given(mutations(GOOD_TOKEN))
def test_mutated_tokens(client: TestClient, standin: StsStandIn, token: str) -> None:
    _review_and_check(client, standin, token)


@SETTINGS
@given(mutations(GOOD_URL))
def test_mutated_urls(client: TestClient, standin: StsStandIn, url: str) -> None:
    _review_and_check(client, standin, _encode(url))


@settings(max_examples=50, deadline=None)
@given(still_valid(GOOD_URL))
def test_changes_the_rules_allow_are_allowed(client: TestClient, standin: StsStandIn, url: str) -> None:
    token = _encode(url)
    assert _locally_valid(token)
    _review_and_check(client, standin, token)  # 200, after exactly one STS call


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "apiVersion": st.sampled_from(["authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"]) | _JSON,
            "kind": st.just("TokenReview") | _JSON,
            "spec": st.fixed_dictionaries({}, optional={"token": st.text(max_size=50) | _JSON, "audiences": _JSON})
            | _JSON,
            "metadata": _JSON,
            "status": _JSON,
        },
    )
)
def test_arbitrary_review_documents(client: TestClient, document: dict[str, object]) -> None:
    response = client.post("/authenticate", content=json.dumps(document))
    _check_answer(response)


@SETTINGS
@given(st.binary(max_size=400) | _JSON.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bodies(client: TestClient, body: bytes) -> None:
    response = client.post("/authenticate", content=body, headers={"content-type": "application/json"})
    _check_answer(response)
    assert response.status_code in (400, 403)


def test_an_oversized_body_is_413(client: TestClient) -> None:
    response = client.post("/authenticate", content=b" " * (65 * 1024))
    assert response.status_code == 413
    _check_answer(response)
