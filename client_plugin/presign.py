"""SigV4 query-string presign of STS GetCallerIdentity, stdlib only (docs/token.md §1).

botocore can do this too, but only through ``create_client('sts')``, which parses
botocore's 1.3 MB endpoints file on every run; this module costs nothing to import.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

__all__ = [
    "CLUSTER_ID_HEADER",
    "TOKEN_PREFIX",
    "URL_EXPIRES_SECONDS",
    "Signature",
    "encode_token",
    "presign_get_caller_identity",
]

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# STS ignores X-Amz-Expires and accepts the URL for 15 minutes; 60 is what every
# client sends (old verifiers insist on 0..60).
URL_EXPIRES_SECONDS = 60

_ALGORITHM = "AWS4-HMAC-SHA256"
_SERVICE = "sts"
_EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
_SIGNED_HEADERS = f"host;{CLUSTER_ID_HEADER}"


class Signature:
    """What a presign produced: the URL and the instant it was signed at."""

    __slots__ = ("signed_at", "url")

    def __init__(self, url: str, signed_at: datetime) -> None:
        self.url = url
        self.signed_at = signed_at

    @property
    def token(self) -> str:
        return encode_token(self.url)


def _uri_encode(value: str) -> str:
    # SigV4's URI encoding: everything but the unreserved set, upper-case hex.
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _signing_key(secret_access_key: str, day: str, region: str) -> bytes:
    key = _hmac(("AWS4" + secret_access_key).encode("utf-8"), day)
    key = _hmac(key, region)
    key = _hmac(key, _SERVICE)
    return _hmac(key, "aws4_request")


def presign_get_caller_identity(
    *,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    host: str,
    signing_region: str,
    cluster_id: str,
    now: datetime,
) -> Signature:
    """Presign ``GET https://<host>/?Action=GetCallerIdentity…`` with ``x-k8s-aws-id`` signed.

    ``signing_region`` is the credential scope's region (``us-east-1`` for the
    global host). ``now`` must be timezone-aware; it is truncated to the second.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC).replace(microsecond=0)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    scope = f"{day}/{signing_region}/{_SERVICE}/aws4_request"
    params = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": _ALGORITHM,
        "X-Amz-Credential": f"{access_key_id}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(URL_EXPIRES_SECONDS),
        "X-Amz-SignedHeaders": _SIGNED_HEADERS,
    }
    if session_token:
        params["X-Amz-Security-Token"] = session_token
    # Keys are ASCII and none needs encoding, so sorting raw keys equals sorting encoded ones.
    query = "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(params.items()))
    canonical_request = "\n".join(
        (
            "GET",
            "/",
            query,
            f"host:{host}",
            f"{CLUSTER_ID_HEADER}:{' '.join(cluster_id.split())}",
            "",
            _SIGNED_HEADERS,
            _EMPTY_PAYLOAD_SHA256,
        )
    )
    string_to_sign = "\n".join(
        (_ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
    )
    signature = hmac.new(
        _signing_key(secret_access_key, day, signing_region), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return Signature(f"https://{host}/?{query}&X-Amz-Signature={signature}", now)


def encode_token(url: str) -> str:
    """``k8s-aws-v1.`` + unpadded base64url of the presigned URL."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")
