"""docs/token.md §3: how a rejection quotes what it took from the token — escaped so that a
reason never carries a raw quote, backslash, control or non-ASCII character, and truncated
after 64 characters (mutation testing, docs/mutation.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authenticator.partitions import get_partition
from authenticator.token import TokenRejected, parse_token
from tests.support import tokens as tc

AWS = get_partition("aws")
PREFIX = "input token was not properly formatted: non-whitelisted query parameter "


def reason_for_extra_parameter(raw_key: str) -> str:
    token = tc.token_of(tc.add(tc.base_params(tc.NOW), raw_key, "x"))
    with pytest.raises(TokenRejected) as raised:
        parse_token(token, now=tc.NOW, partition=AWS)
    assert raised.value.reason.startswith(PREFIX)
    return raised.value.reason.removeprefix(PREFIX)


@pytest.mark.parametrize(
    ("raw_key", "quoted"),
    [
        ("a%22b", r'"a\"b"'),  # a double quote
        ("a%5Cb", r'"a\\b"'),  # a backslash
        ("a%0Ab", r'"a\x0ab"'),  # a control character
        ("a%C3%A9b", r'"a\xe9b"'),  # non-ASCII
        ("a%E2%80%8Bb", r'"a\u200bb"'),  # non-ASCII and not printable
        ("a%FFb", r'"a\ufffdb"'),  # not UTF-8: the replacement character
    ],
)
def test_a_quoted_parameter_name_is_escaped(raw_key: str, quoted: str) -> None:
    assert reason_for_extra_parameter(raw_key) == quoted


def test_a_name_of_64_characters_is_quoted_whole() -> None:
    assert reason_for_extra_parameter("b" * 64) == '"' + "b" * 64 + '"'


def test_a_longer_name_is_cut_after_64_characters() -> None:
    assert reason_for_extra_parameter("b" * 65) == '"' + "b" * 64 + '..."'


@pytest.mark.parametrize("raw_key", ["a;b", "a%zzb", "a%4", "a<b", ""])
def test_a_query_that_is_not_plain_ampersand_separated_escapes_says_so(raw_key: str) -> None:
    token = tc.token_of(tc.add(tc.base_params(tc.NOW), raw_key, "x"))
    with pytest.raises(TokenRejected) as raised:
        parse_token(token, now=tc.NOW, partition=AWS)
    assert raised.value.reason == "input token was not properly formatted: malformed query parameter"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://sts.amazonaws.com/?Action=Get Caller", "parse error: invalid character in URL"),
        ("sts.amazonaws.com/?Action=GetCallerIdentity", "parse error: missing protocol scheme"),
    ],
)
def test_a_url_that_does_not_parse_says_why(url: str, reason: str) -> None:
    with pytest.raises(TokenRejected) as raised:
        parse_token(tc.encode(url), now=tc.NOW, partition=AWS)
    assert raised.value.reason == "input token was not properly formatted: " + reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("AAAAA", "illegal base64 data at input byte 4"),  # a length no base64 has
        ("AB", "illegal base64 data at input byte 1"),  # unused bits set: not the canonical spelling
        ("YWJX", "parse error: missing protocol scheme"),  # canonical, ends in "X": decoded (to "abW")
    ],
)
def test_base64_is_read_strictly_and_says_where_it_fails(body: str, reason: str) -> None:
    with pytest.raises(TokenRejected) as raised:
        parse_token("k8s-aws-v1." + body, now=tc.NOW, partition=AWS)
    assert raised.value.reason == "input token was not properly formatted: " + reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "https://sts.amazonaws.comX/?Action=GetCallerIdentity",
            'unexpected hostname "sts.amazonaws.comX" in pre-signed URL',
        ),
        ("https://sts.amazonaws.com/x?Action=GetCallerIdentity", "unexpected path in pre-signed URL"),
    ],
)
def test_the_host_ends_at_the_path_and_the_path_is_slash(url: str, reason: str) -> None:
    with pytest.raises(TokenRejected) as raised:
        parse_token(tc.encode(url), now=tc.NOW, partition=AWS)
    assert raised.value.reason == "input token was not properly formatted: " + reason


def test_a_naive_clock_is_a_programming_error_with_its_reason() -> None:
    with pytest.raises(ValueError) as raised:
        parse_token(tc.make_token(tc.NOW), now=tc.NOW.replace(tzinfo=None), partition=AWS)
    assert str(raised.value) == "now must be timezone-aware"


def _without(key: str) -> str:
    return tc.token_of(tc.drop(tc.base_params(tc.NOW), key))


def _with(key: str, value: str) -> str:
    return tc.token_of(tc.replace(tc.base_params(tc.NOW), key, value))


EXACT = [
    ("k8s-aws-v1." + "A" * 5000, "token is too large"),
    (tc.encode(b"https://sts.amazonaws.com/\xff"), "parse error: invalid character in URL"),
    (
        tc.token_of(tc.add(tc.base_params(tc.NOW), "Action", "GetCallerIdentity")),
        "query parameter with multiple values not supported",
    ),
    (_with("Action", "Other"), "unexpected action parameter in pre-signed URL"),
    (_with("Version", "2012-01-01"), "unexpected version parameter in pre-signed URL"),
    (_without("X-Amz-Expires"), 'invalid X-Amz-Expires parameter in pre-signed URL: ""'),
    (_without("X-Amz-Date"), "X-Amz-Date parameter must be present in pre-signed URL"),
    (
        tc.encode(tc.presign_url(signed_at=tc.NOW - timedelta(minutes=16))),
        "X-Amz-Date parameter is expired (15 minute expiration) 2026-11-26 03:44:00 +0000 UTC",
    ),
    (
        tc.encode(tc.presign_url(signed_at=tc.NOW + timedelta(minutes=16))),
        "X-Amz-Date parameter is in the future (more than 15 minutes ahead)",
    ),
    (_without("X-Amz-Credential"), "X-Amz-Credential parameter must be present in pre-signed URL"),
    (_with("X-Amz-Credential", "bad"), "malformed X-Amz-Credential parameter in pre-signed URL"),
    (
        _with("X-Amz-Credential", dict(tc.base_params(tc.NOW))["X-Amz-Credential"].replace("20261126", "20261125")),
        "X-Amz-Credential date does not match X-Amz-Date",
    ),
    (_with("X-Amz-Algorithm", "AWS4-HMAC-SHA1"), "unexpected X-Amz-Algorithm parameter in pre-signed URL"),
    (_without("X-Amz-Signature"), "missing or malformed X-Amz-Signature parameter in pre-signed URL"),
]


@pytest.mark.parametrize(("token", "reason"), EXACT, ids=[r for _, r in EXACT])
def test_each_rule_gives_its_reason_word_for_word(token: str, reason: str) -> None:
    with pytest.raises(TokenRejected) as raised:
        parse_token(token, now=tc.NOW, partition=AWS)
    assert raised.value.reason == "input token was not properly formatted: " + reason
