"""``aws-auth resolve --entries/--cluster/--mode``: which mechanism decides, and what it yields."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.migrate.helpers import child_env
from tests.support.aws_auth import configmap
from tests.support.eks_standin import ACCOUNT, ADMIN_POLICY, EksStandIn

AWS_AUTH = configmap(f"""
mapRoles: |
  - rolearn: arn:aws:iam::{ACCOUNT}:role/admin
    username: "admin:{{{{SessionName}}}}"
    groups: [system:masters]
mapUsers: |
  - userarn: arn:aws:iam::{ACCOUNT}:user/alice
    username: alice
    groups: [dev]
""")
ENTRIES = [
    {
        "principalArn": f"arn:aws:iam::{ACCOUNT}:role/people/admin",
        "type": "STANDARD",
        "username": "adm:{{SessionName}}",
        "kubernetesGroups": ["ops"],
        "associatedAccessPolicies": [{"policyArn": ADMIN_POLICY, "accessScope": {"type": "cluster"}}],
    }
]
ADMIN_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/bob"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    aws_auth, entries = tmp_path / "aws-auth.yaml", tmp_path / "entries.json"
    aws_auth.write_text(AWS_AUTH)
    entries.write_text(json.dumps(ENTRIES))
    return aws_auth, entries


def resolve(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        ["aws-auth", "resolve", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.stderr == "", done.stderr
    return done.returncode, json.loads(done.stdout)["accessEntries"]


@pytest.mark.parametrize(
    ("arn", "mode", "code", "decided_by", "username", "groups"),
    [
        (ADMIN_SESSION, "API_AND_CONFIG_MAP", 0, "access entry", "adm:bob", ["ops"]),
        (ADMIN_SESSION, "CONFIG_MAP", 0, "aws-auth", "admin:bob", ["system:masters"]),
        (ADMIN_SESSION, "API", 0, "access entry", "adm:bob", ["ops"]),
        (ALICE, "API_AND_CONFIG_MAP", 0, "aws-auth", "alice", ["dev"]),
        (ALICE, "API", 1, None, None, []),
    ],
)
def test_modes_with_entries_offline(
    files: tuple[Path, Path],
    arn: str,
    mode: str,
    code: int,
    decided_by: str | None,
    username: str | None,
    groups: list[str],
) -> None:
    aws_auth, entries = files
    got_code, decision = resolve("--arn", arn, "--entries", str(entries), "--mode", mode, str(aws_auth))
    assert got_code == code
    assert (decision["mode"], decision["decidedBy"], decision["username"], decision["groups"]) == (
        mode,
        decided_by,
        username,
        groups,
    )
    if decided_by == "access entry":
        assert decision["accessPolicies"] == ["AmazonEKSClusterAdminPolicy (cluster)"]


def test_text_output_names_the_deciding_mechanism(files: tuple[Path, Path]) -> None:
    aws_auth, entries = files
    done = subprocess.run(
        ["aws-auth", "resolve", "--arn", ADMIN_SESSION, "--entries", str(entries), str(aws_auth)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert f"DECIDES:   access entry arn:aws:iam::{ACCOUNT}:role/people/admin (STANDARD)" in done.stdout
    assert "username:  adm:bob" in done.stdout


@pytest.fixture(scope="module")
def standin() -> Iterator[EksStandIn]:
    with EksStandIn() as server:
        yield server


def test_mode_and_entries_read_from_the_cluster(files: tuple[Path, Path], standin: EksStandIn, tmp_path: Path) -> None:
    standin.reset()
    eks = standin.client()
    standin.create_cluster()
    eks.update_cluster_config(name="prod", accessConfig={"authenticationMode": "API"})
    eks.create_access_entry(clusterName="prod", principalArn=ENTRIES[0]["principalArn"], username="adm:{{SessionName}}")
    env = child_env(standin, tmp_path)
    aws_auth, _ = files
    code, decision = resolve("--arn", ADMIN_SESSION, "--cluster", "prod", str(aws_auth), env=env)
    assert (code, decision["mode"], decision["decidedBy"], decision["username"]) == (
        0,
        "API",
        "access entry",
        "adm:bob",
    )
    code, decision = resolve("--arn", ALICE, "--cluster", "prod", str(aws_auth), env=env)
    assert (code, decision["mode"], decision["mapped"]) == (1, "API", False)


def test_a_mode_with_entries_needs_them(files: tuple[Path, Path]) -> None:
    # Without --entries or --cluster the entries are unknown: no verdict may claim there are none.
    aws_auth, _ = files
    for mode in ("API", "API_AND_CONFIG_MAP"):
        done = subprocess.run(
            ["aws-auth", "resolve", "--arn", ALICE, "--mode", mode, str(aws_auth)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stdout
        assert done.stdout == ""
        assert done.stderr.startswith("aws-auth: error: --mode ") and "--entries FILE or --cluster NAME" in done.stderr
        assert len(done.stderr.splitlines()) == 1
    code, decision = resolve("--arn", ALICE, "--mode", "CONFIG_MAP", str(aws_auth))
    assert (code, decision["decidedBy"], decision["username"]) == (0, "aws-auth", "alice")
