"""Client construction: --kubeconfig, --master, in-cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client as k8s_client

from authenticator.kube import KubeConfigError, load_api_client
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer


def test_kubeconfig_is_used_for_server_ca_and_token(standin: KubeApiServer, kubeconfig: Path) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": ""}})
    with load_api_client(kubeconfig=str(kubeconfig)) as api:
        cm = k8s_client.CoreV1Api(api).read_namespaced_config_map("aws-auth", "kube-system")
    assert cm.metadata is not None and cm.metadata.name == "aws-auth"


def test_master_overrides_the_kubeconfig_server(kubeconfig: Path) -> None:
    api = load_api_client(kubeconfig=str(kubeconfig), master="https://127.0.0.1:1/")
    assert api.configuration.host == "https://127.0.0.1:1"
    assert api.configuration.api_key  # the kubeconfig's credentials are kept
    api.close()


def test_master_alone() -> None:
    api = load_api_client(master="http://127.0.0.1:8080")
    assert api.configuration.host == "http://127.0.0.1:8080"
    api.close()


def test_neither_outside_a_cluster_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    with pytest.raises(KubeConfigError, match="not running in a cluster") as err:
        load_api_client()
    assert "\n" not in str(err.value)


def test_unreadable_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("clusters: [")
    with pytest.raises(KubeConfigError, match="cannot load kubeconfig"):
        load_api_client(kubeconfig=str(bad))
    with pytest.raises(KubeConfigError, match="does not exist"):
        load_api_client(kubeconfig=str(tmp_path / "missing"))
