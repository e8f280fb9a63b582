"""docs/mapping.md §2: when ``{{EC2PrivateDNSName}}`` cannot be filled, the reason; and an
instance with no private DNS name renders as empty, not as anything else (mutation testing,
docs/mutation.md)."""

from __future__ import annotations

import pytest

from authenticator.mapping.templates import TemplateDenied, render
from tests.support.identities import role_identity

NODE_SESSION = "i-0123456789abcdef0"


def test_a_session_that_is_not_an_instance_id_is_denied_with_that_reason() -> None:
    with pytest.raises(TemplateDenied) as raised:
        render("node:{{EC2PrivateDNSName}}", role_identity("node", "jdoe"), ec2_private_dns_name="ip-10-0-0-1")
    assert raised.value.reason == str(raised.value) == "session name is not an EC2 instance id"


def test_a_missing_lookup_is_denied_with_that_reason() -> None:
    with pytest.raises(TemplateDenied) as raised:
        render("node:{{EC2PrivateDNSName}}", role_identity("node", NODE_SESSION))
    assert raised.value.reason == "EC2 lookup not configured"


def test_an_empty_private_dns_name_renders_as_empty() -> None:
    assert render("node:{{EC2PrivateDNSName}}", role_identity("node", NODE_SESSION), ec2_private_dns_name="") == "node:"
