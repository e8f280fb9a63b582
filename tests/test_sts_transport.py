"""``KeepAliveTransport`` (authenticator/sts_transport.py) against a real local HTTP/1.1 peer.

The peer is a raw-socket server (one thread per connection, TLS from a throw-away trustme CA)
that counts the connections it accepts, records every request head it reads, and answers each
request the way the test scripted: normally, chunked, ``Connection: close``, HTTP/1.0 ended by
close, too large, garbage, not at all, after a ``100 Continue``, or never. Counting accepts is
how the tests see whether the transport reused a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import ssl
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, SupportsIndex, TypeVar

import httpx
import pytest
import trustme

from authenticator.sts_transport import MAX_HEAD_BYTES, MAX_HEADERS, KeepAliveTransport, origin_of

HOST = "sts.us-east-1.amazonaws.com"
WAIT = 10.0  # the bound on every wait for the peer; never reached when things work

T = TypeVar("T")

# -- the peer ------------------------------------------------------------------------------------

# An action answers one request on a connection; it returns False when the connection is over.
Action = Callable[["_Conn", bytes], bool]


@dataclass
class _Conn:
    index: int
    sock: socket.socket
    peer: Peer


@dataclass
class Peer:
    url: str
    ca_path: str | None
    script: deque[Action] = field(default_factory=deque)
    accepts: int = 0
    requests: list[tuple[int, bytes]] = field(default_factory=list)  # (connection index, request head)
    client_closed: set[int] = field(default_factory=set)  # connections the client ended (EOF/reset)
    server_closed: set[int] = field(default_factory=set)  # connections this peer ended
    handshake_failures: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)
    sockets: list[socket.socket] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def then(self, *actions: Action) -> None:
        """Answer the next requests with ``actions`` in order; any further request gets ``ok()``."""
        with self.cond:
            self.script.extend(actions)

    def wait_for(self, predicate: Callable[[], bool]) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout=WAIT), "the peer never reached the expected state"

    async def until(self, predicate: Callable[[], bool]) -> None:
        await asyncio.to_thread(self.wait_for, predicate)

    def _note(self, update: Callable[[], None]) -> None:
        with self.cond:
            update()
            self.cond.notify_all()


def _serve_connection(peer: Peer, context: ssl.SSLContext | None, raw: socket.socket, index: int) -> None:
    sock = raw
    sock.settimeout(WAIT)
    try:
        if context is not None:
            sock = context.wrap_socket(raw, server_side=True)  # the handshake happens here
    except (OSError, ssl.SSLError):
        raw.close()
        peer._note(lambda: setattr(peer, "handshake_failures", peer.handshake_failures + 1))
        return
    with peer.cond:
        peer.sockets.append(sock)
    conn = _Conn(index, sock, peer)
    buffer = b""
    try:
        while True:
            while b"\r\n\r\n" not in buffer:
                try:
                    data = sock.recv(65536)
                except (OSError, ssl.SSLError):
                    data = b""
                if not data:
                    peer._note(lambda: peer.client_closed.add(index))
                    sock.close()  # as a server does: the client's TLS shutdown then completes
                    return
                buffer += data
            head, buffer = buffer.split(b"\r\n\r\n", 1)  # GETs only: no request body
            with peer.cond:
                peer.requests.append((index, head))
                action = peer.script.popleft() if peer.script else ok()
                peer.cond.notify_all()
            if not action(conn, head):
                _close(conn)
                return
    except (OSError, ssl.SSLError):
        _close(conn)


def _close(conn: _Conn) -> None:
    # A plain close, no TLS close_notify: what a server or middlebox dropping a connection does.
    with contextlib.suppress(OSError):
        conn.sock.shutdown(socket.SHUT_RDWR)
    conn.sock.close()
    conn.peer._note(lambda: conn.peer.server_closed.add(conn.index))


def _start(tmp_path: Path, *, tls: bool) -> tuple[Peer, Callable[[], None]]:
    context: ssl.SSLContext | None = None
    ca_path: str | None = None
    if tls:
        ca = trustme.CA()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        ca_path = str(tmp_path / "ca.pem")
        ca.cert_pem.write_to_path(ca_path)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    peer = Peer(url=f"{'https' if tls else 'http'}://127.0.0.1:{port}", ca_path=ca_path)
    threads: list[threading.Thread] = []

    def accept_loop() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            if peer.stopping.is_set():
                raw.close()
                return
            with peer.cond:
                index = peer.accepts
                peer.accepts += 1
                peer.cond.notify_all()
            thread = threading.Thread(target=_serve_connection, args=(peer, context, raw, index), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()

    def stop() -> None:
        peer.stopping.set()
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT):
            pass  # wakes the blocked accept()
        acceptor.join(timeout=WAIT)
        listener.close()
        with peer.cond:
            sockets = list(peer.sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=WAIT)
        for sock in sockets:
            sock.close()

    return peer, stop


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    server, stop = _start(tmp_path, tls=True)
    try:
        yield server
    finally:
        stop()


@pytest.fixture
def plain_peer(tmp_path: Path) -> Iterator[Peer]:
    server, stop = _start(tmp_path, tls=False)
    try:
        yield server
    finally:
        stop()


# -- scripted answers ----------------------------------------------------------------------------


def _send(conn: _Conn, data: bytes) -> None:
    conn.sock.sendall(data)


def ok(body: bytes = b"ok", *, status: bytes = b"200 OK") -> Action:
    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
        return True

    return act


def in_pieces(body: bytes, piece: int) -> Action:
    """Content-Length framing, the body written in many small sends."""

    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        for start in range(0, len(body), piece):
            _send(conn, body[start : start + piece])
        return True

    return act


def chunked(*parts: bytes) -> Action:
    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in parts:
            _send(conn, b"%x\r\n%s\r\n" % (len(part), part))
        _send(conn, b"0\r\n\r\n")
        return True

    return act


def connection_close(body: bytes = b"bye") -> Action:
    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        return False

    return act


def http10(body: bytes = b"old style") -> Action:
    """HTTP/1.0 with no Content-Length: the body ends when the peer closes."""

    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body)
        return False

    return act


def garbage(data: bytes = b"SMTP ready, not HTTP\r\n\r\n") -> Action:
    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, data)
        return True

    return act


def drop() -> Action:
    """Read the request, then close without a byte of an answer."""
    return lambda conn, head: False


def ok_then_close_idle() -> Action:
    """Answer keep-alive, then end the connection while the client holds it idle."""

    def act(conn: _Conn, head: bytes) -> bool:
        ok(b"first")(conn, head)
        return False

    return act


def ok_with_unasked(body: bytes, unasked: bytes) -> Action:
    """Answer keep-alive and, in the same send, bytes nobody asked for (a second response)."""

    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s%s" % (len(body), body, unasked))
        return True

    return act


def ok_then_unasked(unasked: bytes, go: threading.Event) -> Action:
    """Answer keep-alive; once the test says the answer arrived, send bytes nobody asked for
    (what a server timing out an idle connection may write: a 408) and keep the connection open."""

    def act(conn: _Conn, head: bytes) -> bool:
        ok(b"first")(conn, head)
        go.wait(timeout=WAIT)
        _send(conn, unasked)
        return True

    return act


def interim(final: bytes = b"final") -> Action:
    def act(conn: _Conn, head: bytes) -> bool:
        _send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(final), final))
        return True

    return act


def interim_then_split_body(first: bytes, rest: bytes, client_returned: threading.Event) -> Action:
    """``100 Continue`` and the final response's head with part of its body in one send; the rest
    of the body after a pause, so the client's first read ends inside the final response's body."""

    def act(conn: _Conn, head: bytes) -> bool:
        whole = first + rest
        _send(
            conn, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(whole), first)
        )
        # No observable event tells the peer the client has read the first part; a short bounded
        # pause (or the test's signal, if the transport already returned) makes the split certain.
        client_returned.wait(timeout=0.3)
        _send(conn, rest)
        return True

    return act


def stall() -> Action:
    """Read the request and never answer; the connection ends when the client closes it."""

    def act(conn: _Conn, head: bytes) -> bool:
        while not conn.peer.stopping.is_set():
            try:
                data = conn.sock.recv(65536)
            except (OSError, ssl.SSLError):
                data = b""
            if not data:
                conn.peer._note(lambda: conn.peer.client_closed.add(conn.index))
                return False  # and the caller closes the socket
        return False

    return act


class _Gate:
    """Holds answers until ``width`` requests wait at once, then lets every request through.

    With a transport bounded at ``width`` connections this opens as soon as the pool is full; a
    transport that allowed fewer requests at once would leave the gate shut until its bound."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.cond = threading.Condition()
        self.waiting = 0
        self.most = 0
        self.open = False

    def ok(self) -> Action:
        def act(conn: _Conn, head: bytes) -> bool:
            with self.cond:
                self.waiting += 1
                self.most = max(self.most, self.waiting)
                if self.waiting >= self.width:
                    self.open = True
                self.cond.notify_all()
                self.cond.wait_for(lambda: self.open, timeout=WAIT)
                self.waiting -= 1
            return ok(b"gated")(conn, head)

        return act


