"""Reading a cluster for the migration through botocore, against the EKS stand-in (access entries)
and moto's EKS behind it (node groups, Fargate profiles); ``--entries FILE``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authenticator.demo.runner import free_port
from authenticator.errors import UserError
from authenticator.migrate.cluster import ClusterState, eks_client, load_entries, read_cluster
from tests.support.eks_standin import ACCOUNT, ADMIN_POLICY, VIEW_POLICY, EksStandIn
from tests.support.plugin import env_credentials, write_aws_config

ADMIN = f"arn:aws:iam::{ACCOUNT}:role/team/admin"
VIEWER = "arn:aws:iam::444455556666:role/viewer"
NODES = f"arn:aws:iam::{ACCOUNT}:role/nodes/linux"
FARGATE = f"arn:aws:iam::{ACCOUNT}:role/fargate-pods"


@pytest.fixture(scope="module")
def standin() -> Iterator[EksStandIn]:
    with EksStandIn() as server:
        yield server


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment with test credentials and nothing of the developer's AWS settings."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in env_credentials(tmp_path, AWS_MAX_ATTEMPTS="1").items():
        monkeypatch.setenv(key, value)
    return tmp_path


@pytest.fixture
def eks(standin: EksStandIn, aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The client the command builds, reaching the stand-in through AWS_ENDPOINT_URL_EKS."""
    standin.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", standin.url)
    return eks_client(standin.region, None)


def test_a_config_map_cluster_has_managed_roles_and_no_entries(standin: EksStandIn, eks: Any) -> None:
    standin.create_cluster(mode="CONFIG_MAP", node_roles=[NODES], fargate_roles=[FARGATE])
    state = read_cluster(eks, "prod")
    assert state == ClusterState(
        name="prod",
        account=ACCOUNT,
        partition="aws",
        authentication_mode="CONFIG_MAP",
        entries=(),
        managed_role_arns=frozenset({NODES, FARGATE}),
    )
    # EKS refuses access-entry calls in CONFIG_MAP: none was made.
    assert "ListAccessEntries" not in standin.operations()


def test_entries_with_their_policies(standin: EksStandIn, eks: Any) -> None:
    standin.create_cluster(mode="API_AND_CONFIG_MAP", node_roles=[NODES], fargate_roles=[FARGATE])
    eks.create_access_entry(clusterName="prod", principalArn=ADMIN, username="admin", kubernetesGroups=["ops"])
    eks.create_access_entry(clusterName="prod", principalArn=VIEWER)
    eks.associate_access_policy(
        clusterName="prod", principalArn=ADMIN, policyArn=ADMIN_POLICY, accessScope={"type": "cluster"}
    )
    eks.associate_access_policy(
        clusterName="prod",
        principalArn=ADMIN,
        policyArn=VIEW_POLICY,
        accessScope={"type": "namespace", "namespaces": ["a", "b"]},
    )
    state = read_cluster(eks, "prod")
    assert state.authentication_mode == "API_AND_CONFIG_MAP"
    assert state.managed_role_arns == {NODES, FARGATE}
    by_principal = {entry["principalArn"]: entry for entry in state.entries}
    # EKS itself gave the managed roles their entries when the cluster was made in this mode.
    assert set(by_principal) == {NODES, FARGATE, ADMIN, VIEWER}
    admin = by_principal[ADMIN]
    assert (admin["type"], admin["username"], admin["kubernetesGroups"]) == ("STANDARD", "admin", ["ops"])
    assert [(p["policyArn"], p["accessScope"]) for p in admin["associatedAccessPolicies"]] == [
        (ADMIN_POLICY, {"type": "cluster", "namespaces": []}),
        (VIEW_POLICY, {"type": "namespace", "namespaces": ["a", "b"]}),
    ]
    assert by_principal[VIEWER]["associatedAccessPolicies"] == []
    assert by_principal[NODES]["type"] == "EC2_LINUX"
    assert by_principal[FARGATE]["type"] == "FARGATE_LINUX"
    # Plain JSON values, as --entries gives them: timestamps as ISO 8601 text.
    assert isinstance(admin["createdAt"], str)
    assert isinstance(admin["associatedAccessPolicies"][0]["associatedAt"], str)
    assert json.loads(json.dumps(state.entries)) == list(state.entries)
    # Each entry was described and its policies listed, once.
    assert standin.operations().count("DescribeAccessEntry") == 4
    assert [call["principalArn"] for call in standin.calls("ListAssociatedAccessPolicies")] == [
        entry["principalArn"] for entry in state.entries
    ]


def test_every_page_of_entries_is_read(standin: EksStandIn, eks: Any) -> None:
    standin.create_cluster(mode="API", node_roles=[NODES], fargate_roles=[FARGATE])
    principals = [f"arn:aws:iam::{ACCOUNT}:role/r{i:03}" for i in range(103)]
    for principal in principals:
        eks.create_access_entry(clusterName="prod", principalArn=principal)
    state = read_cluster(eks, "prod")
    assert [e["principalArn"] for e in state.entries] == [NODES, FARGATE, *principals]
    pages = standin.calls("ListAccessEntries")
    assert len(pages) == 2
    assert "nextToken" in pages[1]


