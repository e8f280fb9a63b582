"""The rules a mapping entry is built under (authenticator.mapping.model), with the reason each
refusal gives: every source reports it for the entry it cannot load (mutation testing,
docs/mutation.md)."""

from __future__ import annotations

from typing import Any

import pytest

from authenticator.mapping.model import RoleMapping, SSOMatcher, UserMapping

ACCOUNT = "111122223333"


def refusal(build: Any, **fields: Any) -> str:
    with pytest.raises(ValueError) as raised:
        build(**fields)
    return str(raised.value)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"account_id": "12345678901", "permission_set_name": "Dev"}, "sso.accountID must be 12 digits"),
        (
            {"account_id": ACCOUNT, "permission_set_name": "Dev/Ops"},
            r"sso.permissionSetName must match ^[\w+=,.@-]{1,32}$",
        ),
        ({"account_id": ACCOUNT, "permission_set_name": "Dev", "partition": ""}, "sso.partition must not be empty"),
    ],
)
def test_an_sso_matcher_says_which_field_is_wrong(fields: dict[str, str], reason: str) -> None:
    assert refusal(SSOMatcher, **fields) == reason


def test_a_role_mapping_needs_exactly_one_of_rolearn_or_sso() -> None:
    sso = SSOMatcher(permission_set_name="Dev", account_id=ACCOUNT)
    reason = "a role mapping needs exactly one of rolearn or sso"
    assert refusal(RoleMapping, username="u", groups=()) == reason
    assert refusal(RoleMapping, username="u", groups=(), rolearn=f"arn:aws:iam::{ACCOUNT}:role/r", sso=sso) == reason
    assert refusal(RoleMapping, username="u", groups=(), rolearn="") == "rolearn must not be empty"
    assert refusal(UserMapping, userarn="", username="u", groups=()) == "userarn must not be empty"