# -- driving the transport -----------------------------------------------------------------------


def _transport(peer: Peer, **kwargs: Any) -> KeepAliveTransport:
    context = ssl.create_default_context(cafile=peer.ca_path) if peer.ca_path else ssl.create_default_context()
    return KeepAliveTransport(ssl_context=context, **kwargs)


@dataclass(frozen=True)
class Got:
    status_code: int
    content: bytes


async def _get(transport: KeepAliveTransport, url: str, host: str = HOST) -> Got:
    """GET ``url`` the way STSClient does: origin, the target byte for byte, and a Host header."""
    parsed = httpx.URL(url)
    return Got(*await transport.get(origin_of(parsed), parsed.raw_path, [(b"Host", host.encode())]))


def _run(peer: Peer, body: Callable[[KeepAliveTransport], Awaitable[T]], **kwargs: Any) -> T:
    async def main() -> T:
        transport = _transport(peer, **kwargs)
        try:
            return await body(transport)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def _contents(peer: Peer, paths: list[str], **kwargs: Any) -> list[bytes]:
    """GET each of ``paths`` in turn on one transport: the bodies."""

    async def body(transport: KeepAliveTransport) -> list[bytes]:
        return [(await _get(transport, f"{peer.url}{path}")).content for path in paths]

    return _run(peer, body, **kwargs)


