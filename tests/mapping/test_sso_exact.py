"""An ``sso`` entry matches its permission set's role and nothing else (docs/mapping.md §1).

The role is ``AWSReservedSSO_<permission set>_<16 hex>``: the name is exact, the suffix has a fixed
form, only roles qualify (an IAM user may carry the same name), and the server, ``aws-auth lint``
and ``aws-auth resolve`` decide it the same way.
"""

from __future__ import annotations

import pytest

from authenticator.lint.config import LintConfig
from authenticator.lint.engine import lint_text
from authenticator.lint.resolve import resolve_text
from authenticator.mapping.chain import MappingChain, MappingIndex
from authenticator.mapping.model import MappingSet, RoleMapping, SSOMatcher
from authenticator.mapping.sources.file import MountedFileSource
from tests.support.aws_auth import configmap
from tests.support.identities import role_identity, user_identity

ACCOUNT = "111122223333"
SUFFIX = "0123456789abcdef"


def sso_chain(*names: str) -> MappingChain:
    roles = [
        {"sso": {"permissionSetName": name, "accountID": ACCOUNT}, "username": f"sso-{name}:{{{{SessionName}}}}"}
        for name in names
    ]
    return MappingChain([MountedFileSource(map_roles=roles, map_users=[], map_accounts=[], name="MountedFile")])


def sso_index(*names: str) -> MappingIndex:
    return MappingIndex(MappingSet(roles=tuple(RoleMapping(n, (), sso=SSOMatcher(n, ACCOUNT)) for n in names)))


def test_a_permission_set_does_not_admit_a_longer_one_that_shares_its_prefix() -> None:
    chain = sso_chain("Dev")
    assert chain.resolve(role_identity(f"AWSReservedSSO_Dev_ReadOnly_{SUFFIX}")) is None
    assert chain.resolve(role_identity(f"AWSReservedSSO_Dev_a_b_c_{SUFFIX}")) is None
    match = chain.resolve(role_identity(f"AWSReservedSSO_Dev_{SUFFIX}"))
    assert match is not None and match.kind == "sso" and match.username == "sso-Dev:{{SessionName}}"


def test_a_longer_permission_set_does_not_admit_its_prefix() -> None:
    chain = sso_chain("Dev_ReadOnly")
    assert chain.resolve(role_identity(f"AWSReservedSSO_Dev_{SUFFIX}")) is None
    assert chain.resolve(role_identity(f"AWSReservedSSO_Dev_ReadOnly_{SUFFIX}")) is not None


