"""aws-auth resolve on a server config file: read by the server's own config loader, mapped by the
server's own MountedFile source, refused where the server would refuse to start."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from authenticator.lint.cli import main
from authenticator.lint.resolve import ResolveError, resolve_text
from authenticator.mapping.chain import MappingChain
from authenticator.server.composition import build_sources
from authenticator.server.config import load_config
from tests.support.aws_auth import server_answer

CONFIG = """\
clusterID: prod
server:
  mapRoles:
  - rolearn: arn:aws:iam::739275461218:role/developer
    username: "dev:{{SessionName}}"
    groups: [developers]
  - rolearn: arn:aws:iam::739275461218:role/impostor
    username: "eks:{{SessionName}}"
  mapUsers:
  - userarn: arn:aws:iam::739275461218:user/alice
    username: alice
    groups: [developers]
  mapAccounts:
  - 012345670123
  reservedPrefixConfig:
  - backendMode: MountedFile
    usernamePrefixReserveList: ["eks:"]
"""

ARNS = [
    "arn:aws:sts::739275461218:assumed-role/developer/jane",
    "arn:aws:sts::739275461218:assumed-role/impostor/jane",
    "arn:aws:iam::739275461218:user/alice",
    "arn:aws:iam::012345670123:user/bob",  # account id with a leading zero: the server reads it as written
    "arn:aws:iam::111122223333:user/nobody",
]


@pytest.mark.parametrize("arn", ARNS)
def test_same_answer_as_the_server(tmp_path: Path, arn: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    chain = MappingChain(
        build_sources(config := load_config(str(path))), reserved_prefixes=config.reserved_prefix_config
    )
    expected = server_answer(chain, arn)
    result = resolve_text(str(path), CONFIG, arn)
    assert (result.mapped, result.username, result.groups) == expected


def test_account_with_a_leading_zero_and_a_reserved_prefix() -> None:
    assert resolve_text("config.yaml", CONFIG, "arn:aws:iam::012345670123:user/bob").mapped
    denied = resolve_text("config.yaml", CONFIG, "arn:aws:sts::739275461218:assumed-role/impostor/jane")
    assert not denied.mapped and denied.reason is not None and "reserved prefix" in denied.reason


def test_without_cluster_id_as_if_given_by_the_flag() -> None:
    text = CONFIG.replace("clusterID: prod\n", "")
    assert resolve_text("config.yaml", text, "arn:aws:iam::739275461218:user/alice").username == "alice"


def test_server_config_as_one_document_of_several() -> None:
    text = "# aws-auth and the webhook's config\n---\nfoo: bar\n---\n" + CONFIG + "...\n"
    assert resolve_text("all.yaml", text, "arn:aws:iam::739275461218:user/alice").username == "alice"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  mapUsers:\n", "  mapUsers:\n  - username: x\n"), "mapUsers"),
        (("server:\n", "server:\n  partition: aws-mars\n"), "server.partition"),
        (("server:\n", "server:\n  awsAuthFile: /nonexistent/aws-auth.yaml\n"), "server.awsAuthFile: cannot read"),
        (("- backendMode: MountedFile", "- backendMode: Floppy"), "Floppy"),
    ],
)
def test_what_the_server_refuses_to_start_with(change: tuple[str, str], message: str) -> None:
    text = CONFIG.replace(*change)
    with pytest.raises(ResolveError, match=r"^the server would refuse to start: ") as raised:
        resolve_text("config.yaml", text, "arn:aws:iam::739275461218:user/alice")
    assert message in str(raised.value)


def test_cli_refusal_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.replace("server:\n", "server:\n  awsAuthFile: missing.yaml\n"))
    err = io.StringIO()
    code = main(
        ["resolve", "--arn", "arn:aws:iam::739275461218:user/alice", str(path)], stdout=io.StringIO(), stderr=err
    )
    assert code == 2
    assert err.getvalue().startswith("aws-auth: error: the server would refuse to start: server.awsAuthFile: ")
    assert err.getvalue().count("\n") == 1
