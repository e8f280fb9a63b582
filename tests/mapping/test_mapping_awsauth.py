"""The aws-auth parser: the reference's behaviours of docs/mapping.md §4, one by one, and last known good."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import cast

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from authenticator.mapping.awsauth import AwsAuthResult, decode_section, parse_aws_auth
from authenticator.mapping.manifest import ManifestError, load_configmap_manifest
from authenticator.mapping.model import RoleMapping, SSOMatcher, UserMapping
from authenticator.mapping.server_mappings import MappingConfigError, parse_server_mappings
from authenticator.mapping.yamlv2 import AwsAuthLoader

# PyYAML's stubs leave BaseResolver.resolve unannotated; it answers a tag, a str.
pyyaml_resolve = cast(
    Callable[[yaml.resolver.BaseResolver, type[yaml.Node], str, tuple[bool, bool]], str],
    yaml.resolver.BaseResolver.resolve,
)

NODE_ROLE = "arn:aws:iam::111122223333:role/eks-node"
ADMIN_ROLE = "arn:aws:iam::111122223333:role/eks-admins"
ALICE = "arn:aws:iam::111122223333:user/alice"


def block(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


ROLES = block(
    f"""
    - rolearn: {NODE_ROLE}
      username: system:node:{{{{EC2PrivateDNSName}}}}
      groups:
        - system:bootstrappers
        - system:nodes
    - rolearn: {ADMIN_ROLE}
      username: "admin:{{{{SessionName}}}}"
      groups: [eks-admins]
    """
)
USERS = block(
    f"""
    - userarn: {ALICE}
      username: alice
      groups: [devs]
    """
)


def test_sections_are_yaml_strings() -> None:
    result = parse_aws_auth({"mapRoles": ROLES, "mapUsers": USERS, "mapAccounts": '- "444455556666"\n'})
    assert result.ok
    assert result.roles == (
        RoleMapping("system:node:{{EC2PrivateDNSName}}", ("system:bootstrappers", "system:nodes"), rolearn=NODE_ROLE),
        RoleMapping("admin:{{SessionName}}", ("eks-admins",), rolearn=ADMIN_ROLE),
    )
    assert result.users == (UserMapping(ALICE, "alice", ("devs",)),)
    assert result.accounts == ("444455556666",)
    assert result.mapping_set.roles == result.roles


@pytest.mark.parametrize("blank", ["", "   \n", '""', "''", "``", ' "" \n'])
def test_blank_forms_are_an_empty_section(blank: str) -> None:
    result = parse_aws_auth({"mapRoles": blank, "mapUsers": blank, "mapAccounts": blank})
    assert result.ok
    assert (result.roles, result.users, result.accounts) == ((), (), ())


def test_absent_sections_and_absent_data_are_empty() -> None:
    assert parse_aws_auth({}).mapping_set.roles == ()
    assert parse_aws_auth(None).ok
    assert not parse_aws_auth({}).sections["mapRoles"].present


def test_top_level_keys_are_case_sensitive() -> None:
    result = parse_aws_auth({"maproles": ROLES, "MapUsers": USERS})
    assert result.roles == () and result.users == ()


def test_entry_keys_are_case_insensitive() -> None:
    roles = block(
        f"""
        - RoleArn: {NODE_ROLE}
          UserName: node
          GROUPS: [a]
        - roleARN: {ADMIN_ROLE}
          Username: admin
        """
    )
    users = f"- UserARN: {ALICE}\n  USERNAME: alice\n"
    result = parse_aws_auth({"mapRoles": roles, "mapUsers": users})
    assert [(r.rolearn, r.username, r.groups) for r in result.roles] == [
        (NODE_ROLE, "node", ("a",)),
        (ADMIN_ROLE, "admin", ()),
    ]
    assert result.users == (UserMapping(ALICE, "alice", ()),)
    assert result.sections["mapRoles"].entries[1].spellings["rolearn"] == "roleARN"


def test_keys_differing_only_by_case_the_last_in_byte_order_wins() -> None:
    # Go decodes the JSON of the entry, whose keys come out sorted: "RoleArn" < "rolearn".
    roles = f"- rolearn: {ADMIN_ROLE}\n  RoleArn: {NODE_ROLE}\n  username: x\n"
    assert parse_aws_auth({"mapRoles": roles}).roles[0].rolearn == ADMIN_ROLE


def test_unknown_keys_are_ignored() -> None:
    roles = f"- rolearn: {NODE_ROLE}\n  username: node\n  role_arn: other\n  note: hello\n"
    result = parse_aws_auth({"mapRoles": roles})
    assert result.roles == (RoleMapping("node", (), rolearn=NODE_ROLE),)
    entry = result.sections["mapRoles"].entries[0]
    assert set(entry.unknown_keys) == {"role_arn", "note"}
    assert {i.code for i in entry.issues} == {"unknown_key"}
    assert result.ok


@pytest.mark.parametrize(
    ("fragment", "expected_username", "expected_groups"),
    [
        ("username: admin\n  groups: system:masters", "admin", ()),  # the classic: a string, not a list
        ("username: 12345\n  groups: [a]", "", ("a",)),  # a number
        ("username: yes\n  groups: [a]", "", ("a",)),  # YAML 1.1 bool
        ("username: ~\n  groups: [a]", "", ("a",)),  # null: empty, no issue
        ("username: [a, b]\n  groups: {a: b}", "", ()),
    ],
)
def test_wrong_typed_field_is_emptied_and_the_entry_stays(
    fragment: str, expected_username: str, expected_groups: tuple[str, ...]
) -> None:
    result = parse_aws_auth({"mapRoles": f"- rolearn: {ADMIN_ROLE}\n  {fragment}\n"})
    assert result.ok  # not a section failure
    assert result.roles == (RoleMapping(expected_username, expected_groups, rolearn=ADMIN_ROLE),)


def test_wrong_typed_field_is_reported() -> None:
    result = parse_aws_auth({"mapRoles": f"- rolearn: {ADMIN_ROLE}\n  username: a\n  groups: system:masters\n"})
    (issue,) = result.issues
    assert (issue.code, issue.key, issue.index, issue.section) == ("wrong_type", "groups", 0, "mapRoles")


def test_non_string_group_items_are_dropped() -> None:
    result = parse_aws_auth({"mapRoles": f"- rolearn: {ADMIN_ROLE}\n  username: a\n  groups: [a, 1, null, b]\n"})
    assert result.roles[0].groups == ("a", "b")


def test_account_ids_keep_their_raw_text() -> None:
    accounts = block(
        """
        - 012345670123
        - 111122223333
        - "444455556666"
        - '777788889999'
        """
    )
    result = parse_aws_auth({"mapAccounts": accounts})
    # A YAML 1.1 int resolver would turn the first into 1402433619.
    assert result.accounts == ("012345670123", "111122223333", "444455556666", "777788889999")


def test_account_flow_list_and_null_items() -> None:
    result = parse_aws_auth({"mapAccounts": "[012345670123, ~, '111122223333']"})
    assert result.accounts == ("012345670123", "111122223333")
    assert [i.code for i in result.issues] == ["empty_account"]


@pytest.mark.parametrize(
    ("roles", "reason"),
    [
        ("- username: nobody\n  groups: [a]\n", "one of rolearn or sso"),
        (f"- rolearn: {ADMIN_ROLE}\n  sso: {{permissionSetName: A, accountID: '111122223333'}}\n", "only one"),
        ("- sso: {permissionSetName: A, accountID: '1234'}\n", "accountID"),
        ("- sso: {permissionSetName: A, accountID: 111122223333}\n", "accountID"),  # a number: emptied
        ("- sso: {permissionSetName: 'has space', accountID: '111122223333'}\n", "permissionSetName"),
        (f"- sso: {{permissionSetName: {'x' * 33}, accountID: '111122223333'}}\n", "permissionSetName"),
        ("- sso: {permissionSetName: A, accountID: '111122223333', partition: mars}\n", "partition"),
        ("- just a string\n", "not a mapping"),
        ("- rolearn: ''\n  username: a\n", "one of rolearn or sso"),
    ],
)
def test_invalid_role_entries_are_dropped_alone(roles: str, reason: str) -> None:
    # The reference (ParseMap + Validate) drops the invalid entry and keeps the rest of the section.
    text = f"- rolearn: {NODE_ROLE}\n  username: node\n{roles}"
    result = parse_aws_auth({"mapRoles": text})
    assert result.ok
    assert result.roles == (RoleMapping("node", (), rolearn=NODE_ROLE),)
    dropped = result.sections["mapRoles"].entries[1]
    assert dropped.mapping is None
    assert any(i.severity == "error" and reason in i.message for i in dropped.issues)


def test_user_entry_needs_userarn() -> None:
    result = parse_aws_auth({"mapUsers": f"- username: x\n- userarn: {ALICE}\n  username: alice\n"})
    assert result.users == (UserMapping(ALICE, "alice", ()),)
    assert result.sections["mapUsers"].entries[0].mapping is None


def test_sso_entry() -> None:
    roles = (
        "- sso:\n    PermissionSetName: Admin\n    accountid: '111122223333'\n    partition: aws-cn\n  username: s\n"
    )
    (role,) = parse_aws_auth({"mapRoles": roles}).roles
    assert role.sso == SSOMatcher("Admin", "111122223333", "aws-cn")
    (role,) = parse_aws_auth({"mapRoles": "- sso: {permissionSetName: A, accountID: '111122223333'}\n"}).roles
    assert role.sso is not None and role.sso.partition == "aws"


def test_rolearn_with_path_is_kept_and_warned() -> None:
    result = parse_aws_auth({"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/team/dev/x\n  username: x\n"})
    assert len(result.roles) == 1
    (issue,) = result.issues
    assert issue.code == "role_path" and "role/team/dev/x" in issue.message


def test_duplicate_role_arns_are_warned_on_the_winner() -> None:
    roles = f"- rolearn: {ADMIN_ROLE}\n  username: first\n- rolearn: {ADMIN_ROLE.upper()}\n  username: second\n"
    result = parse_aws_auth({"mapRoles": roles})
    assert len(result.roles) == 2  # both kept in order; the chain makes the last win
    (issue,) = result.issues
    assert (issue.code, issue.index) == ("duplicate", 1)
    assert "mapRoles[0]" in issue.message


@pytest.mark.parametrize(
    "broken",
    [
        "- rolearn: x\n  username: {{SessionName}}\n",  # unquoted template: a YAML mapping key
        "- rolearn: x\n   username: a\n",  # bad indentation
        "- rolearn: x\n\tusername: a\n",  # tab
        "rolearn: x\nusername: a\n",  # a mapping, not a list
        "just text",
        '{"rolearn": "x"}',  # JSON object
    ],
)
def test_a_broken_section_fails_whole_and_is_empty_on_first_load(broken: str) -> None:
    result = parse_aws_auth({"mapRoles": broken, "mapUsers": USERS})
    assert set(result.failed_sections) == {"mapRoles"}
    assert result.roles == ()
    assert result.users == (UserMapping(ALICE, "alice", ("devs",)),)
    assert not result.sections["mapRoles"].kept_previous


def test_section_error_has_position_and_no_source_text() -> None:
    secret_looking = "- rolearn: x\n  username: {{SessionName}}\n  note: SECRETVALUE\n"
    section = parse_aws_auth({"mapRoles": secret_looking}).sections["mapRoles"]
    assert section.error is not None and "SECRETVALUE" not in section.error
    assert section.error_line == 2


def test_section_given_as_a_list_fails() -> None:
    result = parse_aws_auth({"mapRoles": [{"rolearn": ADMIN_ROLE}], "mapAccounts": ["111122223333"]})
    assert set(result.failed_sections) == {"mapRoles", "mapAccounts"}
    assert "must be a string" in result.failed_sections["mapRoles"]


def test_map_accounts_not_a_list_fails() -> None:
    assert set(parse_aws_auth({"mapAccounts": "a: b"}).failed_sections) == {"mapAccounts"}


def test_last_known_good_per_section() -> None:
    first = parse_aws_auth({"mapRoles": ROLES, "mapUsers": USERS, "mapAccounts": "- '444455556666'"})
    new_users = f"- userarn: {ALICE}\n  username: alice2\n"
    second = parse_aws_auth({"mapRoles": "- rolearn: [", "mapUsers": new_users, "mapAccounts": "{"}, first)
    assert set(second.failed_sections) == {"mapRoles", "mapAccounts"}
    assert second.roles == first.roles
    assert second.accounts == first.accounts
    assert second.users == (UserMapping(ALICE, "alice2", ()),)
    assert second.sections["mapRoles"].kept_previous
    # Still broken on the next load: the value kept is still the last good one.
    third = parse_aws_auth({"mapRoles": "- rolearn: [", "mapUsers": new_users}, second)
    assert third.roles == first.roles
    # Fixed: applied; an absent section is deliberately empty, not last-known-good.
    fourth = parse_aws_auth({"mapRoles": f"- rolearn: {ADMIN_ROLE}\n  username: z\n"}, third)
    assert fourth.ok and [r.username for r in fourth.roles] == ["z"] and fourth.users == ()


def test_only_the_first_document_is_read() -> None:
    result = parse_aws_auth({"mapRoles": f"- rolearn: {ADMIN_ROLE}\n  username: a\n---\n- rolearn: b\n"})
    assert [r.rolearn for r in result.roles] == [ADMIN_ROLE]
    assert [i.code for i in result.issues] == ["extra_documents"]


def test_timestamps_stay_strings() -> None:
    result = parse_aws_auth({"mapRoles": f"- rolearn: {ADMIN_ROLE}\n  username: 2001-12-14\n"})
    assert result.roles[0].username == "2001-12-14"


def test_raw_entries_are_exposed_for_the_linter() -> None:
    result = parse_aws_auth({"mapRoles": ROLES})
    section = result.sections["mapRoles"]
    assert section.raw == ROLES
    assert section.decoded == [e.raw for e in section.entries]
    assert section.entries[0].raw == {
        "rolearn": NODE_ROLE,
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:bootstrappers", "system:nodes"],
    }
    node = decode_section("mapRoles", ROLES).node
    assert node is not None and node.start_mark.line == 0


MANIFEST = block(
    """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: aws-auth
      namespace: kube-system
    data:
      mapRoles: |
        - rolearn: arn:aws:iam::111122223333:role/eks-admins
          username: admin
      mapAccounts: |
        - 012345670123
    """
)


def test_load_configmap_manifest() -> None:
    data = load_configmap_manifest(MANIFEST)
    assert set(data) == {"mapRoles", "mapAccounts"}
    result = parse_aws_auth(data)
    assert result.roles[0].rolearn == ADMIN_ROLE and result.accounts == ("012345670123",)


def test_manifest_among_other_documents_and_in_a_list() -> None:
    other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {mapRoles: ''}\n"
    assert "mapRoles" in load_configmap_manifest(other + "---\n" + MANIFEST)
    as_list = "apiVersion: v1\nkind: List\nitems:\n" + textwrap.indent(
        MANIFEST.replace("apiVersion", "- apiVersion", 1), "  "
    )
    as_list = as_list.replace("  - apiVersion", "- apiVersion")
    assert "mapAccounts" in load_configmap_manifest(as_list)
    assert load_configmap_manifest("kind: ConfigMap\nmetadata: {name: aws-auth}\n") == {}


@pytest.mark.parametrize(
    "text", ["kind: Secret\nmetadata: {name: aws-auth}\n", "a: [", "", "kind: ConfigMap\ndata: [1]\n"]
)
def test_manifest_errors(text: str) -> None:
    with pytest.raises(ManifestError):
        load_configmap_manifest(text)


def test_server_config_lists() -> None:
    mappings, warnings = parse_server_mappings(
        [{"roleArn": ADMIN_ROLE, "username": "admin", "groups": ["a"]}],
        [{"userarn": ALICE, "username": "alice"}],
        ["012345670123", 111122223333],
    )
    assert mappings.roles == (RoleMapping("admin", ("a",), rolearn=ADMIN_ROLE),)
    assert mappings.users == (UserMapping(ALICE, "alice", ()),)
    assert mappings.accounts == ("012345670123", "111122223333")
    assert warnings == ()


@pytest.mark.parametrize(
    ("roles", "users", "accounts"),
    [
        ([{"username": "x"}], [], []),
        ([{"rolearn": ADMIN_ROLE, "groups": "system:masters"}], [], []),
        ([], [{"username": "x"}], []),
        ([], [], [1402433619]),  # an account a YAML loader already turned into a number
        ([], [], [{"a": 1}]),
        ("not a list", [], []),
        ([], [], 111122223333),  # a single account, not a list: an error, never a TypeError
    ],
)
def test_server_config_is_strict(roles: object, users: object, accounts: object) -> None:
    with pytest.raises(MappingConfigError):
        parse_server_mappings(roles, users, accounts)  # type: ignore[arg-type]


def test_result_type() -> None:
    assert isinstance(parse_aws_auth({}), AwsAuthResult)


def test_account_id_checks_are_anchored() -> None:
    result = parse_aws_auth({"mapRoles": '- sso: {permissionSetName: A, accountID: "111122223333\\n"}\n'})
    assert result.roles == ()


def test_recursive_and_merge_yaml_like_pyyaml() -> None:
    base = f"- &base\n  rolearn: {ADMIN_ROLE}\n  username: a\n- <<: *base\n  username: b\n"
    result = parse_aws_auth({"mapRoles": base})
    assert [(r.rolearn, r.username) for r in result.roles] == [(ADMIN_ROLE, "a"), (ADMIN_ROLE, "b")]
    assert parse_aws_auth({"mapRoles": "- &r [*r]\n"}).roles == ()


@pytest.mark.parametrize(
    ("scalar", "is_string"),
    [
        # yaml.v2 (the reference's YAML) reads these as numbers or booleans: the field is emptied.
        ("12345", False),
        ("012345670123", False),
        ("1e3", False),  # a float for yaml.v2, a string for PyYAML's YAML 1.1
        ("0o17", False),
        ("1_000", False),
        ("y", False),  # a bool for yaml.v2 only
        ("Off", False),
        (".inf", False),
        # ... and these as strings.
        ("1:20", True),  # sexagesimal int for PyYAML, a string for yaml.v2
        ("2001-12-14", True),
        ("=", True),
        ("+inf", True),
        ("1.2.3", True),
        ('"12345"', True),
    ],
)
def test_scalars_are_read_as_yaml_v2_reads_them(scalar: str, is_string: bool) -> None:
    result = parse_aws_auth({"mapRoles": f"- rolearn: {ADMIN_ROLE}\n  username: {scalar}\n"})
    assert result.ok
    assert (result.roles[0].username != "") is is_string
    assert any(i.code == "wrong_type" for i in result.issues) is not is_string


def test_key_folding_follows_go() -> None:
    # encoding/json folds the long s and the Kelvin sign onto ASCII letters when matching keys.
    roles = f"- rolearn: {ADMIN_ROLE}\n  u\u017fername: a\n  groups: [x]\n- \u212aey: 1\n  rolearn: {NODE_ROLE}\n"
    result = parse_aws_auth({"mapRoles": roles})
    assert result.roles[0].username == "a"
    assert result.sections["mapRoles"].entries[1].unknown_keys == ("\u212aey",)


def test_null_entry_is_dropped() -> None:
    result = parse_aws_auth({"mapRoles": f"-\n- rolearn: {ADMIN_ROLE}\n  username: a\n"})
    assert len(result.roles) == 1
    assert "null" in result.sections["mapRoles"].entries[0].issues[0].message


@given(st.text(max_size=12))
def test_scalars_no_implicit_type_starts_with_are_strings(value: str) -> None:
    # The loader answers "string" for these without PyYAML's lookups: PyYAML's own resolver, with
    # the same table, must agree (it would not if a wildcard or path resolver were ever added).
    loader = AwsAuthLoader("")
    string = "tag:yaml.org,2002:str"
    for implicit in ((True, False), (False, True), (False, False)):
        own = loader.resolve(yaml.ScalarNode, value, implicit)
        if implicit[0] and (not value or value[0] in AwsAuthLoader.yaml_implicit_resolvers):
            continue  # the yaml.v2 rules and PyYAML's regexps decide: the tests above cover them
        assert own == string
        assert pyyaml_resolve(loader, yaml.ScalarNode, value, implicit) == string