def _connections(peer: Peer) -> list[int]:
    """The connection each request arrived on, in order."""
    with peer.cond:
        return [index for index, _ in peer.requests]


# -- reuse and the pool's bound ------------------------------------------------------------------


def test_sequential_requests_reuse_one_connection(peer: Peer) -> None:
    peer.then(*(ok(b"answer %d" % n) for n in range(5)))
    assert _contents(peer, [f"/?n={n}" for n in range(5)]) == [b"answer %d" % n for n in range(5)]
    assert peer.accepts == 1
    assert _connections(peer) == [0] * 5


def test_concurrent_requests_open_at_most_max_connections_then_reuse_them(peer: Peer) -> None:
    width = 3
    gate = _Gate(width)
    peer.then(*(gate.ok() for _ in range(10)))

    async def body(transport: KeepAliveTransport) -> list[int]:
        first = await asyncio.gather(*(_get(transport, f"{peer.url}/?a={n}") for n in range(10)))
        assert peer.accepts == width
        second = await asyncio.gather(*(_get(transport, f"{peer.url}/?b={n}") for n in range(10)))
        return [r.status_code for r in first + second]

    assert _run(peer, body, max_connections=width) == [200] * 20
    assert gate.most == width  # the pool filled up to its bound, and never beyond it
    assert peer.accepts == width  # the second ten requests opened nothing
    assert len(peer.requests) == 20
    assert set(_connections(peer)) == set(range(width))


