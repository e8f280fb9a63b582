"""The planner (pure): one row per effective aws-auth entry, per the classification table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from authenticator.mapping.model import SSOMatcher
from authenticator.migrate.plan import ClusterFacts, Plan, build_plan
from authenticator.migrate.source import read_aws_auth
from tests.support.aws_auth import configmap

ACCOUNT = "739275461218"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def plan_of(
    data: str,
    cluster: ClusterFacts | None = None,
    *,
    resolve_role: Callable[[str], str | None] | None = None,
    sso_roles: Callable[[SSOMatcher], Sequence[str]] | None = None,
) -> Plan:
    aws_auth = read_aws_auth("aws-auth.yaml", configmap(data))
    return build_plan(aws_auth, cluster, resolve_role=resolve_role, sso_roles=sso_roles)


def only(plan: Plan) -> dict[str, Any]:
    assert len(plan.rows) == 1, plan.rows
    return plan.rows[0].as_json()


def codes(row: dict[str, Any]) -> list[str]:
    return [r.split(":", 1)[0] for r in row["reasons"]]


def test_node_role_is_ec2_linux_without_username_or_groups() -> None:
    text = configmap(f"""
    mapRoles: |
      - rolearn: arn:aws:iam::{ACCOUNT}:role/other
      - rolearn: arn:aws:iam::{ACCOUNT}:role/nodes
        username: system:node:{{{{EC2PrivateDNSName}}}}
        groups:
          - system:bootstrappers
          - system:nodes
    """)
    row = build_plan(read_aws_auth("aws-auth.yaml", text)).rows[1].as_json()
    assert (row["action"], row["type"], row["username"], row["kubernetesGroups"]) == ("create", "EC2_LINUX", None, [])
    assert row["source"] == "mapRoles[1]"
    assert text.splitlines()[row["line"] - 1].strip() == f"- rolearn: arn:aws:iam::{ACCOUNT}:role/nodes"


def test_windows_node_role() -> None:
    row = only(
        plan_of(f"""
        mapRoles: |
          - rolearn: arn:aws:iam::{ACCOUNT}:role/win-nodes
            username: system:node:{{{{EC2PrivateDNSName}}}}
            groups: [system:bootstrappers, system:nodes, eks:kube-proxy-windows]
        """)
    )
    assert row["type"] == "EC2_WINDOWS"


def test_fargate_and_hybrid() -> None:
    plan = plan_of(f"""
    mapRoles: |
      - rolearn: arn:aws:iam::{ACCOUNT}:role/fargate-pods
        username: system:node:{{{{SessionName}}}}
        groups: [system:bootstrappers, system:nodes, system:node-proxier]
      - rolearn: arn:aws:iam::{ACCOUNT}:role/hybrid-nodes
        username: system:node:{{{{SessionName}}}}
        groups: [system:bootstrappers, system:nodes]
    """)
    assert [(r.action, r.type) for r in plan.rows] == [("create", "FARGATE_LINUX"), ("create", "HYBRID_LINUX")]


def test_system_masters_becomes_the_cluster_admin_policy_and_other_groups_stay() -> None:
    row = only(
        plan_of(f"""
        mapRoles: |
          - rolearn: arn:aws:iam::{ACCOUNT}:role/admin
            username: "admin:{{{{SessionName}}}}"
            groups: [system:masters, ops, viewers]
        """)
    )
    assert row["action"] == "create"
    assert row["type"] == "STANDARD"
    assert row["username"] == "admin:{{SessionName}}"
    assert row["kubernetesGroups"] == ["ops", "viewers"]
    assert row["accessPolicies"] == [{"policyArn": ADMIN, "accessScope": {"type": "cluster", "namespaces": []}}]
    assert "role-path-unknown" in codes(row)


def test_duplicates_keep_the_last_entry_the_server_uses() -> None:
    row = only(
        plan_of(f"""
        mapRoles: |
          - rolearn: arn:aws:iam::{ACCOUNT}:role/dev
            username: old
            groups: [old]
          - rolearn: arn:aws:iam::{ACCOUNT}:role/DEV
            username: "dev:{{{{SessionName}}}}"
            groups: [developers]
        """)
    )
    assert row["source"] == "mapRoles[1]"
    assert row["kubernetesGroups"] == ["developers"]
    assert "duplicate" in codes(row)


def test_role_entry_beats_a_user_entry_for_the_same_arn() -> None:
    plan = plan_of(f"""
    mapRoles: |
      - rolearn: arn:aws:iam::{ACCOUNT}:role/ci
        username: ci
    mapUsers: |
      - userarn: arn:aws:iam::{ACCOUNT}:role/ci
        username: other
    """)
    assert [(r.source, r.username) for r in plan.rows] == [("mapRoles[0]", "ci")]


def test_reserved_username_is_manual_with_a_suggestion() -> None:
    row = only(
        plan_of(f"""
        mapRoles: |
          - rolearn: arn:aws:iam::{ACCOUNT}:role/ci
            username: system:ci
            groups: [deployers]
        """)
    )
    assert row["action"] == "manual"
    assert row["username"] == "system:ci"  # never rewritten silently
    reason = next(r for r in row["reasons"] if r.startswith("reserved-username"))
    assert "suggested 'ci:ci'" in reason


def test_session_name_without_colon_and_other_placeholders_are_manual() -> None:
    plan = plan_of(f"""
    mapRoles: |
      - rolearn: arn:aws:iam::{ACCOUNT}:role/a
        username: "{{{{SessionName}}}}"
      - rolearn: arn:aws:iam::{ACCOUNT}:role/b
        username: "b-{{{{AccountID}}}}"
      - rolearn: arn:aws:iam::{ACCOUNT}:role/c
        username: "c:{{{{SessionNameRaw}}}}"
    """)
    assert [r.action for r in plan.rows] == ["manual", "manual", "create"]
    assert codes(plan.rows[0].as_json())[0] == "session-name-without-colon"
    assert "unsupported-placeholder" in codes(plan.rows[1].as_json())


def test_other_system_group_is_manual() -> None:
    row = only(
        plan_of(f"""
        mapUsers: |
          - userarn: arn:aws:iam::{ACCOUNT}:user/mon
            username: mon
            groups: [system:monitoring, readers]
        """)
    )
    assert row["action"] == "manual"
    assert row["kubernetesGroups"] == ["readers"]
    assert "system-group" in codes(row)


def test_map_accounts_is_blocked() -> None:
    plan = plan_of("""
    mapAccounts: |
      - "210987654321"
    """)
    row = only(plan)
    assert (row["action"], row["type"], row["principalArn"]) == ("blocked", None, "arn:aws:iam::210987654321:root")
    assert plan.exit_code == 1
    assert plan.as_json()["readyForApiMode"] is False


def test_sso_without_iam_is_manual_and_with_iam_one_row_per_role() -> None:
    data = f"""
    mapRoles: |
      - sso:
          permissionSetName: Dev
          accountID: "{ACCOUNT}"
        username: "dev:{{{{SessionName}}}}"
        groups: [developers]
    """
    assert only(plan_of(data))["action"] == "manual"
    asked: list[SSOMatcher] = []
    roles = [
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123456789abcdef",
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_fedcba9876543210",
    ]

    def sso_roles(matcher: SSOMatcher) -> list[str]:
        asked.append(matcher)
        return roles

    plan = plan_of(data, sso_roles=sso_roles, resolve_role=lambda arn: None)
    assert asked == [SSOMatcher("Dev", ACCOUNT)]
    assert sorted(r.principal_arn for r in plan.rows) == sorted(roles)
    assert {r.action for r in plan.rows} == {"create"}
    assert {r.username for r in plan.rows} == {"dev:{{SessionName}}"}


def test_resolve_paths_uses_iam_and_unknown_roles_are_manual() -> None:
    data = f"""
    mapRoles: |
      - rolearn: arn:aws:iam::{ACCOUNT}:role/deploy
        username: deploy
      - rolearn: arn:aws:iam::{ACCOUNT}:role/gone
        username: gone
    """
    full = {f"arn:aws:iam::{ACCOUNT}:role/deploy": f"arn:aws:iam::{ACCOUNT}:role/ci/deploy"}
    plan = plan_of(data, resolve_role=full.get)
    assert [(r.action, r.principal_arn) for r in plan.rows] == [
        ("create", f"arn:aws:iam::{ACCOUNT}:role/ci/deploy"),
        ("manual", f"arn:aws:iam::{ACCOUNT}:role/gone"),
    ]
    assert "role-unknown-to-iam" in codes(plan.rows[1].as_json())


def test_existing_entries_exists_and_conflict_and_managed_roles() -> None:
    data = f"""
    mapRoles: |
      - rolearn: arn:aws:iam::{ACCOUNT}:role/ng-nodes
        username: system:node:{{{{EC2PrivateDNSName}}}}
        groups: [system:bootstrappers, system:nodes]
      - rolearn: arn:aws:iam::{ACCOUNT}:role/admin
        username: admin
        groups: [system:masters]
      - rolearn: arn:aws:iam::{ACCOUNT}:role/dev
        username: dev
        groups: [developers]
    """
    cluster = ClusterFacts(
        name="prod",
        account=ACCOUNT,
        partition="aws",
        authentication_mode="API_AND_CONFIG_MAP",
        entries=(
            {
                "principalArn": f"arn:aws:iam::{ACCOUNT}:role/people/admin",
                "type": "STANDARD",
                "username": "admin",
                "kubernetesGroups": [],
                "associatedAccessPolicies": [
                    {"policyArn": ADMIN, "accessScope": {"type": "cluster", "namespaces": []}}
                ],
            },
            {
                "principalArn": f"arn:aws:iam::{ACCOUNT}:role/dev",
                "type": "STANDARD",
                "username": "dev",
                "kubernetesGroups": ["viewers"],
            },
        ),
        managed_role_arns=frozenset({f"arn:aws:iam::{ACCOUNT}:role/eks/ng-nodes"}),
    )
    plan = plan_of(data, cluster)
    assert [(r.action, r.principal_arn) for r in plan.rows] == [
        ("skip-managed", f"arn:aws:iam::{ACCOUNT}:role/ng-nodes"),
        ("exists", f"arn:aws:iam::{ACCOUNT}:role/people/admin"),
        ("conflict", f"arn:aws:iam::{ACCOUNT}:role/dev"),
    ]
    conflict = plan.rows[2].as_json()
    assert any("viewers" in r and "developers" in r for r in conflict["reasons"])
    doc = plan.as_json()
    assert doc["cluster"] == "prod"
    assert doc["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert doc["summary"] == {"exists": 1, "skip-managed": 1, "conflict": 1}
    assert plan.exit_code == 1


def test_cross_account_node_role_is_manual_when_the_cluster_account_is_known() -> None:
    data = """
    mapRoles: |
      - rolearn: arn:aws:iam::210987654321:role/nodes
        username: system:node:{{EC2PrivateDNSName}}
        groups: [system:bootstrappers, system:nodes]
      - rolearn: arn:aws:iam::210987654321:role/auditor
        username: "auditor:{{SessionName}}"
        groups: [auditors]
    """
    plan = plan_of(data, ClusterFacts(name="c", account=ACCOUNT))
    assert [r.action for r in plan.rows] == ["manual", "create"]


def test_a_node_entry_for_an_iam_user_is_manual() -> None:
    # EKS gives non-STANDARD entries to IAM roles only (CreateAccessEntry refuses a user).
    data = f"""
    mapUsers: |
      - userarn: arn:aws:iam::{ACCOUNT}:user/node-user
        username: system:node:{{{{EC2PrivateDNSName}}}}
        groups: [system:bootstrappers, system:nodes]
    """
    row = only(plan_of(data))
    assert (row["action"], row["type"]) == ("manual", "EC2_LINUX")
    assert codes(row) == ["node-entry-user"]
    assert only(plan_of(data, ClusterFacts(name="c", account=ACCOUNT)))["action"] == "manual"


def test_a_principal_of_another_partition_is_manual_when_the_cluster_partition_is_known() -> None:
    data = f"""
    mapRoles: |
      - rolearn: arn:aws-cn:iam::{ACCOUNT}:role/admins
        username: "admin:{{{{SessionName}}}}"
        groups: [ops]
      - rolearn: arn:aws:iam::{ACCOUNT}:role/ops
        username: "ops:{{{{SessionName}}}}"
        groups: [ops]
    """
    plan = plan_of(data, ClusterFacts(name="c", account=ACCOUNT, partition="aws"))
    assert [r.action for r in plan.rows] == ["manual", "create"]
    assert "other-partition" in codes(plan.rows[0].as_json())
    assert [r.action for r in plan_of(data).rows] == ["create", "create"]  # offline: the partition is unknown


def test_json_shape() -> None:
    doc = plan_of(f"""
    mapUsers: |
      - userarn: arn:aws:iam::{ACCOUNT}:user/alice
        username: alice
        groups: [dev]
    """).as_json()
    assert set(doc) == {"cluster", "authenticationMode", "rows", "summary", "readyForApiMode"}
    assert set(doc["rows"][0]) == {
        "action",
        "principalArn",
        "type",
        "username",
        "kubernetesGroups",
        "accessPolicies",
        "source",
        "line",
        "reasons",
    }
    assert doc["summary"] == {"create": 1}


def test_json_output_is_the_plan_document() -> None:
    import json

    from authenticator.migrate.formats import render_json

    for plan in (
        plan_of('mapAccounts: |\n  - "210987654321"\n'),
        plan_of(f"mapUsers: |\n  - userarn: arn:aws:iam::{ACCOUNT}:user/zoë\n    username: zoë\n"),
        build_plan(read_aws_auth("a.yaml", configmap("mapRoles: |\n"))),
    ):
        assert json.loads(render_json(plan)) == plan.as_json()
