"""The STS peer answers like STS: real identities for good tokens, 403 for everything else."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from authenticator.demo.sts_peer import StsPeer

if TYPE_CHECKING:  # pytest imports the conftest itself; the tests need only its types
    from tests.peers.conftest import CallSts, Presigner

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"


def _replace_param(url: str, name: str, value: str | None) -> str:
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    if value is not None:
        params.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(params)))


def _error_code(response: httpx.Response) -> str:
    code = response.json()["Error"]["Code"]
    assert isinstance(code, str)
    return code


def test_user_token_gives_the_users_identity_as_json(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("alice")
    response = call_sts(presign(user.access_key_id, user.secret_access_key))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    result = body["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
    assert result == {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "UserId": result["UserId"]}
    assert result["UserId"]
    assert body["GetCallerIdentityResponse"]["ResponseMetadata"]["RequestId"]
    assert sts_peer.presigned_requests == 1


def test_assumed_role_token_gives_the_assumed_role_arn(
    sts_peer: StsPeer, presign: Presigner, call_sts: CallSts
) -> None:
    user = sts_peer.create_user("bob")
    role_arn = sts_peer.create_role("admin", account=OTHER_ACCOUNT, path="/team/")
    assert role_arn == f"arn:aws:iam::{OTHER_ACCOUNT}:role/team/admin"
    creds = sts_peer.assume_role(user, role_arn, "bob-session")
    assert creds.session_token
    response = call_sts(presign(*creds))
    assert response.status_code == 200, response.text
    result = response.json()["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
    assert result["Arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/admin/bob-session"
    assert result["Account"] == OTHER_ACCOUNT
    assert re.fullmatch(r"AROA[A-Z0-9]+:bob-session", result["UserId"])
    # Stable: the role exists, so moto gives its id every time.
    again = call_sts(presign(*creds)).json()["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
    assert again["UserId"] == result["UserId"]


def test_xml_without_accept_json(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("carol")
    response = call_sts(presign(user.access_key_id, user.secret_access_key), accept_json=False)
    assert response.status_code == 200
    assert response.text.startswith("<GetCallerIdentityResponse")
    assert f"<Arn>arn:aws:iam::{ACCOUNT}:user/carol</Arn>" in response.text
    assert "ListAllMyBuckets" not in response.text  # pitfall 1: never routed to S3


@pytest.mark.parametrize(
    "query",
    [
        "Action=GetCallerIdentity&Version=2011-06-15",
        "action=GetCallerIdentity&Version=2011-06-15",
        "Action=GetCallerIdentity&x-amz-credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fsts%2Faws4_request",
    ],
)
def test_unsigned_or_odd_spellings_never_reach_s3(sts_peer: StsPeer, sts_http: httpx.Client, query: str) -> None:
    response = sts_http.get(f"{sts_peer.url}/?{query}", headers={"Host": "sts.us-east-1.amazonaws.com"})
    assert response.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in response.text


def test_token_for_another_cluster_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("dave")
    response = call_sts(presign(user.access_key_id, user.secret_access_key, cluster_id="other-cluster"))
    assert response.status_code == 403
    assert _error_code(response) == "SignatureDoesNotMatch"


def test_missing_cluster_header_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("dave")
    response = call_sts(presign(user.access_key_id, user.secret_access_key), cluster_id="")
    assert response.status_code == 403
    assert _error_code(response) == "SignatureDoesNotMatch"


def test_tampered_signature_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("erin")
    url = presign(user.access_key_id, user.secret_access_key)
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    response = call_sts(_replace_param(url, "X-Amz-Signature", flipped))
    assert response.status_code == 403
    assert _error_code(response) == "SignatureDoesNotMatch"


def test_tampered_query_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("erin")
    url = presign(user.access_key_id, user.secret_access_key)
    response = call_sts(_replace_param(url, "X-Amz-Expires", "900"))
    assert response.status_code == 403
    assert _error_code(response) == "SignatureDoesNotMatch"


def test_wrong_secret_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("erin")
    response = call_sts(presign(user.access_key_id, "x" * 40))
    assert response.status_code == 403
    assert _error_code(response) == "SignatureDoesNotMatch"


def test_host_other_than_the_signed_one_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("frank")
    url = presign(user.access_key_id, user.secret_access_key)
    response = call_sts(url, host="sts.amazonaws.com")
    assert response.status_code == 403
    assert _error_code(response) == "SignatureDoesNotMatch"


@pytest.mark.parametrize(("offset", "status"), [(timedelta(minutes=14), 200), (timedelta(minutes=16), 403)])
def test_fifteen_minute_validity(
    sts_peer: StsPeer, presign: Presigner, call_sts: CallSts, offset: timedelta, status: int
) -> None:
    user = sts_peer.create_user("grace")
    url = presign(user.access_key_id, user.secret_access_key)
    signed = datetime.strptime(dict(parse_qsl(urlsplit(url).query))["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    sts_peer.now = lambda: signed.replace(tzinfo=UTC) + offset
    response = call_sts(url)
    assert response.status_code == status
    if status == 403:
        assert _error_code(response) == "AccessDenied"


def test_signed_in_the_future_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("grace")
    url = presign(user.access_key_id, user.secret_access_key)
    sts_peer.now = lambda: datetime.now(UTC) - timedelta(minutes=20)
    response = call_sts(url)
    assert response.status_code == 403
    assert _error_code(response) == "SignatureDoesNotMatch"


def test_unknown_key_is_rejected_not_given_a_canned_identity(
    sts_peer: StsPeer, presign: Presigner, call_sts: CallSts
) -> None:
    response = call_sts(presign("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
    assert response.status_code == 403
    assert _error_code(response) == "InvalidClientTokenId"


def test_unknown_key_error_is_xml_without_accept_json(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    response = call_sts(presign("AKIAIOSFODNN7EXAMPLE", "secret"), accept_json=False)
    assert response.status_code == 403
    assert "<Code>InvalidClientTokenId</Code>" in response.text


def test_session_token_is_required_for_temporary_keys(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("heidi")
    creds = sts_peer.assume_role(user, sts_peer.create_role("ops"), "ops-session")
    response = call_sts(presign(creds.access_key_id, creds.secret_access_key))
    assert response.status_code == 403
    assert _error_code(response) == "InvalidClientTokenId"
    wrong = call_sts(presign(creds.access_key_id, creds.secret_access_key, "not-the-session-token"))
    assert wrong.status_code == 403


def test_expired_role_session_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("heidi")
    creds = sts_peer.assume_role(user, sts_peer.create_role("ops"), "ops-session")  # one hour
    later = datetime.now(UTC) + timedelta(hours=2)
    sts_peer.now = lambda: later
    fresh_token = presign(*creds, signed_at=later)
    response = call_sts(fresh_token)
    assert response.status_code == 403
    assert _error_code(response) == "ExpiredToken"


def test_inactive_key_is_rejected(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("ivan")
    sts_peer.client("iam").update_access_key(UserName="ivan", AccessKeyId=user.access_key_id, Status="Inactive")
    response = call_sts(presign(user.access_key_id, user.secret_access_key))
    assert response.status_code == 403
    assert _error_code(response) == "InvalidClientTokenId"


def test_reset_forgets_users(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("judy")
    url = presign(user.access_key_id, user.secret_access_key)
    assert call_sts(url).status_code == 200
    sts_peer.reset()
    assert call_sts(url).status_code == 403


def test_injected_throttling(sts_peer: StsPeer, presign: Presigner, call_sts: CallSts) -> None:
    user = sts_peer.create_user("ken")
    url = presign(user.access_key_id, user.secret_access_key)
    sts_peer.inject_error(400, "Throttling", "Rate exceeded")
    throttled = call_sts(url)
    assert throttled.status_code == 400
    assert _error_code(throttled) == "Throttling"
    assert call_sts(url).status_code == 200


def test_other_sts_calls_pass_to_moto(sts_peer: StsPeer) -> None:
    user = sts_peer.create_user("lena")
    identity = sts_peer.client("sts", credentials=user).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/lena"


def test_awscli_token_is_accepted(sts_peer: StsPeer, call_sts: CallSts, tmp_path: Path) -> None:
    """A token from `aws eks get-token` (a program nobody here wrote) passes the peer's checks."""
    user = sts_peer.create_user("mallory")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": user.access_key_id,
        "AWS_SECRET_ACCESS_KEY": user.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_STS_REGIONAL_ENDPOINTS": "regional",
    }
    aws = str(Path(sys.executable).with_name("aws"))
    result = subprocess.run(
        [aws, "eks", "get-token", "--cluster-name", "test-cluster", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    token = json.loads(result.stdout)["status"]["token"]
    encoded = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    assert urlsplit(url).netloc == "sts.us-east-1.amazonaws.com"
    response = call_sts(url)
    assert response.status_code == 200, response.text
    result_body = response.json()["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
    assert result_body["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/mallory"
    assert call_sts(url, cluster_id="another-cluster").status_code == 403
