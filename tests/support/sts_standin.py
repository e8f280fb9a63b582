"""A minimal HTTPS STS stand-in that answers GetCallerIdentity after a set delay, or misbehaves.

Not moto (the demo's ``StsPeer``, which checks signatures as STS does): it checks no signature, so
it answers thousands of requests per second (the benchmarks need that, docs/performance.md) and it
can fail in the ways a network does, which moto cannot:

    ok        200 GetCallerIdentity JSON after ``delay`` seconds: a fixed IAM user, or, when
              ``identities`` is given, the identity of the access key id in ``X-Amz-Credential``
              (403 InvalidClientTokenId for a key it does not know)
    stall     reads the request, never answers
    reset     reads the request, closes the connection with a TCP reset
    drip      200 headers at once, then the body one byte every ``drip_interval`` seconds
    garbage   bytes that are not HTTP, then close
    xml       200 with an XML body (not the JSON we ask for)
    503       503 Service Unavailable
    throttle  400 with an STS Throttling error body

Keep-alive HTTP/1.1 on 127.0.0.1 port 0, in its own event loop on a thread (``with StsStandIn(...)``)
or as a process (``spawn``): ``python -m tests.support.sts_standin --delay 0.02 --dir DIR`` prints
``URL CA-PATH`` on stdout.

For the load benchmarks (docs/performance.md S2, S2b): ``delay_max`` draws each answer's delay
uniformly from ``delay``..``delay_max``; ``throttle_rate`` makes it throttle as STS does, an ok
answer only while fewer than that many were given in the last second, else the Throttling error
(``throttled`` counts them); ``in_flight_max`` is the most GetCallerIdentity calls it held at once
(read, not yet answered), measured here so that no client can misreport it. ``GET /_stats`` answers
all counters as JSON and ``GET /_reset`` zeroes ``in_flight_max`` and ``throttled`` (both uncounted).
With ``identities``, ``seen`` records each GetCallerIdentity's ``Host`` and ``x-k8s-aws-id``
headers (``host``, ``cluster``). ``calls`` counts requests read (``GET /_calls`` answers it,
uncounted), ``connections`` the connections accepted (``GET /_connections``, each probe's own
included); ``mode`` and ``delay`` may be changed while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.support.sts import identity_document

MODES = ("ok", "stall", "reset", "drip", "garbage", "xml", "503", "throttle")
ACCOUNT = "111122223333"
ARN = f"arn:aws:iam::{ACCOUNT}:user/bench"
USER_ID = "AIDAEXAMPLEBENCH00001"


def _identity_body(account: str, arn: str, user_id: str) -> bytes:
    return json.dumps(identity_document(arn, user_id, account)).encode()


_OK_BODY = _identity_body(ACCOUNT, ARN, USER_ID)
_UNKNOWN_KEY_BODY = json.dumps({"Error": {"Code": "InvalidClientTokenId"}}).encode()
_THROTTLE_BODY = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded</Message></Error></ErrorResponse>"
)


def _response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


class StsStandIn:
    def __init__(
        self,
        directory: Path,
        identities: Mapping[str, tuple[str, str, str]] | None = None,
        *,
        delay: float = 0.0,
        mode: str = "ok",
        drip_interval: float = 0.3,
        delay_max: float | None = None,
        throttle_rate: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from authenticator.server.tls import generate_certificate

        self.identities = identities  # access key id -> (account, arn, user id); None: everyone is ARN
        self.seen: list[dict[str, str]] = []
        self.mode = mode
        self.delay = delay
        self.delay_max = delay_max
        self.drip_interval = drip_interval
        self.throttle_rate = throttle_rate
        self._clock = clock  # seconds, for throttle_rate's one-second window
        self.calls = 0
        self.connections = 0
        self.in_flight = 0
        self.in_flight_max = 0
        self.throttled = 0
        self._answered: collections.deque[float] = collections.deque()  # ok answers in the last second
        self._random = random.Random(18)
        self._called = threading.Condition()
        self._released = threading.Event()  # cleared by hold(): ok answers wait for release()
        self._released.set()
        cert, key = generate_certificate("localhost", "127.0.0.1")
        self.ca_path = directory / "sts-standin.pem"
        self.ca_path.write_bytes(cert)
        key_path = directory / "sts-standin.key"
        key_path.write_bytes(key)
        key_path.chmod(0o600)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(str(self.ca_path), str(key_path))
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> StsStandIn:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=30)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context, backlog=2048)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"https://127.0.0.1:{port}"

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def wait_for_calls(self, predicate: Callable[[int], bool], what: str, bound: float = 30.0) -> None:
        """Block until ``predicate(calls)`` holds, woken by each call; fail after ``bound`` seconds."""
        with self._called:
            if not self._called.wait_for(lambda: predicate(self.calls), bound):
                raise AssertionError(f"{what}: not within {bound}s ({self.calls} calls)")

    def hold(self) -> None:
        """From now on, ok answers wait (up to 30 s) until ``release()``."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> StsStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError):
                    return
                probe = self._probe(head)
                if probe is not None:  # the benchmarks' probes
                    writer.write(_response("200 OK", probe.encode(), "text/plain"))
                    await writer.drain()
                    continue
                with self._called:
                    self.calls += 1
                    if self.identities is not None:  # not under a benchmark's load
                        self.seen.append(_headers_seen(head))
                    self._called.notify_all()
                self.in_flight += 1
                self.in_flight_max = max(self.in_flight_max, self.in_flight)
                try:
                    if not await self._answer(writer, head):
                        return
                finally:
                    self.in_flight -= 1
        except (ConnectionError, ssl.SSLError, OSError):
            return
        finally:
            if not writer.transport.is_closing():
                writer.transport.abort() if self.mode == "reset" else writer.close()

    def _probe(self, head: bytes) -> str | None:
        """The answer to a probe (``GET /_calls``, ``/_connections``, ``/_stats``, ``/_reset``), or
        None for a request to answer as STS."""
        if not head.startswith(b"GET /_"):
            return None
        path = head.split(b" ", 2)[1]
        if path == b"/_reset":
            self.in_flight_max, self.throttled = self.in_flight, 0
        stats = {
            "calls": self.calls,
            "connections": self.connections,
            "in_flight_max": self.in_flight_max,
            "throttled": self.throttled,
        }
        return str(stats.get(path.decode("latin-1")[2:], json.dumps(stats)))

    def _over_rate(self) -> bool:
        """Whether STS would throttle this call: ``throttle_rate`` ok answers already in the last second."""
        if not self.throttle_rate:
            return False
        now = self._clock()
        while self._answered and self._answered[0] <= now - 1.0:
            self._answered.popleft()
        if len(self._answered) >= self.throttle_rate:
            self.throttled += 1
            return True
        self._answered.append(now)
        return False

    async def _answer(self, writer: asyncio.StreamWriter, head: bytes) -> bool:
        """Write one answer; False when the connection must end."""
        mode = "throttle" if self.mode == "ok" and self._over_rate() else self.mode
        if mode == "stall":
            await asyncio.Event().wait()  # until the client leaves or we stop
        if mode == "reset":
            sock = writer.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if mode == "garbage":
            writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\x16\x03")
            await writer.drain()
            return False
        if not self._released.is_set():
            await asyncio.to_thread(self._released.wait, 30.0)
        delay = self._random.uniform(self.delay, self.delay_max) if self.delay_max else self.delay
        if delay:
            await asyncio.sleep(delay)
        if mode == "drip":
            status = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(_OK_BODY)}\r\n\r\n"
            writer.write(status.encode())
            for byte in _OK_BODY:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(self.drip_interval)
            return True
        if mode == "xml":
            body = b"<GetCallerIdentityResponse><GetCallerIdentityResult/></GetCallerIdentityResponse>"
            writer.write(_response("200 OK", body, "text/xml"))
        elif mode == "503":
            writer.write(_response("503 Service Unavailable", b"Service Unavailable", "text/plain"))
        elif mode == "throttle":
            writer.write(_response("400 Bad Request", _THROTTLE_BODY, "text/xml"))
        elif self.identities is None:
            writer.write(_response("200 OK", _OK_BODY))
        else:
            found = self.identities.get(_access_key_id(head))
            if found is None:
                writer.write(_response("403 Forbidden", _UNKNOWN_KEY_BODY))
            else:
                writer.write(_response("200 OK", _identity_body(*found)))
        await writer.drain()
        return True


