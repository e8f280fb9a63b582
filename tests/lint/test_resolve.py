"""aws-auth resolve: the server's mapping chain answers, the linter explains the misses."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from authenticator.lint.cli import main
from authenticator.lint.resolve import Resolution, resolve_text
from authenticator.mapping.chain import MappingChain
from authenticator.mapping.sources.file import MountedFileSource
from tests.support.aws_auth import HEADER, server_answer

CONFIGMAP = (
    HEADER
    + """\
  mapRoles: |
    - rolearn: arn:aws:iam::739275461218:role/teams/platform/admin
      username: "admin:{{SessionName}}"
      groups:
        - platform-admins
    - rolearn: arn:aws:iam::739275461218:role/eks-node-role
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes
    - rolearn: arn:aws:iam::739275461218:role/developer
      username: "dev:{{SessionName}}"
      groups:
        - developers
  mapUsers: |
    - userarn: arn:aws:iam::739275461218:user/alice
      username: alice
      groups:
        - developers
  mapAccounts: |
    - "210987654321"
"""
)


def resolve(arn: str, **kwargs: str) -> Resolution:
    return resolve_text("aws-auth.yaml", CONFIGMAP, arn, **kwargs)


def test_assumed_role_maps_with_rendered_templates() -> None:
    result = resolve("arn:aws:sts::739275461218:assumed-role/developer/jane@example.com")
    assert result.mapped
    assert result.match is not None and result.match.kind == "role"
    assert result.username == "dev:jane-example.com"
    assert result.groups == ("developers",)
    assert result.entry is not None
    assert (result.entry.section.name, result.entry.index, result.entry.span[0]) == ("mapRoles", 2, 17)


def test_role_arn_given_directly_uses_a_session() -> None:
    result = resolve("arn:aws:iam::739275461218:role/developer", session_name="bob")
    assert result.mapped and result.username == "dev:bob"
    assert result.identity.arn == "arn:aws:sts::739275461218:assumed-role/developer/bob"


def test_user_maps() -> None:
    result = resolve("arn:aws:iam::739275461218:user/alice")
    assert result.mapped and result.match is not None and result.match.kind == "user"
    assert (result.username, result.groups) == ("alice", ("developers",))


def test_account_mapping() -> None:
    result = resolve("arn:aws:sts::210987654321:assumed-role/anything/s")
    assert result.mapped and result.match is not None and result.match.kind == "account"
    assert result.username == "arn:aws:iam::210987654321:role/anything"
    assert result.groups == ()


def test_node_identity_gets_the_node_template() -> None:
    result = resolve("arn:aws:sts::739275461218:assumed-role/eks-node-role/i-0123456789abcdef0")
    assert result.mapped
    assert result.username == "system:node:<private DNS name of i-0123456789abcdef0>"


def test_unmapped_shows_the_entry_with_a_path_and_its_finding() -> None:
    result = resolve("arn:aws:sts::739275461218:assumed-role/admin/jane")
    assert not result.mapped
    assert result.reason == "identity is not mapped"
    nearest = result.nearest[0]
    assert nearest.arn == "arn:aws:iam::739275461218:role/teams/platform/admin"
    assert nearest.score == 1.0
    assert [f.rule for f in nearest.findings] == ["AA202"]


def test_role_with_path_given_directly_explains_sts() -> None:
    result = resolve("arn:aws:iam::739275461218:role/teams/platform/admin")
    assert not result.mapped
    assert result.note is not None and "STS drops the role's path" in result.note


def test_account_typo_is_nearest() -> None:
    result = resolve("arn:aws:sts::739275461219:assumed-role/developer/jane")
    assert not result.mapped
    assert result.nearest[0].arn == "arn:aws:iam::739275461218:role/developer"


def test_section_dropped_is_explained() -> None:
    broken = CONFIGMAP.replace('username: "dev:{{SessionName}}"', "username: {{SessionName}}")
    result = resolve_text("a.yaml", broken, "arn:aws:sts::739275461218:assumed-role/developer/jane")
    assert not result.mapped
    assert [f.rule for f in result.section_findings] == ["AA002"]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sts::739275461218:assumed-role/developer/jane",
        "arn:aws:iam::739275461218:user/alice",
        "arn:aws:sts::210987654321:assumed-role/x/y",
        "arn:aws:sts::739275461218:assumed-role/admin/jane",
        "arn:aws:iam::111122223333:user/nobody",
    ],
)
def test_same_answer_as_the_server_source(tmp_path: Path, arn: str) -> None:
    """resolve agrees with the server's MountedFile source + chain loading the same file."""
    manifest = tmp_path / "aws-auth.yaml"
    manifest.write_text(CONFIGMAP)
    chain = MappingChain([MountedFileSource(aws_auth_file=str(manifest))])
    expected = server_answer(chain, arn)
    result = resolve_text(str(manifest), CONFIGMAP, arn)
    assert (result.mapped, result.username, result.groups) == expected


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    path = tmp_path / "aws-auth.yaml"
    path.write_text(CONFIGMAP)
    out = io.StringIO()
    assert main(["resolve", "--arn", "arn:aws:iam::739275461218:user/alice", str(path)], stdout=out) == 0
    assert "MAPPED by user entry mapUsers[0]" in out.getvalue()
    out = io.StringIO()
    code = main(
        ["resolve", "--format", "json", "--arn", "arn:aws:sts::739275461218:assumed-role/admin/j", str(path)],
        stdout=out,
    )
    assert code == 1
    doc = json.loads(out.getvalue())
    assert doc["mapped"] is False
    assert doc["nearest"][0]["findings"][0]["rule"] == "AA202"
    err = io.StringIO()
    assert main(["resolve", "--arn", "not-an-arn", str(path)], stdout=io.StringIO(), stderr=err) == 2
    assert "not-an-arn" in err.getvalue()


def test_dynamic_file_is_all_or_nothing(tmp_path: Path) -> None:
    """One bad entry and the DynamicFile source rejects the file: resolve and lint both say so."""
    text = json.dumps(
        {
            "version": "1",
            "lastUpdatedDateTime": "1700000000",
            "mapRoles": [
                {"rolearn": "arn:aws:iam::739275461218:role/dev", "username": "dev", "groups": ["devs"]},
                {"role_arn": "arn:aws:iam::739275461218:role/ops", "username": "ops"},
            ],
        }
    )
    result = resolve_text("dyn.json", text, "arn:aws:sts::739275461218:assumed-role/dev/x")
    assert not result.mapped
    assert result.rejected and "mapRoles[1]" in result.rejected[0]
    good = text.replace('"role_arn"', '"rolearn"')
    assert resolve_text("dyn.json", good, "arn:aws:sts::739275461218:assumed-role/dev/x").mapped
