"""An STS peer that records what reaches it: each GET's path and query (byte for byte) and its
headers, lower-cased, plus the client's port (to tell connections apart). Keep-alive HTTP/1.1, as
STS; it answers every GET with ``answer``. Shared by the STS client's tests (direct and proxied)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["PROXY_ENV_VARS", "Seen", "identity_document", "recording_handler"]

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
