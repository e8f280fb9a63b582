"""MountedFile: server config lists + an aws-auth manifest file reloaded with last known good."""

from __future__ import annotations

import asyncio
import logging
import os
import textwrap
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from prometheus_client import REGISTRY

from authenticator.mapping.chain import MappingChain
from authenticator.mapping.manifest import ManifestError
from authenticator.mapping.server_mappings import MappingConfigError
from authenticator.mapping.sources.file import MountedFileSource
from tests.support.identities import role_identity, user_identity

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-admins"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def manifest(map_roles: str, map_users: str, map_accounts: str = "") -> str:
    def section(name: str, body: str) -> str:
        return f"  {name}: |\n" + textwrap.indent(body, "    ") if body else f'  {name}: ""\n'

    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"
        + section("mapRoles", map_roles)
        + section("mapUsers", map_users)
        + section("mapAccounts", map_accounts)
    )


GOOD_ROLES = f'- rolearn: {ADMIN_ROLE}\n  username: "admin:{{{{SessionName}}}}"\n  groups: [eks-admins]\n'
BROKEN_ROLES = f"- rolearn: {ADMIN_ROLE}\n  username: admin:{{{{SessionName}}}}\n  groups: [\n"
USERS_V1 = f"- userarn: {ALICE}\n  username: alice\n"
USERS_V2 = f"- userarn: {ALICE}\n  username: alice-v2\n  groups: [devs]\n"


