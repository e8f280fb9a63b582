"""``eks-iam-authenticator demo``: the whole flow on this machine, with no AWS account.

A local STS peer (moto, with real SigV4 checks), the webhook as a real subprocess, tokens
minted by the real plugin, TokenReviews, and — where kubectl is installed —
``kubectl auth whoami`` through a local kube-apiserver stand-in. Each step is printed with the
command that reproduces it (while the demo's peers run); ``--keep`` leaves the directory the
commands name.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from authenticator.errors import UserError
from authenticator.server.commands import PROG, invocation

CLUSTER_ID = "demo"
REGION = "us-east-1"
_WAIT_SECONDS = 30.0
_V1 = "authentication.k8s.io/v1"


class DemoError(UserError):
    """A step of the demo did not give the answer it shows (a peer, the plugin, the webhook or kubectl)."""


def _say(step: str, text: str = "", commands: Sequence[str] = ()) -> None:
    """A step: its title, the commands that reproduce it (``$ …``), then what it showed."""
    print(f"\n==> {step}")
    for command in commands:
        print(f"    $ {command}")
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


class _Profiles:
    """The demo identities as profiles of a shared-credentials file of the demo's directory (0600):
    the plugin is run with ``--profile`` and nothing else of the user's AWS set-up, and the command
    shown for a step is the command that ran."""

    def __init__(self, work: Path) -> None:
        directory = work / "aws"
        directory.mkdir(mode=0o700)
        self.credentials = directory / "credentials"
        self.config = directory / "config"
        self.config.write_text("")
        self._sections: list[str] = []

    def add(self, name: str, credentials: Any) -> str:
        lines = [
            f"[{name}]",
            f"aws_access_key_id = {credentials.access_key_id}",
            f"aws_secret_access_key = {credentials.secret_access_key}",
        ]
        token = getattr(credentials, "session_token", None)
        if token:
            lines.append(f"aws_session_token = {token}")
        self._sections.append("\n".join(lines) + "\n")
        fd = os.open(self.credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(self._sections))
        return name

    def env_vars(self) -> dict[str, str]:
        return {"AWS_SHARED_CREDENTIALS_FILE": str(self.credentials), "AWS_CONFIG_FILE": str(self.config)}

    def env(self, home: Path) -> dict[str, str]:
        """An environment in which the plugin sees only the demo's files."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=str(home), **self.env_vars())
        return env

    def shell(self, args: Sequence[str]) -> str:
        """``args`` as a shell command line with this environment."""
        return shlex.join([f"{k}={v}" for k, v in self.env_vars().items()] + list(args))


def _token_args(profile: str) -> list[str]:
    return ["token", "-i", CLUSTER_ID, "--profile", profile, "--region", REGION]


