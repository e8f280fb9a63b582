"""How the webhook's STS client honours proxies from the environment (Go's ProxyFromEnvironment).

Without ``endpoint_override`` or an injected transport, ``STSClient`` reads ``HTTPS_PROXY`` /
``https_proxy`` once; hosts that ``NO_PROXY`` does not exclude are reached through an HTTP
CONNECT tunnel (the same transport, its connections opened through the proxy), the rest directly.
The real STS hosts are unreachable here, so a local CONNECT proxy records each tunnel it is asked
for and, instead of dialing that host, tunnels to a local HTTPS peer holding a trustme certificate
for the STS names; the client trusts that CA through ``SSL_CERT_FILE``, so TLS (SNI and
verification) really runs against the STS host name end to end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from authenticator.demo._tls import serving
from authenticator.identity import Identity
from authenticator.partitions import get_partition
from authenticator.sts import STSClient
from authenticator.token import PresignedRequest, RejectionKind, TokenRejected, parse_token
from tests.support import tokens as tc
from tests.support.sts import PROXY_ENV_VARS, RecordingTransport, Seen, identity_document, recording_handler

AWS = get_partition("aws")
NOW = tc.FIXED_NOW
CLUSTER = "proxy-cluster"
ACCOUNT = "123456789012"
EAST = "sts.us-east-1.amazonaws.com"
WEST = "sts.eu-west-1.amazonaws.com"
_ENV_VARS = (*PROXY_ENV_VARS, "SSL_CERT_FILE", "SSL_CERT_DIR")
_HEAD_LIMIT = 64 * 1024


def _request(host: str = EAST, region: str = "us-east-1") -> PresignedRequest:
    return parse_token(tc.mint(NOW, host=host, region=region), now=NOW, partition=AWS)


def _path_and_query(request: PresignedRequest) -> str:
    prefix = f"https://{request.host}"
    assert request.url.startswith(prefix + "/?")
    return request.url[len(prefix) :]


def _identity_body() -> bytes:
    return json.dumps(identity_document(f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/s1", "AROAXYZ:s1", ACCOUNT)).encode()


# The HTTPS peer standing in for STS.


@dataclass
class _Peer:
    port: int
    ca_path: str
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path+query, lower-cased headers)
    sni: list[str | None] = field(default_factory=list)  # server names the TLS handshakes asked for
    proxy_tls: ssl.SSLContext | None = None  # the same certificate, for a proxy spoken to over TLS


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[_Peer]:
    ca = trustme.CA()
    # The STS names for the tunnelled calls; 127.0.0.1 for the endpoint_override call.
    cert = ca.issue_cert(EAST, WEST, "127.0.0.1")
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    seen: Seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), recording_handler(seen, _identity_body()))
    proxy_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(proxy_tls)
    state = _Peer(port=server.server_address[1], ca_path=str(ca_path), seen=seen, proxy_tls=proxy_tls)

    def record_sni(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        state.sni.append(name)

    context.sni_callback = record_sni
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield state


# The CONNECT proxy: records every request head, and tunnels every CONNECT to the peer.


class _ConnectProxy(socketserver.ThreadingTCPServer):
    daemon_threads = False
    block_on_close = True  # server_close joins the tunnel threads, which end on `stop`

    def __init__(self, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _TunnelHandler)
        self.upstream_port = upstream_port
        self.heads: list[bytes] = []  # every request head, raw
        self.stop = threading.Event()
        self.refusal: bytes | None = None  # when set, the answer to every CONNECT

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        """``METHOD target`` of every request head the proxy received."""
        return [" ".join(head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]) for head in self.heads]


def _read_head(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """The request head up to the blank line, and any bytes already read after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > _HEAD_LIMIT:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pump(client: socket.socket, upstream: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes (or the test ends)."""
    other = {client: upstream, upstream: client}
    while not stop.is_set():
        readable, _, _ = select.select(list(other), [], [], 0.1)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            other[sock].sendall(data)


class _TunnelHandler(socketserver.BaseRequestHandler):
    server: _ConnectProxy

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(10)
        read = _read_head(client)
        if read is None:
            return
        head, rest = read
        self.server.heads.append(head)
        if not head.startswith(b"CONNECT "):
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if self.server.refusal is not None:
            client.sendall(self.server.refusal)
            return
        # Whatever host the client asked for, the tunnel leads to the local peer.
        with socket.create_connection(("127.0.0.1", self.server.upstream_port), timeout=10) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _pump(client, upstream, self.server.stop)


@pytest.fixture
def proxy(peer: _Peer) -> Iterator[_ConnectProxy]:
    with serving(_ConnectProxy(peer.port)) as server:
        try:
            yield server
        finally:
            server.stop.set()  # tunnels still pumping end too


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, peer: _Peer) -> pytest.MonkeyPatch:
    """A clean proxy environment in which the client trusts the peer's CA by ``SSL_CERT_FILE``."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", peer.ca_path)
    return monkeypatch


def _calls(requests: list[PresignedRequest], **client_kwargs: Any) -> list[Identity | TokenRejected]:
    """Each request through one client, in order; a rejection is returned, not raised."""

    async def go() -> list[Identity | TokenRejected]:
        results: list[Identity | TokenRejected] = []
        async with STSClient(cluster_id=CLUSTER, timeout=10.0, **client_kwargs) as client:
            for request in requests:
                try:
                    results.append(await client.get_caller_identity(request))
                except TokenRejected as exc:
                    results.append(exc)
        return results

    return asyncio.run(go())


def _identity(result: Identity | TokenRejected) -> Identity:
    assert isinstance(result, Identity), result
    return result


def _rejection(result: Identity | TokenRejected) -> TokenRejected:
    assert isinstance(result, TokenRejected), result
    return result


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy"])
def test_https_proxy_tunnels_to_the_sts_host(
    variable: str, env: pytest.MonkeyPatch, proxy: _ConnectProxy, peer: _Peer, caplog: pytest.LogCaptureFixture
) -> None:
    env.setenv(variable, proxy.url)
    request = _request()
    with caplog.at_level(logging.DEBUG):
        (result,) = _calls([request])
    identity = _identity(result)
    assert identity.canonical_arn == f"arn:aws:iam::{ACCOUNT}:role/dev"
    assert identity.sts_endpoint == EAST
    assert proxy.requests == [f"CONNECT {EAST}:443"]
    assert b"amz" not in proxy.heads[0].lower()  # the proxy learns the host, never the presigned query
    assert peer.sni == [EAST]  # TLS inside the tunnel is with the STS host, verified by its name
    ((path, headers),) = peer.seen
    assert path == _path_and_query(request)  # byte for byte
    assert headers["host"] == EAST
    assert headers["x-k8s-aws-id"] == CLUSTER
    # Nothing logged at DEBUG carries the presigned URL.
    assert "X-Amz-Signature" not in caplog.text
    assert request.url.rsplit("=", 1)[1] not in caplog.text


def test_one_tunnel_is_kept_alive_across_calls(env: pytest.MonkeyPatch, proxy: _ConnectProxy, peer: _Peer) -> None:
    env.setenv("HTTPS_PROXY", proxy.url)
    results = _calls([_request(), _request(), _request()])
    assert all(isinstance(result, Identity) for result in results), results
    assert proxy.requests == [f"CONNECT {EAST}:443"]
    assert len(peer.seen) == 3
    assert len({headers["client-port"] for _, headers in peer.seen}) == 1


@pytest.mark.parametrize(
    "no_proxy", [EAST, ".amazonaws.com", "amazonaws.com", "example.com, sts.us-east-1.amazonaws.com", "*"]
)
def test_no_proxy_host_goes_direct(no_proxy: str, env: pytest.MonkeyPatch, proxy: _ConnectProxy) -> None:
    env.setenv("HTTPS_PROXY", proxy.url)
    env.setenv("NO_PROXY", no_proxy)
    (result,) = _calls([_request()])
    # Direct means the real STS host, which cannot be reached from here.
    rejection = _rejection(result)
    assert rejection.kind is RejectionKind.STS_ERROR
    assert rejection.reason.startswith("error during GET"), rejection.reason
    assert proxy.heads == []


def test_no_proxy_is_decided_per_host(env: pytest.MonkeyPatch, proxy: _ConnectProxy, peer: _Peer) -> None:
    env.setenv("HTTPS_PROXY", proxy.url)
    env.setenv("no_proxy", EAST)
    west, east = _calls([_request(WEST, "eu-west-1"), _request(EAST, "us-east-1")])
    assert _identity(west).sts_endpoint == WEST
    assert _rejection(east).reason.startswith("error during GET")
    assert proxy.requests == [f"CONNECT {WEST}:443"]
    assert [headers["host"] for _, headers in peer.seen] == [WEST]


def test_http_proxy_alone_is_not_used_for_sts(env: pytest.MonkeyPatch, proxy: _ConnectProxy) -> None:
    # STS is https; as in Go, only HTTPS_PROXY applies to it.
    env.setenv("HTTP_PROXY", proxy.url)
    env.setenv("ALL_PROXY", proxy.url)
    (result,) = _calls([_request()])
    assert _rejection(result).reason.startswith("error during GET")
    assert proxy.heads == []


def test_proxy_without_a_scheme_is_http(env: pytest.MonkeyPatch, proxy: _ConnectProxy) -> None:
    # Go's ProxyFromEnvironment (and httpx's own trust_env) read a bare host:port as http://host:port.
    env.setenv("HTTPS_PROXY", proxy.url.removeprefix("http://"))
    (result,) = _calls([_request()])
    assert _identity(result).sts_endpoint == EAST
    assert proxy.requests == [f"CONNECT {EAST}:443"]


def test_endpoint_override_ignores_the_proxy(env: pytest.MonkeyPatch, proxy: _ConnectProxy, peer: _Peer) -> None:
    env.setenv("HTTPS_PROXY", proxy.url)
    env.delenv("SSL_CERT_FILE")  # the override is trusted through ca_bundle alone
    request = _request()
    (result,) = _calls([request], endpoint_override=f"https://127.0.0.1:{peer.port}", ca_bundle=peer.ca_path)
    assert _identity(result).sts_endpoint == EAST
    assert proxy.heads == []
    ((path, headers),) = peer.seen
    assert path == _path_and_query(request)
    assert headers["host"] == EAST
    assert peer.sni == [None]  # TLS with the override's address, which carries no server name


def test_injected_transport_ignores_the_proxy(env: pytest.MonkeyPatch, proxy: _ConnectProxy) -> None:
    env.setenv("HTTPS_PROXY", proxy.url)
    sts = RecordingTransport.always(200, _identity_body())

    (result,) = _calls([_request()], transport=sts)
    assert _identity(result).sts_endpoint == EAST
    assert [sent.host for sent in sts.sent] == [EAST]
    assert proxy.heads == []


def test_proxy_credentials_go_to_the_proxy_only(env: pytest.MonkeyPatch, proxy: _ConnectProxy, peer: _Peer) -> None:
    # As Go and httpx: user:password in the proxy URL (percent-decoded) become Basic credentials.
    env.setenv("HTTPS_PROXY", proxy.url.replace("http://", "http://bob:p%40ss@"))
    (result,) = _calls([_request()])
    assert _identity(result).sts_endpoint == EAST
    (head,) = proxy.heads
    assert b"\r\nProxy-Authorization: Basic Ym9iOnBAc3M=" in head  # base64 of "bob:p@ss"
    ((_, headers),) = peer.seen
    assert "proxy-authorization" not in headers


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        b"SSH-2.0-not-a-proxy\r\n\r\n",
        b"",  # closed without a word
    ],
    ids=["407", "403", "not-http", "closed"],
)
def test_a_refused_tunnel_is_an_sts_error(env: pytest.MonkeyPatch, proxy: _ConnectProxy, answer: bytes) -> None:
    env.setenv("HTTPS_PROXY", proxy.url)
    proxy.refusal = answer
    (result,) = _calls([_request()])
    rejection = _rejection(result)
    assert rejection.kind is RejectionKind.STS_ERROR
    assert rejection.reason.startswith("error during GET: ProxyError"), rejection.reason
    assert proxy.requests == [f"CONNECT {EAST}:443"]


def test_an_https_proxy_is_spoken_to_over_tls(env: pytest.MonkeyPatch, peer: _Peer) -> None:
    # TLS with the proxy, and inside that tunnel TLS with the STS host (as Go and httpx do).
    server = _ConnectProxy(peer.port)
    assert peer.proxy_tls is not None
    server.socket = peer.proxy_tls.wrap_socket(server.socket, server_side=True)
    with serving(server):
        try:
            env.setenv("HTTPS_PROXY", server.url.replace("http://", "https://"))
            results = _calls([_request(), _request()])
        finally:
            server.stop.set()
    assert all(isinstance(result, Identity) for result in results), results
    assert server.requests == [f"CONNECT {EAST}:443"]
    assert peer.sni == [EAST]
