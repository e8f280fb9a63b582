"""Helpers for the token plugin's tests and bench/plugin.py: the installed command, a clean
environment, token decoding, kube-apiserver's check of a plugin token. (The plugin's STS peer for
AssumeRole is the demo's ``StsPeer`` over plain HTTP, tests/plugin/conftest.py.)"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from authenticator.demo.apiserver import find_kubectl

PLUGIN = str(Path(sys.executable).parent / "eks-iam-authenticator")
AWS = str(Path(sys.executable).parent / "aws")

# Static keys used across tests (any string works: presigning is offline).
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def base_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing from the developer's own AWS or kube settings."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # No instance metadata on a laptop or CI box: do not wait for it.
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


def env_credentials(home: Path, **extra: str) -> dict[str, str]:
    return base_env(home, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, **extra)


def run_plugin(
    *args: str, env: Mapping[str, str], prefix: tuple[str, ...] = (), stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, PLUGIN, "token", *args],
        env=dict(env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass(frozen=True)
class DecodedToken:
    url: str
    host: str
    path: str
    params: dict[str, str]
    keys_in_order: list[str]

    @property
    def access_key_id(self) -> str:
        return self.params["X-Amz-Credential"].split("/")[0]

    @property
    def scope_region(self) -> str:
        return self.params["X-Amz-Credential"].split("/")[2]


def decode_token(token: str) -> DecodedToken:
    assert token.startswith("k8s-aws-v1."), "missing token prefix"
    body = token[len("k8s-aws-v1.") :]
    assert "=" not in body and "+" not in body and "/" not in body, "token is not unpadded base64url"
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    return DecodedToken(url, parts.netloc, parts.path, dict(pairs), [k for k, _ in pairs])


def kubectl_binary() -> str:
    """The kubectl the demo runs (the plain versioned one beside the dispatcher, docs/exec-plugin.md)."""
    found = find_kubectl()
    assert found, "kubectl is not installed"
    return found


def plugin_token_check(token: str) -> dict[str, object] | None:
    """The demo API server's check (``ApiServerStandIn(check=...)``) for a client's tests: yes to
    any token of the plugin's shape, as the tests look at what was sent, not at who sent it."""
    return {"username": "plugin-user"} if token.startswith("k8s-aws-v1.") else None


def write_aws_config(home: Path, config: str = "", credentials: str = "") -> None:
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    if config:
        (aws / "config").write_text(config)
    if credentials:
        (aws / "credentials").write_text(credentials)
        (aws / "credentials").chmod(0o600)


# What kubectl 1.33 sets in KUBERNETES_EXEC_INFO (captured from a real run), each followed by a newline.
KUBECTL_EXEC_INFO = [
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}',
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}',
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}',
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}',
]


def imported_modules(stderr: str, *, top_level: bool = False) -> set[str]:
    """Module names from ``PYTHONPROFILEIMPORTTIME`` lines (``import time: … | … | name``); with
    ``top_level``, only the package each belongs to."""
    lines = [line for line in stderr.splitlines() if line.startswith("import time:") and "|" in line]
    names = {line.rsplit("|", 1)[1].strip() for line in lines}
    return {name.split(".")[0] for name in names} if top_level else names
