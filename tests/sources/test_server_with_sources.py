"""The real server app (``build_app`` as ``server`` builds it, in-process) over the cluster sources.

Config from the command line (``server -c FILE --kubeconfig K --backend-mode M``) -> sources from the
factory -> the app's lifespan starting them -> /readyz and /authenticate, with moto as STS (signature
checked) and the HTTPS kube-apiserver stand-in, reached through the real kubernetes client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from authenticator import metrics
from authenticator.cli import build_parser
from authenticator.demo.sts_peer import StsPeer
from authenticator.mapping.awsauth import parse_aws_auth
from authenticator.mapping.chain import MappingSource
from authenticator.mapping.sources.configmap import EKSConfigMapSource
from authenticator.mapping.sources.crd import CRDSource
from authenticator.mapping.sources.dynamicfile import DynamicFileSource
from authenticator.server.composition import build_app, build_sources
from authenticator.server.config import ServerConfig, load_config, overrides_from_args
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, IAM_IDENTITY_MAPPINGS, KubeApiServer
from tests.support.tokens import botocore_token

CLUSTER = "wiring-cluster"
WAIT = 15.0
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def peer() -> Iterator[StsPeer]:
    with StsPeer() as sts_peer:
        yield sts_peer


def token_for(creds: Any) -> str:
    key_id, secret, session_token = creds
    return botocore_token(key_id, secret, session_token, cluster_id=CLUSTER)


def server_config(tmp_path: Path, peer: StsPeer, *flags: str, server: str = "") -> ServerConfig:
    """The config ``server -c FILE <flags>`` starts with."""
    path = tmp_path / "config.yaml"
    path.write_text(
        f"clusterID: {CLUSTER}\nserver:\n  stsEndpointOverride: {peer.url}\n  stsCABundle: {peer.ca_path}\n{server}"
    )
    args = build_parser().parse_args(["server", "-c", str(path), *flags])
    return load_config(args.config, overrides_from_args(args))


def review(client: TestClient, token: str) -> httpx.Response:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    # Starlette types its test client against httpx2, which is not installed: at run time it is httpx.
    response: httpx.Response = client.post("/authenticate", json=body)
    return response


def wait_ready(source: MappingSource) -> bool:
    """Wait for a cluster source's first load (True), at most WAIT seconds."""
    assert isinstance(source, CRDSource | EKSConfigMapSource)
    return source.wait_until(lambda: source.ready, WAIT)


def user_of(response: httpx.Response) -> tuple[str, list[str]]:
    assert response.status_code == 200, response.text
    user = response.json()["status"]["user"]
    return user["username"], user["groups"]


def role_mapping(role_arn: str, username: str) -> dict[str, Any]:
    return {"data": {"mapRoles": f"- rolearn: {role_arn}\n  username: {username}\n  groups: [ops]\n"}}


def test_configmap_server_ready_after_first_list_and_follows_changes(
    tmp_path: Path, peer: StsPeer, standin: KubeApiServer, kubeconfig: Path
) -> None:
    peer.reset()
    alice = peer.create_user("alice")
    role_arn = peer.create_role("admins")
    token = token_for(peer.assume_role(alice.credentials, role_arn, "alice@example.com"))
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", role_mapping(role_arn, "admin:{{SessionName}}"))

    config = server_config(tmp_path, peer, "--kubeconfig", str(kubeconfig), "--backend-mode", "EKSConfigMap")
    assert config.backend_mode == ("EKSConfigMap",) and config.kubeconfig == str(kubeconfig)
    sources = build_sources(config)
    [source] = sources
    assert isinstance(source, EKSConfigMapSource)
    app, _ = build_app(config, sources=sources)

    standin.token = "not-the-token"  # every request 401: the first list fails
    with TestClient(app) as client:
        assert source.watcher.wait_for(lambda: source.watcher.failures >= 1, WAIT)
        waiting = client.get("/readyz")
        assert waiting.status_code == 503
        assert "waiting for EKSConfigMap" in waiting.text
        assert client.get("/healthz").status_code == 200  # serving meanwhile

        standin.token = "stand-in-token"  # the next retry lists
        assert source.wait_until(lambda: source.ready, WAIT)
        assert client.get("/readyz").status_code == 200
        assert user_of(review(client, token)) == ("admin:alice-example.com", ["ops"])

        # A change to the ConfigMap reaches the next review, without a restart.
        generation = source.generation
        standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", role_mapping(role_arn, "ops:{{SessionNameRaw}}"))
        assert source.wait_until(lambda: source.generation > generation, WAIT)
        assert user_of(review(client, token)) == ("ops:alice@example.com", ["ops"])

        generation = source.generation
        standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": ""}})
        assert source.wait_until(lambda: source.generation > generation, WAIT)
        denied = review(client, token)
        assert denied.status_code == 403 and denied.json()["status"]["authenticated"] is False
    # Stopped with the app: its watch thread is gone.
    assert not any(t.name == f"watch-{source.watcher.name}" for t in threading.enumerate())


