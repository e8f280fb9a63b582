"""The presigner at its edges (client_plugin.presign): the signing instant is UTC and whole
seconds whatever the machine's time zone, a token keeps every character of its URL, and the
reason a naive clock is refused (mutation testing, docs/mutation.md)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from authenticator.demo._sigv4 import parse_presigned_query, signature_for
from client_plugin.expiry import token_expiry
from client_plugin.presign import Signature, encode_token, presign_get_caller_identity

NOW = datetime(2026, 11, 26, 4, 0, 0, 250_000, tzinfo=UTC)


def presign(now: datetime) -> Signature:
    return presign_get_caller_identity(
        access_key_id="AKIAEXAMPLEKEY000001",
        secret_access_key="secret",
        session_token=None,
        host="sts.amazonaws.com",
        signing_region="us-east-1",
        cluster_id="c",
        now=now,
    )


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_signing_instant_is_utc_whatever_the_local_time_zone(tokyo_local_time: None) -> None:
    signature = presign(NOW.astimezone(timezone(timedelta(hours=-5))))
    assert "X-Amz-Date=20261126T040000Z" in signature.url
    assert "/20261126/us-east-1/sts/aws4_request" in signature.url.replace("%2F", "/")
    assert signature.signed_at == datetime(2026, 11, 26, 4, 0, 0, tzinfo=UTC)


def test_the_signing_instant_is_whole_seconds_and_the_token_lives_fourteen_minutes() -> None:
    signature = presign(NOW)
    assert signature.signed_at == NOW.replace(microsecond=0)
    # with long-term keys the token's expiry is the signing instant's + 14 minutes (expiry.py)
    signed = int(signature.signed_at.timestamp())
    assert token_expiry(signed, None) == int((NOW.replace(microsecond=0) + timedelta(minutes=14)).timestamp())


def test_a_naive_clock_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError) as raised:
        presign(NOW.replace(tzinfo=None))
    assert str(raised.value) == "now must be timezone-aware"


@pytest.mark.parametrize("url", ["https://sts.amazonaws.com/?a=W", "https://sts.amazonaws.com/?a=aW", "https://x/"])
def test_a_token_keeps_every_character_of_its_url(url: str) -> None:
    # base64 of the first ends in "X", of the others in other letters: only "=" padding is cut.
    body = encode_token(url).removeprefix("k8s-aws-v1.")
    assert "=" not in body
    assert base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode() == url


def test_a_cluster_id_with_runs_of_spaces_is_signed_as_sigv4_canonicalises_it() -> None:
    # The STS peer's own check (authenticator/demo/_sigv4.py) recomputes the signature from the
    # header as sent: SigV4 collapses runs of spaces in a header value.
    signature = presign_get_caller_identity(
        access_key_id="AKIAEXAMPLEKEY000001",
        secret_access_key="secret",
        session_token=None,
        host="sts.amazonaws.com",
        signing_region="us-east-1",
        cluster_id=" my   cluster ",
        now=NOW,
    )
    query = parse_presigned_query(signature.url.split("?", 1)[1])
    headers = {"host": "sts.amazonaws.com", "x-k8s-aws-id": " my   cluster "}
    expected = signature_for(query, method="GET", path="/", headers=headers, secret_access_key="secret")
    assert signature.url.endswith(f"&X-Amz-Signature={expected}")