def test_a_profile_gives_the_region_and_the_endpoint(standin: EksStandIn, aws_home: Path) -> None:
    standin.reset()
    write_aws_config(
        aws_home,
        config=f"[profile migrate]\nregion = {standin.region}\nendpoint_url = {standin.url}\n",
        credentials="[migrate]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    client = eks_client(None, "migrate")
    assert client.meta.region_name == standin.region
    standin.create_cluster(mode="API")
    assert read_cluster(client, "prod").authentication_mode == "API"


def test_an_unknown_cluster_is_one_line(eks: Any) -> None:
    with pytest.raises(UserError) as caught:
        read_cluster(eks, "nope")
    message = str(caught.value)
    assert message.startswith("EKS DescribeCluster: ResourceNotFoundException: ")
    assert "nope" in message
    assert "\n" not in message


def test_client_setup_errors_are_user_errors(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match="profile"):
        eks_client("us-east-1", "no-such-profile")
    with pytest.raises(UserError, match="no AWS region"):
        eks_client(None, None)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UserError, match=r"^EKS: Could not connect") as caught:
        read_cluster(eks_client("us-east-1", None), "prod")
    assert "\n" not in str(caught.value)


# -- --entries FILE ------------------------------------------------------------------------------


def write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "entries.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_load_entries(tmp_path: Path) -> None:
    document = [
        {
            "clusterName": "prod",
            "principalArn": ADMIN,
            "type": "STANDARD",
            "username": "admin",
            "kubernetesGroups": ["ops"],
            "createdAt": "2024-01-01T00:00:00+00:00",
            "associatedAccessPolicies": [
                {"policyArn": ADMIN_POLICY, "accessScope": {"type": "cluster", "namespaces": []}}
            ],
        },
        {"principalArn": NODES, "type": "EC2_LINUX"},
        {"principalArn": VIEWER},
    ]
    entries = load_entries(write(tmp_path, document))
    assert entries[0] == document[0]
    assert entries[1] == {
        "principalArn": NODES,
        "type": "EC2_LINUX",
        "kubernetesGroups": [],
        "associatedAccessPolicies": [],
    }
    assert entries[2] == {
        "principalArn": VIEWER,
        "type": "STANDARD",
        "kubernetesGroups": [],
        "associatedAccessPolicies": [],
    }


def test_entries_read_from_a_cluster_load_back_the_same(standin: EksStandIn, eks: Any, tmp_path: Path) -> None:
    standin.create_cluster(mode="API_AND_CONFIG_MAP", node_roles=[NODES], fargate_roles=[FARGATE])
    eks.create_access_entry(clusterName="prod", principalArn=ADMIN, kubernetesGroups=["ops"])
    eks.associate_access_policy(
        clusterName="prod",
        principalArn=ADMIN,
        policyArn=VIEW_POLICY,
        accessScope={"type": "namespace", "namespaces": ["a"]},
    )
    entries = read_cluster(eks, "prod").entries
    assert load_entries(write(tmp_path, list(entries))) == entries


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("[{", "not JSON"),
        ({"principalArn": ADMIN}, "expected a JSON list of access entries, got an object"),
        (["arn:aws:iam::1:role/x"], "entry [0]: expected an object, got a string"),
        ([{"username": "x"}], "entry [0]: principalArn must be an ARN string"),
        ([{"principalArn": "admin"}], "principalArn must be an ARN string"),
        ([{"principalArn": ADMIN, "kubernetesGroups": "ops"}], "kubernetesGroups must be a list of strings"),
        ([{"principalArn": ADMIN, "username": 7}], "username must be a string, got a number"),
        ([{"principalArn": ADMIN, "type": "EC2_LINUXX"}], "type 'EC2_LINUXX' is not an access-entry type"),
        ([{"accessEntry": {"principalArn": ADMIN}}], "the accessEntry object itself, not the describe-access-entry"),
        ([{"principalArn": ADMIN, "associatedAccessPolicies": {}}], "associatedAccessPolicies must be a list"),
        (
            [{"principalArn": ADMIN, "associatedAccessPolicies": [{}]}],
            "associatedAccessPolicies[0]: expected an object",
        ),
        (
            [
                {
                    "principalArn": ADMIN,
                    "associatedAccessPolicies": [{"policyArn": VIEW_POLICY, "accessScope": {"type": "x"}}],
                }
            ],
            "accessScope.type must be cluster or namespace",
        ),
        ([{"principalArn": ADMIN}, {"principalArn": VIEWER}, {"principalArn": ADMIN}], "entry [2]: principalArn"),
    ],
)
def test_bad_entries_files(tmp_path: Path, document: object, fragment: str) -> None:
    path = write(tmp_path, document)
    with pytest.raises(UserError) as caught:
        load_entries(path)
    message = str(caught.value)
    assert message.startswith(f"--entries {path}: ")
    assert fragment in message
    assert "\n" not in message


def test_a_missing_entries_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read: No such file or directory"):
        load_entries(str(tmp_path / "missing.json"))