def test_sources_are_consulted_in_backend_mode_order(
    tmp_path: Path, peer: StsPeer, standin: KubeApiServer, kubeconfig: Path
) -> None:
    peer.reset()
    bob = peer.create_user("bob")
    standin.apply(IAM_IDENTITY_MAPPINGS, "bob", {"spec": {"arn": bob.arn, "username": "bob-crd", "groups": ["crd"]}})
    standin.apply(
        CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapUsers": f"- userarn: {bob.arn}\n  username: bob-cm\n"}}
    )
    config = server_config(tmp_path, peer, "--kubeconfig", str(kubeconfig), "--backend-mode", "CRD,ConfigMap")
    assert config.backend_mode == ("CRD", "EKSConfigMap")  # the deprecated alias resolved
    sources = build_sources(config)
    app, _ = build_app(config, sources=sources)
    with TestClient(app) as client:
        for source in sources:
            assert wait_ready(source)
        assert client.get("/readyz").status_code == 200
        assert user_of(review(client, token_for(bob.credentials))) == ("bob-crd", ["crd"])


def test_dynamicfile_server_waits_for_the_file_then_maps_by_userid(tmp_path: Path, peer: StsPeer) -> None:
    peer.reset()
    alice = peer.create_user("alice")
    role_arn = peer.create_role("deployers")
    role_id = peer.client("iam").get_role(RoleName="deployers")["Role"]["RoleId"]
    token = token_for(peer.assume_role(alice.credentials, role_arn, "ci-7"))
    path = tmp_path / "mappings.json"
    server = f"  dynamicfilepath: {path}\n  dynamicfileUserIDStrict: true\n"
    config = server_config(tmp_path, peer, "--backend-mode", "DynamicFile", server=server)
    sources = build_sources(config)
    [source] = sources
    assert isinstance(source, DynamicFileSource) and source.userid_strict
    app, _ = build_app(config, sources=sources)
    with TestClient(app) as client:
        waiting = client.get("/readyz")
        assert waiting.status_code == 503
        lines = waiting.text.splitlines()
        assert lines == ["not ready: waiting for DynamicFile", f"DynamicFile file: {path} does not exist"]

        # Strict mode: the entry names no ARN, only the role's STS UserId.
        entry = {"userid": role_id, "username": "deploy:{{SessionName}}", "groups": ["deployers"]}
        path.write_text(json.dumps({"version": "1", "mapRoles": [entry]}))
        assert source.check_for_changes()  # what the poller does every second
        assert client.get("/readyz").status_code == 200
        assert user_of(review(client, token)) == ("deploy:ci-7", ["deployers"])

        # An entry keyed by the ARN alone never matches in strict mode.
        path.write_text(json.dumps({"version": "2", "mapRoles": [{"rolearn": role_arn, "userid": "AROAOTHER"}]}))
        assert source.check_for_changes()
        assert review(client, token).status_code == 403