def test_each_of_two_prefix_sharing_sets_gets_only_its_own_role() -> None:
    index = sso_index("Dev_ReadOnly", "Dev")  # whatever the order
    for name in ("Dev", "Dev_ReadOnly"):
        found = index.explicit(f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_{name}_{SUFFIX}")
        assert found is not None and found[1].username == name


@pytest.mark.parametrize(
    "suffix",
    [
        "",  # AWSReservedSSO_Admin_
        "x",
        "1",
        SUFFIX[:15],  # one digit short
        SUFFIX + "0",  # one digit too many
        "0123456789abcdeg",  # not hex
        "0123456789abcde_",
        "0123456789abcdef/x",
    ],
)
def test_the_suffix_is_exactly_sixteen_hex_digits(suffix: str) -> None:
    chain = sso_chain("Admin")
    assert chain.resolve(role_identity(f"AWSReservedSSO_Admin_{suffix}")) is None


def test_the_suffix_like_the_rest_of_the_arn_ignores_case() -> None:
    chain = sso_chain("Admin")
    assert chain.resolve(role_identity(f"AWSReservedSSO_Admin_{SUFFIX.upper()}")) is not None
    assert chain.resolve(role_identity(f"awsreservedsso_ADMIN_{SUFFIX}")) is not None


def test_an_iam_user_with_an_sso_role_name_is_not_matched_by_the_sso_entry() -> None:
    # "AWSReservedSSO_Admin_<16 hex>" is a legal IAM *user* name; only the role is the permission set's.
    name = f"AWSReservedSSO_Admin_{SUFFIX}"
    chain = sso_chain("Admin")
    assert chain.resolve(user_identity(name)) is None
    assert chain.resolve(user_identity(name.lower())) is None
    assert sso_index("Admin").explicit(f"arn:aws:iam::{ACCOUNT}:user/{name}") is None
    # The role of the same name still is.
    assert chain.resolve(role_identity(name)) is not None


def test_an_iam_user_with_an_sso_role_name_maps_only_through_map_users() -> None:
    name = f"AWSReservedSSO_Admin_{SUFFIX}"
    source = MountedFileSource(
        map_roles=[{"sso": {"permissionSetName": "Admin", "accountID": ACCOUNT}, "username": "sso"}],
        map_users=[{"userarn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "username": "the-user"}],
        map_accounts=[],
    )
    match = MappingChain([source]).resolve(user_identity(name))
    assert match is not None and (match.kind, match.username) == ("user", "the-user")


@pytest.mark.parametrize(
    "arn",
    [
        *(f"arn:aws:iam::{ACCOUNT}:{kind}/AWSReservedSSO_Admin_{SUFFIX}" for kind in ("group", "policy", "roles")),
        f"arn:aws:sts::{ACCOUNT}:role/AWSReservedSSO_Admin_{SUFFIX}",
        f"arn:aws:iam:us-east-1:{ACCOUNT}:role/AWSReservedSSO_Admin_{SUFFIX}",
        f"xrn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Admin_{SUFFIX}",
        f"arn:aws:iam::{ACCOUNT}:role/path/AWSReservedSSO_Admin_{SUFFIX}",
        f"arn:aws:iam::{ACCOUNT}:AWSReservedSSO_Admin_{SUFFIX}",
        f"arn:aws:iam::{ACCOUNT}",
    ],
)
def test_only_an_iam_role_arn_with_the_sso_name_is_matched(arn: str) -> None:
    index = sso_index("Admin")
    assert index.explicit(arn) is None
    assert index.explicit(f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Admin_{SUFFIX}") is not None


@pytest.mark.parametrize("name", ["A", "_", "a" * 32, "Dev_" + "x" * 28, "+=,.@-" + "0" * 26])
def test_permission_set_names_of_one_to_thirty_two_characters_match(name: str) -> None:
    chain = sso_chain(name)
    assert chain.resolve(role_identity(f"AWSReservedSSO_{name}_{SUFFIX}")) is not None
    assert chain.resolve(role_identity(f"AWSReservedSSO_{name}x_{SUFFIX}")) is None
    assert chain.resolve(role_identity(f"AWSReservedSSO_x{name}_{SUFFIX}")) is None


def test_a_one_character_set_does_not_admit_longer_names() -> None:
    chain = sso_chain("A")
    assert chain.resolve(role_identity(f"AWSReservedSSO_A_B_{SUFFIX}")) is None
    assert chain.resolve(role_identity(f"AWSReservedSSO_AB_{SUFFIX}")) is None


@pytest.mark.parametrize("name", ["", "a" * 33])
def test_permission_set_names_outside_one_to_thirty_two_characters_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="permissionSetName"):
        SSOMatcher(name, ACCOUNT)


def test_map_users_arns_match_case_insensitively() -> None:
    source = MountedFileSource(
        map_roles=[],
        map_users=[{"userarn": f"ARN:AWS:IAM::{ACCOUNT}:USER/Alice", "username": "alice"}],
        map_accounts=[],
    )
    chain = MappingChain([source])
    for name in ("alice", "Alice", "ALICE"):
        match = chain.resolve(user_identity(name))
        assert match is not None and (match.kind, match.username) == ("user", "alice")
    assert chain.resolve(user_identity("alice2")) is None
    assert chain.resolve(user_identity("alic")) is None


# -- the linter and `aws-auth resolve` decide as the server does --------------------------------

SSO_AND_ROLEARN = """\
mapRoles: |
  - sso:
      permissionSetName: Dev
      accountID: "{account}"
    username: "sso-dev:{{{{SessionName}}}}"
  - rolearn: arn:aws:iam::{account}:role/{role}
    username: "explicit:{{{{SessionName}}}}"
"""


def lint_rules(data: str) -> list[str]:
    return [f.rule for f in lint_text("aws-auth.yaml", configmap(data), LintConfig()).findings]


def test_sso_overlap_is_not_reported_for_a_set_that_merely_shares_the_prefix() -> None:
    data = SSO_AND_ROLEARN.format(account=ACCOUNT, role=f"AWSReservedSSO_Dev_ReadOnly_{SUFFIX}")
    assert "AA602" not in lint_rules(data)


def test_sso_overlap_is_reported_for_the_sets_own_role() -> None:
    data = SSO_AND_ROLEARN.format(account=ACCOUNT, role=f"AWSReservedSSO_Dev_{SUFFIX}")
    assert "AA602" in lint_rules(data)


@pytest.mark.parametrize("suffix", ["", "_", "_0123", f"_{SUFFIX}0", "_0123456789abcdeg"])
def test_sso_suffix_missing_fires_when_the_server_would_never_match(suffix: str) -> None:
    data = f'mapRoles: |\n  - rolearn: arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Admin{suffix}\n    username: "a"\n'
    assert "AA212" in lint_rules(data)


@pytest.mark.parametrize("suffix", [SUFFIX, SUFFIX.upper()])
def test_sso_suffix_missing_is_quiet_when_the_server_matches(suffix: str) -> None:
    role = f"AWSReservedSSO_Admin_{suffix}"
    data = f'mapRoles: |\n  - rolearn: arn:aws:iam::{ACCOUNT}:role/{role}\n    username: "a"\n'
    assert "AA212" not in lint_rules(data)
    # The server does match the caller's role (AWS writes the suffix lowercase) with that entry.
    source = MountedFileSource(
        map_roles=[{"rolearn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "username": "a"}], map_users=[], map_accounts=[]
    )
    assert MappingChain([source]).resolve(role_identity(f"AWSReservedSSO_Admin_{SUFFIX}")) is not None


def resolve_sso(role: str) -> tuple[bool, str | None]:
    text = configmap(
        f"""\
mapRoles: |
  - sso:
      permissionSetName: Dev
      accountID: "{ACCOUNT}"
    username: "sso-dev:{{{{SessionName}}}}"
"""
    )
    result = resolve_text("aws-auth.yaml", text, f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/jane")
    return result.mapped, result.username


def test_resolve_does_not_map_a_prefix_sharing_permission_set() -> None:
    assert resolve_sso(f"AWSReservedSSO_Dev_ReadOnly_{SUFFIX}") == (False, None)
    assert resolve_sso(f"AWSReservedSSO_Dev_{SUFFIX}") == (True, "sso-dev:jane")


def test_resolve_does_not_map_a_role_without_the_sixteen_hex_suffix() -> None:
    assert resolve_sso("AWSReservedSSO_Dev_x")[0] is False


def test_the_matcher_and_the_index_agree() -> None:
    # One parser behind both: SSOMatcher.matches is what the index looks up.
    from authenticator.mapping.model import sso_role_key

    index = sso_index("Dev", "Dev_ReadOnly")
    matchers = [SSOMatcher("Dev", ACCOUNT), SSOMatcher("Dev_ReadOnly", ACCOUNT)]
    arns = [
        f"arn:aws:iam::{ACCOUNT}:{kind}/AWSReservedSSO_{name}_{suffix}"
        for kind in ("role", "user")
        for name in ("Dev", "Dev_ReadOnly", "Dev_x", "dev")
        for suffix in (SUFFIX, SUFFIX.upper(), "x", SUFFIX[:15])
    ]
    for arn in arns:
        found = index.explicit(arn)
        covering = [m for m in matchers if m.matches(arn)]
        assert len(covering) <= 1
        if covering:
            assert found is not None and isinstance(found[1], RoleMapping) and found[1].sso == covering[0]
            assert sso_role_key(arn) == covering[0].key
        else:
            assert found is None


def test_the_matcher_ignores_case_in_every_part_of_the_arn() -> None:
    # The chain lowercases before it asks; SSOMatcher.matches is also called on the ARN as given.
    matcher = SSOMatcher("Dev_ReadOnly", ACCOUNT, "AWS-CN")
    assert matcher.matches(f"ARN:AWS-CN:IAM::{ACCOUNT}:ROLE/AWSRESERVEDSSO_DEV_READONLY_{SUFFIX.upper()}")
    assert matcher.matches(f"arn:aws-cn:iam::{ACCOUNT}:role/awsreservedsso_dev_readonly_{SUFFIX}")
    assert not matcher.matches(f"ARN:AWS-CN:IAM::{ACCOUNT}:USER/AWSRESERVEDSSO_DEV_READONLY_{SUFFIX}")
    assert not matcher.matches(f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Dev_ReadOnly_{SUFFIX}")
    assert not SSOMatcher("Dev", ACCOUNT, "aws-cn").matches(
        f"ARN:AWS-CN:IAM::{ACCOUNT}:ROLE/AWSRESERVEDSSO_DEV_READONLY_{SUFFIX}"
    )
