"""The EKS stand-in, driven by a real botocore EKS client: routes and shapes of botocore's model,
and the rules of the access-entry API it enforces (docs/migration.md, "The access-entry API")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.eks_standin import ACCOUNT, ADMIN_POLICY, VIEW_POLICY, EksStandIn

ROLE = f"arn:aws:iam::{ACCOUNT}:role/team/platform/admin"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::444455556666:role/nodes"


@pytest.fixture(scope="module")
def standin() -> Iterator[EksStandIn]:
    with EksStandIn() as server:
        yield server


@pytest.fixture
def eks(standin: EksStandIn) -> Any:
    standin.reset()
    return standin.client()


def make_cluster(eks: Any, name: str = "prod", mode: str | None = "API_AND_CONFIG_MAP") -> None:
    extra = {"accessConfig": {"authenticationMode": mode}} if mode else {}
    eks.create_cluster(
        name=name,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        **extra,
    )


def error_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_describe_cluster_has_the_authentication_mode(eks: Any) -> None:
    make_cluster(eks, "default", mode=None)
    make_cluster(eks, "both")
    assert eks.describe_cluster(name="default")["cluster"]["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    described = eks.describe_cluster(name="both")["cluster"]
    assert described["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert described["arn"] == f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/both"


def test_unknown_cluster_is_resource_not_found(eks: Any) -> None:
    assert error_of(eks.describe_cluster, name="nope")[:2] == ("ResourceNotFoundException", 404)
    code, status, _ = error_of(eks.list_access_entries, clusterName="nope")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert error_of(eks.create_access_entry, clusterName="nope", principalArn=ROLE)[0] == "ResourceNotFoundException"


def test_access_entries_need_the_mode_to_have_left_config_map(eks: Any) -> None:
    make_cluster(eks, mode="CONFIG_MAP")
    code, status, message = error_of(eks.create_access_entry, clusterName="prod", principalArn=ROLE)
    assert (code, status) == ("InvalidRequestException", 400)
    assert "authentication mode" in message
    assert error_of(eks.list_access_entries, clusterName="prod")[0] == "InvalidRequestException"


def test_the_mode_moves_one_step_at_a_time_one_way(eks: Any) -> None:
    make_cluster(eks, mode="CONFIG_MAP")

    def move(mode: str) -> Any:
        return eks.update_cluster_config(name="prod", accessConfig={"authenticationMode": mode})

    assert error_of(move, mode="API")[0] == "InvalidParameterException"
    assert error_of(move, mode="CONFIG_MAP")[0] == "InvalidParameterException"
    update = move("API_AND_CONFIG_MAP")["update"]
    assert update["type"] == "AccessConfigUpdate"
    assert update["params"] == [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}]
    assert error_of(move, mode="CONFIG_MAP")[0] == "InvalidParameterException"
    move("API")
    assert eks.describe_cluster(name="prod")["cluster"]["accessConfig"]["authenticationMode"] == "API"
    assert error_of(move, mode="API_AND_CONFIG_MAP")[0] == "InvalidParameterException"


def test_a_mode_change_cannot_ride_with_another_update(eks: Any) -> None:
    make_cluster(eks, mode="CONFIG_MAP")
    code, _, message = error_of(
        eks.update_cluster_config,
        name="prod",
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"},
        logging={"clusterLogging": [{"types": ["api"], "enabled": True}]},
    )
    assert code == "InvalidParameterException"
    assert "logging" in message


def test_managed_node_group_and_fargate_roles_get_entries_when_the_mode_leaves_config_map(eks: Any) -> None:
    make_cluster(eks, mode="CONFIG_MAP")
    linux = f"arn:aws:iam::{ACCOUNT}:role/nodes/linux-nodes"
    windows = f"arn:aws:iam::{ACCOUNT}:role/windows-nodes"
    fargate = f"arn:aws:iam::{ACCOUNT}:role/fargate-pods"
    late = f"arn:aws:iam::{ACCOUNT}:role/late-nodes"
    eks.create_nodegroup(clusterName="prod", nodegroupName="linux", subnets=["subnet-1"], nodeRole=linux)
    eks.create_nodegroup(
        clusterName="prod",
        nodegroupName="win",
        subnets=["subnet-1"],
        nodeRole=windows,
        amiType="WINDOWS_CORE_2022_x86_64",
    )
    eks.create_fargate_profile(
        clusterName="prod", fargateProfileName="fp", podExecutionRoleArn=fargate, selectors=[{"namespace": "apps"}]
    )
    eks.update_cluster_config(name="prod", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    eks.create_nodegroup(clusterName="prod", nodegroupName="late", subnets=["subnet-1"], nodeRole=late)
    types = {
        arn: eks.describe_access_entry(clusterName="prod", principalArn=arn)["accessEntry"]["type"]
        for arn in eks.list_access_entries(clusterName="prod")["accessEntries"]
    }
    assert types == {linux: "EC2_LINUX", windows: "EC2_WINDOWS", fargate: "FARGATE_LINUX", late: "EC2_LINUX"}
    node = eks.describe_access_entry(clusterName="prod", principalArn=linux)["accessEntry"]
    assert node["username"] == "system:node:{{EC2PrivateDNSName}}"
    assert node["kubernetesGroups"] == ["system:nodes"]


def test_create_and_describe_a_standard_entry_with_a_role_path(standin: EksStandIn, eks: Any) -> None:
    make_cluster(eks)
    created = eks.create_access_entry(
        clusterName="prod",
        principalArn=ROLE,
        username="admin:{{SessionName}}",
        kubernetesGroups=["platform"],
        tags={"team": "p"},
    )["accessEntry"]
    described = eks.describe_access_entry(clusterName="prod", principalArn=ROLE)["accessEntry"]
    assert described == created
    assert described["principalArn"] == ROLE
    assert described["type"] == "STANDARD"
    assert described["username"] == "admin:{{SessionName}}"
    assert described["kubernetesGroups"] == ["platform"]
    assert described["tags"] == {"team": "p"}
    assert described["accessEntryArn"].startswith(
        f"arn:aws:eks:us-east-1:{ACCOUNT}:access-entry/prod/role/{ACCOUNT}/admin/"
    )
    # The path arrived percent-encoded (slashes included) and was read back whole.
    recorded = next(r for r in standin.requests if r.operation == "DescribeAccessEntry")
    assert "%2F" in recorded.path
    assert recorded.params == {"clusterName": "prod", "principalArn": ROLE}


def test_default_usernames(eks: Any) -> None:
    make_cluster(eks)
    role = eks.create_access_entry(clusterName="prod", principalArn=ROLE)["accessEntry"]
    user = eks.create_access_entry(clusterName="prod", principalArn=USER)["accessEntry"]
    assert role["username"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/{{{{SessionName}}}}"
    assert user["username"] == USER
    assert role["kubernetesGroups"] == []


def test_a_second_create_is_409_and_a_retry_with_the_same_token_is_not(eks: Any) -> None:
    make_cluster(eks)
    first = eks.create_access_entry(clusterName="prod", principalArn=ROLE, clientRequestToken="t-1")["accessEntry"]
    code, status, _ = error_of(eks.create_access_entry, clusterName="prod", principalArn=ROLE, kubernetesGroups=["x"])
    assert (code, status) == ("ResourceInUseException", 409)
    retried = eks.create_access_entry(clusterName="prod", principalArn=ROLE, clientRequestToken="t-1")["accessEntry"]
    assert retried == first
    assert eks.list_access_entries(clusterName="prod")["accessEntries"] == [ROLE]


@pytest.mark.parametrize(
    "username",
    [
        "system:admin",
        "eks:admin",
        "aws:admin",
        "amazon:admin",
        "iam:admin",
        "{{SessionName}}",
        "admin-{{SessionName}}",
        "{{SessionNameRaw}}:admin",
        "admin:{{AccountID}}",
        "node:{{EC2PrivateDNSName}}",
        "admin:{{AccessKeyID}}",
    ],
)
def test_refused_usernames(eks: Any, username: str) -> None:
    make_cluster(eks)
    code, status, _ = error_of(eks.create_access_entry, clusterName="prod", principalArn=ROLE, username=username)
    assert (code, status) == ("InvalidParameterException", 400)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    assert error_of(eks.update_access_entry, clusterName="prod", principalArn=ROLE, username=username)[0] == (
        "InvalidParameterException"
    )


@pytest.mark.parametrize(
    "username", ["admin", "admin:{{SessionName}}", "a:b-{{SessionNameRaw}}", "system-admin", "Admin"]
)
def test_allowed_usernames(eks: Any, username: str) -> None:
    make_cluster(eks)
    assert eks.create_access_entry(clusterName="prod", principalArn=ROLE, username=username)["accessEntry"][
        "username"
    ] == (username)


@pytest.mark.parametrize("groups", [["system:masters"], ["devs", "system:bootstrappers"], ["system:nodes"]])
def test_system_groups_are_refused(eks: Any, groups: list[str]) -> None:
    make_cluster(eks)
    code, _, message = error_of(eks.create_access_entry, clusterName="prod", principalArn=ROLE, kubernetesGroups=groups)
    assert code == "InvalidParameterException"
    assert "system:" in message
    eks.create_access_entry(clusterName="prod", principalArn=ROLE, kubernetesGroups=["devs"])
    assert error_of(eks.update_access_entry, clusterName="prod", principalArn=ROLE, kubernetesGroups=groups)[0] == (
        "InvalidParameterException"
    )
    assert eks.describe_access_entry(clusterName="prod", principalArn=ROLE)["accessEntry"]["kubernetesGroups"] == [
        "devs"
    ]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"principalArn": OTHER_ACCOUNT_ROLE}, "account"),
        ({"principalArn": USER}, "IAM role"),
        ({"principalArn": f"arn:aws:iam::{ACCOUNT}:role/nodes", "username": "node"}, "username"),
        ({"principalArn": f"arn:aws:iam::{ACCOUNT}:role/nodes", "kubernetesGroups": ["nodes"]}, "kubernetesGroups"),
    ],
)
def test_node_entries_have_their_shape(eks: Any, arguments: dict[str, Any], fragment: str) -> None:
    make_cluster(eks)
    code, _, message = error_of(eks.create_access_entry, clusterName="prod", type="EC2_LINUX", **arguments)
    assert code == "InvalidParameterException"
    assert fragment in message


def test_node_entries_are_filled_in_by_eks_and_cannot_take_groups_or_policies(eks: Any) -> None:
    make_cluster(eks)
    role = f"arn:aws:iam::{ACCOUNT}:role/fargate"
    entry = eks.create_access_entry(clusterName="prod", principalArn=role, type="FARGATE_LINUX")["accessEntry"]
    assert entry["type"] == "FARGATE_LINUX"
    assert entry["username"] == "system:node:{{SessionName}}"
    assert "system:node-proxier" in entry["kubernetesGroups"]
    assert error_of(eks.update_access_entry, clusterName="prod", principalArn=role, kubernetesGroups=["x"])[0] == (
        "InvalidParameterException"
    )
    code, _, _ = error_of(
        eks.associate_access_policy,
        clusterName="prod",
        principalArn=role,
        policyArn=ADMIN_POLICY,
        accessScope={"type": "cluster"},
    )
    assert code == "InvalidParameterException"
    # a cross-account role is fine for STANDARD
    assert (
        eks.create_access_entry(clusterName="prod", principalArn=OTHER_ACCOUNT_ROLE)["accessEntry"]["type"]
        == "STANDARD"
    )


@pytest.mark.parametrize(
    "principal",
    [
        f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/session",
        f"arn:aws-cn:iam::{ACCOUNT}:role/admin",
        "admin",
        f"arn:aws:iam::{ACCOUNT}:group/admins",
    ],
)
def test_principals_that_are_not_iam_users_or_roles_of_the_partition(eks: Any, principal: str) -> None:
    make_cluster(eks)
    assert (
        error_of(eks.create_access_entry, clusterName="prod", principalArn=principal)[0] == "InvalidParameterException"
    )


def test_an_unknown_type_is_refused(eks: Any) -> None:
    make_cluster(eks)
    assert error_of(eks.create_access_entry, clusterName="prod", principalArn=ROLE, type="ROOT")[0] == (
        "InvalidParameterException"
    )


def test_missing_entries_are_resource_not_found(eks: Any) -> None:
    make_cluster(eks)
    calls: list[tuple[Callable[..., object], dict[str, object]]] = [
        (eks.describe_access_entry, {}),
        (eks.update_access_entry, {"kubernetesGroups": ["x"]}),
        (eks.delete_access_entry, {}),
        (eks.list_associated_access_policies, {}),
        (eks.associate_access_policy, {"policyArn": ADMIN_POLICY, "accessScope": {"type": "cluster"}}),
    ]
    for call, extra in calls:
        code, status, _ = error_of(call, clusterName="prod", principalArn=ROLE, **extra)
        assert (code, status) == ("ResourceNotFoundException", 404), call


def test_update_and_delete(eks: Any) -> None:
    make_cluster(eks)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE, username="admin", kubernetesGroups=["a"])
    updated = eks.update_access_entry(clusterName="prod", principalArn=ROLE, kubernetesGroups=["b", "c"])["accessEntry"]
    assert (updated["username"], updated["kubernetesGroups"]) == ("admin", ["b", "c"])
    assert updated["modifiedAt"] >= updated["createdAt"]
    eks.delete_access_entry(clusterName="prod", principalArn=ROLE)
    assert error_of(eks.describe_access_entry, clusterName="prod", principalArn=ROLE)[0] == "ResourceNotFoundException"
    assert eks.list_access_entries(clusterName="prod")["accessEntries"] == []


def test_list_access_entries_pages(eks: Any) -> None:
    make_cluster(eks)
    principals = [f"arn:aws:iam::{ACCOUNT}:role/r{i}" for i in range(7)]
    for arn in principals:
        eks.create_access_entry(clusterName="prod", principalArn=arn)
    first = eks.list_access_entries(clusterName="prod", maxResults=3)
    assert first["accessEntries"] == principals[:3]
    assert "nextToken" in first
    pages = list(
        eks.get_paginator("list_access_entries").paginate(clusterName="prod", PaginationConfig={"PageSize": 3})
    )
    assert [len(p["accessEntries"]) for p in pages] == [3, 3, 1]
    assert [arn for p in pages for arn in p["accessEntries"]] == principals
    assert error_of(eks.list_access_entries, clusterName="prod", nextToken="garbage")[0] == "InvalidParameterException"


def test_access_policies(eks: Any) -> None:
    make_cluster(eks)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    eks.create_access_entry(clusterName="prod", principalArn=USER)

    def associate(policy: str, scope: dict[str, Any], principal: str = ROLE) -> Any:
        return eks.associate_access_policy(
            clusterName="prod", principalArn=principal, policyArn=policy, accessScope=scope
        )

    answer = associate(VIEW_POLICY, {"type": "namespace", "namespaces": ["a"]})
    assert answer["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["a"]}
    associate(VIEW_POLICY, {"type": "namespace", "namespaces": ["a", "b"]})  # replaces the scope
    associate(ADMIN_POLICY, {"type": "cluster"})
    listed = eks.list_associated_access_policies(clusterName="prod", principalArn=ROLE)["associatedAccessPolicies"]
    assert [(p["policyArn"], p["accessScope"]) for p in listed] == [
        (VIEW_POLICY, {"type": "namespace", "namespaces": ["a", "b"]}),
        (ADMIN_POLICY, {"type": "cluster", "namespaces": []}),
    ]
    filtered = eks.list_access_entries(clusterName="prod", associatedPolicyArn=ADMIN_POLICY)["accessEntries"]
    assert filtered == [ROLE]
    eks.disassociate_access_policy(clusterName="prod", principalArn=ROLE, policyArn=VIEW_POLICY)
    listed = eks.list_associated_access_policies(clusterName="prod", principalArn=ROLE)["associatedAccessPolicies"]
    assert [p["policyArn"] for p in listed] == [ADMIN_POLICY]


@pytest.mark.parametrize(
    ("policy", "scope"),
    [
        (VIEW_POLICY, {"type": "namespace"}),
        (VIEW_POLICY, {"type": "cluster", "namespaces": ["a"]}),
        ("arn:aws:iam::aws:policy/AdministratorAccess", {"type": "cluster"}),
        ("arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", {"type": "cluster"}),
    ],
)
def test_bad_policy_associations(eks: Any, policy: str, scope: dict[str, Any]) -> None:
    make_cluster(eks)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    code, _, _ = error_of(
        eks.associate_access_policy, clusterName="prod", principalArn=ROLE, policyArn=policy, accessScope=scope
    )
    assert code == "InvalidParameterException"


def test_requests_are_validated_against_the_model(standin: EksStandIn, eks: Any) -> None:
    make_cluster(eks)
    unchecked = standin.client(parameter_validation=False)
    code, _, message = error_of(unchecked.create_access_entry, clusterName="prod", principalArn=ROLE, username=123)
    assert code == "InvalidParameterException"
    assert "username" in message
    assert len(standin.model_errors) == 1
    code, _, _ = error_of(unchecked.list_access_entries, clusterName="prod", maxResults=0)
    assert code == "InvalidParameterException"
    assert eks.list_access_entries(clusterName="prod")["accessEntries"] == []


def test_every_request_is_recorded(standin: EksStandIn, eks: Any) -> None:
    make_cluster(eks)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE, kubernetesGroups=["devs"])
    error_of(eks.create_access_entry, clusterName="prod", principalArn=ROLE)
    assert standin.operations() == ["CreateCluster", "CreateAccessEntry", "CreateAccessEntry"]
    creates = [r for r in standin.requests if r.operation == "CreateAccessEntry"]
    assert [(r.status, r.error_code) for r in creates] == [(200, None), (409, "ResourceInUseException")]
    sent = standin.calls("CreateAccessEntry")[0]
    assert (sent["principalArn"], sent["kubernetesGroups"]) == (ROLE, ["devs"])
    assert "clientRequestToken" in sent  # botocore fills in the idempotency token


def test_reset_forgets_eks_and_keeps_iam(standin: EksStandIn, eks: Any) -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]
    iam.create_role("kept", "{}", "/", None, "", [], None)
    make_cluster(eks)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE)
    standin.reset()
    assert standin.requests == []
    assert error_of(eks.describe_cluster, name="prod")[0] == "ResourceNotFoundException"
    make_cluster(eks)
    assert eks.list_access_entries(clusterName="prod")["accessEntries"] == []
    assert iam.get_role("kept").name == "kept"


def test_answers_are_checked_against_the_output_shapes(standin: EksStandIn, eks: Any) -> None:
    from tests.support.eks_standin import shape_problems

    make_cluster(eks)
    eks.create_access_entry(clusterName="prod", principalArn=ROLE, kubernetesGroups=["devs"])
    eks.associate_access_policy(
        clusterName="prod", principalArn=ROLE, policyArn=VIEW_POLICY, accessScope={"type": "cluster"}
    )
    eks.list_associated_access_policies(clusterName="prod", principalArn=ROLE)
    eks.update_cluster_config(name="prod", accessConfig={"authenticationMode": "API"})
    assert standin.model_errors == []
    shape = standin.model.operation_model("DescribeAccessEntry").output_shape
    problems = shape_problems(
        shape, {"accessEntry": {"principalArn": ROLE, "groups": [], "kubernetesGroups": "devs", "createdAt": "x"}}, "A"
    )
    assert problems == [
        "A.accessEntry.groups: not a member of AccessEntry",
        "A.accessEntry.kubernetesGroups: expected a list",
        "A.accessEntry.createdAt: expected timestamp, got str",
    ]


def test_the_cluster_helper_makes_managed_roles_through_the_api(standin: EksStandIn, eks: Any) -> None:
    nodes, windows, pods = (f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in ("nodes", "windows", "pods"))
    arn = standin.create_cluster("helper", node_roles=[nodes], windows_node_roles=[windows], fargate_roles=[pods])
    assert arn == f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/helper"
    assert eks.list_nodegroups(clusterName="helper")["nodegroups"] == ["nodes-0", "nodes-1"]
    assert eks.list_fargate_profiles(clusterName="helper")["fargateProfileNames"] == ["fargate-0"]
    types = {
        p: eks.describe_access_entry(clusterName="helper", principalArn=p)["accessEntry"]["type"]
        for p in eks.list_access_entries(clusterName="helper")["accessEntries"]
    }
    assert types == {nodes: "EC2_LINUX", windows: "EC2_WINDOWS", pods: "FARGATE_LINUX"}
