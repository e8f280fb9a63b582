"""The real ``server`` process for the reliability tests and benchmarks, with the flags, signals
and metrics they need, and tokens presigned with made-up keys for the STS stand-in.

A module with a unique name (not conftest) so that test modules and bench/ can import it.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from server_fakes import ServerProcess

from client_plugin.presign import encode_token, presign_get_caller_identity

CLUSTER = "reliability-cluster"
STS_HOST = "sts.us-east-1.amazonaws.com"
BOUND_SECONDS = 30  # how long a test waits for anything before it fails
V1 = "authentication.k8s.io/v1"


def fresh_access_key_id() -> str:
    return "AKIA" + secrets.token_hex(8).upper()


def mint_token(
    *,
    access_key_id: str | None = None,
    secret_access_key: str = "bench/secret/key/not/a/real/one/0000000",
    session_token: str | None = None,
    cluster_id: str = CLUSTER,
    now: datetime | None = None,
) -> str:
    """A token for ``cluster_id`` as our plugin makes it; a fresh access key id unless one is given."""
    signature = presign_get_caller_identity(
        access_key_id=access_key_id or fresh_access_key_id(),
        secret_access_key=secret_access_key,
        session_token=session_token,
        host=STS_HOST,
        signing_region="us-east-1",
        cluster_id=cluster_id,
        now=now or datetime.now(UTC),
    )
    return encode_token(signature.url)


def review_body(token: str) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": "TokenReview", "spec": {"token": token}}


def config_text(sts_url: str, ca_path: Path | str, mapped_arn: str, **server: object) -> str:
    """A MountedFile config mapping ``mapped_arn`` to user ``mapped`` (group ``devs``); ``server``
    adds keys of the ``server:`` section (e.g. ``stsTimeout=1``)."""
    lines = [
        f"clusterID: {CLUSTER}",
        "server:",
        f"  stsEndpointOverride: {sts_url}",
        f"  stsCABundle: {ca_path}",
        f"  mapUsers: [{{userarn: '{mapped_arn}', username: mapped, groups: [devs]}}]",
    ]
    lines += [f"  {key}: {value}" for key, value in server.items()]
    return "\n".join(lines) + "\n"


def metric_sum(exposition: str, name: str) -> float:
    """The sum of the samples (all labels) of ``aws_iam_authenticator_<name>`` in a /metrics text."""
    pattern = re.compile(rf"^aws_iam_authenticator_{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)$", re.M)
    return sum(float(v) for v in pattern.findall(exposition))


class Webhook(ServerProcess):
    """``eks-iam-authenticator -l json -v LEVEL server -c CONFIG`` as a child process on 127.0.0.1,
    without the caller's AWS_ variables; stderr and stdout are collected (``output()``: stdout must
    stay empty of secrets too), and a client is ready once it serves."""

    def __init__(self, config: Path, state: Path, *, verbosity: str = "info") -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        super().__init__(config, state, verbosity=verbosity, env=env, with_stdout=True)
        self._terminating = False
        self.wait_for("serving the webhook")
        self.client = self.new_client()

    def new_client(self, timeout: float = BOUND_SECONDS) -> httpx.Client:
        ca = ssl.create_default_context(cafile=str(self.state / "cert.pem"))
        return httpx.Client(base_url=f"https://127.0.0.1:{self.port}", verify=ca, timeout=timeout)

    def review(self, token: str, client: httpx.Client | None = None) -> httpx.Response:
        return (client or self.client).post("/authenticate", json=review_body(token))

    def review_alone(self, token: str) -> httpx.Response:
        """One review on a connection of its own, closed once answered (for concurrent reviews)."""
        with self.new_client() as client:
            response = self.review(token, client)
            response.read()
            return response

    def metric(self, name: str) -> float:
        """The sum of a metric's samples (all labels) on /metrics."""
        return metric_sum(self.client.get("/metrics").text, name)

    def begin_shutdown(self) -> None:
        """SIGTERM, and wait until uvicorn has closed its listening socket and waits for the
        connections it holds. Our idle keep-alive connection is closed first: a sync httpx client
        never reads the server's TLS close_notify, so uvicorn would wait for it until its graceful
        timeout (a Go client, like the API server's, reads it at once)."""
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        self._terminating = True
        self.wait_for("Waiting for connections to close")

    def terminate(self) -> int:
        """SIGTERM (once: a second one forces uvicorn out), then the exit code (bounded wait)."""
        if not self._terminating:
            self.client.close()
            self.proc.send_signal(signal.SIGTERM)
            self._terminating = True
        return self.proc.wait(timeout=BOUND_SECONDS)

    def output(self) -> str:
        """Everything the process wrote, once it has exited."""
        return self.rest()

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        super().__exit__(*exc)
