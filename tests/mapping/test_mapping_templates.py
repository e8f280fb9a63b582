"""The five placeholders (docs/mapping.md §2), with the reference's vectors."""

from __future__ import annotations

import pytest

from authenticator.mapping.templates import TemplateDenied, is_instance_id, needs_ec2, render
from tests.support.identities import role_identity


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a-{{AccountID}}-b", "a-123-b"),
        ("a-{{SessionName}}-b", "a-jdoe-example.com-b"),
        ("a-{{SessionNameRaw}}-b", "a-jdoe@example.com-b"),
        ("{{AccessKeyID}}", "ASIAKEY"),
        ("plain", "plain"),
        ("{{AccountID}}{{AccountID}}", "123123"),
        # Exact and case-sensitive; anything else stays literal.
        (
            "{{accountid}} {{ AccountID }} {AccountID} {{Session}}",
            "{{accountid}} {{ AccountID }} {AccountID} {{Session}}",
        ),
    ],
)
def test_reference_vectors(template: str, expected: str) -> None:
    identity = role_identity(session="jdoe@example.com", account="123", access_key_id="ASIAKEY")
    assert render(template, identity) == expected


def test_substituted_values_are_not_expanded_again() -> None:
    identity = role_identity(session="{{AccessKeyID}}", access_key_id="ASIAKEY")
    assert render("u-{{SessionNameRaw}}-{{SessionName}}", identity) == "u-{{AccessKeyID}}-{{AccessKeyID}}"
    nested = role_identity(session="{{AccountID}}@x")
    assert render("{{SessionName}}", nested) == "{{AccountID}}-x"


def test_ec2_needs_an_instance_id_session() -> None:
    with pytest.raises(TemplateDenied, match="instance id"):
        render("a-{{EC2PrivateDNSName}}-b", role_identity(session="i-aaaaa"), ec2_private_dns_name="x")


def test_ec2_without_lookup_is_denied() -> None:
    with pytest.raises(TemplateDenied, match="EC2 lookup not configured"):
        render("{{EC2PrivateDNSName}}", role_identity(session="i-0123456789abcdef0"))


def test_ec2_rendered() -> None:
    identity = role_identity(session="i-0123456789abcdef0")
    rendered = render("system:node:{{EC2PrivateDNSName}}", identity, ec2_private_dns_name="ip-10-0-0-1.ec2.internal")
    assert rendered == "system:node:ip-10-0-0-1.ec2.internal"
    assert needs_ec2("system:node:{{EC2PrivateDNSName}}") and not needs_ec2("{{SessionName}}")


@pytest.mark.parametrize(
    ("session", "ok"),
    [
        ("i-12345678", True),
        ("i-0123456789abcdef0", True),
        ("i-aaaaa", False),
        ("i-123456789", False),
        ("i-0123456789abcdef01", False),
        ("x-12345678", False),
        ("i-1234567\u00e9", False),  # Go's \w is ASCII
        ("i-12345678\n", False),
    ],
)
def test_instance_id_pattern(session: str, ok: bool) -> None:
    assert is_instance_id(session) is ok
