"""The STS GetCallerIdentity call that proves a token (docs/token.md §5) and the identity it yields (§6).

One keep-alive pool per server (``authenticator.sts_transport``; through an HTTP CONNECT proxy
for the hosts the environment's ``HTTPS_PROXY``/``NO_PROXY`` send there), no redirects, a total
deadline per call. Every call, whatever the transport (tests inject a double), is one
``STSTransport.get``. Only the region, the HTTP status and an STS error code
ever reach a reason or a log line; never the URL, which is a bearer credential.

``endpoint_override`` (tests and the demo only) sends the request to another
address while keeping the token's ``Host`` header and its path and query byte for
byte: the request URL is built on the override's scheme, host and port, the
``Host`` header is set explicitly to the token's host, and TLS is negotiated with
the override's host, so SNI and certificate verification are against the override
(e.g. a trustme certificate for 127.0.0.1 or localhost, trusted through ``ca_bundle``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import ssl
import urllib.request
from typing import Any, Protocol

import httpx

from authenticator import defaults, metrics
from authenticator.arn import canonicalize, parse_arn, principal_kind
from authenticator.identity import Identity
from authenticator.sts_transport import KeepAliveTransport, Origin, STSTransport, origin_of
from authenticator.token import PresignedRequest, RejectionKind, TokenRejected

__all__ = ["MAX_RESPONSE_BYTES", "CallerIdentityClient", "STSClient", "identity_from_response"]

CLUSTER_ID_HEADER = "x-k8s-aws-id"
USER_AGENT = "eks-iam-authenticator"
# A GetCallerIdentity answer is well under 1 KiB; anything huge is not STS.
MAX_RESPONSE_BYTES = 64 * 1024

_ERROR_CODE = re.compile(rb'<Code>([A-Za-z0-9.]{1,64})</Code>|"Code"\s*:\s*"([A-Za-z0-9.]{1,64})"')
_SAFE_DETAIL = re.compile(r"[^A-Za-z0-9 _.,:()\[\]'-]")


def _sts_error(reason: str) -> TokenRejected:
    return TokenRejected(RejectionKind.STS_ERROR, reason)


def _error_code(body: bytes) -> str | None:
    match = _ERROR_CODE.search(body)
    if match is None:
        return None
    return (match.group(1) or match.group(2)).decode("ascii")


def _transport_detail(exc: BaseException) -> str:
    """The exception's class and a sanitised message; httpx messages carry no URL, but be sure."""
    text = str(exc)
    if "?" in text or "X-Amz" in text or "amz" in text.lower():
        text = ""
    text = _SAFE_DETAIL.sub("", text)[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class STSClient:
    """Calls STS with a presigned GetCallerIdentity request and returns the caller's ``Identity``."""

    def __init__(
        self,
        *,
        cluster_id: str,
        endpoint_override: str | None = None,
        ca_bundle: str | None = None,
        timeout: float = defaults.STS_TIMEOUT,
        transport: STSTransport | None = None,
        max_connections: int = defaults.STS_MAX_IN_FLIGHT,
    ) -> None:
        self._timeout = timeout
        self._override: Origin | None = _parse_override(endpoint_override) if endpoint_override else None
        # Sent with every call after the token's Host (the cluster id is printable ASCII: config).
        self._fixed_headers = [
            (CLUSTER_ID_HEADER.encode("ascii"), cluster_id.encode("ascii")),
            (b"Accept", b"application/json"),
            (b"User-Agent", USER_AGENT.encode("ascii")),
        ]
        if ca_bundle is not None:
            context = ssl.create_default_context(cafile=ca_bundle)
        else:
            context = httpx.create_ssl_context(verify=True, trust_env=self._override is None)
        self._transport: STSTransport = transport or KeepAliveTransport(
            ssl_context=context, max_connections=max_connections, max_body_bytes=MAX_RESPONSE_BYTES
        )
        # Proxies from the environment are honoured as the reference does (Go's
        # ProxyFromEnvironment), except when talking to a local override.
        self._proxy: STSTransport | None = None
        proxy = None if self._override or transport else urllib.request.getproxies_environment().get("https")
        if proxy:
            if "://" not in proxy:  # as Go and httpx's own trust_env: a bare host:port is an http proxy
                proxy = f"http://{proxy}"
            self._proxy = KeepAliveTransport(
                ssl_context=context, max_connections=max_connections, max_body_bytes=MAX_RESPONSE_BYTES, proxy=proxy
            )
        # NO_PROXY read once per host; bounded, since a token may name any well-formed region.
        # (proxy_bypass_environment is public in urllib.request but missing from typeshed.)
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
        self._bypasses_proxy = functools.lru_cache(maxsize=64)(bypass)

    async def aclose(self) -> None:
        await self._transport.aclose()
        if self._proxy is not None:
            await self._proxy.aclose()

    async def __aenter__(self) -> STSClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _transport_for(self, host: str) -> STSTransport:
        if self._proxy is None:
            return self._transport
        return self._transport if self._bypasses_proxy(host) else self._proxy

    async def _fetch(self, request: PresignedRequest) -> tuple[int, bytes]:
        """GET the presigned URL (its query byte for byte): the status and the body."""
        _, _, query = request.url.partition("?")
        raw_target = b"/?" + query.encode("ascii") if query else b"/"
        headers = [(b"Host", request.host.encode("ascii")), *self._fixed_headers]  # the host passed rule 4
        origin = self._override or ("https", request.host, 443)
        status, body = await self._transport_for(request.host).get(origin, raw_target, headers)
        if len(body) > MAX_RESPONSE_BYTES:
            raise _BodyTooLarge(status)
        return status, body

    async def get_caller_identity(self, request: PresignedRequest) -> Identity:
        """GET the presigned URL; raise ``TokenRejected(STS_ERROR | STS_THROTTLING, reason)``."""
        region = request.region
        try:
            async with asyncio.timeout(self._timeout):
                status, body = await self._fetch(request)
        except _BodyTooLarge as exc:
            metrics.sts_responses.labels(ResponseCode=str(exc.status), StsRegion=region).inc()
            raise _sts_error(f"response from AWS on {region} endpoint is too large") from None
        except (TimeoutError, httpx.TimeoutException):
            metrics.sts_connection_failures.labels(StsRegion=region).inc()
            raise _sts_error(f"error during GET: timeout on {region} endpoint") from None
        except httpx.HTTPError as exc:
            metrics.sts_connection_failures.labels(StsRegion=region).inc()
            raise _sts_error(f"error during GET: {_transport_detail(exc)} on {region} endpoint") from None

        metrics.sts_responses.labels(ResponseCode=str(status), StsRegion=region).inc()
        if status != 200:
            code = _error_code(body)
            if b"Throttling" in body:
                metrics.sts_throttling.labels(StsRegion=region).inc()
                raise TokenRejected(
                    RejectionKind.STS_THROTTLING, f"STS throttled the request on {region} endpoint ({code or status})"
                )
            detail = f": {code}" if code else ""
            raise _sts_error(f"error from AWS (expected 200, got {status}) on {region} endpoint{detail}")
        return identity_from_response(body, request)


class _BodyTooLarge(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _parse_override(endpoint: str) -> Origin:
    """The origin of the override, which must be ``scheme://host[:port]`` only."""
    url = httpx.URL(endpoint)
    if url.scheme not in ("https", "http") or not url.host:
        raise ValueError("endpoint override must be an http(s) URL with a host")
    if url.path not in ("", "/") or url.query or url.fragment or url.userinfo:
        raise ValueError("endpoint override must be scheme://host[:port] only")
    return origin_of(url)


def _field(container: Any, key: str) -> Any:
    if not isinstance(container, dict) or key not in container:
        raise _sts_error(f"malformed GetCallerIdentity response: missing {key}")
    return container[key]


def _text_field(container: Any, key: str) -> str:
    value = _field(container, key)
    if not isinstance(value, str) or not value:
        raise _sts_error(f"malformed GetCallerIdentity response: {key} is not a non-empty string")
    return value


def identity_from_response(body: bytes, request: PresignedRequest) -> Identity:
    """The ``Identity`` of a 200 GetCallerIdentity JSON body (docs/token.md §6); ``TokenRejected`` otherwise."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _sts_error("malformed GetCallerIdentity response: not JSON") from None
    response = _field(document, "GetCallerIdentityResponse")
    result = _field(response, "GetCallerIdentityResult")
    arn = _text_field(result, "Arn")
    account = _text_field(result, "Account")
    user_id = _text_field(result, "UserId")
    _text_field(_field(response, "ResponseMetadata"), "RequestId")  # real STS and moto both send it

    try:
        canonical = canonicalize(arn)
        kind = principal_kind(arn)
        arn_account = parse_arn(arn).account
    except ValueError as exc:
        raise _sts_error(str(exc)) from None
    if arn_account != account:
        raise _sts_error(f"Account {account!r} does not match the account of arn {arn!r}")

    session_name = ""
    if kind in ("role", "assumed-role"):
        # Roles answer "AROA…:<session>": the unique id, then the session name.
        parts = user_id.split(":")
        if len(parts) != 2 or not parts[0].startswith("AROA") or not parts[1]:
            raise _sts_error(f"malformed UserID {user_id!r}")
        user_id, session_name = parts
    return Identity(
        arn=arn,
        canonical_arn=canonical,
        account_id=account,
        user_id=user_id,
        session_name=session_name,
        access_key_id=request.access_key_id,
        sts_endpoint=request.host,
    )


class CallerIdentityClient(Protocol):
    """What the verifier asks of STS: ``STSClient``, or anything standing in front of it (the
    verification cache) or in for it (tests)."""

    async def get_caller_identity(self, request: PresignedRequest) -> Identity: ...
