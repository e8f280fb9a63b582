"""--live reads kube-system/aws-auth through the kubernetes client and a kubeconfig.

The API server is the cluster sources' kube-apiserver stand-in holding the one ConfigMap; the
client, its kubeconfig loading and its request are the real ones.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator.lint.cli import main
from authenticator.lint.document import load_targets
from authenticator.lint.live import manifest_text
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer

MAP_ROLES = (
    "- rolearn: arn:aws:iam::739275461218:role/teams/admin\n"
    '  username: "admin:{{SessionName}}"\n'
    "  groups:\n"
    "  - admins\n"
)


@pytest.fixture
def apiserver() -> Iterator[KubeApiServer]:
    with KubeApiServer() as server:
        server.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": MAP_ROLES}})
        yield server


@pytest.fixture
def kubeconfig(apiserver: KubeApiServer, tmp_path: Path) -> Path:
    return apiserver.write_kubeconfig(tmp_path)


def test_live_lints_the_cluster_configmap(
    apiserver: KubeApiServer, kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    code = main(["lint", "--live", "--kubeconfig", str(kubeconfig)], stdout=out, stderr=io.StringIO())
    assert [(method, path) for method, path, _ in apiserver.requests] == [
        ("GET", "/api/v1/namespaces/kube-system/configmaps/aws-auth")
    ]
    assert code == 1
    line = out.getvalue().split("\n")[0]
    assert line.startswith("kube-system/aws-auth:8:16: AA202 error role-arn-has-path")


def test_live_unreachable_is_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-kubeconfig"
    err = io.StringIO()
    assert main(["lint", "--live", "--kubeconfig", str(missing)], stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().startswith("aws-auth: error: --live:")


def test_manifest_text_keeps_sections_as_blocks() -> None:
    text = manifest_text("aws-auth", "kube-system", {"mapRoles": MAP_ROLES, "mapAccounts": ""})
    assert "  mapRoles: |\n    - rolearn: arn:aws:iam::739275461218:role/teams/admin\n" in text
    (target,) = load_targets("live", text)
    assert target.sections["mapRoles"].map.kind == "literal"
