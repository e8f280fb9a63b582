"""IAM look-ups of the migration against moto's IAM: role paths (GetRole) and the roles of SSO
permission sets (ListRoles under /aws-reserved/sso.amazonaws.com/), through the client the command
builds (``AWS_ENDPOINT_URL_IAM``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authenticator.demo.runner import free_port
from authenticator.demo.sts_peer import StsPeer
from authenticator.errors import UserError
from authenticator.migrate.iam import SSO_ROLE_PATH, iam_client, resolve_role_arn, sso_role_arns
from tests.support.plugin import env_credentials

ACCOUNT = "123456789012"  # moto's default account
OTHER = "444455556666"
SUFFIX = "0123456789abcdef"


@pytest.fixture(scope="module")
def peer() -> Iterator[StsPeer]:
    with StsPeer(tls=False) as server:
        yield server


@pytest.fixture
def iam(peer: StsPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    peer.reset()
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in env_credentials(tmp_path, AWS_MAX_ATTEMPTS="1", AWS_ENDPOINT_URL_IAM=peer.url).items():
        monkeypatch.setenv(key, value)
    return iam_client("us-east-1", None)


def test_a_role_path_is_resolved(peer: StsPeer, iam: Any) -> None:
    full = peer.create_role("deployer", path="/team/platform/")
    assert full == f"arn:aws:iam::{ACCOUNT}:role/team/platform/deployer"
    assert resolve_role_arn(iam, f"arn:aws:iam::{ACCOUNT}:role/deployer") == full
    # a wrong path is corrected, too
    assert resolve_role_arn(iam, f"arn:aws:iam::{ACCOUNT}:role/other/deployer") == full


def test_a_role_without_a_path_stays_as_it_is(peer: StsPeer, iam: Any) -> None:
    arn = peer.create_role("admin")
    assert resolve_role_arn(iam, arn) == arn == f"arn:aws:iam::{ACCOUNT}:role/admin"


def test_a_role_iam_does_not_know_is_none(peer: StsPeer, iam: Any) -> None:
    assert resolve_role_arn(iam, f"arn:aws:iam::{ACCOUNT}:role/ghost") is None
    # another account's role is not visible through this account's IAM, even with a name in common
    peer.create_role("admin")
    assert resolve_role_arn(iam, f"arn:aws:iam::{OTHER}:role/admin") is None


def test_a_user_arn_already_has_its_path(iam: Any) -> None:
    user = f"arn:aws:iam::{ACCOUNT}:user/people/alice"
    assert resolve_role_arn(iam, user) == user


@pytest.mark.parametrize(
    "arn", [f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/s", "admin", f"arn:aws:iam::{ACCOUNT}:group/ops"]
)
def test_not_an_iam_role_or_user(iam: Any, arn: str) -> None:
    with pytest.raises(UserError, match="is not the ARN of an IAM role or user"):
        resolve_role_arn(iam, arn)


def test_sso_roles_of_a_permission_set(peer: StsPeer, iam: Any) -> None:
    admin = peer.create_role(f"AWSReservedSSO_Admin_{SUFFIX}", path=SSO_ROLE_PATH)
    regional = peer.create_role(f"AWSReservedSSO_Admin_{'f' * 16}", path=f"{SSO_ROLE_PATH}eu-west-1/")
    read_only = peer.create_role(f"AWSReservedSSO_Admin_ReadOnly_{SUFFIX}", path=SSO_ROLE_PATH)
    peer.create_role(f"AWSReservedSSO_Admin_{SUFFIX[:-1]}", path=SSO_ROLE_PATH)  # not 16 hex digits
    peer.create_role("Admin", path=SSO_ROLE_PATH)
    peer.create_role(f"AWSReservedSSO_Admin_{'a' * 16}", path="/elsewhere/")  # not made by Identity Center
    assert admin == f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_{SUFFIX}"
    assert sso_role_arns(iam, "Admin") == sorted([admin, regional])
    # the server's matcher ignores case in the permission-set name
    assert sso_role_arns(iam, "admin") == sorted([admin, regional])
    # "Admin" never claims "Admin_ReadOnly"'s role, and the other way round
    assert sso_role_arns(iam, "Admin_ReadOnly") == [read_only]
    assert sso_role_arns(iam, "Dev") == []


def test_sso_roles_of_the_entry_s_account_and_partition(peer: StsPeer, iam: Any) -> None:
    admin = peer.create_role(f"AWSReservedSSO_Admin_{SUFFIX}", path=SSO_ROLE_PATH)
    assert sso_role_arns(iam, "Admin", account=ACCOUNT, partition="aws") == [admin]
    assert sso_role_arns(iam, "Admin", account=OTHER) == []
    assert sso_role_arns(iam, "Admin", partition="aws-cn") == []


def test_every_page_of_roles_is_read(peer: StsPeer, iam: Any) -> None:
    for i in range(105):
        peer.create_role(f"AWSReservedSSO_Team{i:03}_{SUFFIX}", path=SSO_ROLE_PATH)
    last = peer.create_role(f"AWSReservedSSO_Last_{SUFFIX}", path=SSO_ROLE_PATH)
    assert sso_role_arns(iam, "Last") == [last]
    assert len(sso_role_arns(iam, "Team000")) == 1


def test_iam_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    endpoint = f"http://127.0.0.1:{free_port()}"
    for key, value in env_credentials(tmp_path, AWS_MAX_ATTEMPTS="1", AWS_ENDPOINT_URL_IAM=endpoint).items():
        monkeypatch.setenv(key, value)
    client = iam_client("us-east-1", None)
    with pytest.raises(UserError, match=r"^IAM: Could not connect") as caught:
        sso_role_arns(client, "Admin")
    assert "\n" not in str(caught.value)
    with pytest.raises(UserError, match=r"^IAM: Could not connect"):
        resolve_role_arn(client, f"arn:aws:iam::{ACCOUNT}:role/admin")
    with pytest.raises(UserError, match="profile"):
        iam_client("us-east-1", "no-such-profile")
