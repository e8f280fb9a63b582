"""``eks-iam-authenticator demo``: the whole flow on this machine, with no AWS account.

A local STS peer (moto, with real SigV4 checks), the webhook as a real subprocess, tokens
minted by the real plugin, TokenReviews, and — where kubectl is installed —
``kubectl auth whoami`` through a local kube-apiserver stand-in. Each step is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from authenticator.errors import UserError

CLUSTER_ID = "demo"
_WAIT_SECONDS = 30.0


class DemoError(UserError):
    """A step of the demo did not give the answer it shows (a peer, the plugin, the webhook or kubectl)."""


def _say(step: str, text: str = "") -> None:
    print(f"\n==> {step}")
    for line in text.splitlines():
        print(f"    {line}")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (the demo's and the tests' servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]  # (host, port) for AF_INET
        return port


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "authenticator", *args]


def _plugin_env(credentials: Any, home: Path) -> dict[str, str]:
    """An environment in which the plugin sees only the demo identity's credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID=credentials.access_key_id,
        AWS_SECRET_ACCESS_KEY=credentials.secret_access_key,
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
    )
    token = getattr(credentials, "session_token", None)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return env


def _mint(credentials: Any, home: Path) -> str:
    result = subprocess.run(
        _command("token", "-i", CLUSTER_ID, "--token-only"),
        env=_plugin_env(credentials, home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise DemoError(f"the plugin failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _short(token: str) -> str:
    # A token is a bearer credential; even a demo one is not printed whole.
    return f"{token[:24]}… ({len(token)} characters)"


@contextmanager
def _webhook(config_path: Path, port: int, log_path: Path) -> Iterator[str]:
    url = f"https://127.0.0.1:{port}"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            _command("server", "-c", str(config_path), "--port", str(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + _WAIT_SECONDS
            while True:
                if proc.poll() is not None:
                    raise DemoError(f"the webhook exited at start:\n{log_path.read_text().strip()}")
                try:
                    if httpx.get(f"{url}/readyz", verify=False, timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise DemoError("the webhook did not become ready in time")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _review(client: httpx.Client, url: str, token: str) -> tuple[int, dict[str, Any]]:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    response = client.post(f"{url}/authenticate", json=body)
    return response.status_code, response.json()


def _show_review(status: int, answer: Mapping[str, Any]) -> str:
    shown = {"httpStatus": status, "status": answer.get("status", {})}
    return json.dumps(shown, indent=2)


def _config(peer: Any, state: Path, admin_role: str, alice_arn: str) -> dict[str, Any]:
    return {
        "clusterID": CLUSTER_ID,
        "server": {
            "address": "127.0.0.1",
            "hostname": "127.0.0.1",
            "stateDir": str(state),
            "generateKubeconfig": str(state / "webhook.kubeconfig"),
            "backendMode": ["MountedFile"],
            "mapRoles": [
                {"rolearn": admin_role, "username": "admin:{{SessionName}}", "groups": ["eks-admins"]},
            ],
            "mapUsers": [{"userarn": alice_arn, "username": "alice", "groups": ["devs"]}],
            "stsEndpointOverride": peer.url,
            "stsCABundle": peer.ca_path,
        },
    }


def _kubectl_whoami(kubectl: str, webhook_kubeconfig: Path, credentials: Any, home: Path, work: Path) -> str:
    from authenticator.demo.apiserver import ApiServerStandIn

    with ApiServerStandIn(str(webhook_kubeconfig), state_dir=str(work)) as apiserver:
        exec_block = {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": ["-m", "authenticator", "token", "-i", CLUSTER_ID],
            "env": [{"name": k, "value": v} for k, v in _plugin_env(credentials, home).items() if k.startswith("AWS_")],
        }
        kubeconfig = apiserver.write_kubeconfig(str(work / "kubeconfig"), exec=exec_block)
        result = subprocess.run(
            [kubectl, "--kubeconfig", kubeconfig, "auth", "whoami", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "HOME": str(home)},
        )
        if result.returncode != 0:
            raise DemoError(f"kubectl failed: {result.stderr.strip()}")
        user = json.loads(result.stdout)["status"]["userInfo"]
        return json.dumps({"username": user.get("username"), "groups": user.get("groups")}, indent=2)


def run(args: argparse.Namespace) -> int:
    try:
        from authenticator.demo.apiserver import find_kubectl
        from authenticator.demo.sts_peer import StsPeer
    except ImportError as exc:
        print(
            f"eks-iam-authenticator: error: the demo needs its extra ({exc.name} is missing): "
            "pip install 'eks-iam-authenticator[demo]'",
            file=sys.stderr,
        )
        return 1
    try:
        return _run(StsPeer, find_kubectl)
    except (DemoError, httpx.TransportError, subprocess.TimeoutExpired) as exc:  # a peer failed or went away
        print(f"eks-iam-authenticator: error: demo: {exc}", file=sys.stderr)
        return 1


def _run(peer_class: Any, find_kubectl: Any) -> int:
    with tempfile.TemporaryDirectory(prefix="eks-iam-authenticator-demo-") as tmp:
        work = Path(tmp)
        home = work / "home"
        state = work / "state"
        home.mkdir()
        with peer_class(state_dir=str(work / "sts")) as peer:
            _say(
                "1. A local STS peer (moto) answers like AWS STS",
                f"listening on {peer.url}; it checks every presigned signature, its age and the\n"
                "x-k8s-aws-id header it signs, exactly as STS does",
            )
            alice = peer.create_user("alice")
            mallory = peer.create_user("mallory")
            admin_role = peer.create_role("eks-admins")
            bob = peer.assume_role(alice.credentials, admin_role, "bob@example.com")
            _say(
                "2. AWS identities",
                f"IAM user      {alice.arn}\nIAM user      {mallory.arn} (not mapped)\n"
                f"assumed role  {admin_role} as session bob@example.com",
            )

            config = _config(peer, state, admin_role, alice.arn)
            config_path = work / "server.yaml"
            config_path.write_text(yaml.safe_dump(config, sort_keys=False))
            _say("3. The webhook's configuration (server.yaml)", yaml.safe_dump(config["server"], sort_keys=False))

            port = free_port()
            with _webhook(config_path, port, work / "server.log") as url:
                _say(
                    "4. The webhook is serving",
                    f"{url}/authenticate (TLS; certificate generated into its state dir)\n"
                    f"webhook kubeconfig for the API server: {state / 'webhook.kubeconfig'}",
                )
                ca = str(state / "cert.pem")
                with httpx.Client(verify=ca if Path(ca).exists() else False, timeout=30.0) as client:
                    for n, (who, creds, expect) in enumerate(
                        [
                            ("alice (IAM user, mapUsers)", alice.credentials, 200),
                            ("bob@example.com (assumed role, mapRoles)", bob, 200),
                            ("mallory (IAM user, not mapped)", mallory.credentials, 403),
                        ],
                        start=5,
                    ):
                        token = _mint(creds, home)
                        status, answer = _review(client, url, token)
                        _say(
                            f"{n}. {who}: `eks-iam-authenticator token` → TokenReview",
                            f"token {_short(token)}\n{_show_review(status, answer)}",
                        )
                        if status != expect:
                            raise DemoError(f"expected HTTP {expect} for {who}, got {status}")

                kubectl = find_kubectl()
                if kubectl:
                    whoami = _kubectl_whoami(kubectl, state / "webhook.kubeconfig", bob, home, work)
                    _say("8. kubectl auth whoami, through a local kube-apiserver stand-in", whoami)
                else:
                    _say("8. kubectl is not installed: skipping `kubectl auth whoami`")
        _say(
            "Done",
            "That was the whole path of a kubectl request: plugin -> bearer token -> API server ->\n"
            "TokenReview -> webhook -> STS -> aws-auth mapping -> username and groups.\n"
            "Deploy the real thing: README.md, 'Deploying the webhook'.",
        )
    return 0
