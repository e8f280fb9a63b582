"""Helpers for the server tests: tokens of the right shape, and fakes of STS and the mapping chain
that follow the seams of docs/architecture.md. Real parse_token runs on these tokens."""

from __future__ import annotations

import base64
import json
import queue
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, urlsplit

from authenticator.identity import Identity

NOW = datetime(2026, 11, 26, 4, 0, 0, tzinfo=UTC)
STS_HOST = "sts.us-east-1.amazonaws.com"


def make_url(signed_at: datetime = NOW, *, host: str = STS_HOST, access_key_id: str = "AKIAEXAMPLEKEY000001") -> str:
    region = "us-east-1" if host == "sts.amazonaws.com" else host.split(".")[1]
    date = signed_at.strftime("%Y%m%dT%H%M%SZ")
    query = (
        "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={access_key_id}%2F{date[:8]}%2F{region}%2Fsts%2Faws4_request"
        f"&X-Amz-Date={date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
        "&X-Amz-Signature=" + "ab" * 32
    )
    return f"https://{host}/?{query}"


def make_token(signed_at: datetime = NOW, **kwargs: str) -> str:
    url = make_url(signed_at, **kwargs)
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def user_identity(account: str = "111122223333", access_key_id: str = "AKIAEXAMPLEKEY000001") -> Identity:
    return Identity(
        arn=f"arn:aws:iam::{account}:user/alice",
        canonical_arn=f"arn:aws:iam::{account}:user/alice",
        account_id=account,
        user_id="AIDAEXAMPLEUSERID0001",
        session_name="",
        access_key_id=access_key_id,
        sts_endpoint=STS_HOST,
    )


def role_identity(account: str = "111122223333") -> Identity:
    return Identity(
        arn=f"arn:aws:sts::{account}:assumed-role/eks-admins/jdoe@example.com",
        canonical_arn=f"arn:aws:iam::{account}:role/eks-admins",
        account_id=account,
        user_id="AROAEXAMPLEROLEID0001",
        session_name="jdoe@example.com",
        access_key_id="ASIAEXAMPLEKEY000001",
        sts_endpoint=STS_HOST,
    )


@dataclass
class FakeSTS:
    """STSClient per contract: answers ``identity`` or raises ``error``; records what it was asked."""

    identity: Identity | None = None
    error: Exception | None = None
    calls: list[object] = field(default_factory=list)

    async def get_caller_identity(self, request: object) -> Identity:
        self.calls.append(request)
        if self.error is not None:
            raise self.error
        assert self.identity is not None
        return self.identity

    async def aclose(self) -> None:
        return None


@dataclass
class FakeMapper:
    """MappingChain.map per contract: ``answer(identity)`` gives (username, groups) or None (denied)."""

    answer: Callable[[Identity], tuple[str, tuple[str, ...]] | None]

    async def map(self, identity: Identity) -> object:
        from authenticator.mapping.chain import MappedUser, MappingDenied, Match

        found = self.answer(identity)
        if found is None:
            raise MappingDenied(f"ARN is not mapped: {identity.canonical_arn}")
        username, groups = found
        match = Match(source="MountedFile", kind="user", username=username, groups=groups, entry=None)
        return MappedUser(username=username, groups=groups, match=match)


class StsStandIn:
    """A minimal HTTPS GetCallerIdentity answerer on 127.0.0.1:0, for the process-level tests
    (the moto peer with signature checks is the lead's end-to-end). Answers the identity of the
    access key id in ``X-Amz-Credential``, 403 for an unknown key; records what it was sent."""

    def __init__(self, tmp_dir: Path, identities: dict[str, tuple[str, str, str]]) -> None:
        from authenticator.server.tls import generate_certificate

        self.identities = identities  # access key id -> (account, arn, user id)
        self.seen: list[dict[str, str]] = []
        cert, key = generate_certificate("localhost", "127.0.0.1")
        self.ca_path = tmp_dir / "sts-standin.pem"
        self.ca_path.write_bytes(cert)
        key_path = tmp_dir / "sts-standin.key"
        key_path.write_bytes(key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.ca_path), str(key_path))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                akid = query.get("X-Amz-Credential", [""])[0].split("/")[0]
                outer.seen.append(
                    {"host": self.headers.get("Host", ""), "cluster": self.headers.get("x-k8s-aws-id", "")}
                )
                found = outer.identities.get(akid)
                if found is None:
                    body, status = {"Error": {"Code": "InvalidClientTokenId"}}, 403
                else:
                    account, arn, user_id = found
                    result = {"Account": account, "Arn": arn, "UserId": user_id}
                    body = {
                        "GetCallerIdentityResponse": {
                            "GetCallerIdentityResult": result,
                            "ResponseMetadata": {"RequestId": "00000000-0000-4000-8000-000000000000"},
                        }
                    }
                    status = 200
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StsStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``eks-iam-authenticator -l json [-v LEVEL] server -c CONFIG --port PORT --state-dir STATE`` as
    a child process; its output (stderr, and stdout too with ``with_stdout``) is read by a thread so
    tests can wait for a line with a bound."""

    def __init__(
        self,
        config: Path,
        state: Path,
        port: int | None = None,
        *,
        verbosity: str | None = None,
        env: dict[str, str] | None = None,
        with_stdout: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.state = state
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._seen_lock = threading.Lock()
        args = ["-l", "json", *(["-v", verbosity] if verbosity else []), "server", "-c", str(config)]
        args += ["--port", str(self.port), "--state-dir", str(state)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "authenticator", *args],
            stdout=subprocess.PIPE if with_stdout else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if with_stdout else subprocess.PIPE,
            text=True,
            env=env,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        stream = self.proc.stdout if self.proc.stdout is not None else self.proc.stderr
        assert stream is not None
        for line in stream:
            self.lines.put(line)
        self.lines.put("")  # end of output

    def _next_line(self, timeout: float) -> str | None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        with self._seen_lock:
            self.seen.append(line)
        return line

    def wait_for(self, text: str) -> None:
        """Block until an output line contains ``text``; bounded, fails if the process ends first."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            line = self._next_line(left)
            if line is None:
                break
            if text in line:
                return
            assert line != "", "server exited:\n" + "".join(self.seen)
        raise AssertionError(f"no {text!r} within {STARTUP_SECONDS}s:\n" + "".join(self.seen))

    def rest(self) -> str:
        """Everything it wrote, once it has exited."""
        self.proc.wait(timeout=STARTUP_SECONDS)
        while self._next_line(STARTUP_SECONDS) not in ("", None):
            pass
        with self._seen_lock:
            return "".join(self.seen)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
