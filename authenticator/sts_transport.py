"""Keep-alive HTTP/1.1 connections to STS: the httpx transport ``STSClient`` sends its calls to.

httpcore's pool rescans every connection for every queued request each time a request starts
or ends, so with a couple of hundred reviews in flight most of an uncached review's CPU went to
pool bookkeeping (performance.md S2). A webhook talks to one or two STS hosts, one GET at a
time per connection, so this pool is a stack of idle connections per origin: take the most
recently used one, or open one; put it back when its response ended cleanly; close it otherwise.

Responses are parsed by httptools (llhttp, the parser uvicorn uses); h11 cost ~50 times as much
CPU per response. The caller's deadline (``asyncio.timeout`` in ``STSClient``) bounds a whole
call; a cancelled or failed exchange closes its connection, so a half-read response never reaches
the next request. A request that fails on a *reused* connection before any byte of an answer is
retried once on a new connection: the peer may have closed an idle connection just as it was
taken, and the GET is idempotent (Go's net/http, the reference's client, does the same).

``get`` is the call ``STSClient`` makes: origin, request target and headers in, status and body
out, with no httpx ``URL``, ``Request`` or ``Response`` built around them (parsing and quoting a
presigned URL alone cost as much as the exchange). ``handle_async_request`` is the same exchange
behind httpx's transport interface, for everything else.

Errors are httpx's own classes, so ``STSClient`` handles this transport and httpx's alike.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final

import httptools
import httpx

__all__ = ["KeepAliveTransport", "Origin", "origin_of"]

_READ_SIZE: Final = 64 * 1024
Origin = tuple[str, str, int]  # scheme ("https" or "http"), host, port


def origin_of(url: httpx.URL) -> Origin:
    return (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def reusable(self, now: float, expiry: float) -> bool:
        # EOF or bytes that arrived while idle (e.g. a 408 before the peer hangs up) mean the
        # connection cannot carry the next exchange: those bytes would be taken for its answer.
        return (
            now - self.idle_since < expiry
            and not self.writer.is_closing()
            and not self.reader.at_eof()
            and not getattr(self.reader, "_buffer", b"")  # StreamReader has no public "bytes pending"
        )

    def close(self) -> None:
        self.writer.close()


class _NoAnswer(Exception):
    """The connection ended before the first byte of a response (safe to retry on a new one)."""


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """At most ``max_connections`` requests at once; idle connections kept for ``keepalive_expiry`` s.

    ``max_body_bytes``: a body still going once past this is cut there (its connection closed), so
    the caller sees it is too large without the transport buffering all of it. ``clock`` is
    monotonic seconds, for idle expiry.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int = 100,
        keepalive_expiry: float = 30.0,
        max_body_bytes: int = 64 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_connections
        self._expiry = keepalive_expiry
        self._max_body = max_body_bytes
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._closed = False
        self._clock = clock

    async def get(self, origin: Origin, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        """GET ``target`` (sent byte for byte) from ``origin``: the final status and the body."""
        answer = await self._send(origin, _encode(b"GET", target, headers))
        return answer.status, bytes(answer.body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = origin_of(url)
        body = request.content  # a GET's is empty; httpx has already framed any other with Content-Length
        message = _encode(request.method.encode("ascii"), url.raw_path, request.headers.raw) + body
        try:
            answer = await self._send(origin, message)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            content=bytes(answer.body),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

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

    async def _send(self, origin: Origin, message: bytes) -> _Answer:
        if self._closed:
            raise httpx.ConnectError("the STS connection pool is closed")
        if origin[0] not in ("https", "http"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {origin[0]!r}")
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
        try:
            if scheme == "https":
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self._ssl_context, server_hostname=host, limit=_READ_SIZE
                )
            else:
                reader, writer = await asyncio.open_connection(host, port, limit=_READ_SIZE)
        except (OSError, ssl.SSLError, UnicodeError) as exc:  # UnicodeError: a host label over 63 bytes
            raise httpx.ConnectError(_describe(exc)) from None
        return _Connection(reader, writer)

    async def _exchange(self, origin: Origin, connection: _Connection, message: bytes) -> _Answer:
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
        return answer


def _encode(method: bytes, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> bytes:
    """The request line and headers, up to and including the blank line."""
    lines = [b"%s %s HTTP/1.1" % (method, target)]
    lines.extend(b"%s: %s" % (name, value) for name, value in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"


class _Answer:
    """What httptools' response parser reports, collected (its callback protocol)."""

    __slots__ = (
        "body",
        "complete",
        "framed",
        "headers",
        "headers_done",
        "keep_alive",
        "parser",
        "status",
        "trailing",
    )

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
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
        self.headers.clear()
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
        self.headers.append((name, value))
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
    received = False
    try:
        connection.writer.write(message)
        await connection.writer.drain()
        while True:
            data = await connection.reader.read(_READ_SIZE)
            if not data:
                if answer.framed or not answer.headers_done:
                    raise _Closed  # before the end that Content-Length or chunking promised
                break  # a body that ends when the peer closes (HTTP/1.0 style): ended now
            received = True
            answer.parser.feed_data(data)
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
    except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:  # an upgrade is not an answer
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


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
