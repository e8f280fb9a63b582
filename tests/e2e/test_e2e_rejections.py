"""The rejection table of tests/support/tokens.py, replayed through ``/authenticate`` of the real app.

The app is the one ``server`` runs (``build_app``: real token rules, real STS client, real mapping
chain, the real clock), except that its STS client's transport fails the test if it is ever used:
every token in the table must be refused before anything leaves the process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from authenticator.server.composition import build_app
from authenticator.server.config import ServerConfig
from tests.support import tokens as tc
from tests.support.sts import RecordingTransport, Sent

V1 = "authentication.k8s.io/v1"
V1BETA1 = "authentication.k8s.io/v1beta1"

# Ids only: the tokens themselves are minted when the tests run (module fixture below), so that the
# table's 2-minute margins around the real clock hold however long collection took.
_IDS = [case[0] for case in tc.rejection_cases(datetime.now(UTC))]
_PARTITION_IDS = [case[0] for case in tc.partition_rejection_cases(datetime.now(UTC))]


def _refuse(sent: Sent) -> tuple[int, bytes]:
    raise AssertionError("STS was contacted for a token the local rules must refuse")


class Webhook:
    """One in-process app per partition, entered (lifespan started) on first use."""

    def __init__(self) -> None:
        self.sts = RecordingTransport(_refuse)  # records every request and refuses it: the tests assert none
        self._clients: dict[str, TestClient] = {}

    def client(self, partition: str) -> TestClient:
        if partition not in self._clients:
            app, _ = build_app(ServerConfig(cluster_id=tc.CLUSTER, partition=partition), sts_transport=self.sts)
            client = TestClient(app)
            client.__enter__()
            self._clients[partition] = client
        return self._clients[partition]

    def close(self) -> None:
        for client in self._clients.values():
            client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    try:
        yield hook
    finally:
        hook.close()


@pytest.fixture(scope="module")
def table() -> dict[str, tuple[str, str, str]]:
    """id -> (partition, token, reason), minted now."""
    now = datetime.now(UTC)
    cases = {case_id: ("aws", token, reason) for case_id, token, reason in tc.rejection_cases(now)}
    cases.update({case_id: (p, token, reason) for case_id, p, token, reason in tc.partition_rejection_cases(now)})
    return cases


def _review(api_version: str, token: str) -> dict[str, object]:
    return {"apiVersion": api_version, "kind": "TokenReview", "spec": {"token": token}}


def _assert_refused(response: httpx.Response, api_version: str, reason: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    # The TokenReview shape, field by field: nothing but the version asked for, the kind and a denial.
    assert set(body) == {"apiVersion", "kind", "status"}, body
    assert body["apiVersion"] == api_version
    assert body["kind"] == "TokenReview"
    assert set(body["status"]) == {"authenticated", "error"}, body
    assert body["status"]["authenticated"] is False
    error = body["status"]["error"]
    assert reason in error, error
    # A short reason, never a signature (a bearer credential for 15 minutes) or the token itself.
    assert len(error) <= 300, error
    assert not re.search("[0-9a-f]{64}", error), error


def test_the_table_is_big_enough() -> None:
    """The issue asks for at least 40 hostile tokens; these ids are also what the tests below run."""
    assert len(_IDS) >= 40
    assert len(set(_IDS + _PARTITION_IDS)) == len(_IDS) + len(_PARTITION_IDS)


@pytest.mark.parametrize("case_id", _IDS + _PARTITION_IDS)
def test_refused_with_its_reason_without_calling_sts(
    webhook: Webhook, table: dict[str, tuple[str, str, str]], case_id: str
) -> None:
    partition, token, reason = table[case_id]
    response = webhook.client(partition).post("/authenticate", json=_review(V1, token))
    _assert_refused(response, V1, reason)
    assert webhook.sts.sent == []


@pytest.mark.parametrize("case_id", ["cve-2022-2385-credential", "userinfo-evil-host", "expired-by-2m", "oversize"])
def test_refused_in_v1beta1_too(webhook: Webhook, table: dict[str, tuple[str, str, str]], case_id: str) -> None:
    partition, token, reason = table[case_id]
    response = webhook.client(partition).post("/authenticate", json=_review(V1BETA1, token))
    _assert_refused(response, V1BETA1, reason)
    assert webhook.sts.sent == []


def test_a_good_token_does_reach_sts() -> None:
    """Guards the table: the same app, given a well-formed token, does call STS, so 'never
    contacted' above means the local rules refused, not that STS was out of reach."""
    sts = RecordingTransport.always(403, {"Error": {"Code": "InvalidClientTokenId"}})
    app, _ = build_app(ServerConfig(cluster_id=tc.CLUSTER), sts_transport=sts)
    with TestClient(app) as client:
        response = client.post("/authenticate", json=_review(V1, tc.mint(datetime.now(UTC))))
    _assert_refused(response, V1, "InvalidClientTokenId")
    (sent,) = sts.sent
    assert sent.host == tc.HOST
    assert sent.headers["x-k8s-aws-id"] == tc.CLUSTER