def test_ec2_private_dns_name_is_resolved_by_the_server(
    tmp_path: Path, peer: StsPeer, standin: KubeApiServer, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """{{EC2PrivateDNSName}} in a ConfigMap mapping, resolved by DescribeInstances against moto's
    EC2 (same peer). The resolver is built at the first lookup, from the botocore default chain:
    the environment below is read then, not at start."""
    peer.reset()
    ec2 = peer.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    alice = peer.create_user("alice")
    role_arn = peer.create_role("nodes")
    token = token_for(peer.assume_role(alice.credentials, role_arn, instance["InstanceId"]))
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", role_mapping(role_arn, "system:node:{{EC2PrivateDNSName}}"))
    config = server_config(tmp_path, peer, "--kubeconfig", str(kubeconfig), "--backend-mode", "EKSConfigMap")
    sources = build_sources(config)
    app, _ = build_app(config, sources=sources)
    with TestClient(app) as client:
        assert wait_ready(sources[0])
        for name, value in {
            "AWS_ENDPOINT_URL_EC2": peer.url,
            "AWS_CA_BUNDLE": str(peer.ca_path),
            "AWS_ACCESS_KEY_ID": alice.access_key_id,
            "AWS_SECRET_ACCESS_KEY": alice.secret_access_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        calls = metrics.ec2_describe_instances_calls._value.get()
        assert user_of(review(client, token)) == (f"system:node:{instance['PrivateDnsName']}", ["ops"])
        assert user_of(review(client, token))[0].endswith(instance["PrivateDnsName"])  # cached: no new call
        assert metrics.ec2_describe_instances_calls._value.get() == calls + 1


def test_crd_watch_failures_are_counted(api_client: Any, standin: KubeApiServer) -> None:
    before = metrics.crd_watch_failures._value.get()
    standin.token = "not-the-token"
    source = CRDSource(api_client=api_client)
    source.start_thread()
    try:
        assert source.watcher.wait_for(lambda: source.watcher.failures >= 1, WAIT)
    finally:
        source.stop_thread()
    assert metrics.crd_watch_failures._value.get() >= before + 1
    assert not source.ready


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    # The console script's own entry point.
    code = "import sys; from authenticator.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, cwd=REPO, check=False
    )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--backend-mode", "MountedFile,Nope"], "unknown backend mode 'Nope'"),
        (["--backend-mode", "CRD,EKSConfigMap,crd"], "backend mode CRD is listed twice"),
        (["--backend-mode", "File,MountedFile"], "backend mode MountedFile is listed twice"),
        (["--backend-mode", "EKSConfigMap", "--kubeconfig", "/nonexistent/kc"], "kubeconfig /nonexistent/kc does"),
    ],
)
def test_start_up_errors_for_backend_modes(tmp_path: Path, flags: list[str], expected: str) -> None:
    result = _cli("server", "-i", CLUSTER, "--state-dir", str(tmp_path / "state"), *flags)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    # The one-line reason ends the output; only log lines (a deprecated alias's warning) precede it.
    *logs, last = result.stderr.splitlines()
    assert last.startswith("eks-iam-authenticator server: ") and expected in last, result.stderr
    assert all(" warning authenticator.mapping: backend mode File is deprecated" in line for line in logs), logs
    assert not (tmp_path / "state").exists()


def test_add_role_through_the_cli(standin: KubeApiServer, kubeconfig: Path) -> None:
    role = "arn:aws:iam::111122223333:role/admins"
    nodes = "# nodes: keep me\n- rolearn: arn:aws:iam::111122223333:role/nodes\n  username: n\n"
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": nodes}})
    result = _cli(
        "add", "role", "--rolearn", role, "--username", "admin:{{SessionName}}",
        "--groups", "system:masters,ops", "--groups", "devs", "--kubeconfig", str(kubeconfig), "--prompt=false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "added role" in result.stdout
    configmap = standin.get(CONFIGMAPS_KUBE_SYSTEM, "aws-auth")
    assert configmap is not None and configmap["data"]["mapRoles"].startswith(nodes)
    _, added = parse_aws_auth(configmap["data"]).roles
    assert (added.rolearn, added.username) == (role, "admin:{{SessionName}}")
    assert added.groups == ("system:masters", "ops", "devs")  # comma lists and repeats, as StringSlice

    again = _cli("add", "role", "--rolearn", role, "--username", "x", "--kubeconfig", str(kubeconfig))
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "duplicate" in again.stderr