def write(path: Path, text: str) -> None:
    """Replace the file the way editors and kubelet do (new inode), with a later mtime."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.utime(tmp, ns=(old + 1_000_000_000, old + 1_000_000_000))
    os.replace(tmp, path)


def failures(source: str, section: str) -> float:
    value = REGISTRY.get_sample_value(
        "aws_iam_authenticator_mapping_section_failures_total", {"source": source, "section": section}
    )
    return value or 0.0


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "aws-auth.yaml"
    write(path, manifest(GOOD_ROLES, USERS_V1, '- "444455556666"\n'))
    return path


def test_loads_config_lists_and_the_file(auth_file: Path) -> None:
    src = MountedFileSource(
        map_roles=[{"rolearn": f"arn:aws:iam::{ACCOUNT}:role/ci", "username": "ci"}],
        map_users=[],
        map_accounts=["777788889999"],
        aws_auth_file=str(auth_file),
    )
    snap = src.snapshot()
    assert [r.rolearn for r in snap.roles] == [f"arn:aws:iam::{ACCOUNT}:role/ci", ADMIN_ROLE]
    assert [u.username for u in snap.users] == ["alice"]
    assert snap.accounts == ("777788889999", "444455556666")
    assert src.ready and not src.status().failures
    assert REGISTRY.get_sample_value("aws_iam_authenticator_mapping_source_loaded", {"source": "MountedFile"}) == 1


def test_no_change_no_reload(auth_file: Path) -> None:
    src = MountedFileSource(map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(auth_file))
    before = src.snapshot()
    assert src.check_for_changes() is False
    assert src.snapshot() is before


def test_reload_with_broken_map_roles_keeps_old_roles_and_applies_new_users(
    auth_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = MountedFileSource(
        map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(auth_file), name="MountedFile-lkg"
    )
    chain = MappingChain([src])
    assert asyncio.run(chain.map(role_identity("eks-admins", "jdoe"))).username == "admin:jdoe"
    failures_before = failures("MountedFile-lkg", "mapRoles")

    write(auth_file, manifest(BROKEN_ROLES, USERS_V2))
    with caplog.at_level(logging.INFO, logger="authenticator.mapping"):
        assert src.check_for_changes() is True

    # Old mapRoles kept, new mapUsers applied, new (empty) mapAccounts applied.
    assert asyncio.run(chain.map(role_identity("eks-admins", "jdoe"))).username == "admin:jdoe"
    mapped = asyncio.run(chain.map(user_identity("alice")))
    assert (mapped.username, mapped.groups) == ("alice-v2", ("devs",))
    assert src.snapshot().accounts == ()
    # Said so in the log, the metric and the status.
    assert any(
        r.levelno == logging.ERROR and "mapRoles" in r.getMessage() and "keeping the last good" in r.getMessage()
        for r in caplog.records
    )
    assert any("mapUsers applied" in r.getMessage() for r in caplog.records)
    assert failures("MountedFile-lkg", "mapRoles") == failures_before + 1
    assert failures("MountedFile-lkg", "mapUsers") == 0
    status = src.status()
    assert set(status.failures) == {"mapRoles"} and status.ready

    # Fixed: the new mapRoles is applied and the status clears.
    write(auth_file, manifest(GOOD_ROLES.replace("admin:", "boss:"), USERS_V2))
    assert src.check_for_changes() is True
    assert asyncio.run(chain.map(role_identity("eks-admins", "jdoe"))).username == "boss:jdoe"
    assert not src.status().failures


def test_first_load_with_a_broken_section_starts_with_it_empty(tmp_path: Path) -> None:
    path = tmp_path / "aws-auth.yaml"
    write(path, manifest(BROKEN_ROLES, USERS_V1))
    src = MountedFileSource(map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(path))
    assert src.snapshot().roles == () and len(src.snapshot().users) == 1
    assert set(src.status().failures) == {"mapRoles"}


def test_deleted_or_garbled_file_keeps_the_last_good_mappings(
    auth_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = MountedFileSource(
        map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(auth_file), name="MountedFile-del"
    )
    good = src.snapshot()
    before = failures("MountedFile-del", "file")
    auth_file.unlink()
    with caplog.at_level(logging.ERROR, logger="authenticator.mapping"):
        assert src.check_for_changes() is False
        assert src.check_for_changes() is False  # logged and counted once, not per poll
    assert src.snapshot() is good
    assert src.status().failures["file"].endswith("(serving the last good value)")  # as docs/cli.md's /readyz
    assert failures("MountedFile-del", "file") == before + 1
    assert sum("keeping the last good mappings" in r.getMessage() for r in caplog.records) == 1

    write(auth_file, "kind: Secret\n")
    assert src.check_for_changes() is True
    assert src.snapshot() is good
    assert "ConfigMap" in src.status().failures["file"]

    write(auth_file, manifest(GOOD_ROLES, USERS_V2))
    assert src.check_for_changes() is True
    assert not src.status().failures and src.snapshot().users[0].username == "alice-v2"


def test_missing_or_invalid_file_at_start_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        MountedFileSource(map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    write(bad, "kind: Deployment\n")
    with pytest.raises(ManifestError):
        MountedFileSource(map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(bad))


def test_invalid_config_mapping_raises() -> None:
    with pytest.raises(MappingConfigError, match="rolearn or sso"):
        MountedFileSource(map_roles=[{"username": "x"}], map_users=[], map_accounts=[])


def test_polling_task_picks_up_changes(auth_file: Path) -> None:
    async def scenario() -> str:
        src = MountedFileSource(
            map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(auth_file), poll_interval=0.01
        )
        await src.start()
        try:
            write(auth_file, manifest(GOOD_ROLES, USERS_V2))
            changed = await asyncio.to_thread(
                src.wait_until, lambda: src.snapshot().users[0].username == "alice-v2", 10
            )
            assert changed, "the polling task did not pick up the change within 10 s"
            return src.snapshot().users[0].username
        finally:
            await src.stop()

    assert run(scenario()) == "alice-v2"


def test_example_configs_load_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    server = yaml.safe_load((REPO / "config" / "server.yaml").read_text())["server"]
    assert server["awsAuthFile"] == "config/aws-auth.yaml"
    with caplog.at_level(logging.WARNING, logger="authenticator.mapping"):
        src = MountedFileSource(
            map_roles=server["mapRoles"],
            map_users=server["mapUsers"],
            map_accounts=server["mapAccounts"],
            aws_auth_file=str(REPO / server["awsAuthFile"]),
        )
    assert not caplog.records
    result = src.last_result
    assert result is not None and result.ok and not result.issues
    kinds = {("sso" if r.sso else "role") for r in result.roles}
    assert kinds == {"sso", "role"} and len(result.users) == 1 and result.accounts == ("444455556666",)
    chain = MappingChain([src])
    assert asyncio.run(chain.map(role_identity("eks-admins", "jdoe@example.com"))).username == "admin:jdoe-example.com"
    sso = asyncio.run(chain.map(role_identity("AWSReservedSSO_ReadOnly_a1b2c3d4e5f6a7b8", "jdoe")))
    assert sso.groups == ("eks-viewers",)
    prefixes = {c["backendMode"]: c["usernamePrefixReserveList"] for c in server["reservedPrefixConfig"]}
    assert "system:" in prefixes["DynamicFile"]


def test_load_warns_about_paths_and_duplicates_naming_the_entry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "aws-auth.yaml"
    roles = (
        f"- rolearn: arn:aws:iam::{ACCOUNT}:role/team/dev\n  username: dev\n"
        f"- rolearn: {ADMIN_ROLE}\n  username: a\n"
        f"- rolearn: {ADMIN_ROLE}\n  username: b\n"
    )
    write(path, manifest(roles, ""))
    with caplog.at_level(logging.WARNING, logger="authenticator.mapping"):
        MountedFileSource(map_roles=[], map_users=[], map_accounts=[], aws_auth_file=str(path))
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("mapRoles[0]" in m and "role/team/dev has a path" in m for m in messages)
    assert any("mapRoles[2]" in m and "duplicates mapRoles[1]" in m for m in messages)
