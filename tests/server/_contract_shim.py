"""TEMPORARY: a stand-in for authenticator.token while the verifier branch is not
on main, following contracts.md. Installed only when the real modules cannot be imported; deleted
once verifier and mapping are merged."""

from __future__ import annotations

import base64
import enum
import sys
import types
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from authenticator.partitions import Partition, sts_host_region


def install() -> None:
    token = types.ModuleType("authenticator.token")

    class RejectionKind(enum.StrEnum):
        INVALID_TOKEN = "invalid_token"
        STS_ERROR = "sts_error"
        STS_THROTTLING = "sts_throttling"

    class TokenRejected(Exception):
        def __init__(self, kind: RejectionKind, reason: str) -> None:
            super().__init__(reason)
            self.kind = kind
            self.reason = reason

    @dataclass(frozen=True, slots=True)
    class PresignedRequest:
        url: str
        host: str
        region: str
        access_key_id: str
        signed_at: datetime
        expires_at: datetime

    def parse_token(text: str, *, now: datetime, partition: Partition) -> PresignedRequest:
        def bad(reason: str) -> TokenRejected:
            return TokenRejected(RejectionKind.INVALID_TOKEN, "input token was not properly formatted: " + reason)

        if not text.startswith("k8s-aws-v1."):
            raise bad('token is missing expected "k8s-aws-v1." prefix')
        try:
            body = text.removeprefix("k8s-aws-v1.")
            url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except ValueError:
            raise bad("illegal base64 data") from None
        parts = urlsplit(url)
        region = sts_host_region(parts.netloc, partition)
        if region is None:
            raise bad(f"unexpected hostname {parts.netloc!r} in pre-signed URL")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=now.tzinfo)
        if now > signed_at + timedelta(minutes=15):
            raise bad("X-Amz-Date parameter is expired (15 minute expiration)")
        akid = query["X-Amz-Credential"].split("/")[0]
        return PresignedRequest(url, parts.netloc, region, akid, signed_at, signed_at + timedelta(minutes=15))

    token.RejectionKind = RejectionKind  # type: ignore[attr-defined]
    token.TokenRejected = TokenRejected  # type: ignore[attr-defined]
    token.PresignedRequest = PresignedRequest  # type: ignore[attr-defined]
    token.parse_token = parse_token  # type: ignore[attr-defined]
    token.TOKEN_PREFIX = "k8s-aws-v1."  # type: ignore[attr-defined]

    sys.modules.setdefault("authenticator.token", token)
