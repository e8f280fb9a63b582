"""``server.sourceARN`` (docs/mapping.md §2): the server process assumes
``ec2DescribeInstancesRoleARN`` with ``x-amz-source-arn`` and ``x-amz-source-account`` for its
``{{EC2PrivateDNSName}}`` lookups. moto is STS (AssumeRole) and EC2 (DescribeInstances), reached
through botocore's own ``AWS_ENDPOINT_URL_<SERVICE>`` variables; a recording peer in front of moto's
STS keeps the headers each request arrived with."""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import botocore.session
import httpx
import pytest

from tests.support.processes import ServerProcess, review_body
from tests.support.sts_standin import StsStandIn
from tests.support.tokens import WEBHOOK_CLUSTER, mint_token

REGION = "us-west-2"
ACCOUNT = "123456789012"  # moto's default account
SOURCE_ARN = "arn:aws:eks:us-west-2:444455556666:cluster/prod"
NODE_KEY = "AKIANODE000000000KEY"


class Recorder:
    """Forwards every request to ``upstream`` and keeps its method, headers and body."""

    def __init__(self, upstream: str) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        target = urlsplit(upstream)
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                recorder.requests.append((self.command, {k.lower(): v for k, v in self.headers.items()}, body))
                upstream_conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
                upstream_conn.request("POST", self.path, body, dict(self.headers.items()))
                answer = upstream_conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream_conn.close()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def assume_roles(self) -> list[dict[str, str]]:
        return [headers for _, headers, body in self.requests if b"Action=AssumeRole" in body]


class _LaunchesInstances(Protocol):
    """The EC2 call this test makes itself (the test extra has no mypy-boto3-ec2)."""

    def run_instances(self, **params: Any) -> dict[str, Any]: ...


def _instance(moto_url: str) -> tuple[str, str]:
    session = botocore.session.Session()
    session.set_credentials("AKIDTESTTESTTESTTEST", "secret-for-moto-only")
    ec2 = cast(_LaunchesInstances, session.create_client("ec2", region_name=REGION, endpoint_url=moto_url))
    answer = ec2.run_instances(ImageId="ami-03cf127a", MinCount=1, MaxCount=1, InstanceType="t3.micro")
    instance = answer["Instances"][0]
    return instance["InstanceId"], instance["PrivateDnsName"]


@pytest.mark.parametrize("source_arn", [SOURCE_ARN, None])
def test_the_describe_instances_role_is_assumed_with_the_source_headers(
    tmp_path: Path, moto_url: str, source_arn: str | None
) -> None:
    instance_id, dns_name = _instance(moto_url)
    node = (ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/nodes/{instance_id}", f"AROANODES0000000001:{instance_id}")
    with StsStandIn(tmp_path, {NODE_KEY: node}) as sts, Recorder(moto_url) as recorder:
        config = tmp_path / "config.yaml"
        config.write_text(
            f"clusterID: {WEBHOOK_CLUSTER}\n"
            "server:\n"
            f"  stsEndpointOverride: {sts.url}\n"
            f"  stsCABundle: {sts.ca_path}\n"
            f"  mapRoles: [{{rolearn: 'arn:aws:iam::{ACCOUNT}:role/nodes', "
            "username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:nodes']}]\n"
            f"  ec2DescribeInstancesRoleARN: arn:aws:iam::{ACCOUNT}:role/describe-instances\n"
            + (f"  sourceARN: {source_arn}\n" if source_arn else "")
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= {
            "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTESTTEST",
            "AWS_SECRET_ACCESS_KEY": "secret-for-moto-only",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_STS": recorder.url,
            "AWS_ENDPOINT_URL_EC2": moto_url,
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        }
        with ServerProcess(config, tmp_path / "state", env=env) as server:
            server.wait_for("serving the webhook")
            ca = ssl.create_default_context(cafile=str(tmp_path / "state" / "cert.pem"))
            with httpx.Client(base_url=f"https://127.0.0.1:{server.port}", verify=ca, timeout=30) as client:
                response = client.post("/authenticate", json=review_body(mint_token(access_key_id=NODE_KEY)))
        assert response.status_code == 200, response.text
        assert response.json()["status"]["user"]["username"] == f"system:node:{dns_name}"
        [assumed] = recorder.assume_roles()
        signed = assumed["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        if source_arn:
            assert assumed["x-amz-source-arn"] == SOURCE_ARN
            assert assumed["x-amz-source-account"] == "444455556666"
            assert {"x-amz-source-arn", "x-amz-source-account"} <= set(signed)
        else:
            assert "x-amz-source-arn" not in assumed and "x-amz-source-account" not in assumed


@pytest.mark.parametrize("source_arn", ["not-an-arn", "arn:aws:eks:us-west-2::cluster/no-account", "arn:aws:eks"])
def test_a_source_arn_that_does_not_parse_stops_the_server(tmp_path: Path, source_arn: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"clusterID: c\nserver:\n  sourceARN: '{source_arn}'\n")
    result = subprocess.run(
        [sys.executable, "-m", "authenticator", "server", "-c", str(config), "--state-dir", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "server.sourceARN" in result.stderr and source_arn in result.stderr
    assert not (tmp_path / "s").exists()
