"""Fixtures for the cluster-source tests: the kube-apiserver stand-in and a real kubernetes client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s_client

from authenticator.kube import load_api_client
from tests.support.kube_apiserver import KubeApiServer


@pytest.fixture
def standin() -> Iterator[KubeApiServer]:
    with KubeApiServer() as server:
        yield server


@pytest.fixture
def kubeconfig(standin: KubeApiServer, tmp_path: Path) -> Path:
    return standin.write_kubeconfig(tmp_path)


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[k8s_client.ApiClient]:
    api = load_api_client(kubeconfig=str(kubeconfig))
    yield api
    api.close()