def test_keepalive_expiry_is_honoured(peer: Peer) -> None:
    now = [1000.0]  # the transport's clock, so nothing waits

    async def body(transport: KeepAliveTransport) -> None:
        await _get(transport, f"{peer.url}/1")
        now[0] += 9.9
        await _get(transport, f"{peer.url}/2")  # idle 9.9 s < 10 s: reused
        assert peer.accepts == 1
        now[0] += 10.0
        await _get(transport, f"{peer.url}/3")  # idle 10 s: expired, closed, a new connection
        await peer.until(lambda: 0 in peer.client_closed)

    _run(peer, body, keepalive_expiry=10.0, clock=lambda: now[0])
    assert _connections(peer) == [0, 0, 1]


def test_zero_keepalive_expiry_never_reuses(peer: Peer) -> None:
    async def body(transport: KeepAliveTransport) -> None:
        for _ in range(3):
            assert (await _get(transport, f"{peer.url}/")).status_code == 200

    _run(peer, body, keepalive_expiry=0.0)
    assert _connections(peer) == [0, 1, 2]


# -- reading responses ---------------------------------------------------------------------------


def test_content_length_body_larger_than_one_read_is_read_whole(peer: Peer) -> None:
    big = bytes(range(256)) * 1200  # ~300 KiB: several reads of the transport's 64 KiB
    peer.then(in_pieces(big, 7000), ok(b"next"))

    whole, after = _contents(peer, ["/0", "/1"], max_body_bytes=len(big))
    assert whole == big
    assert after == b"next"
    assert peer.accepts == 1  # the framed body ended cleanly: the connection went back to the pool


def test_chunked_body_is_read_whole_and_the_connection_reused(peer: Peer) -> None:
    parts = [b"<GetCallerIdentityResponse>", b"x" * 70000, b"</GetCallerIdentityResponse>"]
    peer.then(chunked(*parts), ok(b"next"))

    async def body(transport: KeepAliveTransport) -> list[Got]:
        return [await _get(transport, f"{peer.url}/c"), await _get(transport, f"{peer.url}/")]

    first, second = _run(peer, body, max_body_bytes=1 << 20)
    assert first.status_code == 200
    assert first.content == b"".join(parts)
    assert second.content == b"next"
    assert _connections(peer) == [0, 0]


def test_connection_close_answer_is_not_reused(peer: Peer) -> None:
    peer.then(connection_close(b"bye"), ok(b"fresh"))

    assert _contents(peer, ["/", "/"]) == [b"bye", b"fresh"]
    assert _connections(peer) == [0, 1]


def test_http10_body_ended_by_close_is_read_and_not_reused(peer: Peer) -> None:
    peer.then(http10(b"until the end"), ok(b"fresh"))

    async def body(transport: KeepAliveTransport) -> list[Got]:
        return [await _get(transport, f"{peer.url}/"), await _get(transport, f"{peer.url}/")]

    first, second = _run(peer, body)
    assert (first.status_code, first.content) == (200, b"until the end")
    assert second.content == b"fresh"
    assert _connections(peer) == [0, 1]


def test_interim_100_continue_then_the_final_answer(peer: Peer) -> None:
    peer.then(interim(b"final"), ok(b"again"))

    async def body(transport: KeepAliveTransport) -> list[Got]:
        return [await _get(transport, f"{peer.url}/"), await _get(transport, f"{peer.url}/")]

    first, second = _run(peer, body)
    assert (first.status_code, first.content) == (200, b"final")
    assert (second.status_code, second.content) == (200, b"again")
    assert _connections(peer) == [0, 0]


def test_interim_then_a_final_body_split_across_reads_is_read_whole(peer: Peer) -> None:
    returned = threading.Event()
    peer.then(interim_then_split_body(b"hello ", b"world", returned), ok(b"again"))

    async def body(transport: KeepAliveTransport) -> Got:
        first = await _get(transport, f"{peer.url}/")
        returned.set()  # if the transport returned early, let the peer send the rest now
        assert first.content == b"hello world", (
            "after a 1xx, _Answer.complete stays True (on_message_begin does not reset it), so the final "
            "response is returned after its first read, body cut short, and its connection is pooled"
        )
        return await _get(transport, f"{peer.url}/")

    second = _run(peer, body)
    assert (second.status_code, second.content) == (200, b"again")
    assert _connections(peer) == [0, 0]


