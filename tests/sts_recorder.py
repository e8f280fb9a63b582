"""An STS peer that records what reaches it: each GET's path and query (byte for byte) and its
headers, lower-cased, plus the client's port (to tell connections apart). Keep-alive HTTP/1.1, as
STS; it answers every GET with ``answer``. Shared by the STS client's tests (direct and proxied)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["Seen", "recording_handler"]

Seen = list[tuple[str, dict[str, str]]]


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
