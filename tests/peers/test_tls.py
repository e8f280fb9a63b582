"""The peers' throw-away TLS material: private key 0600, certificate valid for 127.0.0.1 and localhost."""

from __future__ import annotations

import http.server
import os
import ssl
import stat
from pathlib import Path

import httpx

from authenticator.demo._tls import https_server, make_tls


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")


def test_key_is_private_and_certificate_serves_both_names(tmp_path: Path) -> None:
    tls = make_tls(tmp_path)
    assert stat.S_IMODE(os.stat(tls.key_path).st_mode) == 0o600
    with https_server(_Hello, tls) as server:
        port = server.server_address[1]
        with httpx.Client(verify=ssl.create_default_context(cafile=tls.ca_path)) as client:
            assert client.get(f"https://127.0.0.1:{port}/").text == "hello"
            assert client.get(f"https://localhost:{port}/").text == "hello"
        with httpx.Client() as untrusting:
            try:
                untrusting.get(f"https://127.0.0.1:{port}/")
            except httpx.ConnectError as error:
                assert "CERTIFICATE_VERIFY_FAILED" in str(error)
            else:
                raise AssertionError("a client without the CA must not connect")
