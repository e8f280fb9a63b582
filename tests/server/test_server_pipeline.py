"""The whole in-process pipeline as ``server`` builds it: config -> MountedFile source -> mapping
chain -> real parse_token -> real STSClient (over a double at its transport seam standing in for STS) ->
TokenReview answer. The moto-backed end-to-end runs live with the demo peers."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from authenticator.server.composition import build_app
from authenticator.server.config import ServerConfig, load_config
from tests.support.sts import RecordingTransport
from tests.support.tokens import HOST as STS_HOST
from tests.support.tokens import NOW, make_token, make_url

ACCOUNT = "111122223333"

CONFIG = f"""\
clusterID: demo-cluster
server:
  mapRoles:
    - rolearn: arn:aws:iam::{ACCOUNT}:role/eks-admins
      username: "admin:{{{{SessionName}}}}"
      groups: [eks-admins]
  mapUsers:
    - userarn: arn:aws:iam::{ACCOUNT}:user/alice
      username: alice
      groups: [devs]
  mapAccounts: ["444455556666"]
  scrubbedAccounts: ["777788889999"]
"""


def _sts_json(arn: str, user_id: str, account: str = ACCOUNT) -> dict[str, object]:
    return {
        "GetCallerIdentityResponse": {
            "GetCallerIdentityResult": {"Account": account, "Arn": arn, "UserId": user_id},
            "ResponseMetadata": {"RequestId": "0d3e1b8c-0000-4000-8000-000000000000"},
        }
    }


def _sts(answer: httpx.Response) -> RecordingTransport:
    """STS at the client's transport seam, answering ``answer`` and remembering every request."""
    return RecordingTransport.always(answer.status_code, answer.content)


def _config(tmp_path: Path, text: str = CONFIG) -> ServerConfig:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_config(str(path))


def _review(client: TestClient, token: str, version: str = "authentication.k8s.io/v1") -> httpx.Response:
    # TestClient is typed against httpx2, which is not installed, so mypy sees its methods as Any.
    response: httpx.Response = client.post(
        "/authenticate", json={"apiVersion": version, "kind": "TokenReview", "spec": {"token": token}}
    )
    return response


def _serve(config: ServerConfig, sts: RecordingTransport) -> TestClient:
    app, _ = build_app(config, clock=lambda: NOW, sts_transport=sts)
    return TestClient(app)


