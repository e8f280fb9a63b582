"""docs/token.md §6: the identity read from a 200 GetCallerIdentity answer — a role's UserId
split into its unique id and session name whether STS names the session or the role, and the
reason a body that is not JSON is refused with (mutation testing, docs/mutation.md)."""

from __future__ import annotations

import json

import pytest

from authenticator.partitions import get_partition
from authenticator.sts import identity_from_response
from authenticator.token import PresignedRequest, RejectionKind, TokenRejected, parse_token
from tests.support import tokens as tc

ACCOUNT = "111122223333"


def request() -> PresignedRequest:
    return parse_token(tc.make_token(tc.NOW), now=tc.NOW, partition=get_partition("aws"))


def answer(arn: str, user_id: str) -> bytes:
    result = {"Arn": arn, "Account": ACCOUNT, "UserId": user_id}
    return json.dumps(
        {"GetCallerIdentityResponse": {"GetCallerIdentityResult": result, "ResponseMetadata": {"RequestId": "r-1"}}}
    ).encode()


@pytest.mark.parametrize("arn", [f"arn:aws:iam::{ACCOUNT}:role/dev", f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/jdoe"])
def test_a_roles_user_id_is_split_into_its_unique_id_and_session(arn: str) -> None:
    identity = identity_from_response(answer(arn, "AROAEXAMPLEROLEID0001:jdoe"), request())
    assert (identity.user_id, identity.session_name) == ("AROAEXAMPLEROLEID0001", "jdoe")
    assert identity.canonical_arn == f"arn:aws:iam::{ACCOUNT}:role/dev"


def test_a_role_answer_without_a_session_in_its_user_id_is_refused() -> None:
    with pytest.raises(TokenRejected) as raised:
        identity_from_response(answer(f"arn:aws:iam::{ACCOUNT}:role/dev", "AROAEXAMPLEROLEID0001"), request())
    assert "malformed UserID 'AROAEXAMPLEROLEID0001'" in raised.value.reason


def test_a_body_that_is_not_json_is_refused_with_that_reason() -> None:
    with pytest.raises(TokenRejected) as raised:
        identity_from_response(b"<GetCallerIdentityResponse/>", request())
    assert raised.value.kind is RejectionKind.STS_ERROR
    assert raised.value.reason.endswith("malformed GetCallerIdentity response: not JSON")
