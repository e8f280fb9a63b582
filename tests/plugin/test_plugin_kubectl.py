"""kubectl end to end: a real kubectl runs the installed plugin and sends its token over HTTPS."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authenticator.demo.apiserver import ApiServerStandIn
from tests.support.plugin import (
    PLUGIN,
    decode_token,
    env_credentials,
    imported_modules,
    kubectl_binary,
    plugin_token_check,
)


@pytest.fixture
def apiserver() -> Iterator[ApiServerStandIn]:
    with ApiServerStandIn(check=plugin_token_check) as server:
        yield server


def _exec_block(api_version: str, *args: str) -> dict[str, object]:
    block: dict[str, object] = {
        "apiVersion": f"client.authentication.k8s.io/{api_version}",
        "command": PLUGIN,
        "args": ["token", "-i", "kubectl-cluster", *args],
        "env": [{"name": "AWS_REGION", "value": "eu-west-1"}],
    }
    if api_version == "v1":
        block["interactiveMode"] = "Never"
    return block


def _kubectl(home: Path, apiserver: ApiServerStandIn, user: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    kubeconfig = home / "kubeconfig"
    kubeconfig.write_text(apiserver.kubeconfig(**user))
    return subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(kubeconfig), "get", "--raw", "/version"],
        env=env_credentials(home),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("api_version", ["v1beta1", "v1"])
@pytest.mark.parametrize("cache", [False, True])
def test_kubectl_sends_the_plugin_token(home: Path, apiserver: ApiServerStandIn, api_version: str, cache: bool) -> None:
    extra = ("--cache",) if cache else ()
    result = _kubectl(home, apiserver, {"exec": _exec_block(api_version, *extra)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gitVersion"] == "v1.33.0-standin"

    assert apiserver.authorizations, "kubectl sent no request"
    authorization = apiserver.authorizations[-1]
    assert authorization is not None and authorization.startswith("Bearer ")
    token = decode_token(authorization.removeprefix("Bearer "))
    assert token.host == "sts.eu-west-1.amazonaws.com"
    assert token.path == "/"
    assert token.params["Action"] == "GetCallerIdentity"
    assert token.params["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert token.scope_region == "eu-west-1"
    assert token.access_key_id == "AKIAIOSFODNN7EXAMPLE"


def test_kubectl_shows_the_plugin_error_line(home: Path, apiserver: ApiServerStandIn) -> None:
    block = _exec_block("v1beta1")
    block["args"] = ["token"]  # no cluster id
    result = _kubectl(home, apiserver, {"exec": block})
    assert result.returncode != 0
    assert "no cluster id" in result.stderr
    assert all(a is None for a in apiserver.authorizations), "a request carried credentials anyway"


def test_standin_rejects_a_request_without_token(home: Path, apiserver: ApiServerStandIn) -> None:
    """Guards the tests above: the stand-in really checks the bearer token."""
    result = _kubectl(home, apiserver, {"token": "not-a-k8s-aws-token"})
    assert result.returncode != 0
    assert apiserver.authorizations[-1] == "Bearer not-a-k8s-aws-token"


def test_cache_hit_under_kubectl_imports_neither_botocore_nor_json_nor_datetime(
    home: Path, apiserver: ApiServerStandIn
) -> None:
    # kubectl passes its environment (PYTHONPROFILEIMPORTTIME) and the plugin's stderr through,
    # and sets KUBERNETES_EXEC_INFO itself: this is the command users pay for on every request.
    kubeconfig = home / "kubeconfig"
    kubeconfig.write_text(apiserver.kubeconfig(exec=_exec_block("v1", "--cache")))
    command = [kubectl_binary(), "--kubeconfig", str(kubeconfig), "get", "--raw", "/version"]
    env = env_credentials(home, PYTHONPROFILEIMPORTTIME="1")
    runs = [subprocess.run(command, env=env, capture_output=True, text=True, timeout=60) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr[-2000:]

    def top_level(stderr: str) -> set[str]:
        return imported_modules(stderr, top_level=True)

    miss, hit = top_level(runs[0].stderr), top_level(runs[1].stderr)
    assert {"botocore", "json", "datetime"} <= miss  # the check sees them when they are imported
    assert not {"botocore", "json", "datetime"} & hit
    assert "client_plugin" in hit
    tokens = [a for a in apiserver.authorizations if a is not None]
    # Both requests carried a token (equal ones, though two presigns in one second are equal anyway:
    # the imports above are what show the second came from the cache).
    assert len(tokens) == 2 and tokens[0] == tokens[1]
