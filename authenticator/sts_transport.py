"""Keep-alive HTTP/1.1 connections to STS: the one transport ``STSClient`` sends its calls to.

Why our own and not a general client: docs/sts-transport.md (the measurements). In short, a
webhook talks to one or two STS hosts, one GET at a time per connection, so this pool is a stack
of idle connections per origin: take the most recently used one, or open one; put it back when
its response ended cleanly; close it otherwise. Responses are parsed by httptools (llhttp, the
parser uvicorn uses).

The caller's deadline (``asyncio.timeout`` in ``STSClient``) bounds a whole call; a cancelled or
failed exchange closes its connection, so a half-read response never reaches the next request.
A request that fails on a *reused* connection before any byte of an answer is retried once on a
new connection: the peer may have closed an idle connection just as it was taken, and the GET is
idempotent (Go's net/http, the reference's client, does the same).

Every read is bounded: the body by ``max_body_bytes`` (cut there, the connection dropped), and
everything else a response may carry - status lines, headers (at most ``MAX_HEADERS``), interim
1xx responses, chunk framing, trailers - by ``MAX_HEAD_BYTES`` in all, as h11- and
httptools-based servers bound a request's head.

``proxy`` (``http://[user:password@]host:port``): every connection is an HTTP CONNECT tunnel
through it, TLS with the STS host inside the tunnel; the proxy learns the host, never the query,
and can write nothing the client would take for STS's answer (its own answer is read up to its
blank line, 64 KiB at most, and a byte after that is an error).

Errors are httpx's classes (``httpx.HTTPError``): the contract of ``STSTransport``.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final, Protocol
from urllib.parse import unquote, urlsplit

import httptools
import httpx

from authenticator import defaults

__all__ = ["MAX_HEADERS", "MAX_HEAD_BYTES", "KeepAliveTransport", "Origin", "STSTransport", "origin_of"]

MAX_HEAD_BYTES: Final = 64 * 1024  # all of a response but its body
MAX_HEADERS: Final = 100  # in one response head
_READ_SIZE: Final = 64 * 1024
Origin = tuple[str, str, int]  # scheme ("https" or "http"), host, port


class STSTransport(Protocol):
    """The one call ``STSClient`` makes. Errors are httpx's classes (``httpx.HTTPError``)."""

    async def get(self, origin: Origin, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        """GET ``target`` (sent byte for byte) from ``origin``: the final status and the body."""
        ...

    async def aclose(self) -> None: ...


def origin_of(url: httpx.URL) -> Origin:
    return (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))


class _Counting(asyncio.StreamReaderProtocol):
    """Counts the bytes the connection received, so that bytes nobody read can be told apart
    (asyncio's documented way to customise a stream: copy ``open_connection``)."""

    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)


class _Connection:
    __slots__ = ("consumed", "idle_since", "protocol", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: _Counting) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = protocol
        self.consumed = 0  # bytes read from ``reader``
        self.idle_since = 0.0

    async def read(self) -> bytes:
        data = await self.reader.read(_READ_SIZE)
        self.consumed += len(data)
        return data

    def reusable(self, now: float, expiry: float) -> bool:
        # EOF, or bytes received and not read (left after the answer, or arrived while idle: e.g.
        # a 408 before the peer hangs up) mean the connection cannot carry the next exchange:
        # those bytes would be taken for its answer.
        return (
            now - self.idle_since < expiry
            and not self.writer.is_closing()
            and not self.reader.at_eof()
            and self.protocol.received == self.consumed
        )

    def close(self) -> None:
        self.writer.close()


class _NoAnswer(Exception):
    """The connection ended before the first byte of a response (safe to retry on a new one)."""


