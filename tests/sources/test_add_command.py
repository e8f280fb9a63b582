"""``add role|user`` against the kube-apiserver stand-in, through the real kubernetes client."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s_client

from authenticator.cli import build_parser
from authenticator.mapping.awsauth import parse_aws_auth
from authenticator.mapping.sources.edit import AddError, Entry, add_entry, append_entry, run_add
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer

ROLE = "arn:aws:iam::111122223333:role/admins"
USER = "arn:aws:iam::111122223333:user/alice"
EXISTING_ROLES = """# nodes: keep this comment
- rolearn: arn:aws:iam::111122223333:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
"""


def parse_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["add", *argv])


def configmap(standin: KubeApiServer) -> dict[str, Any]:
    cm = standin.get(CONFIGMAPS_KUBE_SYSTEM, "aws-auth")
    assert cm is not None
    return cm


def aws_auth(standin: KubeApiServer) -> dict[str, str]:
    data: dict[str, str] = configmap(standin)["data"]
    return data


def test_add_role_keeps_existing_text_and_parses(standin: KubeApiServer, api_client: k8s_client.ApiClient) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": EXISTING_ROLES, "mapAccounts": ""}})
    assert add_entry(api_client, Entry("role", ROLE, "admin:{{SessionName}}", ("system:masters",))) == 1
    data = aws_auth(standin)
    assert data["mapRoles"].startswith(EXISTING_ROLES)  # comments and formatting survive
    result = parse_aws_auth(data)
    assert result.ok
    assert [(r.rolearn, r.username, r.groups) for r in result.roles][-1] == (
        ROLE,
        "admin:{{SessionName}}",
        ("system:masters",),
    )
    assert len(result.roles) == 2
    assert data["mapAccounts"] == ""  # other sections untouched


def test_duplicate_is_refused(standin: KubeApiServer, api_client: k8s_client.ApiClient) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapUsers": f"- userarn: {USER}\n  username: a\n"}})
    rv = configmap(standin)["metadata"]["resourceVersion"]
    with pytest.raises(AddError, match="duplicate"):
        add_entry(api_client, Entry("user", USER.replace("alice", "ALICE"), "b"))  # matching ignores case
    assert configmap(standin)["metadata"]["resourceVersion"] == rv
    assert standin.count("PUT") == 0


def test_conflicts_are_retried(standin: KubeApiServer, api_client: k8s_client.ApiClient) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": EXISTING_ROLES}})
    standin.inject_conflicts(2)
    assert add_entry(api_client, Entry("role", ROLE, "admin")) == 3
    assert standin.count("PUT", "/configmaps/aws-auth") == 3
    assert standin.count("GET", "/configmaps/aws-auth") == 3  # each retry re-reads
    assert len(parse_aws_auth(aws_auth(standin)).roles) == 2


def test_a_real_concurrent_write_is_not_lost(standin: KubeApiServer, api_client: k8s_client.ApiClient) -> None:
    """The PUT carries the resourceVersion that was read; a write in between forces a re-read."""
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": EXISTING_ROLES}})
    core = k8s_client.CoreV1Api(api_client)
    stale = core.read_namespaced_config_map("aws-auth", "kube-system")
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": EXISTING_ROLES, "mapUsers": "[]"}})
    stale.data = {"mapRoles": "[]"}
    with pytest.raises(k8s_client.ApiException) as err:
        core.replace_namespaced_config_map("aws-auth", "kube-system", stale)
    assert err.value.status == 409  # the stand-in enforces optimistic concurrency
    add_entry(api_client, Entry("user", USER, "alice"))
    data = aws_auth(standin)
    assert data["mapRoles"] == EXISTING_ROLES
    assert [u.userarn for u in parse_aws_auth(data).users] == [USER]


def test_gives_up_after_persistent_conflicts(standin: KubeApiServer, api_client: k8s_client.ApiClient) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {}})
    standin.inject_conflicts(100)
    with pytest.raises(AddError, match="gave up after 3"):
        add_entry(api_client, Entry("user", USER, "alice"), attempts=3)


def test_missing_configmap_is_created(standin: KubeApiServer, api_client: k8s_client.ApiClient) -> None:
    add_entry(api_client, Entry("user", USER, "alice", ("devs",)))
    assert [(u.userarn, u.groups) for u in parse_aws_auth(aws_auth(standin)).users] == [(USER, ("devs",))]


def test_broken_section_is_refused() -> None:
    with pytest.raises(AddError, match="does not parse"):
        append_entry({"mapRoles": "- rolearn: [unclosed"}, Entry("role", ROLE, "admin"))


def test_flow_style_section_is_rewritten() -> None:
    data = append_entry({"mapUsers": "[]"}, Entry("user", USER, "alice"))
    assert [u.userarn for u in parse_aws_auth(data).users] == [USER]


@pytest.mark.parametrize(
    ("kind", "arn"),
    [("role", USER), ("user", ROLE), ("role", "not-an-arn"), ("role", "arn:aws:iam::111122223333:role")],
)
def test_wrong_arn_is_refused(kind: str, arn: str) -> None:
    with pytest.raises(AddError):
        Entry(kind, arn, "x").validate()  # type: ignore[arg-type]


def test_run_add_command(standin: KubeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(
        "role",
        "--rolearn",
        ROLE,
        "--username",
        "admin",
        "--groups",
        "a,b",
        "--groups",
        "c",
        "--kubeconfig",
        str(kubeconfig),
    )
    assert run_add(args) == 0
    out = capsys.readouterr()
    assert ROLE in out.out and out.err == ""
    assert [r.groups for r in parse_aws_auth(aws_auth(standin)).roles] == [("a", "b", "c")]

    assert run_add(args) == 1  # the same again: duplicate
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "duplicate" in err and "Traceback" not in err


def test_run_add_without_cluster_config_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    args = parse_args("user", "--userarn", USER, "--username", "alice", "--kubeconfig", str(tmp_path / "missing"))
    assert run_add(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_run_add_with_no_api_server_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = parse_args("user", "--userarn", USER, "--username", "alice", "--master", f"http://127.0.0.1:{port}")
    assert run_add(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the API server" in err and "Traceback" not in err
