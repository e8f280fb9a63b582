"""provideClusterInfo: without -i, the cluster id and region come from the kubeconfig's cluster
(``KUBERNETES_EXEC_INFO``'s ``spec.cluster.config``); and a region no partition lists is used with
a warning. Through the installed console script, and through a real kubectl."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from authenticator.demo.apiserver import ApiServerStandIn
from client_plugin.presign import presign_get_caller_identity
from tests.support.plugin import (
    ACCESS_KEY,
    PLUGIN,
    SECRET_KEY,
    DecodedToken,
    decode_token,
    env_credentials,
    kubectl_binary,
    plugin_token_check,
    run_plugin,
)

EXEC_EXTENSION = "client.authentication.k8s.io/exec"


def _exec_info(config: dict[str, Any] | None, api_version: str = "v1") -> str:
    """What kubectl sets with provideClusterInfo: true (the CA data shortened)."""
    cluster: dict[str, Any] = {"server": "https://127.0.0.1:6443", "certificate-authority-data": "LS0tLS1C"}
    if config is not None:
        cluster["config"] = config
    info = {
        "kind": "ExecCredential",
        "apiVersion": f"client.authentication.k8s.io/{api_version}",
        "spec": {"cluster": cluster, "interactive": False},
    }
    return json.dumps(info, separators=(",", ":")) + "\n"


def _signed_for(token: DecodedToken, cluster_id: str) -> bool:
    """Whether ``token`` is the presign of ``cluster_id`` (the cluster id is a signed header, not in the URL)."""
    signed_at = datetime.strptime(token.params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expected = presign_get_caller_identity(
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        session_token=None,
        host=token.host,
        signing_region=token.scope_region,
        cluster_id=cluster_id,
        now=signed_at,
    )
    return expected.url == token.url


def _token(*args: str, env: dict[str, str]) -> tuple[DecodedToken, str]:
    result = run_plugin(*args, env=env)
    assert result.returncode == 0, result.stderr
    return decode_token(json.loads(result.stdout)["status"]["token"]), result.stderr


def test_cluster_id_and_region_from_exec_info(home: Path) -> None:
    info = _exec_info({"cluster-id": "info-cluster", "region": "eu-central-1"})
    token, stderr = _token(env=env_credentials(home, KUBERNETES_EXEC_INFO=info, AWS_REGION="us-west-2"))
    assert _signed_for(token, "info-cluster")
    assert not _signed_for(token, "other-cluster")  # guards the check above
    # The cluster's own region beats the environment's default.
    assert (token.host, token.scope_region) == ("sts.eu-central-1.amazonaws.com", "eu-central-1")
    assert stderr == ""


def test_flags_win_over_exec_info(home: Path) -> None:
    info = _exec_info({"cluster-id": "info-cluster", "region": "eu-central-1"})
    env = env_credentials(home, KUBERNETES_EXEC_INFO=info)
    token, _ = _token("-i", "flag-cluster", env=env)
    assert _signed_for(token, "flag-cluster")
    # With -i the exec info is not read at all: the region is the default one.
    assert token.scope_region == "us-east-1"
    token, _ = _token("--region", "ap-south-1", env=env)
    assert _signed_for(token, "info-cluster") and token.scope_region == "ap-south-1"


def test_exec_info_without_region_uses_the_usual_order(home: Path) -> None:
    env = env_credentials(home, KUBERNETES_EXEC_INFO=_exec_info({"cluster-id": "info-cluster"}), AWS_REGION="sa-east-1")
    token, _ = _token(env=env)
    assert _signed_for(token, "info-cluster") and token.scope_region == "sa-east-1"


@pytest.mark.parametrize("config", [None, {}, {"cluster-id": ""}, {"cluster-id": 7}, {"clusterID": "x"}])
def test_no_cluster_id_anywhere_is_one_line(home: Path, config: dict[str, Any] | None) -> None:
    result = run_plugin(env=env_credentials(home, KUBERNETES_EXEC_INFO=_exec_info(config)))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "no cluster id" in result.stderr
    assert "provideClusterInfo" in result.stderr


# -- a region no partition lists -----------------------------------------------------------


def test_unknown_region_is_used_with_a_warning(home: Path) -> None:
    token, stderr = _token("-i", "c", "--region", "xx-newregion-1", env=env_credentials(home))
    # New regions must work: the token names the region's host in the partition its name implies.
    assert (token.host, token.scope_region) == ("sts.xx-newregion-1.amazonaws.com", "xx-newregion-1")
    assert stderr.count("\n") == 1
    assert stderr.startswith("eks-iam-authenticator: warning: region 'xx-newregion-1' is not a region of any")


@pytest.mark.parametrize("region", ["eu-west-1", "cn-north-1", "us-gov-west-1"])
def test_known_regions_get_no_warning(home: Path, region: str) -> None:
    _, stderr = _token("-i", "c", "--region", region, env=env_credentials(home))
    assert stderr == ""


# -- through kubectl ------------------------------------------------------------------------


@pytest.fixture
def apiserver() -> Iterator[ApiServerStandIn]:
    with ApiServerStandIn(check=plugin_token_check) as server:
        yield server


@pytest.mark.parametrize("api_version", ["v1beta1", "v1"])
def test_kubectl_provides_the_cluster_info(home: Path, apiserver: ApiServerStandIn, api_version: str) -> None:
    config = yaml.safe_load(apiserver.kubeconfig(exec={"command": PLUGIN, "args": ["token", "--cache"]}))
    exec_block = config["users"][0]["user"]["exec"]
    exec_block["apiVersion"] = f"client.authentication.k8s.io/{api_version}"
    exec_block["provideClusterInfo"] = True
    # The documented kubeconfig (docs/exec-plugin.md): the cluster's exec extension.
    config["clusters"][0]["cluster"]["extensions"] = [
        {"name": EXEC_EXTENSION, "extension": {"cluster-id": "kubectl-info-cluster", "region": "eu-north-1"}}
    ]
    kubeconfig = home / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False))
    command = [kubectl_binary(), "--kubeconfig", str(kubeconfig), "get", "--raw", "/version"]
    for _ in range(2):  # the second run is answered from the cache, keyed by the cluster's id
        result = subprocess.run(command, env=env_credentials(home), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    tokens = [a.removeprefix("Bearer ") for a in apiserver.authorizations if a is not None]
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    token = decode_token(tokens[0])
    assert _signed_for(token, "kubectl-info-cluster")
    assert (token.host, token.scope_region) == ("sts.eu-north-1.amazonaws.com", "eu-north-1")
