"""``aws-auth migrate --cluster/--resolve-paths/--apply/--verify`` as a subprocess, against the EKS
stand-in (a real botocore client: botocore's model validates every request) reached with
``AWS_ENDPOINT_URL_EKS``, moto's EKS for node groups and Fargate profiles, and moto's IAM
(``AWS_ENDPOINT_URL_IAM``) for role paths and SSO roles."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authenticator.demo.sts_peer import StsPeer
from authenticator.lint.cli import main
from authenticator.migrate.apply import apply_plan
from authenticator.migrate.plan import build_plan
from authenticator.migrate.source import read_aws_auth
from tests.migrate.helpers import child_env
from tests.support.aws_auth import configmap
from tests.support.eks_standin import ACCOUNT, ADMIN_POLICY, EksStandIn

SUFFIX = "0123456789abcdef"
AWS_AUTH = configmap(f"""
mapRoles: |
  - rolearn: arn:aws:iam::{ACCOUNT}:role/ng-nodes
    username: system:node:{{{{EC2PrivateDNSName}}}}
    groups: [system:bootstrappers, system:nodes]
  - rolearn: arn:aws:iam::{ACCOUNT}:role/self-managed-nodes
    username: system:node:{{{{EC2PrivateDNSName}}}}
    groups: [system:bootstrappers, system:nodes]
  - rolearn: arn:aws:iam::{ACCOUNT}:role/deployer
    username: "deploy:{{{{SessionName}}}}"
    groups: [deployers]
  - rolearn: arn:aws:iam::{ACCOUNT}:role/admins
    username: "admin:{{{{SessionName}}}}"
    groups: [system:masters, ops]
  - sso:
      permissionSetName: ReadOnly
      accountID: "{ACCOUNT}"
    username: "ro:{{{{SessionName}}}}"
    groups: [viewers]
mapUsers: |
  - userarn: arn:aws:iam::{ACCOUNT}:user/alice
    username: alice
    groups: [dev]
