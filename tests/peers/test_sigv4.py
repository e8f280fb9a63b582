"""The peer's SigV4 query check agrees with the reference's signing vector (docs/token.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authenticator.demo._sigv4 import SigV4Error, check_scope, check_signature, parse_presigned_query, region_of_host

VECTOR_QUERY = (
    "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts%2Faws4_request"
    "&X-Amz-Date=20230428T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
    "&X-Amz-Signature=e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce"
)
SECRET = "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q"
HEADERS = {"host": "sts.us-west-2.amazonaws.com", "x-k8s-aws-id": "test-cluster"}
SIGNED_AT = datetime(2023, 4, 28, tzinfo=UTC)


def test_reference_vector_verifies() -> None:
    query = parse_presigned_query(VECTOR_QUERY)
    assert query.access_key_id == "ASIAR2TG44V6AS3ZZE7C"
    assert query.signed_headers == ("host", "x-k8s-aws-id")
    check_scope(query, host=HEADERS["host"], now=SIGNED_AT + timedelta(minutes=5))
    check_signature(query, method="GET", path="/", headers=HEADERS, secret_access_key=SECRET)


@pytest.mark.parametrize(
    "headers",
    [
        {**HEADERS, "x-k8s-aws-id": "other-cluster"},
        {**HEADERS, "host": "sts.us-west-2.amazonaws.com:443"},
    ],
)
def test_reference_vector_fails_with_other_headers(headers: dict[str, str]) -> None:
    query = parse_presigned_query(VECTOR_QUERY)
    with pytest.raises(SigV4Error) as error:
        check_signature(query, method="GET", path="/", headers=headers, secret_access_key=SECRET)
    assert error.value.code == "SignatureDoesNotMatch"


def test_region_must_match_host() -> None:
    query = parse_presigned_query(VECTOR_QUERY)
    with pytest.raises(SigV4Error):
        check_scope(query, host="sts.us-east-1.amazonaws.com", now=SIGNED_AT)


def test_missing_signature_is_refused() -> None:
    with pytest.raises(SigV4Error) as error:
        parse_presigned_query(VECTOR_QUERY.split("&X-Amz-Signature")[0])
    assert error.value.code == "MissingAuthenticationToken"


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("sts.amazonaws.com", "us-east-1"),
        ("sts.eu-west-1.amazonaws.com", "eu-west-1"),
        ("sts-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("sts.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("127.0.0.1:8443", None),
    ],
)
def test_region_of_host(host: str, region: str | None) -> None:
    assert region_of_host(host) == region
