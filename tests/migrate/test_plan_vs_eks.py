"""Property: what the planner says about an entry is what EKS answers. Every ``create`` row is
accepted by the EKS stand-in (botocore's model plus the API's rules), and every row held back as
``manual`` for a username or a group is refused by it when sent anyway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from authenticator.migrate.apply import apply_plan
from authenticator.migrate.plan import ClusterFacts, build_plan
from authenticator.migrate.source import read_aws_auth
from tests.support.aws_auth import configmap
from tests.support.eks_standin import ACCOUNT, EksStandIn

USERNAMES = [
    "",
    "alice",
    "system:ci",
    "eks:viewer",
    "amazon:x",
    "{{SessionName}}",
    "dev:{{SessionName}}",
    "dev-{{SessionNameRaw}}",
    "ci:{{AccountID}}:{{SessionName}}",
    "key-{{AccessKeyID}}",
    "system:node:{{EC2PrivateDNSName}}",
    "system:node:{{SessionName}}",
]
GROUPS = [
    "system:masters",
    "system:nodes",
    "system:bootstrappers",
    "system:node-proxier",
    "eks:kube-proxy-windows",
    "developers",
    "system:monitoring",
    "tenant-{{SessionName}}",
]
# Reasons that hold a row back because EKS would refuse the username or a group.
REFUSED = {
    "reserved-username",
    "session-name-without-colon",
    "unsupported-placeholder",
    "system-group",
    "group-placeholder",
}

# Half of the entries are plain ones, so that most plans also have rows to create.
entry = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]),
    st.one_of(st.sampled_from(USERNAMES), st.sampled_from(["alice", "dev:{{SessionName}}", ""])),
    st.one_of(
        st.lists(st.sampled_from(GROUPS), max_size=4, unique=True),
        st.lists(st.sampled_from(["developers", "ops", "system:masters"]), max_size=2, unique=True),
    ),
)


@pytest.fixture(scope="module")
def standin() -> Iterator[EksStandIn]:
    with EksStandIn() as server:
        yield server


def _yaml(items: list[tuple[str, str, list[str]]]) -> str:
    lines = ["mapRoles: |"]
    for name, username, groups in items:
        lines.append(f"  - rolearn: arn:aws:iam::{ACCOUNT}:role/{name}")
        if username:
            lines.append(f'    username: "{username}"')
        lines.append(f"    groups: [{', '.join(repr(g) for g in groups)}]")
    return configmap("\n".join(lines) + "\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(entry, min_size=1, max_size=4))
def test_the_plan_agrees_with_eks(standin: EksStandIn, items: list[tuple[str, str, list[str]]]) -> None:
    standin.reset()
    standin.create_cluster()
    eks: Any = standin.client()
    plan = build_plan(read_aws_auth("aws-auth.yaml", _yaml(items)), ClusterFacts(name="prod", account=ACCOUNT))
    outcome = apply_plan(eks, "prod", plan, lambda line: None)
    assert outcome.failures == [], outcome.failures
    assert outcome.conflicts == []
    assert standin.model_errors == []
    event(f"created entries: {min(outcome.created, 2)}+")
    for row in plan.rows:
        codes = {r.code for r in row.reasons if r.blocking}
        if row.action != "manual" or not codes <= REFUSED:
            continue
        params: dict[str, Any] = {"clusterName": "prod", "principalArn": row.principal_arn}
        if row.username:
            params["username"] = row.username
        if "system-group" in codes or "group-placeholder" in codes:
            # what a naive migration sends: every group as it is in aws-auth
            mapping = next(e.mapping for e in read_aws_auth("a.yaml", _yaml(items)).entries if e.source == row.source)
            params["kubernetesGroups"] = [g for g in mapping.groups if g != "system:masters"]
        if "group-placeholder" in codes and codes == {"group-placeholder"}:
            continue  # EKS takes a literal "{{...}}" group; it is the meaning that is lost
        with pytest.raises(ClientError) as refused:
            eks.create_access_entry(**params)
        assert refused.value.response["Error"]["Code"] == "InvalidParameterException", (row, params)
        event(f"refused as planned: {sorted(codes)}")