""")


@pytest.fixture(scope="module")
def standin() -> Iterator[EksStandIn]:
    with EksStandIn() as server:
        yield server


@pytest.fixture(scope="module")
def peer() -> Iterator[StsPeer]:
    with StsPeer(tls=False) as server:
        yield server


@pytest.fixture
def world(standin: EksStandIn, peer: StsPeer, tmp_path: Path) -> dict[str, Any]:
    """A cluster in API_AND_CONFIG_MAP with a managed node group; IAM roles with paths."""
    standin.reset()
    peer.reset()
    eks = standin.client()
    standin.create_cluster(node_roles=[f"arn:aws:iam::{ACCOUNT}:role/ng-nodes"])
    roles = {
        "deployer": peer.create_role("deployer", path="/ci/"),
        "admins": peer.create_role("admins", path="/people/"),
        "self-managed-nodes": peer.create_role("self-managed-nodes"),
        "sso": peer.create_role(f"AWSReservedSSO_ReadOnly_{SUFFIX}", path="/aws-reserved/sso.amazonaws.com/eu-west-1/"),
    }
    path = tmp_path / "aws-auth.yaml"
    path.write_text(AWS_AUTH)
    env = child_env(standin, tmp_path, AWS_ENDPOINT_URL_IAM=peer.url)
    return {"eks": eks, "roles": roles, "path": path, "env": env}


def migrate(world: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["aws-auth", "migrate", str(world["path"]), "--cluster", "prod", *args],
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plan_against_the_cluster_with_resolved_paths(world: dict[str, Any], standin: EksStandIn) -> None:
    result = migrate(world, "--resolve-paths", "-f", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["cluster"] == "prod"
    assert doc["authenticationMode"] == "API_AND_CONFIG_MAP"
    rows = {(r["action"], r["principalArn"]) for r in doc["rows"]}
    assert rows == {
        ("skip-managed", f"arn:aws:iam::{ACCOUNT}:role/ng-nodes"),
        ("create", world["roles"]["self-managed-nodes"]),
        ("create", world["roles"]["deployer"]),
        ("create", world["roles"]["admins"]),
        ("create", world["roles"]["sso"]),
        ("create", f"arn:aws:iam::{ACCOUNT}:user/alice"),
    }
    assert world["roles"]["deployer"] == f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
    assert standin.model_errors == []


def test_apply_creates_idempotently_and_never_touches_the_mode_or_aws_auth(
    world: dict[str, Any], standin: EksStandIn
) -> None:
    before = world["path"].read_bytes()
    first = migrate(world, "--resolve-paths", "--apply", "--yes")
    assert first.returncode == 0, first.stderr + first.stdout
    assert "5 created" in first.stdout
    assert "apply: 5 created, 0 already there, 1 policy associated, 0 conflicts, 0 failures" in first.stdout
    entries = {
        e["principalArn"]: e
        for e in (
            world["eks"].describe_access_entry(clusterName="prod", principalArn=a)["accessEntry"]
            for a in world["eks"].list_access_entries(clusterName="prod")["accessEntries"]
        )
    }
    admins = entries[world["roles"]["admins"]]
    assert (admins["username"], admins["kubernetesGroups"]) == ("admin:{{SessionName}}", ["ops"])
    policies = world["eks"].list_associated_access_policies(clusterName="prod", principalArn=world["roles"]["admins"])
    assert [p["policyArn"] for p in policies["associatedAccessPolicies"]] == [ADMIN_POLICY]
    assert entries[world["roles"]["self-managed-nodes"]]["type"] == "EC2_LINUX"
    assert entries[world["roles"]["sso"]]["username"] == "ro:{{SessionName}}"
    assert standin.model_errors == []

    second = migrate(world, "--resolve-paths", "--apply", "--yes", "-f", "json")
    assert second.returncode == 0, second.stderr
    assert {r["action"] for r in json.loads(second.stdout)["rows"]} == {"exists", "skip-managed"}
    assert json.loads(second.stdout)["readyForApiMode"] is True
    assert "nothing to create" in second.stderr + second.stdout

    operations = set(standin.operations())
    assert "UpdateClusterConfig" not in operations
    assert not operations & {"DeleteAccessEntry", "UpdateAccessEntry", "DisassociateAccessPolicy"}
    assert world["eks"].describe_cluster(name="prod")["cluster"]["accessConfig"]["authenticationMode"] == (
        "API_AND_CONFIG_MAP"
    )
    assert world["path"].read_bytes() == before


def test_verify_before_and_after_apply(world: dict[str, Any], standin: EksStandIn) -> None:
    before = migrate(world, "--resolve-paths", "--verify")
    assert before.returncode == 1
    assert "would lose access" in before.stdout
    assert "has no access entry" in before.stdout
    counted = ("DescribeCluster", "ListNodegroups", "ListFargateProfiles", "ListAccessEntries")
    calls_before = {op: standin.operations().count(op) for op in counted}
    after = migrate(world, "--resolve-paths", "--apply", "--yes", "--verify")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "0 would lose access" in after.stdout
    # After --apply, --verify reads the access entries again, and only them.
    calls = {op: standin.operations().count(op) - calls_before[op] for op in counted}
    assert calls == {"DescribeCluster": 1, "ListNodegroups": 1, "ListFargateProfiles": 1, "ListAccessEntries": 2}
    report = migrate(world, "--resolve-paths", "--verify", "-f", "json")
    doc = json.loads(report.stdout)
    admins = next(p for p in doc["principals"] if p["principalArn"] == world["roles"]["admins"])
    assert admins["today"] == {"username": "admin:{{SessionName}}", "groups": ["system:masters", "ops"]}
    assert admins["accessEntry"]["accessPolicies"] == ["AmazonEKSClusterAdminPolicy"]
    assert admins["losesAccess"] is False


def test_verify_reports_a_principal_that_would_lose_access(world: dict[str, Any]) -> None:
    extra = AWS_AUTH + '  mapAccounts: |\n    - "210987654321"\n'
    world["path"].write_text(extra)
    migrate(world, "--resolve-paths", "--apply", "--yes")
    result = migrate(world, "--resolve-paths", "--verify", "-f", "json")
    assert result.returncode == 1
    losing = [p for p in json.loads(result.stdout)["principals"] if p["losesAccess"]]
    assert [p["principalArn"] for p in losing] == ["arn:aws:iam::210987654321:root"]


def test_a_409_is_compared_with_what_was_wanted(world: dict[str, Any]) -> None:
    eks = world["eks"]
    deployer = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    eks.create_access_entry(
        clusterName="prod", principalArn=deployer, username="deploy:{{SessionName}}", kubernetesGroups=["deployers"]
    )
    eks.create_access_entry(
        clusterName="prod", principalArn=f"arn:aws:iam::{ACCOUNT}:user/alice", username="someone-else"
    )
    plan = build_plan(read_aws_auth("aws-auth.yaml", AWS_AUTH))  # offline: the planner does not know them
    said: list[str] = []
    outcome = apply_plan(eks, "prod", plan, said.append)
    # deployer as wanted, and the managed node group's role, whose entry EKS made as EC2_LINUX
    assert outcome.exists == 2
    assert outcome.created == 2  # self-managed-nodes, admins (the sso row is manual offline)
    assert len(outcome.conflicts) == 1
    assert "someone-else" in outcome.conflicts[0]
    assert any(line.startswith("exists") and deployer in line for line in said)
    assert any(line.startswith("CONFLICT") for line in said)
    entry = eks.describe_access_entry(clusterName="prod", principalArn=f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert entry["accessEntry"]["username"] == "someone-else"  # never overwritten


def test_apply_on_a_config_map_cluster_refuses_without_changing_the_mode(world: dict[str, Any]) -> None:
    world["eks"].create_cluster(
        name="legacy", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={"subnetIds": ["s"]}
    )
    result = subprocess.run(
        ["aws-auth", "migrate", str(world["path"]), "--cluster", "legacy", "--apply", "--yes"],
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "API_AND_CONFIG_MAP" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    mode = world["eks"].describe_cluster(name="legacy")["cluster"]["accessConfig"]["authenticationMode"]
    assert mode == "CONFIG_MAP"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_apply_asks_on_a_terminal(world: dict[str, Any], standin: EksStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in world["env"].items():
        monkeypatch.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["migrate", str(world["path"]), "--cluster", "prod", "--resolve-paths", "--apply"],
        stdin=_Terminal("n\n"),
        stdout=out,
        stderr=err,
    )
    assert code == 1
    assert "[y/N]" in err.getvalue() and "cancelled" in err.getvalue()
    assert standin.calls("CreateAccessEntry") == []
    code = main(
        ["migrate", str(world["path"]), "--cluster", "prod", "--resolve-paths", "--apply"],
        stdin=_Terminal("y\n"),
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    assert len(standin.calls("CreateAccessEntry")) == 5


def test_an_unknown_cluster_is_one_line_and_exit_2(world: dict[str, Any]) -> None:
    result = subprocess.run(
        ["aws-auth", "migrate", str(world["path"]), "--cluster", "nosuch"],
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("aws-auth migrate: error: EKS DescribeCluster: ResourceNotFoundException")
    assert len(result.stderr.strip().splitlines()) == 1


def test_apply_without_a_terminal_needs_yes(world: dict[str, Any]) -> None:
    result = migrate(world, "--apply")
    assert result.returncode == 2
    assert "--yes" in result.stderr


def test_a_409_whose_entry_cannot_be_read_is_a_failure_not_a_crash(standin: EksStandIn) -> None:
    from botocore.stub import Stubber

    eks = standin.client()
    plan = build_plan(read_aws_auth("aws-auth.yaml", AWS_AUTH))
    creates = [r for r in plan.rows if r.action == "create"]
    with Stubber(eks) as stub:
        stub.add_client_error("create_access_entry", "ResourceInUseException", http_status_code=409)
        stub.add_client_error("describe_access_entry", "AccessDeniedException", "not allowed", http_status_code=403)
        for row in creates[1:]:
            stub.add_response("create_access_entry", {})
            for _ in row.policies:
                stub.add_response("associate_access_policy", {})
        said: list[str] = []
        outcome = apply_plan(eks, "prod", plan, said.append)
    assert outcome.created == len(creates) - 1  # the run went on
    assert outcome.failures == [f"{creates[0].principal_arn}: AccessDeniedException: not allowed"]
    assert not outcome.ok
    assert said[0].startswith("FAILED") and "AccessDeniedException" in said[0]


def test_the_question_counts_one_entry_in_the_singular() -> None:
    import argparse
    from types import SimpleNamespace

    from authenticator.migrate.cli import _confirm

    plan: Any = SimpleNamespace(rows=[SimpleNamespace(action="create"), SimpleNamespace(action="exists")])
    err = io.StringIO()
    assert _confirm(argparse.Namespace(yes=False, cluster="prod"), plan, _Terminal("y\n"), err)
    assert err.getvalue() == "create 1 access entry on cluster prod? [y/N] "
