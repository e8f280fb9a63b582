"""STS doubles that record what reaches them, from the wire inwards.

Three seams, three doubles, each for tests that must see that seam and no further:

``recording_handler``: an HTTP/1.1 peer recording each GET's path and query (byte for byte) and its
headers, lower-cased, plus the client's port (to tell connections apart); keep-alive, as STS; it
answers every GET with ``answer``. ``RecordingTransport``: a double at ``STSClient``'s one transport
seam (``STSTransport.get``), for the answers a peer cannot give on demand (errors, hangs, anything).
``FakeSTS``: a double of the STS client (``get_caller_identity``), for the verifier's tests that
start after STS has answered.

The STS peers over the network are ``tests.support.sts_standin.StsStandIn`` (fast, no signature
checks, fails as a network does) and the demo's ``authenticator.demo.sts_peer.StsPeer`` (moto,
checking presigned signatures as STS does).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from authenticator.identity import Identity
from authenticator.sts_transport import Origin
from authenticator.token import PresignedRequest
from tests.support.identities import user_identity

__all__ = ["PROXY_ENV_VARS", "FakeSTS", "RecordingTransport", "Seen", "Sent", "identity_document", "recording_handler"]

Seen = list[tuple[str, dict[str, str]]]

# What the STS client reads from the environment to choose a proxy (either case).
_PROXY_NAMES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")
PROXY_ENV_VARS = (*_PROXY_NAMES, *(name.lower() for name in _PROXY_NAMES))


def identity_document(arn: str, user_id: str, account: str) -> dict[str, Any]:
    """A GetCallerIdentity answer in STS's JSON form."""
    return {
        "GetCallerIdentityResponse": {
            "GetCallerIdentityResult": {"Account": account, "Arn": arn, "UserId": user_id},
            "ResponseMetadata": {"RequestId": "01234567-89ab-cdef-0123-456789abcdef"},
        }
    }


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: Seen
    answer: bytes

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers["client-port"] = str(self.client_address[1])
        self.seen.append((self.path, headers))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def recording_handler(seen: Seen, answer: bytes) -> type[BaseHTTPRequestHandler]:
    """A handler class that appends to ``seen`` and answers ``answer``."""
    return type("RecordingHandler", (_Recorder,), {"seen": seen, "answer": answer})


# -- the same, one step closer: a double at STSClient's transport seam ---------------------------

Answer = tuple[int, bytes]


@dataclass(frozen=True)
class Sent:
    """One GET as ``STSClient`` handed it to its transport."""

    origin: Origin
    target: bytes
    headers: dict[str, str]  # lower-cased names

    @property
    def host(self) -> str:
        """The host connected to (the token's, or the endpoint override's)."""
        return self.origin[1]

    @property
    def url(self) -> str:
        scheme, host, port = self.origin
        authority = host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"
        return f"{scheme}://{authority}{self.target.decode('ascii')}"


class RecordingTransport:
    """``STSTransport`` (the one call ``STSClient`` makes) answered by ``answer(sent)`` instead of the
    network: a status and a body, an exception to raise (httpx's classes, as the real transport), or
    an awaitable of either. Every call is recorded in ``sent`` before it is answered."""

    def __init__(self, answer: Callable[[Sent], Answer | Awaitable[Answer]]) -> None:
        self._answer = answer
        self.sent: list[Sent] = []
        self.closed = False

    @classmethod
    def always(cls, status: int, body: bytes | dict[str, Any] = b"") -> RecordingTransport:
        content = json.dumps(body).encode() if isinstance(body, dict) else body
        return cls(lambda sent: (status, content))

    @classmethod
    def failing(cls, error: BaseException) -> RecordingTransport:
        def fail(sent: Sent) -> Answer:
            raise error

        return cls(fail)

    async def get(self, origin: Origin, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> Answer:
        sent = Sent(origin, target, {name.decode().lower(): value.decode() for name, value in headers})
        self.sent.append(sent)
        answer = self._answer(sent)
        return await answer if inspect.isawaitable(answer) else answer

    async def aclose(self) -> None:
        self.closed = True


# -- one step further: a double of the STS client itself ------------------------------------------


@dataclass
class FakeSTS:
    """``STSClient`` per its protocol, for the verifier's tests: answers ``identity`` or raises
    ``error``, once ``gate`` is set if one is given (to hold calls in flight). ``calls`` records the
    access key id of each request (not the request: the cache's tests check nothing holds it),
    ``closed`` whether it was closed."""

    identity: Identity = field(default_factory=user_identity)
    error: Exception | None = None
    gate: asyncio.Event | None = None
    calls: list[str] = field(default_factory=list)
    closed: bool = False

    async def get_caller_identity(self, request: PresignedRequest) -> Identity:
        self.calls.append(request.access_key_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.identity

    async def aclose(self) -> None:
        self.closed = True
