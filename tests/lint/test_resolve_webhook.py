"""``aws-auth resolve`` answers what the running webhook answers, identity for identity.

Real peers: moto as STS (signatures checked), our ``server`` process loading the aws-auth
ConfigMap through ``server.awsAuthFile``, and the kube-apiserver stand-in sending TokenReviews.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator.demo.apiserver import ApiServerStandIn
from authenticator.demo.sts_peer import StsPeer
from authenticator.lint.resolve import Resolution, resolve_text
from tests.support.aws_auth import HEADER
from tests.support.processes import ServerProcess
from tests.support.tokens import botocore_token

CLUSTER = "lint-cluster"
OTHER_ACCOUNT = "210987654321"


def _token(access_key_id: str, secret: str, session_token: str | None = None) -> str:
    return botocore_token(access_key_id, secret, session_token, cluster_id=CLUSTER)


def _configmap(account: str) -> str:
    return (
        HEADER
        + f"""\
  mapRoles: |
    - rolearn: arn:aws:iam::{account}:role/developer
      username: "dev:{{{{SessionName}}}}"
      groups:
        - developers
    - rolearn: arn:aws:iam::{account}:role/teams/admin
      username: "admin:{{{{SessionName}}}}"
      groups:
        - admins
  mapUsers: |
    - userarn: arn:aws:iam::{account}:user/alice
      username: alice
      groups:
        - developers
  mapAccounts: |
    - "{OTHER_ACCOUNT}"
"""
    )


class World:
    def __init__(self, peer: StsPeer, tmp: Path) -> None:
        self.peer = peer
        self.alice = peer.create_user("alice")
        self.bob = peer.create_user("bob")
        self.carol = peer.create_user("carol", account=OTHER_ACCOUNT)
        self.developer = peer.create_role("developer")
        self.admin = peer.create_role("admin", path="/teams/")
        self.account = self.alice.arn.split(":")[4]
        self.manifest = tmp / "aws-auth.yaml"
        self.manifest.write_text(_configmap(self.account))
        self.config = tmp / "config.yaml"
        self.config.write_text(
            f"clusterID: {CLUSTER}\nserver:\n  stsEndpointOverride: {peer.url}\n  stsCABundle: {peer.ca_path}\n"
            f"  awsAuthFile: {self.manifest}\n"
        )

    def identities(self) -> list[tuple[str, str, str]]:
        """(what, caller ARN as STS reports it, token)."""
        out = []
        for user in (self.alice, self.bob, self.carol):
            out.append((user.arn.rsplit("/", 1)[1], user.arn, _token(user.access_key_id, user.secret_access_key)))
        for role, name in ((self.developer, "developer"), (self.admin, "admin")):
            session = self.peer.assume_role(self.alice, role, "jane@example.com")
            arn = f"arn:aws:sts::{self.account}:assumed-role/{name}/jane@example.com"
            out.append((name, arn, _token(session.access_key_id, session.secret_access_key, session.session_token)))
        return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, ServerProcess]]:
    tmp = tmp_path_factory.mktemp("resolve-webhook")
    with StsPeer() as peer:
        peer.reset()
        world = World(peer, tmp)
        with ServerProcess(world.config, tmp / "state") as server:
            server.wait_for("serving the webhook")
            yield world, server


def _kind(result: Resolution) -> str | None:
    return result.match.kind if result.match is not None else None


def test_resolve_agrees_with_the_webhook(world: tuple[World, ServerProcess]) -> None:
    w, server = world
    kubeconfig = str(server.state / "aws-iam-authenticator.kubeconfig")
    text = w.manifest.read_text()
    seen: dict[str, Resolution] = {}
    with ApiServerStandIn(kubeconfig) as apiserver:
        for what, arn, token in w.identities():
            user = apiserver.authenticate(token)
            result = resolve_text(str(w.manifest), text, arn)
            webhook = (user is not None, user and user["username"], user and user["groups"])
            ours: tuple[bool, str | None, list[str] | None] = (
                result.mapped,
                result.username if result.mapped else None,
                None,
            )
            if result.mapped:
                ours = (True, result.username, [*result.groups, "system:authenticated"])
            assert ours == (webhook[0], webhook[1] or None, webhook[2] or None), (what, apiserver.last_review)
            seen[what] = result
    # The four cases of the issue, all seen through the webhook:
    assert _kind(seen["developer"]) == "role" and seen["developer"].username == "dev:jane-example.com"
    assert _kind(seen["alice"]) == "user"
    assert _kind(seen["carol"]) == "account"
    assert not seen["bob"].mapped
    # The role with a path is denied by the webhook; resolve says why.
    assert not seen["admin"].mapped
    assert [f.rule for f in seen["admin"].nearest[0].findings][:1] == ["AA202"]