def test_user_token_maps_through_mapusers_and_sts_sees_the_exact_request(tmp_path: Path) -> None:
    sts = _sts(httpx.Response(200, json=_sts_json(f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAALICE0000000001")))
    with _serve(_config(tmp_path), sts) as client:
        response = _review(client, make_token())
    assert response.status_code == 200, response.text
    user = response.json()["status"]["user"]
    assert (user["username"], user["groups"]) == ("alice", ["devs"])
    assert user["uid"] == f"aws-iam-authenticator:{ACCOUNT}:AIDAALICE0000000001"
    assert user["extra"]["accessKeyId"] == ["AKIAEXAMPLEKEY000001"]
    (request,) = sts.sent
    sent = urlsplit(make_url())
    assert request.host == STS_HOST
    assert request.target.decode() == f"{sent.path}?{sent.query}"  # query byte for byte
    assert request.headers["x-k8s-aws-id"] == "demo-cluster"
    assert "application/json" in request.headers["accept"]


def test_assumed_role_gets_its_session_name_in_the_username(tmp_path: Path) -> None:
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/eks-admins/jdoe@example.com"
    sts = _sts(httpx.Response(200, json=_sts_json(arn, "AROAADMINS000000001:jdoe@example.com")))
    with _serve(_config(tmp_path), sts) as client:
        response = _review(client, make_token(), "authentication.k8s.io/v1beta1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["apiVersion"] == "authentication.k8s.io/v1beta1"
    user = body["status"]["user"]
    assert (user["username"], user["groups"]) == ("admin:jdoe-example.com", ["eks-admins"])
    assert user["uid"] == f"aws-iam-authenticator:{ACCOUNT}:AROAADMINS000000001"
    assert user["extra"]["canonicalArn"] == [f"arn:aws:iam::{ACCOUNT}:role/eks-admins"]
    assert user["extra"]["sessionName"] == ["jdoe@example.com"]


def test_mapaccounts_gives_the_canonical_arn_and_no_groups(tmp_path: Path) -> None:
    arn = "arn:aws:iam::444455556666:user/bob"
    sts = _sts(httpx.Response(200, json=_sts_json(arn, "AIDABOB000000000001", "444455556666")))
    with _serve(_config(tmp_path), sts) as client:
        response = _review(client, make_token())
    assert response.status_code == 200, response.text
    assert response.json()["status"]["user"]["username"] == arn
    assert response.json()["status"]["user"]["groups"] == []


def test_unmapped_identity_is_403(tmp_path: Path) -> None:
    arn = "arn:aws:iam::555555555555:user/mallory"
    sts = _sts(httpx.Response(200, json=_sts_json(arn, "AIDAMAL000000000001", "555555555555")))
    with _serve(_config(tmp_path), sts) as client:
        response = _review(client, make_token())
    assert response.status_code == 403
    assert response.json()["status"]["authenticated"] is False


def test_scrubbed_account(tmp_path: Path) -> None:
    text = (
        "clusterID: demo-cluster\nserver:\n  scrubbedAccounts: ['777788889999']\n  mapUsers:\n"
        "    - {userarn: 'arn:aws:iam::777788889999:user/root-ish', username: ops, groups: [ops]}\n"
    )
    arn = "arn:aws:iam::777788889999:user/root-ish"
    sts = _sts(httpx.Response(200, json=_sts_json(arn, "AIDAOPS000000000001", "777788889999")))
    with _serve(_config(tmp_path, text), sts) as client:
        response = _review(client, make_token())
    assert response.status_code == 200, response.text
    user = response.json()["status"]["user"]
    assert user["uid"] == "aws-iam-authenticator:administrative:ops"
    assert "extra" not in user


@pytest.mark.parametrize(
    ("answer", "status", "result"),
    [
        (
            httpx.Response(400, text="<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"),
            429,
            "sts_throttling",
        ),
        (httpx.Response(403, json={"Error": {"Code": "SignatureDoesNotMatch"}}), 403, "sts_error"),
        (httpx.Response(200, text="<GetCallerIdentityResponse/>"), 403, "sts_error"),
    ],
)
def test_sts_failures(tmp_path: Path, answer: httpx.Response, status: int, result: str) -> None:
    with _serve(_config(tmp_path), _sts(answer)) as client:
        response = _review(client, make_token())
        metrics = client.get("/metrics").text
    assert response.status_code == status
    assert response.json()["status"]["authenticated"] is False
    assert f'aws_iam_authenticator_authenticate_latency_seconds_count{{result="{result}"}}' in metrics


def test_invalid_token_never_reaches_sts(tmp_path: Path) -> None:
    sts = _sts(httpx.Response(500))
    with _serve(_config(tmp_path), sts) as client:
        response = _review(client, make_token(host="sts.us-east-1.amazonaws.com.evil.com"))
    assert response.status_code == 403
    assert sts.sent == []


def test_aws_auth_file_mappings_are_served(tmp_path: Path) -> None:
    manifest = tmp_path / "aws-auth.yaml"
    roles = "\n".join(
        [
            f"- rolearn: arn:aws:iam::{ACCOUNT}:role/nodes",
            "  username: node-{{SessionName}}",
            "  groups: [system:nodes]",
        ]
    )
    manifest.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                "data": {"mapRoles": roles},
            }
        )
    )
    config = _config(tmp_path, f"clusterID: demo-cluster\nserver:\n  awsAuthFile: {manifest}\n")
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/nodes/i-0123456789abcdef0"
    sts = _sts(httpx.Response(200, json=_sts_json(arn, "AROANODES0000000001:i-0123456789abcdef0")))
    with _serve(config, sts) as client:
        assert client.get("/readyz").status_code == 200
        response = _review(client, make_token())
    assert response.status_code == 200, response.text
    user = response.json()["status"]["user"]
    assert (user["username"], user["groups"]) == ("node-i-0123456789abcdef0", ["system:nodes"])


def test_a_broken_aws_auth_section_shows_on_readyz(tmp_path: Path) -> None:
    manifest = tmp_path / "aws-auth.yaml"
    data = {
        "mapRoles": "- rolearn: [unclosed\n",
        "mapUsers": f"- userarn: arn:aws:iam::{ACCOUNT}:user/alice\n  username: a\n",
    }
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": data}))
    config = _config(tmp_path, f"clusterID: demo-cluster\nserver:\n  awsAuthFile: {manifest}\n")
    with _serve(config, _sts(httpx.Response(500))) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == "ok"
    assert len(lines) == 2 and lines[1].startswith("MountedFile mapRoles: ")
