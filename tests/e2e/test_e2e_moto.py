"""End to end with moto as STS (TLS, presigned signatures checked by the peer) and the real
``server`` process: tokens made by our plugin's presigner, by our plugin's command and by
``aws eks get-token``, reviewed over HTTPS."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from authenticator.demo.sts_peer import Credentials, PeerUser
from client_plugin.presign import presign_get_caller_identity
from tests.support.e2e import (
    CLUSTER,
    OTHER_ACCOUNT,
    PYTHON_BIN,
    REGION,
    SSO_ROLE_NAME,
    STS_HOST,
    V1,
    Cluster,
    client_env,
    user_of,
)

V1BETA1 = "authentication.k8s.io/v1beta1"


def _token(credentials: Credentials | PeerUser, *, cluster_id: str = CLUSTER, age: timedelta = timedelta(0)) -> str:
    """A token presigned by the plugin's own presigner, ``age`` ago."""
    return presign_get_caller_identity(
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        session_token=getattr(credentials, "session_token", None),
        host=STS_HOST,
        signing_region=REGION,
        cluster_id=cluster_id,
        now=datetime.now(UTC) - age,
    ).token


@pytest.mark.parametrize("api_version", [V1, V1BETA1])
def test_an_iam_user_is_mapped_by_map_users(cluster: Cluster, api_version: str) -> None:
    response = cluster.review(_token(cluster.alice), api_version)
    assert response.json()["apiVersion"] == api_version
    user = user_of(response)
    assert user["username"] == "alice"
    assert user["groups"] == ["devs"]
    user_id = cluster.peer.client("iam").get_user(UserName="alice")["User"]["UserId"]
    assert user["uid"] == f"aws-iam-authenticator:123456789012:{user_id}"
    assert user["extra"]["arn"] == [cluster.alice.arn]
    assert user["extra"]["canonicalArn"] == [cluster.alice.arn]
    assert user["extra"]["accessKeyId"] == [cluster.alice.access_key_id]


def test_an_assumed_role_is_mapped_by_map_roles_with_its_session_name(cluster: Cluster) -> None:
    session = cluster.peer.assume_role(cluster.alice, cluster.admin_role, "jane@example.com")
    user = user_of(cluster.review(_token(session)))
    # {{SessionName}} turns "@" into "-"; {{AccountID}} in a group is the caller's account.
    assert user["username"] == "admin:jane-example.com"
    assert user["groups"] == ["eks-admins", "team-123456789012"]
    # The uid carries the role's id, the part of STS's UserId "AROA…:<session>" before the colon.
    role_id = cluster.peer.client("iam").get_role(RoleName="eks-admins")["Role"]["RoleId"]
    assert user["uid"] == f"aws-iam-authenticator:123456789012:{role_id}"
    assert user["extra"]["arn"] == ["arn:aws:sts::123456789012:assumed-role/eks-admins/jane@example.com"]
    assert user["extra"]["canonicalArn"] == [cluster.admin_role]
    assert user["extra"]["sessionName"] == ["jane@example.com"]
    assert user["extra"]["accessKeyId"] == [session.access_key_id]


def test_another_account_is_mapped_by_map_accounts_to_its_canonical_arn(cluster: Cluster) -> None:
    assert cluster.carol.arn == f"arn:aws:iam::{OTHER_ACCOUNT}:user/carol"
    user = user_of(cluster.review(_token(cluster.carol)))
    assert user["username"] == cluster.carol.arn
    assert user.get("groups", []) == []
    user_id = cluster.peer.client("iam", account=OTHER_ACCOUNT).get_user(UserName="carol")["User"]["UserId"]
    assert user["uid"] == f"aws-iam-authenticator:{OTHER_ACCOUNT}:{user_id}"


def test_an_unmapped_role_of_the_cluster_account_is_denied(cluster: Cluster) -> None:
    """Guards the mapAccounts test: only the listed account maps without an entry."""
    session = cluster.peer.assume_role(cluster.alice, cluster.unmapped_role, "someone")
    response = cluster.review(_token(session))
    assert response.status_code == 403
    status = response.json()["status"]
    assert status == {"authenticated": False, "error": "identity is not mapped"}


def test_an_identity_center_role_is_mapped_by_the_sso_entry(cluster: Cluster) -> None:
    assert cluster.sso_role.endswith(f":role/aws-reserved/sso.amazonaws.com/{SSO_ROLE_NAME}")
    session = cluster.peer.assume_role(cluster.alice, cluster.sso_role, "jane@example.com")
    user = user_of(cluster.review(_token(session)))
    assert (user["username"], user["groups"]) == ("sso:jane-example.com", ["admins"])
    # STS leaves the path out of the assumed-role ARN, and so does the canonical ARN.
    assert user["extra"]["canonicalArn"] == [f"arn:aws:iam::123456789012:role/{SSO_ROLE_NAME}"]


def test_a_rolearn_with_a_path_never_matches_and_the_server_said_so(cluster: Cluster) -> None:
    assert "/team/dev/" in cluster.pathed_role
    session = cluster.peer.assume_role(cluster.alice, cluster.pathed_role, "dev")
    response = cluster.review(_token(session))
    assert response.status_code == 403
    assert response.json()["status"] == {"authenticated": False, "error": "identity is not mapped"}
    warnings = [line for line in cluster.server.seen if "has a path" in line]
    assert warnings and cluster.pathed_role in warnings[0], "".join(cluster.server.seen)


