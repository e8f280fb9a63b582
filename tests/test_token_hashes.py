"""docs/token.md: the SHA-256 names of a token (what the verification cache keys recall on) —
defined for any text a request can carry, a lone surrogate included (JSON allows "\\ud800"),
and the same whether taken by ``parse_token`` or by ``token_sha256`` (mutation testing,
docs/mutation.md)."""

from __future__ import annotations

import hashlib

from authenticator.partitions import get_partition
from authenticator.token import canonical_sha256, parse_token, token_sha256
from tests.support import tokens as tc


def test_a_lone_surrogate_is_hashed_not_an_error() -> None:
    assert token_sha256("k8s-aws-v1.\ud800") == hashlib.sha256(b"k8s-aws-v1.\xed\xa0\x80").digest()


def test_parse_token_names_the_token_as_token_sha256_does() -> None:
    token = tc.make_token(tc.NOW)
    parsed = parse_token(token, now=tc.NOW, partition=get_partition("aws"))
    assert parsed.token_sha256 == token_sha256(token) == hashlib.sha256(token.encode()).digest()


def test_a_value_with_a_raw_equals_sign_has_the_key_of_its_escaped_spelling() -> None:
    # A session token is base64: its padding may be spelled "=" or "%3D", one signed request.
    raw = "Action=GetCallerIdentity&X-Amz-Security-Token=YWJj=="
    escaped = "Action=GetCallerIdentity&X-Amz-Security-Token=YWJj%3D%3D"
    assert canonical_sha256(tc.HOST, raw) == canonical_sha256(tc.HOST, escaped)
    assert canonical_sha256(tc.HOST, raw) != canonical_sha256(
        tc.HOST, "Action=GetCallerIdentity&X-Amz-Security-Token=YWJj"
    )
