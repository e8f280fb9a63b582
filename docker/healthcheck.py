"""Container HEALTHCHECK: exit 0 when the webhook answers ``GET /healthz`` with 200.

Standard library only, so that it runs with nothing but the image's interpreter. The
server's certificate is self-signed (it is its own CA, docs/cli.md), so it is not verified:
this only asks whether the process serves. URL from ``HEALTHCHECK_URL``.
"""

from __future__ import annotations

import http.client
import os
import ssl
import sys
import urllib.request

DEFAULT_URL = "https://127.0.0.1:21362/healthz"


def check(url: str, timeout: float = 4.0) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, context=context, timeout=timeout) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # URLError, HTTPError and TLS errors are OSErrors
        return False


def main() -> int:
    url = os.environ.get("HEALTHCHECK_URL", DEFAULT_URL)
    healthy = check(url)
    if not healthy:
        sys.stderr.write(f"unhealthy: no 200 from {url}\n")
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
