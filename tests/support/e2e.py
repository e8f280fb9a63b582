"""The cluster the end-to-end tests talk to: moto as STS (StsPeer: TLS, presigned signatures
checked), the real ``server`` process (processes.ServerProcess) mapping its identities, and
the environment a client process (our plugin, awscli, kubectl) runs in.

A module with a unique name (not conftest) so that test modules can import it; the fixture
that builds a ``Cluster`` is in conftest.py.
"""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from authenticator.demo.sts_peer import Credentials, PeerUser, StsPeer
from tests.support.processes import ServerProcess

CLUSTER = "e2e-moto-cluster"
REGION = "us-east-1"
STS_HOST = f"sts.{REGION}.amazonaws.com"
V1 = "authentication.k8s.io/v1"
OTHER_ACCOUNT = "444455556666"
SSO_ROLE_NAME = "AWSReservedSSO_Admin_0123456789abcdef"
PYTHON_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Cluster:
    """A running webhook and the identities its config maps (see ``config_text``)."""

    peer: StsPeer
    server: ServerProcess
    alice: PeerUser  # mapUsers: alice, groups [devs]
    admin_role: str  # mapRoles: admin:{{SessionName}}, groups [eks-admins, team-{{AccountID}}]
    unmapped_role: str  # exists in IAM, mapped nowhere
    carol: PeerUser  # IAM user of OTHER_ACCOUNT, which is in mapAccounts
    sso_role: str  # an IAM Identity Center role (with its /aws-reserved/... path): the sso entry
    pathed_role: str  # a role with a path, mapped by its ARN *with* the path: never matches

    @property
    def webhook_kubeconfig(self) -> str:
        return str(self.server.state / "aws-iam-authenticator.kubeconfig")

    def review(self, token: str, api_version: str = V1) -> httpx.Response:
        """POST a TokenReview to the server over TLS, trusting the certificate it generated."""
        ca = ssl.create_default_context(cafile=str(self.server.state / "cert.pem"))
        body = {"apiVersion": api_version, "kind": "TokenReview", "spec": {"token": token}}
        with httpx.Client(verify=ca, timeout=30) as client:
            return client.post(f"https://127.0.0.1:{self.server.port}/authenticate", json=body)


def config_text(peer: StsPeer, alice: PeerUser, admin_role: str, pathed_role: str) -> str:
    return (
        f"clusterID: {CLUSTER}\n"
        "server:\n"
        f"  stsEndpointOverride: {peer.url}\n"
        f"  stsCABundle: {peer.ca_path}\n"
        # These tests count the peer's calls per review; two tokens minted from the same
        # credentials in the same second are identical and would be a verification-cache hit.
        "  verificationCacheTTL: 0\n"
        "  mapUsers:\n"
        f"    - {{userarn: '{alice.arn}', username: alice, groups: [devs]}}\n"
        "  mapRoles:\n"
        f"    - {{rolearn: '{admin_role}', username: 'admin:{{{{SessionName}}}}',"
        " groups: [eks-admins, 'team-{{AccountID}}']}\n"
        "    - {sso: {permissionSetName: Admin, accountID: '123456789012'}, username: 'sso:{{SessionName}}',"
        " groups: [admins]}\n"
        f"    - {{rolearn: '{pathed_role}', username: pathed, groups: [devs]}}\n"
        "  mapAccounts:\n"
        f"    - '{OTHER_ACCOUNT}'\n"
    )


@contextmanager
def running_cluster(work: Path) -> Iterator[Cluster]:
    """Start the peer, create the identities, start the server; stop both whatever happens."""
    with StsPeer() as peer:
        peer.reset()
        alice = peer.create_user("alice")
        admin_role = peer.create_role("eks-admins")
        unmapped_role = peer.create_role("nobody-mapped-me")
        carol = peer.create_user("carol", account=OTHER_ACCOUNT)
        sso_role = peer.create_role(SSO_ROLE_NAME, path="/aws-reserved/sso.amazonaws.com/")
        pathed_role = peer.create_role("pathed-dev", path="/team/dev/")
        config = work / "config.yaml"
        config.write_text(config_text(peer, alice, admin_role, pathed_role))
        with ServerProcess(config, work / "state") as server:
            server.wait_for("serving the webhook")
            yield Cluster(peer, server, alice, admin_role, unmapped_role, carol, sso_role, pathed_role)


def client_env(home: Path, credentials: Credentials | PeerUser, **extra: str) -> dict[str, str]:
    """The environment of a client process: only these credentials (env), a fresh HOME with no AWS
    or kube files, no instance metadata, region us-east-1. Nothing of the developer's own setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBE"))}
    env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID=credentials.access_key_id,
        AWS_SECRET_ACCESS_KEY=credentials.secret_access_key,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    session_token = getattr(credentials, "session_token", None)
    if session_token:
        env["AWS_SESSION_TOKEN"] = session_token
    env.update(extra)
    return env


def user_of(response: httpx.Response) -> dict[str, Any]:
    """The allowed user of a TokenReview answer; fails with the answer when it was not allowed."""
    body: Mapping[str, Any] = response.json()
    assert response.status_code == 200 and body["status"]["authenticated"] is True, (response.status_code, body)
    return dict(body["status"]["user"])
