"""docs/token.md §6: what an ARN that names no identity is refused for (mutation testing,
docs/mutation.md): an empty last segment and the reason each refusal gives."""

from __future__ import annotations

import pytest

from authenticator.arn import canonicalize, parse_arn


@pytest.mark.parametrize(
    "arn",
    [
        # A path but no name: the last segment, not the one after the kind, must be non-empty.
        "arn:aws:sts::123456789012:federated-user/bob/",
        "arn:aws:iam::123456789012:user/path/",
        "arn:aws:iam::123456789012:role/path/",
        "arn:aws:iam::123456789012:user/a/b/",
    ],
)
def test_an_identity_arn_whose_name_is_empty_is_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="unrecognized resource"):
        canonicalize(arn)


@pytest.mark.parametrize(
    ("arn", "reason"),
    [
        ("arn:aws:iam", "is invalid: not arn:partition:service:region:account:resource"),
        ("arn:aws::::user/a", "is invalid: empty service"),
        ("arn:aws:iam::123456789012:", "is invalid: empty resource"),
    ],
)
def test_parse_arn_says_what_is_wrong(arn: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_arn(arn)
    assert str(raised.value) == f"arn {arn!r} {reason}"


@pytest.mark.parametrize(
    ("arn", "reason"),
    [
        ("arn:aws:iam:::user/a", "has no account"),
        ("arn:aws:sts::123456789012:assumed-role/r", "does not have a role and a session"),
        ("arn:aws:sts::123456789012:user/a", "unrecognized resource 'user/a' for service sts"),
        ("arn:aws:iam::123456789012:group/g", "unrecognized resource 'group/g' for service iam"),
    ],
)
def test_canonicalize_says_what_is_wrong(arn: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        canonicalize(arn)
    assert reason in str(raised.value)
