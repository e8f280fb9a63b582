"""kubectl end to end: the real kubectl runs our plugin (exec block), sends its token to the HTTPS
kube-apiserver stand-in, which reviews it with the real server process (webhook kubeconfig) and
moto as STS; ``kubectl auth whoami`` prints what the server mapped."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator.demo.apiserver import ApiServerStandIn, find_kubectl
from authenticator.demo.sts_peer import Credentials, PeerUser
from tests.support.e2e import CLUSTER, Cluster, client_env


@pytest.fixture
def apiserver(cluster: Cluster, tmp_path: Path) -> Iterator[ApiServerStandIn]:
    state = tmp_path / "apiserver"
    state.mkdir()
    with ApiServerStandIn(cluster.webhook_kubeconfig, state_dir=str(state)) as server:
        yield server


def _whoami(
    apiserver: ApiServerStandIn, home: Path, credentials: Credentials | PeerUser
) -> subprocess.CompletedProcess[str]:
    """``kubectl auth whoami -o json`` with an exec block running our plugin as ``credentials``.

    The identity reaches the plugin only through the exec block's env: kubectl itself runs with a
    fresh HOME and no AWS variables at all."""
    kubectl = find_kubectl()
    assert kubectl is not None, "kubectl is not installed (docs/testing.md: CI installs it)"
    plugin_env = client_env(home, credentials)
    exec_block = {
        "command": sys.executable,
        "args": ["-m", "authenticator", "token", "-i", CLUSTER],
        "env": [{"name": k, "value": v} for k, v in plugin_env.items() if k.startswith("AWS_")],
    }
    kubeconfig = apiserver.write_kubeconfig(str(home / "kubeconfig"), exec=exec_block)
    kubectl_env = {k: v for k, v in plugin_env.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [kubectl, "--kubeconfig", kubeconfig, "auth", "whoami", "-o", "json"],
        env=kubectl_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_whoami_shows_the_user_mapped_by_map_users(
    cluster: Cluster, apiserver: ApiServerStandIn, tmp_path: Path
) -> None:
    result = _whoami(apiserver, tmp_path, cluster.alice)
    assert result.returncode == 0, result.stderr
    review = json.loads(result.stdout)
    assert review["kind"] == "SelfSubjectReview"
    user = review["status"]["userInfo"]
    assert user["username"] == "alice"
    assert user["groups"] == ["devs", "system:authenticated"]
    assert user["extra"]["canonicalArn"] == [cluster.alice.arn]
    assert apiserver.last_review is not None and apiserver.last_review["status"]["authenticated"] is True


def test_whoami_shows_the_role_session_mapped_by_map_roles(
    cluster: Cluster, apiserver: ApiServerStandIn, tmp_path: Path
) -> None:
    session = cluster.peer.assume_role(cluster.alice, cluster.admin_role, "kube.user@example.com")
    result = _whoami(apiserver, tmp_path, session)
    assert result.returncode == 0, result.stderr
    user = json.loads(result.stdout)["status"]["userInfo"]
    assert user["username"] == "admin:kube.user-example.com"
    assert user["groups"] == ["eks-admins", "team-123456789012", "system:authenticated"]
    assert user["extra"]["sessionName"] == ["kube.user@example.com"]


def test_an_unmapped_role_gets_kubectls_unauthorized(
    cluster: Cluster, apiserver: ApiServerStandIn, tmp_path: Path
) -> None:
    session = cluster.peer.assume_role(cluster.alice, cluster.unmapped_role, "intruder")
    before = cluster.peer.presigned_requests
    result = _whoami(apiserver, tmp_path, session)
    assert result.returncode != 0
    assert "Unauthorized" in result.stderr
    assert result.stdout == ""
    # The refusal is the webhook's mapping decision on a token STS accepted, not a broken plugin.
    assert apiserver.reviews >= 1
    assert cluster.peer.presigned_requests > before
    assert apiserver.last_review is not None
    assert apiserver.last_review["status"] == {"authenticated": False, "error": "identity is not mapped"}