class _Proxy:
    """Where CONNECT tunnels go, and the credentials they carry."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the proxy must be an http(s) URL with a host")
        self.origin: Origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self.authorization = b""
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.authorization = b"Proxy-Authorization: Basic " + base64.b64encode(pair) + b"\r\n"


class KeepAliveTransport:
    """At most ``max_connections`` requests at once; idle connections kept for ``keepalive_expiry`` s.

    ``max_body_bytes``: a body still going once past this is cut there (its connection closed), so
    the caller sees it is too large without the transport buffering all of it. ``clock`` is
    monotonic seconds, for idle expiry.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int = defaults.STS_MAX_IN_FLIGHT,
        keepalive_expiry: float = 30.0,
        max_body_bytes: int = 64 * 1024,
        proxy: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_connections
        self._expiry = keepalive_expiry
        self._max_body = max_body_bytes
        self._proxy = _Proxy(proxy) if proxy else None
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._closed = False
        self._clock = clock

    async def get(self, origin: Origin, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        """GET ``target`` (sent byte for byte) from ``origin``: the final status and the body."""
        if self._closed:
            raise httpx.ConnectError("the STS connection pool is closed")
        if origin[0] not in ("https", "http"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {origin[0]!r}")
        message = _encode(target, headers)
        async with self._slots:
            connection = self._take_idle(origin)
            if connection is not None:
                try:
                    return await self._exchange(origin, connection, message)
                except _NoAnswer:
                    pass  # a stale keep-alive connection: once more on a fresh one
            connection = await self._connect(origin)
            try:
                return await self._exchange(origin, connection, message)
            except _NoAnswer:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from None

    async def aclose(self) -> None:
        self._closed = True
        closing = [connection for connections in self._idle.values() for connection in connections]
        self._idle.clear()
        for connection in closing:
            connection.close()
        # A TLS close waits for the peer's close_notify; wait briefly so no socket outlives the loop.
        try:
            async with asyncio.timeout(1.0):
                await asyncio.gather(*(c.writer.wait_closed() for c in closing), return_exceptions=True)
        except TimeoutError:
            for connection in closing:
                connection.writer.transport.abort()

    # -- private -------------------------------------------------------------------------------

    def _take_idle(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = self._clock()
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to have timed out
            if connection.reusable(now, self._expiry):
                return connection
            connection.close()
        return None

    def _put_idle(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, deque())
        if self._closed or len(idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = self._clock()
        idle.append(connection)

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        tunnel = self._proxy is not None and scheme == "https"
        try:
            if not tunnel:
                return await self._open(origin)
            assert self._proxy is not None
            connection = await self._open(self._proxy.origin)
            try:
                await _tunnel(connection, self._proxy, host, port)
                await connection.writer.start_tls(self._ssl_context, server_hostname=host)
            except BaseException:
                connection.close()  # now, not whenever the garbage collector gets to it
                raise
            return connection
        except (OSError, ssl.SSLError, UnicodeError) as exc:  # UnicodeError: a host label over 63 bytes
            raise httpx.ConnectError(_describe(exc)) from None

    async def _open(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=_READ_SIZE, loop=loop)
        protocol = _Counting(reader, loop=loop)
        if scheme == "https":
            transport, _ = await loop.create_connection(
                lambda: protocol, host, port, ssl=self._ssl_context, server_hostname=host
            )
        else:
            transport, _ = await loop.create_connection(lambda: protocol, host, port)
        return _Connection(reader, asyncio.StreamWriter(transport, protocol, reader, loop), protocol)

    async def _exchange(self, origin: Origin, connection: _Connection, message: bytes) -> tuple[int, bytes]:
        """One request and its whole response on ``connection``. The connection is pooled again
        only when both ended cleanly, and closed on every other way out (errors, cancellation)."""
        try:
            answer = await _round_trip(connection, message, self._max_body)
        except BaseException:
            connection.close()
            raise
        if answer.complete and answer.keep_alive and not answer.trailing:
            self._put_idle(origin, connection)
        else:
            connection.close()
        return answer.status, bytes(answer.body)


async def _tunnel(connection: _Connection, proxy: _Proxy, host: str, port: int) -> None:
    """Ask ``proxy`` for a tunnel to ``host:port`` (the connection then carries bytes to it)."""
    authority = f"{host}:{port}".encode("ascii")
    connection.writer.write(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (authority, authority, proxy.authorization))
    try:
        head = await connection.reader.readuntil(b"\r\n\r\n")  # at most the reader's limit (64 KiB)
    except asyncio.IncompleteReadError:
        raise httpx.ProxyError("the proxy closed the connection") from None
    except asyncio.LimitOverrunError:
        raise httpx.ProxyError("the proxy's answer is too large") from None
    connection.consumed += len(head)
    parts = head.split(b" ", 2)
    code = parts[1][:3] if len(parts) > 1 and parts[0].startswith(b"HTTP/") else b""
    if not (code.isdigit() and code.startswith(b"2")):
        raise httpx.ProxyError("the proxy refused the tunnel" + (f" ({code.decode()})" if code.isdigit() else ""))
    # Bytes after the answer would stay in the read buffer, ahead of all that TLS decrypts: read as
    # the start of STS's answer, they would let the proxy write it. None may come before the TLS
    # (nothing is delivered between here and start_tls pausing the reads).
    if connection.protocol.received != connection.consumed:
        raise httpx.ProxyError("the proxy sent more than its answer")


def _encode(target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> bytes:
    """The request line and headers of a GET, up to and including the blank line."""
    lines = [b"GET %s HTTP/1.1" % target]
    lines.extend(b"%s: %s" % (name, value) for name, value in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"


class _Answer:
    """What httptools' response parser reports, collected (its callback protocol)."""

    __slots__ = ("body", "complete", "framed", "headers", "headers_done", "keep_alive", "parser", "status", "trailing")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers = 0  # how many the current message has
        self.headers_done = False
        self.status = 0
        self.keep_alive = False
        self.body = bytearray()
        self.complete = False
        self.framed = False  # Content-Length or chunked: the end is known without the peer closing
        self.trailing = False  # bytes came after the final response: nobody asked for them

    def on_message_begin(self) -> None:
        if self.complete and self.status >= 200:
            raise _Trailing  # more after the final answer in the same read must not replace it
        # A new message: after a 1xx, the final response may arrive in the same read.
        self.headers = 0
        self.body.clear()
        self.headers_done = False
        self.complete = False
        self.framed = False

    def on_headers_complete(self) -> None:
        # The parser answers these only while this message is current; it resets once it ends.
        self.headers_done = True
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers += 1
        if self.headers > MAX_HEADERS:
            raise _TooLarge(f"more than {MAX_HEADERS} headers")
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


async def _round_trip(connection: _Connection, message: bytes, max_body: int) -> _Answer:
    """Send ``message``, read one final response (whether the connection may carry another is
    ``complete and keep_alive and not trailing``)."""
    answer = _Answer()
    received = 0
    try:
        connection.writer.write(message)
        await connection.writer.drain()
        while True:
            data = await connection.read()
            if not data:
                if answer.framed or not answer.headers_done:
                    raise _Closed  # before the end that Content-Length or chunking promised
                break  # a body that ends when the peer closes (HTTP/1.0 style): ended now
            received += len(data)
            answer.parser.feed_data(data)
            if received - len(answer.body) > MAX_HEAD_BYTES:
                raise _TooLarge(f"more than {MAX_HEAD_BYTES} bytes besides the body")
            if answer.complete:
                if answer.status >= 200:
                    break
                answer.complete = False  # a 1xx: the final response follows on this connection
            if len(answer.body) > max_body:
                break  # too large: hand over what is here, and the connection is dropped
    except _Closed:
        if not received:
            raise _NoAnswer from None
        raise httpx.RemoteProtocolError("peer closed connection without sending a complete response") from None
    except (ConnectionError, OSError, ssl.SSLError) as exc:
        if not received:
            raise _NoAnswer from None
        raise httpx.ReadError(_describe(exc)) from None
    except _TooLarge as exc:
        raise httpx.RemoteProtocolError(f"response too large: {exc}") from None
    except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:  # an upgrade is not an answer
        if isinstance(exc.__context__, _TooLarge):
            raise httpx.RemoteProtocolError(f"response too large: {exc.__context__}") from None
        # Anything after the whole final answer (another message, garbage) stops the parser: keep
        # the answer, and the connection is not reused.
        if answer.complete and answer.status >= 200:
            answer.trailing = True
        else:
            raise httpx.RemoteProtocolError(f"malformed response: {type(exc).__name__}") from None
    return answer


class _Closed(Exception):
    pass


class _Trailing(Exception):
    """Raised from a parser callback to stop parsing at the end of the final response."""


class _TooLarge(Exception):
    """A response past one of the bounds on what is read besides its body."""


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