def test_body_over_the_cap_is_cut_and_its_connection_dropped(peer: Peer) -> None:
    cap = 1000
    # Far more than one 64 KiB read past the cap, so the cut happens before the body could end.
    peer.then(in_pieces(b"z" * (cap + 300_000), 16384), ok(b"fresh"))

    async def body(transport: KeepAliveTransport) -> list[Got]:
        return [await _get(transport, f"{peer.url}/"), await _get(transport, f"{peer.url}/")]

    first, second = _run(peer, body, max_body_bytes=cap)
    assert cap < len(first.content) < cap + 300_000  # the caller sees "too large", not the whole body
    assert second.content == b"fresh"
    assert _connections(peer) == [0, 1]
    peer.wait_for(lambda: 0 in peer.client_closed or 0 in peer.server_closed)


@pytest.mark.parametrize(
    "answer",
    [
        b"SMTP ready, not HTTP\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
    ],
    ids=["not-http", "upgrade"],
)
def test_garbage_is_a_protocol_error_without_retry(peer: Peer, answer: bytes) -> None:
    peer.then(garbage(answer))

    async def body(transport: KeepAliveTransport) -> None:
        with pytest.raises(httpx.RemoteProtocolError):
            await _get(transport, f"{peer.url}/")
        await peer.until(lambda: 0 in peer.client_closed)  # the failed exchange closed its connection

    _run(peer, body)
    assert peer.accepts == 1
    assert len(peer.requests) == 1


def test_garbage_on_a_reused_connection_is_not_retried(peer: Peer) -> None:
    peer.then(ok(), garbage())

    async def body(transport: KeepAliveTransport) -> None:
        await _get(transport, f"{peer.url}/")
        with pytest.raises(httpx.RemoteProtocolError):
            await _get(transport, f"{peer.url}/")  # bytes came back: not a stale connection

    _run(peer, body)
    assert _connections(peer) == [0, 0]


# -- bounds on what is read ----------------------------------------------------------------------


def _headers(count: int) -> bytes:
    return b"".join(b"X-Header-%d: %d\r\n" % (n, n) for n in range(count))


def test_a_head_with_the_most_headers_allowed_is_read(peer: Peer) -> None:
    peer.then(garbage(b"HTTP/1.1 200 OK\r\n%sContent-Length: 2\r\n\r\nok" % _headers(MAX_HEADERS - 1)), ok(b"next"))

    assert _contents(peer, ["/", "/"]) == [b"ok", b"next"]
    assert _connections(peer) == [0, 0]


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\n%sContent-Length: 2\r\n\r\nok" % _headers(MAX_HEADERS),
        b"HTTP/1.1 200 OK\r\nX-Big: %s\r\nContent-Length: 2\r\n\r\nok" % (b"b" * MAX_HEAD_BYTES),
        b"HTTP/1.1 100 Continue\r\n\r\n" * (MAX_HEAD_BYTES // 25 + 1),  # interim answers without end
        # A 20 KB body in one-byte chunks: 100 KB of framing.
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\nz\r\n" * 20_000 + b"0\r\n\r\n",
        # Trailers count with the head's headers.
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n%s\r\n" % _headers(MAX_HEADERS),
    ],
    ids=["too-many-headers", "head-too-large", "endless-interim", "framing-too-large", "too-many-trailers"],
)
def test_a_response_past_a_bound_besides_its_body_is_a_protocol_error(peer: Peer, answer: bytes) -> None:
    peer.then(garbage(answer))

    async def body(transport: KeepAliveTransport) -> None:
        with pytest.raises(httpx.RemoteProtocolError, match="response too large"):
            await _get(transport, f"{peer.url}/")
        await peer.until(lambda: 0 in peer.client_closed)  # and the connection is not kept

    _run(peer, body)
    assert len(peer.requests) == 1  # not retried


