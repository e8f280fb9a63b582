"""The mapping chain: order, accounts, reserved prefixes, sso, duplicates, case (docs/mapping.md §1, §3, §4)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from authenticator.identity import Identity
from authenticator.mapping.chain import MappedUser, MappingChain, MappingDenied, MappingIndex, MappingSource
from authenticator.mapping.model import MappingSet, RoleMapping, SSOMatcher
from authenticator.mapping.sources.file import MountedFileSource
from tests.support.identities import role_identity, user_identity

ACCOUNT = "111122223333"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-admins"


def source(
    name: str = "MountedFile", *, roles: Any = None, users: Any = None, accounts: Any = None
) -> MountedFileSource:
    return MountedFileSource(map_roles=roles or [], map_users=users or [], map_accounts=accounts or [], name=name)


def run_map(
    chain: MappingChain, identity: Identity, lookup: Callable[[str], Awaitable[str]] | None = None
) -> MappedUser:
    return asyncio.run(chain.map(identity, ec2_private_dns_name=lookup))


def test_role_mapping_with_templates() -> None:
    chain = MappingChain(
        [source(roles=[{"rolearn": ADMIN_ROLE, "username": "admin:{{SessionName}}", "groups": ["a-{{AccountID}}"]}])]
    )
    mapped = run_map(chain, role_identity("eks-admins", "jdoe@example.com"))
    assert (mapped.username, mapped.groups) == ("admin:jdoe-example.com", (f"a-{ACCOUNT}",))
    assert mapped.match.kind == "role" and mapped.match.source == "MountedFile"
    assert mapped.match.username == "admin:{{SessionName}}"  # the template


def test_user_mapping() -> None:
    chain = MappingChain([source(users=[{"userarn": f"arn:aws:iam::{ACCOUNT}:user/alice", "username": "alice"}])])
    mapped = run_map(chain, user_identity("alice"))
    assert (mapped.username, mapped.groups, mapped.match.kind) == ("alice", (), "user")


def test_matching_is_case_insensitive_and_exact() -> None:
    chain = MappingChain(
        [source(roles=[{"rolearn": ADMIN_ROLE.upper().replace("ARN:AWS:IAM", "arn:aws:iam"), "username": "a"}])]
    )
    assert chain.resolve(role_identity("eks-admins")) is not None
    assert chain.resolve(role_identity("EKS-ADMINS")) is not None
    assert chain.resolve(role_identity("eks-admins-2")) is None
    assert chain.resolve(role_identity("eks-admin")) is None


def test_rolearn_with_path_never_matches() -> None:
    chain = MappingChain([source(roles=[{"rolearn": f"arn:aws:iam::{ACCOUNT}:role/team/eks-admins", "username": "a"}])])
    # STS drops the path: the assumed role's canonical ARN is role/eks-admins.
    assert chain.resolve(role_identity("eks-admins")) is None


def test_unmapped_is_denied() -> None:
    chain = MappingChain([source(roles=[{"rolearn": ADMIN_ROLE, "username": "a"}])])
    with pytest.raises(MappingDenied) as info:
        run_map(chain, role_identity("other"))
    assert info.value.kind == "unmapped"


def test_roles_before_users() -> None:
    # A role ARN listed under mapUsers too: the role entry wins.
    chain = MappingChain(
        [source(roles=[{"rolearn": ADMIN_ROLE, "username": "r"}], users=[{"userarn": ADMIN_ROLE, "username": "u"}])]
    )
    assert run_map(chain, role_identity("eks-admins")).username == "r"


def test_duplicates_last_wins() -> None:
    roles = [
        {"rolearn": ADMIN_ROLE, "username": "first"},
        {"rolearn": ADMIN_ROLE.upper().replace("ARN:AWS:IAM", "arn:aws:iam"), "username": "second"},
    ]
    chain = MappingChain([source(roles=roles)])
    assert run_map(chain, role_identity("eks-admins")).username == "second"


def test_account_mapping() -> None:
    chain = MappingChain([source(accounts=["444455556666"])])
    mapped = run_map(chain, role_identity("anything", account="444455556666"))
    assert mapped.username == "arn:aws:iam::444455556666:role/anything"
    assert mapped.groups == () and mapped.match.kind == "account" and mapped.match.entry is None
    with pytest.raises(MappingDenied):
        run_map(chain, role_identity("anything", account="044455556666"))


def test_chain_order_an_account_in_the_first_source_beats_an_explicit_mapping_in_the_second() -> None:
    first = source("MountedFile", accounts=[ACCOUNT])
    second = source("EKSConfigMap", roles=[{"rolearn": ADMIN_ROLE, "username": "admin", "groups": ["g"]}])
    mapped = run_map(MappingChain([first, second]), role_identity("eks-admins"))
    assert (mapped.username, mapped.groups, mapped.match.source) == (
        f"arn:aws:iam::{ACCOUNT}:role/eks-admins",
        (),
        "MountedFile",
    )
    # Reversed, the explicit mapping comes first.
    mapped = run_map(MappingChain([second, first]), role_identity("eks-admins"))
    assert (mapped.username, mapped.match.source) == ("admin", "EKSConfigMap")


def test_explicit_mapping_in_a_source_beats_its_own_accounts() -> None:
    chain = MappingChain([source(roles=[{"rolearn": ADMIN_ROLE, "username": "admin"}], accounts=[ACCOUNT])])
    assert run_map(chain, role_identity("eks-admins")).username == "admin"


def test_falls_through_to_the_next_source() -> None:
    first = source("MountedFile", roles=[{"rolearn": ADMIN_ROLE, "username": "admin"}])
    second = source("DynamicFile", users=[{"userarn": f"arn:aws:iam::{ACCOUNT}:user/bob", "username": "bob"}])
    mapped = run_map(MappingChain([first, second]), user_identity("bob"))
    assert (mapped.username, mapped.match.source) == ("bob", "DynamicFile")


def test_reserved_prefixes_are_per_source() -> None:
    roles = [{"rolearn": ADMIN_ROLE, "username": "system:{{SessionName}}"}]
    reserved = {"DynamicFile": ["aws:", "system:"], "MountedFile": []}
    guarded = MappingChain([source("DynamicFile", roles=roles)], reserved_prefixes=reserved)
    with pytest.raises(MappingDenied) as info:
        run_map(guarded, role_identity("eks-admins", "x"))
    assert info.value.kind == "reserved_prefix" and "system:" in info.value.reason
    open_chain = MappingChain([source("MountedFile", roles=roles)], reserved_prefixes=reserved)
    assert run_map(open_chain, role_identity("eks-admins", "x")).username == "system:x"


def test_reserved_prefix_applies_to_the_rendered_username() -> None:
    roles = [{"rolearn": ADMIN_ROLE, "username": "{{SessionName}}"}]
    chain = MappingChain([source("CRD", roles=roles)], reserved_prefixes={"CRD": ["eks:"]})
    with pytest.raises(MappingDenied):
        run_map(chain, role_identity("eks-admins", "eks:impostor"))
    assert run_map(chain, role_identity("eks-admins", "alice")).username == "alice"


def sso_source(partition: str | None = None, name: str = "Admin") -> MountedFileSource:
    sso: dict[str, str] = {"permissionSetName": name, "accountID": ACCOUNT}
    if partition:
        sso["partition"] = partition
    return source(roles=[{"sso": sso, "username": "sso:{{SessionName}}", "groups": ["admins"]}])


def test_sso_matches_the_reserved_role_with_any_suffix_case_insensitively() -> None:
    chain = MappingChain([sso_source()])
    match = chain.resolve(role_identity("AWSReservedSSO_Admin_0123456789abcdef", "jdoe"))
    assert match is not None and match.kind == "sso" and match.groups == ("admins",)
    assert chain.resolve(role_identity("awsreservedsso_admin_fedcba9876543210")) is not None
    assert chain.resolve(role_identity("AWSReservedSSO_AdminX_0123456789abcdef")) is None
    assert chain.resolve(role_identity("AWSReservedSSO_Admin")) is None
    assert chain.resolve(role_identity("AWSReservedSSO_Admin_0123456789abcdef", account="444455556666")) is None


def test_sso_partition_is_honoured() -> None:
    role = "AWSReservedSSO_Admin_0123456789abcdef"
    cn = MappingChain([sso_source("aws-cn")])
    assert cn.resolve(role_identity(role, partition="aws-cn")) is not None
    assert cn.resolve(role_identity(role, partition="aws")) is None
    default = MappingChain([sso_source()])
    assert default.resolve(role_identity(role, partition="aws-us-gov")) is None


def test_sso_permission_set_names_with_underscores_match_exactly() -> None:
    idx = MappingIndex(
        MappingSet(
            roles=(
                RoleMapping("short", (), sso=SSOMatcher("Dev", ACCOUNT)),
                RoleMapping("long", (), sso=SSOMatcher("Dev_Ops", ACCOUNT)),
            )
        )
    )
    found = idx.explicit(f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Dev_Ops_0123456789abcdef")
    assert found is not None and found[1].username == "long"
    found = idx.explicit(f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Dev_0123456789abcdef")
    assert found is not None and found[1].username == "short"


def test_explicit_rolearn_beats_sso_whatever_the_order() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Admin_0123456789abcdef"
    sso = {"sso": {"permissionSetName": "Admin", "accountID": ACCOUNT}, "username": "sso"}
    explicit = {"rolearn": arn, "username": "explicit"}
    for roles in ([sso, explicit], [explicit, sso]):
        match = MappingChain([source(roles=roles)]).resolve(role_identity("AWSReservedSSO_Admin_0123456789abcdef"))
        assert match is not None and (match.kind, match.username) == ("role", "explicit")


def test_ec2_template_uses_the_lookup() -> None:
    node = {
        "rolearn": f"arn:aws:iam::{ACCOUNT}:role/node",
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:nodes"],
    }
    chain = MappingChain([source(roles=[node])])
    calls: list[str] = []

    async def lookup(instance_id: str) -> str:
        calls.append(instance_id)
        return "ip-10-0-0-1.ec2.internal"

    mapped = run_map(chain, role_identity("node", "i-0123456789abcdef0"), lookup)
    assert mapped.username == "system:node:ip-10-0-0-1.ec2.internal" and calls == ["i-0123456789abcdef0"]
    with pytest.raises(MappingDenied, match="EC2 lookup not configured"):
        run_map(chain, role_identity("node", "i-0123456789abcdef0"))
    with pytest.raises(MappingDenied, match="instance id"):
        run_map(chain, role_identity("node", "i-aaaaa"), lookup)
    assert calls == ["i-0123456789abcdef0"]  # no lookup for a session that is not an instance id

    async def failing(instance_id: str) -> str:
        raise TimeoutError("slow")

    with pytest.raises(MappingDenied, match="EC2 lookup failed"):
        run_map(chain, role_identity("node", "i-0123456789abcdef0"), failing)


def test_index_is_built_once_per_snapshot() -> None:
    src = source(roles=[{"rolearn": ADMIN_ROLE, "username": "a"}])
    chain = MappingChain([src])
    chain.resolve(role_identity("eks-admins"))
    first = chain._indexes[0][1]
    chain.resolve(role_identity("eks-admins"))
    assert chain._indexes[0][1] is first


def test_mounted_file_source_satisfies_the_protocol() -> None:
    assert isinstance(source(), MappingSource)


def test_scrubbed_accounts_are_not_the_chains_business() -> None:
    # scrubbedAccounts changes the uid and logging in the server; the mapping itself is unchanged.
    chain = MappingChain([source(accounts=[ACCOUNT])])
    assert run_map(chain, role_identity("r")).username == f"arn:aws:iam::{ACCOUNT}:role/r"


def test_reserved_prefixes_from_config() -> None:
    from authenticator.mapping.chain import reserved_prefixes_from_config

    listed = [
        {"backendMode": "DynamicFile", "usernamePrefixReserveList": ["aws:", "system:"]},
        {"backendmode": "ConfigMap", "usernamePrefixReserveList": ["eks:", ""]},
    ]
    assert reserved_prefixes_from_config(listed) == {"DynamicFile": ("aws:", "system:"), "EKSConfigMap": ("eks:",)}
    as_map = {"CRD": {"usernamePrefixReserveList": ["iam:"]}}
    assert reserved_prefixes_from_config(as_map) == {"CRD": ("iam:",)}
    assert reserved_prefixes_from_config(None) == {}
    for bad in ([{"backendMode": "Nope"}], [{"backendMode": "CRD", "usernamePrefixReserveList": "aws:"}], "x"):
        with pytest.raises(ValueError):
            reserved_prefixes_from_config(bad)