def _mint(profiles: _Profiles, profile: str, home: Path) -> str:
    result = subprocess.run(
        _command(*_token_args(profile), "--token-only"),
        env=profiles.env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise DemoError(f"the plugin failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _review_commands(profiles: _Profiles, profile: str, url: str, ca: str) -> list[str]:
    mint = profiles.shell([invocation(), *_token_args(profile), "--token-only"])
    body = json.dumps({"apiVersion": _V1, "kind": "TokenReview", "spec": {"token": "TOKEN"}})
    before, after = body.split("TOKEN")
    data = f'{shlex.quote(before)}"$TOKEN"{shlex.quote(after)}'
    return [
        f"TOKEN=$({mint})",
        f"curl -s --cacert {shlex.quote(ca)} -H 'Content-Type: application/json' -d {data} {url}/authenticate",
    ]


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


def _kubectl_whoami(
    kubectl: str, webhook_kubeconfig: Path, profiles: _Profiles, profile: str, home: Path, work: Path
) -> tuple[str, str]:
    """(what ``kubectl auth whoami`` showed, the command line that ran it)."""
    from authenticator.demo.apiserver import ApiServerStandIn

    with ApiServerStandIn(str(webhook_kubeconfig), state_dir=str(work)) as apiserver:
        exec_block = {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": ["-m", "authenticator", *_token_args(profile)],
            "env": [{"name": k, "value": v} for k, v in profiles.env_vars().items()],
        }
        kubeconfig = apiserver.write_kubeconfig(str(work / "kubeconfig"), exec=exec_block)
        command = [kubectl, "--kubeconfig", kubeconfig, "auth", "whoami", "-o", "json"]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "HOME": str(home)},
        )
        if result.returncode != 0:
            raise DemoError(f"kubectl failed: {result.stderr.strip()}")
        user = json.loads(result.stdout)["status"]["userInfo"]
        shown = json.dumps({"username": user.get("username"), "groups": user.get("groups")}, indent=2)
        return shown, shlex.join(["kubectl", *command[1:]])


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
    work = Path(tempfile.mkdtemp(prefix="eks-iam-authenticator-demo-"))
    try:
        return _run(StsPeer, find_kubectl, work)
    except (DemoError, httpx.TransportError, subprocess.TimeoutExpired) as exc:  # a peer failed or went away
        print(f"eks-iam-authenticator: error: demo: {exc}", file=sys.stderr)
        return 1
    finally:
        if getattr(args, "keep", False):
            print(
                f"\nkept {work}: server.yaml, server.log, state/ (cert.pem, key.pem, webhook.kubeconfig),\n"
                "aws/credentials (the demo identities), kubeconfig. The STS peer and the API-server\n"
                "stand-in stopped with the demo: the commands above need them running."
            )
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(peer_class: Any, find_kubectl: Any, work: Path) -> int:
    home = work / "home"
    state = work / "state"
    home.mkdir()
    profiles = _Profiles(work)
    with peer_class(state_dir=str(work / "sts")) as peer:
        _say(
            "1. A local STS peer (moto) answers like AWS STS",
            f"listening on {peer.url}; it checks every presigned signature, its age and the\n"
            "x-k8s-aws-id header it signs, exactly as STS does (it runs inside the demo: no command)",
        )
        alice = peer.create_user("alice")
        mallory = peer.create_user("mallory")
        admin_role = peer.create_role("eks-admins")
        bob = peer.assume_role(alice.credentials, admin_role, "bob@example.com")
        for name, credentials in (("alice", alice.credentials), ("mallory", mallory.credentials), ("bob", bob)):
            profiles.add(name, credentials)
        aws = ["aws", "--endpoint-url", peer.url, "--ca-bundle", str(peer.ca_path), "--region", REGION]
        _say(
            "2. AWS identities (profiles alice, mallory and bob of the demo's credentials file)",
            f"IAM user      {alice.arn}\nIAM user      {mallory.arn} (not mapped)\n"
            f"assumed role  {admin_role} as session bob@example.com\n"
            "(aws is the AWS CLI, which the demo does not install: pip install awscli)",
            [profiles.shell([*aws, "sts", "get-caller-identity", "--profile", p]) for p in ("alice", "mallory", "bob")],
        )

        config = _config(peer, state, admin_role, alice.arn)
        config_path = work / "server.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        _say(
            "3. The webhook's configuration",
            config_path.read_text(),  # what the command shown prints
            [f"cat {shlex.quote(str(config_path))}"],
        )

        port = free_port()
        with _webhook(config_path, port, work / "server.log") as url:
            _say(
                "4. The webhook is serving",
                f"{url}/authenticate (TLS; certificate generated into its state dir)\n"
                f"webhook kubeconfig for the API server: {state / 'webhook.kubeconfig'}",
                [shlex.join([invocation(), "server", "-c", str(config_path), "--port", str(port)])],
            )
            ca = str(state / "cert.pem")
            with httpx.Client(verify=ca if Path(ca).exists() else False, timeout=30.0) as client:
                for n, (who, profile, expect) in enumerate(
                    [
                        ("alice (IAM user, mapUsers)", "alice", 200),
                        ("bob@example.com (assumed role, mapRoles)", "bob", 200),
                        ("mallory (IAM user, not mapped)", "mallory", 403),
                    ],
                    start=5,
                ):
                    token = _mint(profiles, profile, home)
                    status, answer = _review(client, url, token)
                    _say(
                        f"{n}. {who}: `{PROG} token` → TokenReview",
                        f"token {_short(token)}\n{_show_review(status, answer)}",
                        _review_commands(profiles, profile, url, ca),
                    )
                    if status != expect:
                        raise DemoError(f"expected HTTP {expect} for {who}, got {status}")

            kubectl = find_kubectl()
            if kubectl:
                whoami, command = _kubectl_whoami(kubectl, state / "webhook.kubeconfig", profiles, "bob", home, work)
                _say("8. kubectl auth whoami, through a local kube-apiserver stand-in", whoami, [command])
            else:
                _say("8. kubectl is not installed: skipping `kubectl auth whoami`")
    _say(
        "Done",
        "That was the whole path of a kubectl request: plugin -> bearer token -> API server ->\n"
        "TokenReview -> webhook -> STS -> aws-auth mapping -> username and groups.\n"
        "Deploy the real thing: README.md, 'Deploying the webhook'.",
    )
    return 0