def test_a_redirect_is_returned_not_followed(peer: Peer) -> None:
    peer.then(garbage(b"HTTP/1.1 302 Found\r\nLocation: %s/elsewhere\r\nContent-Length: 0\r\n\r\n" % peer.url.encode()))

    async def body(transport: KeepAliveTransport) -> Got:
        return await _get(transport, f"{peer.url}/")

    assert _run(peer, body) == Got(302, b"")
    assert [head.split(b" ")[1] for _, head in peer.requests] == [b"/"]


# -- stale and failed connections ----------------------------------------------------------------


def test_peer_closing_an_idle_connection_does_not_fail_the_next_request(peer: Peer) -> None:
    peer.then(ok_then_close_idle(), ok(b"second"))

    async def body(transport: KeepAliveTransport) -> list[bytes]:
        first = await _get(transport, f"{peer.url}/")
        await peer.until(lambda: 0 in peer.server_closed)
        return [first.content, (await _get(transport, f"{peer.url}/")).content]

    assert _run(peer, body) == [b"first", b"second"]
    assert peer.accepts == 2
    # The second request was answered once, on the new connection: either the transport saw the
    # close before sending, or its write to the dead connection reached nobody and it retried.
    assert _connections(peer) == [0, 1]


def test_unasked_bytes_on_an_idle_connection_are_not_the_next_answer(peer: Peer) -> None:
    go = threading.Event()
    unasked = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    peer.then(ok_then_unasked(unasked, go), ok(b"second"), ok(b"second"))

    async def body(transport: KeepAliveTransport) -> Got:
        await _get(transport, f"{peer.url}/")
        # This test is about what happens once the client has buffered the peer's unasked bytes:
        # the pooled connection's reader says when they arrive (bounded wait, no polling).
        [connection] = transport._idle[("https", "127.0.0.1", int(peer.url.rsplit(":", 1)[1]))]
        arrived = asyncio.Event()
        feed = connection.reader.feed_data

        def feed_and_tell(data: Iterable[SupportsIndex]) -> None:
            feed(data)
            arrived.set()

        # A spy on this one reader: patching the instance's method is the point.
        connection.reader.feed_data = feed_and_tell  # type: ignore[method-assign]
        go.set()
        async with asyncio.timeout(WAIT):
            await arrived.wait()
        return await _get(transport, f"{peer.url}/")

    second = _run(peer, body)
    assert (second.status_code, second.content) == (200, b"second"), (
        "_Connection.reusable() checks reader.at_eof() but not bytes already buffered while idle, so a "
        "pooled connection holding an unasked answer is reused and that answer is taken for the next request's"
    )


@pytest.mark.parametrize(
    "unasked",
    [b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n", b"\x00\xffnot http"],
    ids=["second-response", "garbage"],
)
def test_bytes_after_the_answer_in_the_same_read_neither_replace_it_nor_stay_pooled(peer: Peer, unasked: bytes) -> None:
    peer.then(ok_with_unasked(b"first", unasked), ok(b"second"))

    async def body(transport: KeepAliveTransport) -> list[tuple[int, bytes]]:
        return [((r := await _get(transport, f"{peer.url}/")).status_code, r.content) for _ in range(2)]

    assert _run(peer, body) == [(200, b"first"), (200, b"second")]
    assert _connections(peer) == [0, 1]  # the connection that carried the extra bytes was dropped


def test_no_answer_on_a_reused_connection_is_retried_once_on_a_new_one(peer: Peer) -> None:
    peer.then(ok(b"one"), drop(), ok(b"retried"))

    assert _contents(peer, ["/", "/"]) == [b"one", b"retried"]
    assert _connections(peer) == [0, 0, 1]


def test_no_answer_on_the_retry_either_is_a_protocol_error(peer: Peer) -> None:
    peer.then(ok(), drop(), drop())

    async def body(transport: KeepAliveTransport) -> None:
        await _get(transport, f"{peer.url}/")
        with pytest.raises(httpx.RemoteProtocolError):
            await _get(transport, f"{peer.url}/")

    _run(peer, body)
    assert _connections(peer) == [0, 0, 1]  # exactly one retry


def test_no_answer_on_a_fresh_connection_is_not_retried(peer: Peer) -> None:
    peer.then(drop())

    async def body(transport: KeepAliveTransport) -> None:
        with pytest.raises(httpx.RemoteProtocolError):
            await _get(transport, f"{peer.url}/")

    _run(peer, body)
    assert peer.accepts == 1
    assert _connections(peer) == [0]


def test_cancelled_request_closes_its_connection(peer: Peer) -> None:
    peer.then(ok(b"before"), stall(), ok(b"after"))

    async def body(transport: KeepAliveTransport) -> bytes:
        await _get(transport, f"{peer.url}/")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await _get(transport, f"{peer.url}/")  # on the pooled connection; never answered
        await peer.until(lambda: 0 in peer.client_closed)  # the half-used connection was closed
        return (await _get(transport, f"{peer.url}/")).content

    assert _run(peer, body) == b"after"
    assert _connections(peer) == [0, 0, 1]


# -- connecting ----------------------------------------------------------------------------------


def test_connection_refused_is_a_connect_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]  # bound, then released: nothing listens there

    async def main() -> None:
        transport = KeepAliveTransport(ssl_context=ssl.create_default_context())
        try:
            with pytest.raises(httpx.ConnectError):
                await _get(transport, f"https://127.0.0.1:{port}/")
        finally:
            await transport.aclose()

    asyncio.run(main())


