"""The mapping chain's refusals, exactly (docs/mapping.md §3, §4): which kind of denial, for which
entry, with which reason; and ``server.reservedPrefixConfig`` read in both of its forms.

Written against mutation testing (docs/mutation.md): the reason and the kind reach the
TokenReview's status.error, the logs and the metrics, so a changed word is a changed contract.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from authenticator.mapping.chain import MappingChain, MappingDenied, reserved_prefixes_from_config
from authenticator.mapping.model import RoleMapping
from authenticator.mapping.sources.file import MountedFileSource
from authenticator.mapping.templates import TemplateDenied
from tests.support.identities import ACCOUNT, role_identity

NODE = {
    "rolearn": f"arn:aws:iam::{ACCOUNT}:role/node",
    "username": "system:node:{{EC2PrivateDNSName}}",
    "groups": ["system:nodes"],
}


def node_chain() -> MappingChain:
    return MappingChain([MountedFileSource(map_roles=[NODE], map_users=[], map_accounts=[], name="MountedFile")])


def denial(chain: MappingChain, session: str, lookup: Any = None) -> MappingDenied:
    with pytest.raises(MappingDenied) as raised:
        asyncio.run(chain.map(role_identity("node", session), ec2_private_dns_name=lookup))
    return raised.value


async def never_called(instance_id: str) -> str:
    raise AssertionError("no lookup for a session that is not an instance id")


def test_a_session_that_is_not_an_instance_id_is_a_template_denial_of_the_matched_entry() -> None:
    chain = node_chain()
    err = denial(chain, "i-aaaaa", never_called)
    assert (err.kind, err.reason) == ("template", "template denied: session name is not an EC2 instance id")
    assert err.match is not None and err.match.entry is not None
    assert (err.match.kind, err.match.username) == ("role", NODE["username"])


def test_an_unconfigured_ec2_lookup_is_a_template_denial_of_the_matched_entry() -> None:
    err = denial(node_chain(), "i-0123456789abcdef0")
    assert (err.kind, err.reason) == ("template", "template denied: EC2 lookup not configured")
    assert err.match is not None and (err.match.kind, err.match.username) == ("role", NODE["username"])


def test_a_denial_is_unmapped_with_no_entry_unless_it_says_otherwise() -> None:
    err = MappingDenied("identity is not mapped")
    assert (err.kind, err.match, err.reason, str(err)) == ("unmapped", None, "identity is not mapped", err.reason)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("aws:", "reservedPrefixConfig must be a list"),
        (["aws:"], "reservedPrefixConfig[0] must be a mapping"),
        ([{"usernamePrefixReserveList": ["aws:"]}], "reservedPrefixConfig[0]: unknown backendMode ''"),
        ([{"backendMode": "CRD"}, {"backendMode": " Nope "}], "reservedPrefixConfig[1]: unknown backendMode 'Nope'"),
        (
            [{"backendMode": "CRD", "usernamePrefixReserveList": "aws:"}],
            "reservedPrefixConfig[0].usernamePrefixReserveList must be a list of strings",
        ),
        (
            [{"backendMode": "CRD", "usernamePrefixReserveList": ["aws:", 1]}],
            "reservedPrefixConfig[0].usernamePrefixReserveList must be a list of strings",
        ),
    ],
)
def test_reserved_prefix_config_mistakes_say_where(config: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        reserved_prefixes_from_config(config)
    assert str(raised.value) == message


def test_reserved_prefix_config_in_map_form_may_leave_a_backend_without_a_list() -> None:
    assert reserved_prefixes_from_config({"CRD": None, "MountedFile": {"usernamePrefixReserveList": ["a:"]}}) == {
        "CRD": (),
        "MountedFile": ("a:",),
    }


def test_reserved_prefix_config_in_map_form_names_the_backend_by_its_key() -> None:
    # The key names the backend, whatever the value says.
    config = {"CRD": {"backendMode": "MountedFile", "usernamePrefixReserveList": ["a:"]}}
    assert reserved_prefixes_from_config(config) == {"CRD": ("a:",)}


def test_reserved_prefixes_of_one_backend_named_twice_add_up() -> None:
    config = [
        {"backendMode": "ConfigMap", "usernamePrefixReserveList": ["a:"]},
        {"backendMode": "CRD", "usernamePrefixReserveList": ["c:"]},
        {"backendMode": "EKSConfigMap", "usernamePrefixReserveList": ["b:"]},
    ]
    assert reserved_prefixes_from_config(config) == {"EKSConfigMap": ("a:", "b:"), "CRD": ("c:",)}


def test_an_unmapped_identity_is_denied_as_unmapped() -> None:
    chain = MappingChain([MountedFileSource(map_roles=[], map_users=[], map_accounts=[], name="MountedFile")])
    err = denial(chain, "jdoe")
    assert (err.kind, err.reason, err.match) == ("unmapped", "identity is not mapped", None)


def test_a_lookup_that_denies_is_a_template_denial_with_its_reason() -> None:
    async def denies(instance_id: str) -> str:
        raise TemplateDenied("instance not found")

    err = denial(node_chain(), "i-0123456789abcdef0", denies)
    assert (err.kind, err.reason) == ("template", "template denied: instance not found")
    assert err.match is not None and err.match.username == NODE["username"]


def test_a_lookup_that_fails_is_a_template_denial_not_an_error() -> None:
    async def fails(instance_id: str) -> str:
        raise OSError("connection reset")

    err = denial(node_chain(), "i-0123456789abcdef0", fails)
    assert (err.kind, err.reason) == ("template", "template denied: EC2 lookup failed")
    assert err.match is not None and err.match.username == NODE["username"]


def test_the_chains_own_ec2_lookup_is_used_when_map_is_given_none() -> None:
    async def lookup(instance_id: str) -> str:
        return f"ip-{instance_id}.ec2.internal"

    source = MountedFileSource(map_roles=[NODE], map_users=[], map_accounts=[], name="MountedFile")
    chain = MappingChain([source], ec2_private_dns_name=lookup)
    mapped = asyncio.run(chain.map(role_identity("node", "i-0123456789abcdef0")))
    assert mapped.username == "system:node:ip-i-0123456789abcdef0.ec2.internal"


def test_groups_may_use_the_ec2_name_too() -> None:
    async def lookup(instance_id: str) -> str:
        return "ip-10-0-0-1.ec2.internal"

    entry = {"rolearn": NODE["rolearn"], "username": "node", "groups": ["nodes:{{EC2PrivateDNSName}}"]}
    source = MountedFileSource(map_roles=[entry], map_users=[], map_accounts=[], name="MountedFile")
    mapped = asyncio.run(
        MappingChain([source]).map(role_identity("node", "i-0123456789abcdef0"), ec2_private_dns_name=lookup)
    )
    assert (mapped.username, mapped.groups) == ("node", ("nodes:ip-10-0-0-1.ec2.internal",))


def test_an_account_match_is_the_canonical_arn_unchecked_by_reserved_prefixes() -> None:
    # As the reference: mapAccounts users are their ARN, which no reserved prefix applies to.
    source = MountedFileSource(map_roles=[], map_users=[], map_accounts=[ACCOUNT], name="MountedFile")
    chain = MappingChain([source], reserved_prefixes={"MountedFile": ["arn:"]})
    mapped = asyncio.run(chain.map(role_identity("dev", "jdoe")))
    assert (mapped.username, mapped.groups, mapped.match.kind) == (f"arn:aws:iam::{ACCOUNT}:role/dev", (), "account")


def test_a_match_names_the_entry_it_came_from() -> None:
    source = MountedFileSource(map_roles=[NODE], map_users=[], map_accounts=[ACCOUNT], name="MountedFile")
    chain = MappingChain([source])
    match = chain.resolve(role_identity("node", "i-0123456789abcdef0"))
    assert match is not None and isinstance(match.entry, RoleMapping) and match.entry.rolearn == NODE["rolearn"]
    account = chain.resolve(role_identity("other", "s"))
    assert account is not None and (account.kind, account.groups, account.entry) == ("account", (), None)
