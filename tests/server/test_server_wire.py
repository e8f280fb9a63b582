"""/authenticate, /healthz, /readyz and /metrics on the wire (docs/mapping.md §5, docs/cli.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from authenticator.partitions import get_partition
from authenticator.server.app import MAX_BODY_BYTES, create_app
from authenticator.server.review import Reviewer
from authenticator.token import RejectionKind, TokenRejected
from authenticator.verifier import TokenVerifier
from tests.support.identities import role_identity, user_identity
from tests.support.mapping import FakeMapper
from tests.support.sts import FakeSTS
from tests.support.tokens import NOW, make_token

VERSIONS = ["authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"]


def _raw(doc: object) -> bytes:
    return json.dumps(doc).encode()


def _client(
    sts: FakeSTS, mapped: dict[str, tuple[str, tuple[str, ...]]], ready: dict[str, bool] | None = None
) -> TestClient:
    reviewer = Reviewer(
        verifier=TokenVerifier(sts=sts, partition=get_partition("aws"), clock=lambda: NOW),
        mapper=FakeMapper(lambda ident: mapped.get(ident.canonical_arn)),
    )
    state = ready if ready is not None else {"MountedFile": True}
    return TestClient(create_app(reviewer, lambda: state))


def _review(api_version: str, token: str, **spec: object) -> dict[str, object]:
    return {"apiVersion": api_version, "kind": "TokenReview", "spec": {"token": token, **spec}}


@pytest.mark.parametrize("api_version", VERSIONS)
def test_allowed_answer_field_by_field(api_version: str) -> None:
    ident = role_identity()
    client = _client(FakeSTS(ident), {ident.canonical_arn: ("admin:jdoe-example.com", ("eks-admins", "devs"))})
    response = client.post("/authenticate", json=_review(api_version, make_token(), audiences=["https://kubernetes"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {
        "apiVersion": api_version,
        "kind": "TokenReview",
        "status": {
            "authenticated": True,
            "user": {
                "username": "admin:jdoe-example.com",
                "uid": "aws-iam-authenticator:111122223333:AROAEXAMPLEROLEID0001",
                "groups": ["eks-admins", "devs"],
                "extra": {
                    "arn": ["arn:aws:sts::111122223333:assumed-role/eks-admins/jdoe@example.com"],
                    "canonicalArn": ["arn:aws:iam::111122223333:role/eks-admins"],
                    "sessionName": ["jdoe@example.com"],
                    "accessKeyId": ["ASIAEXAMPLEKEY000001"],
                    "principalId": ["AROAEXAMPLEROLEID0001"],
                    "sigs.k8s.io/aws-iam-authenticator/principalId": ["AROAEXAMPLEROLEID0001"],
                },
            },
        },
    }


@pytest.mark.parametrize("api_version", VERSIONS)
def test_unmapped_is_403_with_reason_and_no_user(api_version: str) -> None:
    client = _client(FakeSTS(user_identity()), {})
    response = client.post("/authenticate", json=_review(api_version, make_token()))
    assert response.status_code == 403
    body = response.json()
    assert body["apiVersion"] == api_version
    assert body["kind"] == "TokenReview"
    assert body["status"]["authenticated"] is False
    assert "user" not in body["status"]
    assert "not mapped" in body["status"]["error"]


def test_invalid_token_is_403_and_sts_never_asked() -> None:
    sts = FakeSTS(user_identity())
    client = _client(sts, {})
    response = client.post("/authenticate", json=_review(VERSIONS[0], "k8s-aws-v2.abc"))
    assert response.status_code == 403
    assert "k8s-aws-v1." in response.json()["status"]["error"]
    assert sts.calls == []


@pytest.mark.parametrize(
    ("kind", "status"),
    [(RejectionKind.STS_ERROR, 403), (RejectionKind.STS_THROTTLING, 429)],
)
def test_sts_rejections_map_to_their_status(kind: RejectionKind, status: int) -> None:
    client = _client(FakeSTS(error=TokenRejected(kind, "STS said no")), {})
    response = client.post("/authenticate", json=_review(VERSIONS[1], make_token()))
    assert response.status_code == status
    assert response.json()["status"] == {"authenticated": False, "error": "STS said no"}
    assert response.json()["apiVersion"] == VERSIONS[1]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"", "not JSON"),
        (b"[" * 60_000, "not JSON"),  # nested past any parser's depth: a 400, never a RecursionError
        (b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"TokenReview"', "not a JSON object"),
        (
            _raw({"apiVersion": VERSIONS[0], "kind": "SubjectAccessReview", "spec": {"token": "x"}}),
            "kind",
        ),
        (json.dumps({"apiVersion": "v1", "kind": "TokenReview", "spec": {"token": "x"}}).encode(), "apiVersion"),
        (json.dumps({"apiVersion": VERSIONS[0], "kind": "TokenReview", "spec": {}}).encode(), "spec.token is missing"),
        (json.dumps({"apiVersion": VERSIONS[0], "kind": "TokenReview"}).encode(), "spec is missing"),
        (json.dumps({"apiVersion": VERSIONS[0], "kind": "TokenReview", "spec": {"token": 7}}).encode(), "spec.token"),
        (json.dumps({"apiVersion": VERSIONS[0], "kind": "TokenReview", "spec": []}).encode(), "spec"),
    ],
)
def test_not_a_token_review_is_400(body: bytes, reason: str) -> None:
    sts = FakeSTS(user_identity())
    client = _client(sts, {})
    response = client.post("/authenticate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    answer = response.json()
    assert answer["kind"] == "TokenReview"
    assert answer["status"]["authenticated"] is False
    assert reason in answer["status"]["error"]
    assert sts.calls == []


def test_400_answers_in_the_version_asked() -> None:
    client = _client(FakeSTS(user_identity()), {})
    response = client.post("/authenticate", json={"apiVersion": VERSIONS[1], "kind": "TokenReview"})
    assert response.status_code == 400
    assert response.json()["apiVersion"] == VERSIONS[1]


def test_oversized_body_is_413_not_500() -> None:
    client = _client(FakeSTS(user_identity()), {})
    response = client.post("/authenticate", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json()["status"]["authenticated"] is False


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_authenticate_are_405(method: str) -> None:
    client = _client(FakeSTS(user_identity()), {})
    response = client.request(method, "/authenticate")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_authenticate_with_a_trailing_slash_is_404_as_in_the_reference() -> None:
    # The reference's ServeMux pattern "/authenticate" matches that path only.
    client = _client(FakeSTS(user_identity()), {})
    assert (
        client.post("/authenticate/", json=_review(VERSIONS[0], make_token()), follow_redirects=False).status_code
        == 404
    )


def _post_in_messages(messages: Iterator[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """POST /authenticate straight to the app, its body handed over as ``messages`` (as uvicorn
    hands over a body that arrives in pieces); what the app sent, and how many messages it read."""
    ident = user_identity()
    app = create_app(
        Reviewer(
            verifier=TokenVerifier(sts=FakeSTS(ident), partition=get_partition("aws"), clock=lambda: NOW),
            mapper=FakeMapper(lambda i: ("alice", ())),
        ),
        lambda: {},
    )
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/authenticate", "headers": [], "query_string": b""}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return sent, read


def _answer(sent: list[dict[str, Any]]) -> tuple[int, Any]:
    start, body = sent
    return start["status"], json.loads(body["body"])


def test_a_review_in_several_messages_is_read_to_the_last_one() -> None:
    raw = _raw(_review(VERSIONS[1], make_token()))
    pieces = [raw[i : i + 100] for i in range(0, len(raw), 100)]  # the token ends in the last ones
    assert len(pieces) > 5
    messages = [{"type": "http.request", "body": piece, "more_body": True} for piece in pieces]
    sent, read = _post_in_messages(iter([*messages, {"type": "http.request", "body": b"", "more_body": False}]))
    status, answer = _answer(sent)
    assert (status, answer["apiVersion"], answer["status"]["user"]["username"]) == (200, VERSIONS[1], "alice")
    assert read == len(pieces) + 1


def test_pieces_adding_up_past_the_limit_are_413_without_reading_on() -> None:
    piece: dict[str, Any] = {"type": "http.request", "body": b" " * 16384, "more_body": True}
    twice_the_limit = [piece] * (2 * MAX_BODY_BYTES // 16384)
    sent, read = _post_in_messages(iter([*twice_the_limit, {"type": "http.request", "body": b""}]))
    status, answer = _answer(sent)
    assert status == 413
    assert answer["status"] == {
        "authenticated": False,
        "error": f"malformed request: body larger than {MAX_BODY_BYTES} bytes",
    }
    assert read == MAX_BODY_BYTES // 16384 + 1


def test_a_client_gone_before_its_body_is_complete_gets_no_answer_and_no_error() -> None:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"apiVersion": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent, _ = _post_in_messages(iter(messages))
    assert sent == []


def test_healthz() -> None:
    response = _client(FakeSTS(), {}).get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


def test_readyz_503_until_every_source_loaded_then_200() -> None:
    state = {"MountedFile": True, "EKSConfigMap": False}
    client = _client(FakeSTS(), {}, ready=state)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "EKSConfigMap" in response.text
    assert "MountedFile" not in response.text
    state["EKSConfigMap"] = True
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.text == "ok"


def test_metrics_has_the_reference_names_and_counts_results() -> None:
    ident = user_identity()
    client = _client(FakeSTS(ident), {ident.canonical_arn: ("alice", ("devs",))})
    assert client.post("/authenticate", json=_review(VERSIONS[0], make_token())).status_code == 200
    assert client.post("/authenticate", content=b"nope").status_code == 400
    text = client.get("/metrics").text
    for name in (
        "aws_iam_authenticator_authenticate_latency_seconds_bucket",
        "aws_iam_authenticator_sts_connection_failures_total",
        "aws_iam_authenticator_sts_responses_total",
        "aws_iam_authenticator_sts_throttling_total",
        "aws_iam_authenticator_configmap_watch_failures_total",
        "aws_iam_authenticator_dynamicfile_failures_total",
        "aws_iam_authenticator_ec2_describe_instances_calls_total",
    ):
        assert f"# TYPE {name.removesuffix('_bucket').removesuffix('_total')}" in text or name in text, name
    assert 'aws_iam_authenticator_authenticate_latency_seconds_count{result="success"}' in text
    assert 'aws_iam_authenticator_authenticate_latency_seconds_count{result="malformed_request"}' in text


def test_readyz_names_failing_sections_but_stays_200() -> None:
    reviewer = Reviewer(
        verifier=TokenVerifier(sts=FakeSTS(), partition=get_partition("aws")), mapper=FakeMapper(lambda i: None)
    )
    failing = {"MountedFile": {"mapRoles": "YAML error at line 3 (serving the last good value)"}}
    client = TestClient(create_app(reviewer, lambda: {"MountedFile": True}, problems=lambda: failing))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.text.splitlines() == [
        "ok",
        "MountedFile mapRoles: YAML error at line 3 (serving the last good value)",
    ]