def test_untrusted_certificate_is_a_connect_error(peer: Peer) -> None:
    async def main() -> None:
        transport = KeepAliveTransport(ssl_context=ssl.create_default_context())  # without the test CA
        try:
            with pytest.raises(httpx.ConnectError):
                await _get(transport, f"{peer.url}/")
        finally:
            await transport.aclose()

    asyncio.run(main())
    peer.wait_for(lambda: peer.handshake_failures == 1)
    assert peer.requests == []


def test_unsupported_scheme(peer: Peer) -> None:
    async def body(transport: KeepAliveTransport) -> None:
        with pytest.raises(httpx.UnsupportedProtocol):
            await _get(transport, peer.url.replace("https://", "ftp://") + "/")

    _run(peer, body)
    assert peer.accepts == 0


def test_after_aclose_requests_fail_and_idle_connections_are_closed(peer: Peer) -> None:
    async def main() -> None:
        transport = _transport(peer)
        await _get(transport, f"{peer.url}/")
        await transport.aclose()
        await peer.until(lambda: 0 in peer.client_closed)
        with pytest.raises(httpx.ConnectError):
            await _get(transport, f"{peer.url}/")

    asyncio.run(main())
    assert peer.accepts == 1
    assert len(peer.requests) == 1


def _sockets_to(port: int) -> int:
    """How many of this process's open file descriptors are TCP sockets connected to ``port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port:
            inodes.add(fields[9])
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            link = os.readlink(fd)
            count += link.startswith("socket:[") and link[8:-1] in inodes
    return count


def test_aclose_returns_once_its_connections_are_closed(peer: Peer) -> None:
    port = int(peer.url.rsplit(":", 1)[1])

    async def main() -> int:
        transport = _transport(peer, max_connections=3)
        await asyncio.gather(*(_get(transport, f"{peer.url}/{n}") for n in range(3)))
        assert peer.accepts == 3
        assert _sockets_to(port) == 3
        await transport.aclose()
        return _sockets_to(port)  # no waiting: closed means closed when aclose() returns

    assert asyncio.run(main()) == 0, (
        "aclose() calls writer.close() without awaiting writer.wait_closed(): it returns while the TLS "
        "shutdown still holds the sockets, and if the loop ends then (server shutdown) they are left to the GC"
    )


def test_plain_http(plain_peer: Peer) -> None:
    plain_peer.then(ok(b"one"), ok(b"two"))

    assert _contents(plain_peer, ["/", "/"]) == [b"one", b"two"]
    assert _connections(plain_peer) == [0, 0]


# -- through a CONNECT proxy (the plain peer plays the proxy; tests/test_sts_proxy.py tunnels for real)


def _through_proxy(proxy: Peer, expected: str) -> None:
    """A call through ``proxy``, which answers the CONNECT as scripted: ``ProxyError(expected)``, and
    the proxy's connection closed at once, not left to the garbage collector."""

    async def main() -> None:
        transport = KeepAliveTransport(ssl_context=ssl.create_default_context(), proxy=proxy.url)
        try:
            with pytest.raises(httpx.ProxyError, match=expected) as caught:
                await transport.get(("https", HOST, 443), b"/", [(b"Host", HOST.encode())])
            # While the error (and so its traceback) is still held, as a caller may hold it.
            await proxy.until(lambda: 0 in proxy.client_closed)
            del caught
        finally:
            await transport.aclose()

    asyncio.run(main())
    [(_, head)] = proxy.requests
    assert head.startswith(b"CONNECT %s:443 HTTP/1.1\r\n" % HOST.encode())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", r"refused the tunnel \(407\)"),
        (b"HTTP/1.1 200 Connection established\r\nX-Big: %s\r\n\r\n" % (b"b" * MAX_HEAD_BYTES), "too large"),
        # Headers without end: never more than the bound is buffered.
        (b"HTTP/1.1 200 Connection established\r\n" + b"X-Header: value\r\n" * 10_000, "too large"),
    ],
    ids=["refused", "head-too-large", "head-without-end"],
)
def test_a_proxy_answer_that_is_no_tunnel_is_a_proxy_error_and_closes_it(
    plain_peer: Peer, answer: bytes, expected: str
) -> None:
    plain_peer.then(garbage(answer))
    _through_proxy(plain_peer, expected)


