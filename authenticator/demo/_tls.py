"""Throw-away TLS material and a threaded HTTPS server for the local peers.

A trustme CA issues one server certificate for 127.0.0.1 and localhost; the files go to a
directory the caller owns (the key 0600), so clients can be pointed at `ca_path`.
"""

from __future__ import annotations

import http.server
import os
import socket
import socketserver
import ssl
import threading
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NAMES: tuple[str, ...] = ("127.0.0.1", "localhost")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_path: str  # PEM of the CA that clients must trust
    cert_path: str  # server certificate chain, PEM
    key_path: str  # server private key, PEM, mode 0600
    ca_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))


def make_tls(directory: str | os.PathLike[str], names: Sequence[str] = DEFAULT_NAMES) -> TlsFiles:
    """Create a fresh CA and a server certificate for `names` in `directory`."""
    import trustme  # the [demo] extra; imported late so the package imports without it

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert(*names)
    ca_path = out / "ca.pem"
    cert_path = out / "server.pem"
    key_path = out / "server-key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    with open(cert_path, "wb") as f:
        for blob in leaf.cert_chain_pems:
            f.write(blob.bytes())
    # Create the key file 0600 before writing the key into it.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(leaf.private_key_pem.bytes())
    return TlsFiles(str(ca_path), str(cert_path), str(key_path), ca.cert_pem.bytes())


class _ThreadingHttpsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler], ctx: ssl.SSLContext) -> None:
        self._ctx = ctx
        super().__init__(("127.0.0.1", 0), handler)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        # http.server writes headers and body separately: without TCP_NODELAY each keep-alive
        # answer would wait ~40 ms for the client's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The handshake happens on first read, in the handler's thread, so that one slow
        # client cannot stall the accept loop.
        return self._ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


@contextmanager
def https_server(
    handler: type[http.server.BaseHTTPRequestHandler], tls: TlsFiles
) -> Iterator[http.server.ThreadingHTTPServer]:
    """Serve `handler` over HTTPS on 127.0.0.1, a free port, in a background thread.

    The socket listens before this yields, so the server answers as soon as it is entered.
    """
    with serving(_ThreadingHttpsServer(handler, tls.server_context())) as server:
        yield server


_Server = typing.TypeVar("_Server", bound=socketserver.BaseServer)


@contextmanager
def serving(server: _Server) -> Iterator[_Server]:
    """Run ``server`` (already bound and listening) in a background thread until the block ends;
    then stop it, close its socket and wait for the thread."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
