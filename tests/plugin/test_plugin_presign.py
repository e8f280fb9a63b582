"""The stdlib presigner: the reference's vector byte for byte, and the token encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from client_plugin.presign import encode_token, presign_get_caller_identity
from tests.support.plugin import decode_token

VECTOR_URL = (
    "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
    "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts%2Faws4_request"
    "&X-Amz-Date=20230428T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
    "&X-Amz-Signature=e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce"
)


def _vector(**overrides: object) -> str:
    params: dict[str, object] = {
        "access_key_id": "ASIAR2TG44V6AS3ZZE7C",
        "secret_access_key": "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q",
        "session_token": None,
        "host": "sts.us-west-2.amazonaws.com",
        "signing_region": "us-west-2",
        "cluster_id": "test-cluster",
        "now": datetime(2023, 4, 28, tzinfo=UTC),
    }
    params.update(overrides)
    return presign_get_caller_identity(**params).url  # type: ignore[arg-type]


def test_reference_signing_vector_byte_for_byte() -> None:
    assert _vector() == VECTOR_URL


def test_same_instant_in_another_zone_and_with_microseconds_signs_the_same() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert _vector(now=datetime(2023, 4, 28, 2, 0, 0, 999_999, tzinfo=plus_two)) == VECTOR_URL


def test_cluster_id_is_signed() -> None:
    assert _vector(cluster_id="other-cluster") != VECTOR_URL


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _vector(now=datetime(2023, 4, 28))


def test_session_token_is_signed_and_in_sorted_place() -> None:
    session_token = "FwoGZXIvYXdzE+/abc=="
    url = _vector(session_token=session_token)
    decoded = decode_token(encode_token(url))
    assert decoded.params["X-Amz-Security-Token"] == session_token
    assert "X-Amz-Security-Token=FwoGZXIvYXdzE%2B%2Fabc%3D%3D" in url
    assert decoded.keys_in_order == [
        "Action",
        "Version",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-Security-Token",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ]
    assert decoded.params["X-Amz-Signature"] != decode_token(encode_token(VECTOR_URL)).params["X-Amz-Signature"]


def test_token_is_prefix_plus_unpadded_base64url() -> None:
    token = encode_token(VECTOR_URL)
    assert token.startswith("k8s-aws-v1.")
    assert decode_token(token).url == VECTOR_URL