def tunnel_to(upstream: Peer, answer: bytes) -> Action:
    """As a CONNECT proxy: ``answer``, then relay bytes both ways to ``upstream`` until either ends."""

    def act(conn: _Conn, head: bytes) -> bool:
        port = int(upstream.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as far:
            _send(conn, answer)
            ends = [conn.sock, far]
            while not conn.peer.stopping.is_set():
                readable, _, _ = select.select(ends, [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        conn.peer._note(lambda: conn.peer.client_closed.add(conn.index))
                        return False
                    (far if sock is conn.sock else conn.sock).sendall(data)
        return False

    return act


def test_bytes_a_proxy_sends_before_the_tls_are_never_taken_for_the_answer(peer: Peer, plain_peer: Peer) -> None:
    # Plain bytes after the CONNECT answer would sit in the read buffer ahead of everything the TLS
    # connection decrypts: a forged STS answer, whatever the real STS says.
    forged = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged"
    plain_peer.then(tunnel_to(peer, b"HTTP/1.1 200 Connection established\r\n\r\n" + forged))
    origin = ("https", "localhost", int(peer.url.rsplit(":", 1)[1]))
    assert peer.ca_path is not None

    async def main() -> None:
        context = ssl.create_default_context(cafile=peer.ca_path)
        transport = KeepAliveTransport(ssl_context=context, proxy=plain_peer.url)
        try:
            with pytest.raises(httpx.ProxyError, match="more than its answer"):
                await transport.get(origin, b"/", [(b"Host", HOST.encode())])
        finally:
            await transport.aclose()

    asyncio.run(main())
    assert peer.requests == []  # nothing was sent through a tunnel the proxy had written into


# -- the bytes on the wire -----------------------------------------------------------------------


def test_request_line_and_headers_on_the_wire(peer: Peer) -> None:
    raw = (
        "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=AKIA%2F20240101%2Fus-east-1%2Fsts"
        "%2Faws4_request&X-Amz-Security-Token=Fwo%2B%2F%3Dx%25&X-Amz-Signature=0a1b"
    )
    origin = ("https", "127.0.0.1", int(peer.url.rsplit(":", 1)[1]))

    async def body(transport: KeepAliveTransport) -> tuple[int, bytes]:
        return await transport.get(origin, raw.encode(), [(b"Host", HOST.encode()), (b"x-k8s-aws-id", b"cluster-a")])

    assert _run(peer, body) == (200, b"ok")
    [(_, head)] = peer.requests
    assert head == (f"GET {raw} HTTP/1.1\r\nHost: {HOST}\r\nx-k8s-aws-id: cluster-a").encode()
