"""docs/token.md §3-§4: every local rule, in order, with the reference's wording."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authenticator.partitions import get_partition
from authenticator.token import (
    MAX_TOKEN_BYTES,
    TOKEN_PREFIX,
    PresignedRequest,
    RejectionKind,
    TokenRejected,
    canonical_sha256,
    parse_token,
)
from tests.support import tokens as tc

AWS = get_partition("aws")
NOW = tc.FIXED_NOW
REJECTIONS = tc.rejection_cases(NOW)


def test_the_table_is_big_and_ids_are_unique() -> None:
    ids = [case[0] for case in REJECTIONS]
    assert len(ids) >= 45
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("token", "reason"), [c[1:] for c in REJECTIONS], ids=[c[0] for c in REJECTIONS])
def test_rejected_with_reason(token: str, reason: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        parse_token(token, now=NOW, partition=AWS)
    assert caught.value.kind is RejectionKind.INVALID_TOKEN
    assert caught.value.reason.startswith("input token was not properly formatted: ")
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


@pytest.mark.parametrize(("token", "reason"), [c[1:] for c in REJECTIONS], ids=[c[0] for c in REJECTIONS])
def test_reason_never_leaks_the_signature_or_url(token: str, reason: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        parse_token(token, now=NOW, partition=AWS)
    assert "X-Amz-Signature=" not in caught.value.reason
    assert "Action=GetCallerIdentity" not in caught.value.reason
    assert len(caught.value.reason) < 300


CROSS = tc.partition_rejection_cases(NOW)


@pytest.mark.parametrize(("partition", "token", "reason"), [c[1:] for c in CROSS], ids=[c[0] for c in CROSS])
def test_host_of_another_partition_rejected(partition: str, token: str, reason: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        parse_token(token, now=NOW, partition=get_partition(partition))
    assert reason in caught.value.reason


def test_presigner_reproduces_the_reference_vector_byte_for_byte() -> None:
    url = tc.presign_url(
        access_key=tc.VECTOR_ACCESS_KEY,
        secret_key=tc.VECTOR_SECRET_KEY,
        region="us-west-2",
        host="sts.us-west-2.amazonaws.com",
        cluster_id=tc.VECTOR_CLUSTER,
        signed_at=tc.VECTOR_SIGNED_AT,
    )
    assert url == tc.VECTOR_URL


def test_reference_vector_token_accepted_with_its_fields() -> None:
    token = tc.encode(tc.VECTOR_URL)
    assert "=" not in token
    request = parse_token(token, now=tc.VECTOR_SIGNED_AT + timedelta(minutes=3), partition=AWS)
    assert request == PresignedRequest(
        url=tc.VECTOR_URL,
        host="sts.us-west-2.amazonaws.com",
        region="us-west-2",
        access_key_id="ASIAR2TG44V6AS3ZZE7C",
        signed_at=datetime(2023, 4, 28, tzinfo=UTC),
        expires_at=datetime(2023, 4, 28, 0, 15, tzinfo=UTC),
        token_sha256=hashlib.sha256(token.encode()).digest(),
        canonical_sha256=canonical_sha256(request.host, tc.VECTOR_URL.partition("?")[2]),
    )
    assert request.signed_at.tzinfo is not None


def test_reference_vector_expires_after_15_minutes() -> None:
    token = tc.encode(tc.VECTOR_URL)
    parse_token(token, now=tc.VECTOR_SIGNED_AT + timedelta(minutes=15), partition=AWS)
    with pytest.raises(TokenRejected, match="is expired"):
        parse_token(token, now=tc.VECTOR_SIGNED_AT + timedelta(minutes=15, microseconds=1), partition=AWS)


VALID = tc.valid_cases(NOW)


@pytest.mark.parametrize(("partition", "token", "host", "region"), [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_tokens_accepted(partition: str, token: str, host: str, region: str) -> None:
    request = parse_token(token, now=NOW, partition=get_partition(partition))
    url = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :] + "==").decode()
    assert request.url == url  # the query is forwarded byte for byte
    assert request.host == host
    assert request.region == region
    assert request.access_key_id == tc.ACCESS_KEY
    assert request.expires_at - request.signed_at == timedelta(minutes=15)


def test_url_keeps_original_query_bytes_and_order() -> None:
    params = tc.base_params(NOW)
    shuffled = [params[-1], *reversed(params[:-1])]  # unusual order, lower-case key below
    shuffled = [("x-amz-date" if k == "X-Amz-Date" else k, v) for k, v in shuffled]
    url = tc.build(shuffled)
    request = parse_token(tc.encode(url), now=NOW, partition=AWS)
    assert request.url == url


def test_access_key_comes_from_the_single_credential() -> None:
    request = parse_token(tc.mint(NOW, access_key="ASIAZZZZZZZZZZZZZZZZ"), now=NOW, partition=AWS)
    assert request.access_key_id == "ASIAZZZZZZZZZZZZZZZZ"


def test_size_is_checked_first_and_in_bytes() -> None:
    # 4096 ASCII bytes is the limit itself: it fails later (base64), not on size.
    with pytest.raises(TokenRejected) as at_limit:
        parse_token(TOKEN_PREFIX + "A" * (MAX_TOKEN_BYTES - len(TOKEN_PREFIX)), now=NOW, partition=AWS)
    assert "too large" not in at_limit.value.reason
    with pytest.raises(TokenRejected, match="token is too large"):
        parse_token("\u00e9" * 2049, now=NOW, partition=AWS)


def test_rules_apply_in_order() -> None:
    # Both a bad scheme and a bad host: the scheme (rule 5) is reported.
    params = tc.base_params(NOW)
    with pytest.raises(TokenRejected, match="unexpected scheme"):
        parse_token(tc.token_of(params, scheme="http://", host="evil.com"), now=NOW, partition=AWS)
    # Duplicate and non-whitelisted: the duplicate (rule 9) is reported.
    bad = tc.add(tc.add(params, "Foo", "1"), "x-amz-date", "x")
    with pytest.raises(TokenRejected, match="duplicate query parameter"):
        parse_token(tc.token_of(bad), now=NOW, partition=AWS)
    # Expired and a bad credential: expiry (rule 17) is reported.
    old = tc.drop(tc.base_params(NOW - timedelta(hours=1)), "X-Amz-Credential")
    with pytest.raises(TokenRejected, match="expired"):
        parse_token(tc.token_of(old), now=NOW, partition=AWS)


def test_time_boundaries_to_the_microsecond() -> None:
    token = tc.mint(NOW, age=timedelta(0))
    parse_token(token, now=NOW + timedelta(minutes=15), partition=AWS)
    with pytest.raises(TokenRejected, match="is expired"):
        parse_token(token, now=NOW + timedelta(minutes=15, microseconds=1), partition=AWS)
    parse_token(token, now=NOW - timedelta(minutes=15), partition=AWS)
    with pytest.raises(TokenRejected, match="in the future"):
        parse_token(token, now=NOW - timedelta(minutes=15, microseconds=1), partition=AWS)


def test_naive_clock_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_token(tc.mint(NOW), now=NOW.replace(tzinfo=None), partition=AWS)


def test_repr_hides_the_url() -> None:
    request = parse_token(tc.mint(NOW), now=NOW, partition=AWS)
    assert "Signature" not in repr(request)
    assert "?" not in repr(request)


# Property: whatever comes in, the verifier answers with a request or a rejection.


def _parse_or_reject(token: str) -> None:
    try:
        result = parse_token(token, now=NOW, partition=AWS)
    except TokenRejected as rejected:
        assert rejected.kind is RejectionKind.INVALID_TOKEN
        assert rejected.reason
    else:
        assert isinstance(result, PresignedRequest)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=600))
def test_arbitrary_text(text: str) -> None:
    _parse_or_reject(text)
    _parse_or_reject(TOKEN_PREFIX + text)


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_arbitrary_decoded_bytes(raw: bytes) -> None:
    _parse_or_reject(tc.encode(raw))
    _parse_or_reject(tc.encode(b"https://" + tc.HOST.encode() + b"/?" + raw))


_GOOD_URL = tc.presign_url(signed_at=NOW - timedelta(minutes=1))
_GOOD_TOKEN = tc.encode(_GOOD_URL)


@st.composite
def _mutations(draw: st.DrawFn, base: str) -> str:
    text = base
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(st.text(alphabet=st.sampled_from(list("&;=%?#@:/.+-_ A\r\nz\u00e9\x00")), min_size=1, max_size=3))
        if op == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + len(chunk) :]
        else:
            text = text[:pos] + chunk + text[pos + len(chunk) :]
    return text


@settings(max_examples=400)
@given(_mutations(_GOOD_TOKEN))
def test_mutated_token(token: str) -> None:
    _parse_or_reject(token)


@settings(max_examples=400)
@given(_mutations(_GOOD_URL))
def test_mutated_url(url: str) -> None:
    _parse_or_reject(tc.encode(url))


@settings(max_examples=200)
@given(st.datetimes(timezones=st.just(UTC), min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)))
def test_any_clock(now: datetime) -> None:
    try:
        parse_token(_GOOD_TOKEN, now=now, partition=AWS)
    except TokenRejected as rejected:
        assert "expired" in rejected.reason or "future" in rejected.reason
    else:
        assert NOW - timedelta(minutes=16) <= now <= NOW + timedelta(minutes=14)


# A real peer: tokens minted by awscli's `aws eks get-token` pass every local rule.

_AWS = Path(sys.executable).with_name("aws")


@pytest.mark.parametrize(
    ("region", "env", "partition", "host"),
    [
        ("us-west-2", {}, "aws", "sts.us-west-2.amazonaws.com"),
        ("eu-west-1", {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "aws", "sts.amazonaws.com"),
        ("us-east-2", {"AWS_USE_FIPS_ENDPOINT": "true"}, "aws", "sts-fips.us-east-2.amazonaws.com"),
        ("cn-north-1", {}, "aws-cn", "sts.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", {}, "aws-us-gov", "sts.us-gov-west-1.amazonaws.com"),
    ],
)
def test_awscli_tokens_accepted(tmp_path: Path, region: str, env: dict[str, str], partition: str, host: str) -> None:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_ACCESS_KEY_ID": tc.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": tc.SECRET_KEY,
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzE/+session==",
        "AWS_EC2_METADATA_DISABLED": "true",
        **env,
    }
    before = datetime.now(UTC).replace(microsecond=0)
    result = subprocess.run(
        [str(_AWS), "eks", "get-token", "--cluster-name", "c1", "--region", region, "--output", "json"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = json.loads(result.stdout)["status"]["token"]
    request = parse_token(token, now=datetime.now(UTC), partition=get_partition(partition))
    assert request.host == host
    assert request.access_key_id == tc.ACCESS_KEY
    assert request.signed_at >= before
    assert "X-Amz-Security-Token=" in request.url


@pytest.mark.parametrize("token", ["\ud800", TOKEN_PREFIX + "\udfff" * 3, TOKEN_PREFIX + "\x00", "\u2028"])
def test_strange_strings_are_rejected_not_crashed(token: str) -> None:
    with pytest.raises(TokenRejected):
        parse_token(token, now=NOW, partition=AWS)
