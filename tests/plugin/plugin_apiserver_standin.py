"""A tiny HTTPS stand-in for kube-apiserver: records bearer tokens, answers ``GET /version``.

client-go never sends credentials to an ``http://`` server, so it speaks TLS with a
throw-away CA (trustme). Used by the plugin's kubectl tests and by bench/plugin.py.
"""

from __future__ import annotations

import json
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import trustme
import yaml

__all__ = ["ApiServerStandIn"]

_VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.0-standin",
    "platform": "linux/amd64",
}


class ApiServerStandIn:
    """HTTPS on 127.0.0.1:0. Accepts ``Bearer k8s-aws-v1.…`` (or ``static_token``), 401 otherwise."""

    def __init__(self, *, static_token: str | None = None) -> None:
        self.static_token = static_token
        self.authorizations: list[str | None] = []
        self._lock = threading.Lock()
        self._ca = trustme.CA()
        self._dir = tempfile.TemporaryDirectory(prefix="apiserver-standin-")
        self.ca_path = str(Path(self._dir.name) / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def _accepts(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        token = authorization[len("Bearer ") :]
        if self.static_token is not None:
            return token == self.static_token
        return token.startswith("k8s-aws-v1.")

    def start(self) -> ApiServerStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # keep tokens out of logs
                return None

            def _send(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                authorization = self.headers.get("Authorization")
                with standin._lock:
                    standin.authorizations.append(authorization)
                if not standin._accepts(authorization):
                    self._send(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 401})
                elif self.path == "/version":
                    self._send(200, _VERSION)
                else:
                    self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="apiserver-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._dir.cleanup()

    def __enter__(self) -> ApiServerStandIn:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def kubeconfig(self, user: dict[str, object]) -> str:
        """A kubeconfig (YAML text) for this server with the given ``user`` block."""
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "standin", "cluster": {"server": self.url, "certificate-authority": self.ca_path}}
                ],
                "users": [{"name": "eks", "user": user}],
                "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "eks"}}],
                "current-context": "standin",
            }
        )