def _access_key_id(head: bytes) -> str:
    target = head.split(b" ", 2)[1].decode("latin-1")
    return parse_qs(urlsplit(target).query).get("X-Amz-Credential", [""])[0].split("/")[0]


def _headers_seen(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return {"host": headers.get("host", ""), "cluster": headers.get("x-k8s-aws-id", "")}


def spawn(
    directory: Path | str, *, delay: float, delay_max: float | None = None, throttle_rate: float = 0.0
) -> tuple[subprocess.Popen[str], str, str]:
    """The stand-in as a child process, off the caller's CPU (the benchmarks): (process, URL,
    CA path). Closing the process's stdin stops it."""
    extra = ["--delay-max", str(delay_max)] if delay_max else []
    extra += ["--throttle-rate", str(throttle_rate)] if throttle_rate else []
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, "--delay", str(delay), "--dir", str(directory), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],  # where ``tests`` is importable
    )
    assert process.stdout is not None
    url, ca = process.stdout.readline().split()
    return process, url, ca


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--delay-max", type=float, default=None)
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="sts-standin-"))
    with StsStandIn(
        directory, delay=args.delay, mode=args.mode, delay_max=args.delay_max, throttle_rate=args.throttle_rate
    ) as standin:
        sys.stdout.write(f"{standin.url} {standin.ca_path}\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes our stdin (or exits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
