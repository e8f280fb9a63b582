"""Checking a SigV4 query-string presigned request the way STS does (pure; no I/O).

moto never checks presigned signatures (docs/testing.md, pitfall 3), so the STS peer does it here:
the canonical request is rebuilt from the query it received and the headers it was sent
(`Host` = the token's host, `x-k8s-aws-id` = the verifier's cluster id), then signed with the
caller's secret. A token for another cluster, a tampered URL or an expired one fails here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from authenticator.partitions import PARTITIONS, sts_host_region

ALGORITHM = "AWS4-HMAC-SHA256"
VALIDITY = timedelta(minutes=15)  # STS honours a presigned URL this long after X-Amz-Date
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class SigV4Error(Exception):
    """A request STS would refuse; `code` is the AWS error code, `status` the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class PresignedQuery:
    params: tuple[tuple[str, str], ...]  # decoded, in received order, X-Amz-Signature included
    access_key_id: str
    credential_scope: str  # <date>/<region>/<service>/aws4_request
    region: str
    service: str
    amz_date: str
    signed_at: datetime
    signed_headers: tuple[str, ...]
    signature: str
    security_token: str | None


def _decode_query(raw: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return tuple(pairs)


def _single(params: tuple[tuple[str, str], ...], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise SigV4Error("InvalidParameterCombination", f"duplicate query parameter {name}", 400)
    return values[0] if values else None


def parse_presigned_query(raw_query: str) -> PresignedQuery:
    """Parse the X-Amz-* parameters of a presigned query; SigV4Error when incomplete."""
    params = _decode_query(raw_query)
    algorithm = _single(params, "X-Amz-Algorithm")
    credential = _single(params, "X-Amz-Credential")
    amz_date = _single(params, "X-Amz-Date")
    signed = _single(params, "X-Amz-SignedHeaders")
    signature = _single(params, "X-Amz-Signature")
    if not (algorithm and credential and amz_date and signed and signature):
        raise SigV4Error("MissingAuthenticationToken", "Request is missing Authentication Token")
    if algorithm != ALGORITHM:
        raise SigV4Error("IncompleteSignature", f"Unsupported AWS 'algorithm': '{algorithm}'", 400)
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
        raise SigV4Error("IncompleteSignature", "Credential is malformed", 400)
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise SigV4Error("IncompleteSignature", "X-Amz-Date is malformed", 400) from None
    return PresignedQuery(
        params=params,
        access_key_id=parts[0],
        credential_scope="/".join(parts[1:]),
        region=parts[2],
        service=parts[3],
        amz_date=amz_date,
        signed_at=signed_at,
        signed_headers=tuple(signed.split(";")),
        signature=signature,
        security_token=_single(params, "X-Amz-Security-Token"),
    )


def region_of_host(host: str) -> str | None:
    """The region an STS host name serves; None for hosts that are not STS names (127.0.0.1)."""
    for partition in PARTITIONS.values():
        region = sts_host_region(host, partition)
        if region is not None:
            return region
    return None


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _canonical_header_value(value: str) -> str:
    return " ".join(value.strip().split())


def signature_for(
    query: PresignedQuery, *, method: str, path: str, headers: Mapping[str, str], secret_access_key: str
) -> str:
    """The signature STS expects for `query`, given the headers as received (lower-case names)."""
    canonical_query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}"
        for k, v in sorted((k, v) for k, v in query.params if k != "X-Amz-Signature")
    )
    canonical_headers = "".join(
        f"{name}:{_canonical_header_value(headers.get(name, ''))}\n" for name in query.signed_headers
    )
    canonical_request = "\n".join(
        [
            method,
            quote(path or "/", safe="/-_.~"),
            canonical_query,
            canonical_headers,
            ";".join(query.signed_headers),
            _EMPTY_SHA256,
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, query.amz_date, query.credential_scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret_access_key).encode()
    for part in query.credential_scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def check_scope(query: PresignedQuery, *, host: str, now: datetime) -> None:
    """The checks that need no secret: scope, signed headers, validity window."""
    if query.service != "sts":
        raise SigV4Error("SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'.")
    host_region = region_of_host(host)
    if host_region is not None and query.region != host_region:
        raise SigV4Error("SignatureDoesNotMatch", "Credential should be scoped to a valid region.")
    if query.credential_scope.split("/")[0] != query.amz_date[:8]:
        raise SigV4Error("SignatureDoesNotMatch", "Credential should be scoped to the date of X-Amz-Date.")
    if "host" not in query.signed_headers or list(query.signed_headers) != sorted(query.signed_headers):
        raise SigV4Error("SignatureDoesNotMatch", "SignedHeaders must be sorted and include host.")
    if now > query.signed_at + VALIDITY:
        raise SigV4Error("AccessDenied", "Request has expired")
    if query.signed_at > now + VALIDITY:
        raise SigV4Error("SignatureDoesNotMatch", "Signature not yet current")


def check_signature(
    query: PresignedQuery, *, method: str, path: str, headers: Mapping[str, str], secret_access_key: str
) -> None:
    expected = signature_for(query, method=method, path=path, headers=headers, secret_access_key=secret_access_key)
    if not hmac.compare_digest(expected, query.signature):
        raise SigV4Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
