"""The STS transports the bench can put behind ``STSClient``'s one seam (``STSTransport.get``), so
that S1/S2 compare them on the same server (docs/sts-transport.md): ``--sts-client NAME``.

``ours`` is what the server builds by itself; the others are the well-kept clients it was measured
against. aiohttp is not a dependency of the project: ``aiohttp`` needs it installed.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence

import httpcore
import httpx

from authenticator.server.config import ServerConfig
from authenticator.sts import MAX_RESPONSE_BYTES
from authenticator.sts_transport import KeepAliveTransport, Origin, STSTransport
from tests.support.sts_standin import spawn


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


# httpcore raises its own classes; STSClient handles httpx's, whose names are the same.
_HTTPCORE_ERRORS = (
    httpcore.ConnectionNotAvailable,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
)


class HttpcoreTransport:
    """``STSTransport`` on httpcore's connection pool, optionally through an HTTP(S) proxy."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int = 100,
        keepalive_expiry: float = 30.0,
        max_body_bytes: int = 64 * 1024,
        proxy: str | None = None,
    ) -> None:
        self._max_body = max_body_bytes
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            proxy=httpcore.Proxy(proxy) if proxy else None,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
        )

    async def get(self, origin: Origin, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        scheme, host, port = origin
        if scheme not in ("https", "http"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}")
        url = httpcore.URL(scheme=scheme, host=host, port=port, target=target)
        try:
            async with self._pool.stream("GET", url, headers=list(headers)) as response:
                body = bytearray()
                async for chunk in response.aiter_stream():
                    body += chunk
                    if len(body) > self._max_body:
                        break  # too large: the rest is not read, and the connection is dropped
                return response.status, bytes(body)
        except _HTTPCORE_ERRORS as exc:
            raise getattr(httpx, type(exc).__name__, httpx.TransportError)(_describe(exc)) from None

    async def aclose(self) -> None:
        await self._pool.aclose()


class AiohttpTransport:
    """``STSTransport`` on an aiohttp session (its own pool and llhttp parser)."""

    def __init__(self, *, ssl_context: ssl.SSLContext, max_connections: int, max_body_bytes: int) -> None:
        self._ssl = ssl_context
        self._limit = max_connections
        self._max_body = max_body_bytes
        self._session: object | None = None  # made in the running loop, on the first call

    async def get(self, origin: Origin, target: bytes, headers: Sequence[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        import aiohttp
        import yarl

        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self._ssl, limit=self._limit, keepalive_timeout=30.0)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("Accept-Encoding", "User-Agent")
            )
        session: aiohttp.ClientSession = self._session  # type: ignore[assignment]
        scheme, host, port = origin
        url = yarl.URL(f"{scheme}://{host}:{port}{target.decode('ascii')}", encoded=True)
        fields = [(name.decode("ascii"), value.decode("ascii")) for name, value in headers]
        async with session.get(url, headers=fields, allow_redirects=False) as response:
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > self._max_body:
                    break
            return response.status, bytes(body)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()  # type: ignore[attr-defined]


# Each takes the SSL context that trusts STS and the bound on connections (stsMaxInFlight).
CLIENTS: dict[str, Callable[..., STSTransport]] = {
    "ours": KeepAliveTransport,
    "httpcore": HttpcoreTransport,
    "aiohttp": AiohttpTransport,
}


def make(name: str, context: ssl.SSLContext, max_connections: int) -> STSTransport:
    """The transport ``name``, bounded as the server bounds its own."""
    return CLIENTS[name](ssl_context=context, max_connections=max_connections, max_body_bytes=MAX_RESPONSE_BYTES)


def for_server(name: str, config: ServerConfig) -> STSTransport | None:
    """The transport ``name`` for the bench server of ``config``; None for ours (the server's own)."""
    if name == "ours":
        return None
    return make(name, ssl.create_default_context(cafile=config.sts_ca_bundle or None), config.sts_max_in_flight)


# -- the transport alone: CPU per STS call -------------------------------------------------------


async def _calls(transport: STSTransport, origin: Origin, count: int, concurrency: int) -> tuple[float, float]:
    """``count`` GetCallerIdentity GETs, ``concurrency`` at a time: (CPU seconds, wall seconds)."""
    target = b"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Signature=" + b"0" * 1200
    headers = [(b"Host", b"sts.us-east-1.amazonaws.com"), (b"x-k8s-aws-id", b"bench"), (b"Accept", b"application/json")]
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            status, _ = await transport.get(origin, target, headers)
            if status != 200:
                raise SystemExit(f"the stand-in answered {status}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.process_time() - cpu, time.perf_counter() - wall


def _round(name: str, origin: Origin, ca: str, count: int, concurrency: int) -> tuple[float, float]:
    async def measure() -> tuple[float, float]:
        transport = make(name, ssl.create_default_context(cafile=ca), concurrency)
        try:
            await _calls(transport, origin, concurrency * 2, concurrency)  # warm-up: the pool is full
            return await _calls(transport, origin, count, concurrency)
        finally:
            await transport.aclose()

    return _run(measure())


def _run(coroutine: Awaitable[tuple[float, float]]) -> tuple[float, float]:
    try:
        import uvloop  # the server's loop, as uvicorn picks it
    except ImportError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    return uvloop.run(coroutine)  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description="CPU per STS call of each transport, against the STS stand-in")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay", type=float, default=0.020)
    parser.add_argument("clients", nargs="*", default=["ours", "aiohttp", "httpcore"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sts-") as work:
        standin, url, ca = spawn(work, delay=args.delay)
        try:
            origin: Origin = ("https", "127.0.0.1", int(url.rsplit(":", 1)[1]))
            cpu: dict[str, list[float]] = {name: [] for name in args.clients}
            wall: dict[str, list[float]] = {name: [] for name in args.clients}
            for n in range(args.rounds):
                # Alternate the order: on a shared machine the load drifts between rounds.
                for name in args.clients if n % 2 == 0 else reversed(args.clients):
                    used, took = _round(name, origin, ca, args.calls, args.concurrency)
                    cpu[name].append(used / args.calls * 1e6)
                    wall[name].append(args.calls / took)
        finally:
            assert standin.stdin is not None
            standin.stdin.close()
            standin.wait(timeout=60)
    base = args.clients[0]
    print(
        f"{'client':<10} {'CPU/call':>10} {'vs ' + base:>12} {'calls/s':>9}   ({args.rounds} rounds, median; "
        f"{args.calls} calls, {args.concurrency} at once, stand-in {args.delay * 1e3:.0f} ms)"
    )
    for name in args.clients:
        ratios = [c / b for c, b in zip(cpu[name], cpu[base], strict=True)]
        print(
            f"{name:<10} {statistics.median(cpu[name]):>8.0f}us {statistics.median(ratios):>11.2f}x "
            f"{statistics.median(wall[name]):>9.0f}   (ratios {min(ratios):.2f}-{max(ratios):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
