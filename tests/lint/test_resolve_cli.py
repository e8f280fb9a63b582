"""``aws-auth resolve`` through its console script: the source named as what it is, only the
findings of the identity's own section, a node role explained without alarm, colour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.aws_auth import HEADER

AWS_AUTH = str(Path(sys.executable).parent / "aws-auth")
ANSI = "\x1b["

MANIFEST = (
    HEADER
    + """\
  mapRoles: |
    - rolearn: arn:aws:iam::739275461218:role/eks-nodes
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes
    - rolearn: arn:aws:iam::739275461218:role/developer
      username: "dev:{{SessionName}}"
      groups:
        - developers
  mapUsers: |
    - userarn: arn:aws:iam::739275461218:user/bob
      username: bob
     groups: [a]
"""
)


def resolve(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    (tmp_path / "aws-auth.yaml").write_text(MANIFEST)
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | (env or {})
    done = subprocess.run(
        [AWS_AUTH, "resolve", *argv, "aws-auth.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_a_file_is_named_as_a_manifest_not_as_eksconfigmap(tmp_path: Path) -> None:
    code, out, _ = resolve(tmp_path, "--arn", "arn:aws:sts::739275461218:assumed-role/developer/jane")
    assert code == 0
    assert "MAPPED by role entry mapRoles[1] at aws-auth.yaml:13 (aws-auth ConfigMap manifest aws-auth.yaml)" in out
    assert "EKSConfigMap" not in out
    _, out, _ = resolve(tmp_path, "--format", "json", "--arn", "arn:aws:sts::739275461218:assumed-role/developer/j")
    doc = json.loads(out)
    assert (doc["source"], doc["source_path"]) == ("aws-auth ConfigMap manifest aws-auth.yaml", "aws-auth.yaml")


def test_only_findings_of_the_identitys_section(tmp_path: Path) -> None:
    # A role is looked up in mapRoles: the broken mapUsers does not explain its denial.
    code, out, _ = resolve(tmp_path, "--arn", "arn:aws:sts::739275461218:assumed-role/tester/jane")
    assert code == 1 and "DENIED" in out
    assert "mapUsers" not in out and "AA001" not in out
    # A user is looked up in mapUsers: there it is the reason.
    code, out, _ = resolve(tmp_path, "--arn", "arn:aws:iam::739275461218:user/bob")
    assert code == 1
    assert "aws-auth.yaml:20:6: AA001 yaml-invalid: mapUsers is not valid YAML" in out


def test_node_role_is_explained_without_alarm(tmp_path: Path) -> None:
    code, out, _ = resolve(tmp_path, "--arn", "arn:aws:iam::739275461218:role/eks-nodes")
    assert code == 0
    assert "DENIED" not in out
    assert "note:      a node role: nodes assume it with their EC2 instance id as the session name" in out
    assert "username:  system:node:<private DNS name of i-0123456789abcdef0>" in out
    assert "groups:    system:bootstrappers, system:nodes" in out
    # a session that is not an instance id is denied, and the answer says why that is expected
    code, out, _ = resolve(tmp_path, "--arn", "arn:aws:iam::739275461218:role/eks-nodes", "--session-name", "alice")
    assert code == 1
    assert "DENIED:    template denied: session name is not an EC2 instance id" in out
    assert "why:       a node role: nodes assume it with their EC2 instance id" in out
    assert "'alice' is not an instance id" in out
    code, out, _ = resolve(tmp_path, "--arn", "arn:aws:sts::739275461218:assumed-role/eks-nodes/i-0abcdef1234567890")
    assert code == 0 and "system:node:<private DNS name of i-0abcdef1234567890>" in out


def test_resolve_colour(tmp_path: Path) -> None:
    arn = ("--arn", "arn:aws:sts::739275461218:assumed-role/developer/jane")
    assert ANSI not in resolve(tmp_path, *arn)[1]
    assert f"{ANSI}1;32mMAPPED{ANSI}0m" in resolve(tmp_path, *arn, "--color", "always")[1]
    assert ANSI not in resolve(tmp_path, *arn, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})[1]
    denied = ("--arn", "arn:aws:iam::739275461218:user/nobody")
    assert f"{ANSI}1;31mDENIED{ANSI}0m" in resolve(tmp_path, *denied, "--color", "always")[1]


def test_server_config_and_its_aws_auth_file_are_named(tmp_path: Path) -> None:
    (tmp_path / "server.yaml").write_text(
        "clusterID: c\nserver:\n  awsAuthFile: aws-auth.yaml\n  mapRoles:\n"
        "    - rolearn: arn:aws:iam::739275461218:role/ci\n      username: ci\n      groups: [ci]\n"
    )
    (tmp_path / "aws-auth.yaml").write_text(MANIFEST)

    def mapped_by(arn: str) -> str:
        done = subprocess.run(
            [AWS_AUTH, "resolve", "--arn", arn, "server.yaml"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        (line,) = [line for line in done.stdout.split("\n") if line.startswith("MAPPED")]
        return line

    assert mapped_by("arn:aws:sts::739275461218:assumed-role/ci/x").endswith("(server config server.yaml)")
    assert mapped_by("arn:aws:sts::739275461218:assumed-role/developer/x").endswith(
        "(aws-auth ConfigMap manifest aws-auth.yaml, the awsAuthFile of server.yaml)"
    )


def test_nearest_entries_are_of_the_identitys_kind_only(tmp_path: Path) -> None:
    """A user is never matched by a role's entry: such an entry, and its findings, do not explain
    the denial, however alike the names (a user ARN under mapRoles does match, and is shown)."""
    (tmp_path / "aws-auth.yaml").write_text(
        MANIFEST.split("  mapRoles: |")[0]
        + "  mapRoles: |\n"
        + "    - rolearn: arn:aws:iam::739275461218:role/alicia-admins\n"
        + "      username: admins\n      groups:\n        - system:masters\n"
        + "    - rolearn: arn:aws:iam::739275461218:user/alicias\n      username: alicias\n"
        + "  mapUsers: |\n    - userarn: arn:aws:iam::739275461218:user/alice\n      username: alice\n"
    )
    done = subprocess.run(
        [AWS_AUTH, "resolve", "--arn", "arn:aws:iam::739275461218:user/alicia", "aws-auth.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "mapUsers[0] at aws-auth.yaml:" in done.stdout
    assert "mapRoles[1] at aws-auth.yaml:" in done.stdout  # a user ARN: it could have been this one
    assert "alicia-admins" not in done.stdout and "AA701" not in done.stdout, done.stdout


def test_stdin_is_named_as_such(tmp_path: Path) -> None:
    done = subprocess.run(
        [AWS_AUTH, "resolve", "--arn", "arn:aws:sts::739275461218:assumed-role/developer/jane", "-"],
        input=MANIFEST,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "MAPPED by role entry mapRoles[1] at stdin:13 (aws-auth ConfigMap manifest on stdin)" in done.stdout
