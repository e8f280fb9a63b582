"""One structured line per review, in JSON or text; never the token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from authenticator.partitions import get_partition
from authenticator.server.app import create_app
from authenticator.server.logs import configure_logging
from authenticator.server.review import Reviewer
from authenticator.verifier import TokenVerifier
from tests.support.identities import role_identity
from tests.support.mapping import FakeMapper
from tests.support.sts import FakeSTS
from tests.support.tokens import NOW, make_token, make_url


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    yield out
    for name in ("authenticator", "client_plugin", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def _post(scrubbed: tuple[str, ...] = (), mapped: bool = True) -> str:
    ident = role_identity()
    table = {ident.canonical_arn: ("admin:jdoe", ("eks-admins",))} if mapped else {}
    reviewer = Reviewer(
        verifier=TokenVerifier(sts=FakeSTS(ident), partition=get_partition("aws"), clock=lambda: NOW),
        mapper=FakeMapper(lambda i: table.get(i.canonical_arn)),
        scrubbed_accounts=scrubbed,
    )
    token = make_token()
    client = TestClient(create_app(reviewer, lambda: {}))
    client.post(
        "/authenticate",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}},
    )
    return token


def _secrets(token: str) -> list[str]:
    url = make_url()
    return [token, token.removeprefix("k8s-aws-v1.")[:40], url, url.split("X-Amz-Signature=")[1], "X-Amz-"]


def test_json_line_has_the_fields_and_no_token(stream: io.StringIO) -> None:
    configure_logging("json", "info", stream=stream)
    token = _post()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    reviews = [line for line in lines if line["logger"] == "authenticator.review"]
    assert len(reviews) == 1
    line = reviews[0]
    assert line["msg"] == "access granted"
    assert line["result"] == "success"
    assert line["canonical_arn"] == "arn:aws:iam::111122223333:role/eks-admins"
    assert line["arn"].endswith("assumed-role/eks-admins/jdoe@example.com")
    assert line["username"] == "admin:jdoe"
    assert line["groups"] == ["eks-admins"]
    assert line["sts_region"] == "us-east-1"
    assert isinstance(line["latency_ms"], float)
    assert line["level"] == "info"
    for secret in _secrets(token):
        assert secret not in stream.getvalue()


def test_denied_line_is_a_warning_with_the_reason(stream: io.StringIO) -> None:
    configure_logging("json", "info", stream=stream)
    _post(mapped=False)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert (line["level"], line["msg"], line["result"]) == ("warning", "access denied", "uknown_user")
    assert "not mapped" in line["reason"]


def test_scrubbed_account_is_not_logged(stream: io.StringIO) -> None:
    configure_logging("json", "info", stream=stream)
    _post(scrubbed=("111122223333",))
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["result"] == "success"
    assert line["scrubbed"] is True
    assert "111122223333" not in stream.getvalue()
    assert "jdoe" not in stream.getvalue()


def test_text_format(stream: io.StringIO) -> None:
    configure_logging("text", "info", stream=stream)
    token = _post()
    text = stream.getvalue()
    assert "authenticator.review: access granted" in text
    assert "result=success" in text
    assert "canonical_arn=arn:aws:iam::111122223333:role/eks-admins" in text
    assert "username=admin:jdoe" in text
    for secret in _secrets(token):
        assert secret not in text


def test_verbosity_hides_info(stream: io.StringIO) -> None:
    configure_logging("json", "warning", stream=stream)
    _post()
    assert stream.getvalue() == ""