def test_a_token_signed_for_another_cluster_is_denied_by_the_peer_signature_check(cluster: Cluster) -> None:
    before = cluster.peer.presigned_requests
    response = cluster.review(_token(cluster.alice, cluster_id="another-cluster"))
    # It passed every local rule and reached STS, which refused the signature: the server sends
    # its own cluster id in x-k8s-aws-id, so the token's signature no longer matches.
    assert cluster.peer.presigned_requests == before + 1
    assert response.status_code == 403
    body = response.json()
    assert body["status"]["authenticated"] is False
    assert "expected 200, got 403" in body["status"]["error"]
    assert "SignatureDoesNotMatch" in body["status"]["error"]
    assert "user" not in body["status"]


def test_an_expired_token_is_denied_before_sts(cluster: Cluster) -> None:
    before = cluster.peer.presigned_requests
    response = cluster.review(_token(cluster.alice, age=timedelta(minutes=20)))
    assert response.status_code == 403
    assert "X-Amz-Date parameter is expired (15 minute expiration)" in response.json()["status"]["error"]
    assert cluster.peer.presigned_requests == before


def _host_of(token: str) -> str:
    body = token.removeprefix("k8s-aws-v1.")
    return urlsplit(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()).netloc


@pytest.mark.parametrize(
    ("who", "endpoints", "host"),
    [
        ("user", "regional", STS_HOST),
        ("role-session", "regional", STS_HOST),
        ("user", "legacy", "sts.amazonaws.com"),  # awscli's global endpoint, signed for us-east-1
    ],
)
def test_a_token_from_aws_eks_get_token_is_accepted(
    cluster: Cluster, tmp_path: Path, who: str, endpoints: str, host: str
) -> None:
    credentials: Credentials | PeerUser = cluster.alice
    if who == "role-session":
        credentials = cluster.peer.assume_role(cluster.alice, cluster.admin_role, "from-awscli")
    result = subprocess.run(
        [str(PYTHON_BIN / "aws"), "eks", "get-token", "--cluster-name", CLUSTER],
        env=client_env(tmp_path, credentials, AWS_STS_REGIONAL_ENDPOINTS=endpoints),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    credential = json.loads(result.stdout)
    assert credential["kind"] == "ExecCredential"
    token = credential["status"]["token"]
    assert _host_of(token) == host
    before = cluster.peer.presigned_requests
    user = user_of(cluster.review(token))
    assert cluster.peer.presigned_requests == before + 1
    if who == "user":
        assert (user["username"], user["groups"]) == ("alice", ["devs"])
    else:
        assert (user["username"], user["groups"]) == ("admin:from-awscli", ["eks-admins", "team-123456789012"])


def _plugin_token(home: Path, credentials: Credentials | PeerUser, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "authenticator", "token", "-i", CLUSTER, "--token-only"],
        env=client_env(home, credentials, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_token_from_our_plugin_command_is_accepted(cluster: Cluster, tmp_path: Path) -> None:
    """The plugin as kubectl runs it (test_e2e_kubectl adds kubectl itself), as a role session."""
    session = cluster.peer.assume_role(cluster.alice, cluster.admin_role, "plugin-user")
    user = user_of(cluster.review(_plugin_token(tmp_path, session)))
    assert user["username"] == "admin:plugin-user"


@pytest.mark.parametrize(
    ("env", "host"),
    [
        ({"AWS_REGION": "eu-west-1"}, "sts.eu-west-1.amazonaws.com"),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, "sts-fips.us-east-1.amazonaws.com"),
        ({"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "sts.us-east-1.api.aws"),
        ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "sts.amazonaws.com"),
    ],
    ids=["other-region", "fips", "dualstack", "global"],
)
def test_every_sts_endpoint_of_the_partition_works_end_to_end(
    cluster: Cluster, tmp_path: Path, env: dict[str, str], host: str
) -> None:
    """The token's own host passes the host check and is the Host the peer verifies the signature
    with (the override only changes where the request goes)."""
    token = _plugin_token(tmp_path, cluster.alice, **env)
    assert _host_of(token) == host
    before = cluster.peer.presigned_requests
    assert user_of(cluster.review(token))["username"] == "alice"
    assert cluster.peer.presigned_requests == before + 1


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_a_token_for_another_partition_is_denied_before_sts(cluster: Cluster, tmp_path: Path, region: str) -> None:
    before = cluster.peer.presigned_requests
    response = cluster.review(_plugin_token(tmp_path, cluster.alice, AWS_REGION=region))
    assert response.status_code == 403
    assert f'unexpected hostname "sts.{region}.' in response.json()["status"]["error"]
    assert cluster.peer.presigned_requests == before


def test_a_token_signed_14_minutes_ago_is_still_accepted(cluster: Cluster) -> None:
    """STS honours a presigned GetCallerIdentity for 15 minutes whatever X-Amz-Expires (60) says,
    and so do the server's rule and the peer: kubectl's 14-minute cached token keeps working."""
    assert user_of(cluster.review(_token(cluster.alice, age=timedelta(minutes=14))))["username"] == "alice"
