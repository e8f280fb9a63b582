"""Fixtures for the source tests: the kube-apiserver stand-in and a real kubernetes client; moto
(EC2, STS) served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from moto.server import ThreadedMotoServer

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


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
