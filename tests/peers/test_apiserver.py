"""The kube-apiserver stand-in reviews tokens with a webhook and answers real kubectl."""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from authenticator.demo._tls import https_server, make_tls
from authenticator.demo.apiserver import ApiServerStandIn, find_kubectl

GOOD_TOKEN = "k8s-aws-v1.good-token"
BROKEN_TOKEN = "k8s-aws-v1.makes-the-webhook-fail"
USER = {
    "username": "alice",
    "uid": "aws-iam-authenticator:123456789012:AIDAEXAMPLE",
    "groups": ["devs", "readers"],
    "extra": {"arn": ["arn:aws:iam::123456789012:user/alice"]},
}


class _FakeWebhook:
    """A TokenReview webhook that knows one token; it records what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        webhook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with webhook.lock:
                    webhook.received.append({"path": self.path, "review": review})
                if review["spec"]["token"] == BROKEN_TOKEN:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if review["spec"]["token"] == GOOD_TOKEN:
                    status: dict[str, Any] = {"authenticated": True, "user": USER}
                else:
                    status = {"authenticated": False, "error": "invalid token"}
                body = json.dumps({"apiVersion": review["apiVersion"], "kind": "TokenReview", "status": status})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        return Handler


@pytest.fixture
def webhook(tmp_path: Path) -> Iterator[tuple[_FakeWebhook, str]]:
    fake = _FakeWebhook()
    tls = make_tls(tmp_path / "webhook-tls")
    with https_server(fake.handler(), tls) as server:
        kubeconfig = {
            "clusters": [
                {
                    "name": "aws-iam-authenticator",
                    "cluster": {
                        "certificate-authority-data": base64.b64encode(tls.ca_pem).decode(),
                        "server": f"https://127.0.0.1:{server.server_address[1]}/authenticate",
                    },
                }
            ],
            "users": [{"name": "apiserver"}],
            "current-context": "webhook",
            "contexts": [{"name": "webhook", "context": {"cluster": "aws-iam-authenticator", "user": "apiserver"}}],
        }
        path = tmp_path / "webhook.kubeconfig"
        path.write_text(yaml.safe_dump(kubeconfig))
        yield fake, str(path)


@pytest.fixture
def standin(webhook: tuple[_FakeWebhook, str]) -> Iterator[ApiServerStandIn]:
    with ApiServerStandIn(webhook[1]) as server:
        yield server


def _kubectl(args: list[str], kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    kubectl = find_kubectl()
    assert kubectl, "kubectl is required for the end-to-end tests"
    return subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(kubeconfig.parent)},
    )


def test_kubectl_whoami_prints_the_webhooks_user(
    standin: ApiServerStandIn, webhook: tuple[_FakeWebhook, str], tmp_path: Path
) -> None:
    kubeconfig = Path(standin.write_kubeconfig(str(tmp_path / "kubeconfig"), token=GOOD_TOKEN))
    result = _kubectl(["auth", "whoami", "-o", "json"], kubeconfig)
    assert result.returncode == 0, result.stderr
    review = json.loads(result.stdout)
    assert review["kind"] == "SelfSubjectReview"
    info = review["status"]["userInfo"]
    assert info["username"] == "alice"
    assert info["uid"] == USER["uid"]
    assert info["groups"] == ["devs", "readers", "system:authenticated"]
    assert info["extra"] == USER["extra"]
    # The webhook got the TokenReview kube-apiserver sends.
    sent = webhook[0].received[-1]
    assert sent["path"] == "/authenticate"
    assert sent["review"]["apiVersion"] == "authentication.k8s.io/v1"
    assert sent["review"]["kind"] == "TokenReview"
    assert sent["review"]["spec"]["token"] == GOOD_TOKEN
    assert standin.last_review is not None
    assert standin.last_review["status"]["authenticated"] is True


def test_kubectl_fails_unauthorized_when_the_webhook_says_no(
    standin: ApiServerStandIn, webhook: tuple[_FakeWebhook, str], tmp_path: Path
) -> None:
    kubeconfig = Path(standin.write_kubeconfig(str(tmp_path / "kubeconfig"), token="k8s-aws-v1.bad-token"))
    result = _kubectl(["auth", "whoami", "-o", "json"], kubeconfig)
    assert result.returncode != 0
    assert "Unauthorized" in result.stderr
    assert result.stdout == ""
    assert webhook[0].received[-1]["review"]["spec"]["token"] == "k8s-aws-v1.bad-token"
    assert standin.last_review is not None
    assert standin.last_review["status"]["authenticated"] is False


def test_kubectl_with_an_exec_plugin_sends_the_plugins_token(
    standin: ApiServerStandIn, webhook: tuple[_FakeWebhook, str], tmp_path: Path
) -> None:
    credential = {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {},
        "status": {"token": GOOD_TOKEN},
    }
    plugin = {"command": sys.executable, "args": ["-c", f"print({json.dumps(json.dumps(credential))})"]}
    kubeconfig = Path(standin.write_kubeconfig(str(tmp_path / "kubeconfig"), exec=plugin))
    result = _kubectl(["auth", "whoami", "-o", "json"], kubeconfig)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["userInfo"]["username"] == "alice"
    assert webhook[0].received[-1]["review"]["spec"]["token"] == GOOD_TOKEN


def test_webhook_failure_is_unauthorized(standin: ApiServerStandIn, webhook: tuple[_FakeWebhook, str]) -> None:
    headers = {"Authorization": f"Bearer {BROKEN_TOKEN}"}
    with httpx.Client(verify=ssl.create_default_context(cafile=standin.ca_path), headers=headers) as client:
        response = client.post(f"{standin.url}/apis/authentication.k8s.io/v1/selfsubjectreviews", content=b"")
    assert response.status_code == 401
    assert response.json()["kind"] == "Status"
    assert len(webhook[0].received) == 1


def test_v1beta1_webhook(webhook: tuple[_FakeWebhook, str]) -> None:
    with ApiServerStandIn(webhook[1], webhook_version="v1beta1") as standin:
        headers = {"Authorization": f"Bearer {GOOD_TOKEN}"}
        with httpx.Client(verify=ssl.create_default_context(cafile=standin.ca_path), headers=headers) as client:
            response = client.post(f"{standin.url}/apis/authentication.k8s.io/v1/selfsubjectreviews", content=b"")
    assert response.status_code == 201
    assert response.json()["status"]["userInfo"]["username"] == "alice"
    assert webhook[0].received[-1]["review"]["apiVersion"] == "authentication.k8s.io/v1beta1"


def test_kubectl_get_raw_version(standin: ApiServerStandIn, tmp_path: Path) -> None:
    kubeconfig = Path(standin.write_kubeconfig(str(tmp_path / "kubeconfig"), token=GOOD_TOKEN))
    result = _kubectl(["get", "--raw", "/version"], kubeconfig)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gitVersion"].startswith("v1.33")


def test_no_token_is_unauthorized_without_asking_the_webhook(
    standin: ApiServerStandIn, webhook: tuple[_FakeWebhook, str]
) -> None:
    # kubectl without credentials prompts for a password, so ask with httpx.
    with httpx.Client(verify=ssl.create_default_context(cafile=standin.ca_path)) as client:
        response = client.get(f"{standin.url}/version")
        assert response.status_code == 401
        assert response.json()["reason"] == "Unauthorized"
        assert client.get(f"{standin.url}/version", headers={"Authorization": "Basic eDp5"}).status_code == 401
    assert webhook[0].received == []


def test_every_request_is_reviewed_and_discovery_answers(
    standin: ApiServerStandIn, webhook: tuple[_FakeWebhook, str]
) -> None:
    headers = {"Authorization": f"Bearer {GOOD_TOKEN}"}
    with httpx.Client(verify=ssl.create_default_context(cafile=standin.ca_path), headers=headers) as client:
        assert client.get(f"{standin.url}/apis").json()["groups"][0]["name"] == "authentication.k8s.io"
        assert client.get(f"{standin.url}/api").json()["versions"] == ["v1"]
        assert client.get(f"{standin.url}/nope").status_code == 404
    assert len(webhook[0].received) == 3
    assert standin.reviews == 3
    assert standin.requests == [("GET", "/apis"), ("GET", "/api"), ("GET", "/nope")]


def test_kubeconfig_with_exec_block(standin: ApiServerStandIn) -> None:
    config = yaml.safe_load(standin.kubeconfig(exec={"command": "eks-iam-authenticator", "args": ["token", "-i", "c"]}))
    exec_block = config["users"][0]["user"]["exec"]
    assert exec_block == {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "interactiveMode": "Never",
        "command": "eks-iam-authenticator",
        "args": ["token", "-i", "c"],
    }
    assert config["clusters"][0]["cluster"]["server"] == standin.url
    assert (
        base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
        == Path(standin.ca_path).read_bytes()
    )
    with pytest.raises(ValueError):
        standin.kubeconfig(exec={"command": "x"}, token="t")
