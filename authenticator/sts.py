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
from typing import Any, Final, Protocol
from xml.etree import ElementTree

import httpx

from authenticator import defaults, metrics
from authenticator.arn import canonicalize, parse_arn, principal_kind
from authenticator.identity import Identity
from authenticator.partitions import GLOBAL_STS_HOST
from authenticator.sts_transport import KeepAliveTransport, Origin, STSTransport, origin_of
from authenticator.token import PresignedRequest, RejectionKind, TokenRejected

__all__ = [
    "MAX_RESPONSE_BYTES",
    "THROTTLING_CODES",
    "CallerIdentityClient",
    "STSClient",
    "identity_from_response",
    "is_throttling",
    "sts_region_label",
]

CLUSTER_ID_HEADER = "x-k8s-aws-id"
USER_AGENT = "eks-iam-authenticator"
# A GetCallerIdentity answer is well under 1 KiB; anything huge is not STS.
MAX_RESPONSE_BYTES = 64 * 1024

# What an error code may look like to reach a reason or a log line.
_ERROR_CODE = re.compile(r"[A-Za-z0-9.]{1,64}")
# The error codes that mean "throttled": botocore's standard retry mode's list
# (botocore/retries/standard.py, ThrottledRetryableChecker._THROTTLED_ERROR_CODES), copied because
# it is private and importing it loads most of botocore, which the server otherwise imports only
# when the EC2 backend is used. tests/test_sts.py checks the copy against the installed botocore.
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
# The statuses AWS throttles with: 400 (Throttling), 503 (RequestLimitExceeded, SlowDown), 429.
_THROTTLING_STATUSES: Final = frozenset({400, 429, 503})
_SAFE_DETAIL = re.compile(r"[^A-Za-z0-9 _.,:()\[\]'-]")


def _sts_error(reason: str) -> TokenRejected:
    return TokenRejected(RejectionKind.STS_ERROR, reason)


def is_throttling(status: int, code: str | None) -> bool:
    """Whether an STS error answer says we were throttled, from its status and parsed code only: its
    message may echo the caller's own request (a SignatureDoesNotMatch quotes the canonical request),
    so no word in it can decide. As botocore decides: any 429 (GetCallerIdentity models no error of
    its own that a 429 could carry), or a throttling code - here only with 400 or 503, the other
    statuses AWS throttles with, so that a 403 is always a denial."""
    return status == 429 or (status in _THROTTLING_STATUSES and code in THROTTLING_CODES)


def _error_code(body: bytes) -> str | None:
    """The ``Error.Code`` of an STS error answer, in JSON (what our ``Accept`` asks for) or XML
    (STS's default, and moto's): ``{"Error": {"Code": ...}}`` or
    ``<ErrorResponse><Error><Code>...``; None for anything else or a code that does not look like one."""
    text = body.lstrip()
    if text.startswith(b"{"):
        code = _json_error_code(text)
    elif text.startswith(b"<"):
        code = _xml_error_code(text)
    else:
        return None
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None


def _json_error_code(text: bytes) -> object:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # ValueError: JSONDecodeError, UnicodeDecodeError
        return None
    error = document.get("Error") if isinstance(document, dict) else None
    return error.get("Code") if isinstance(error, dict) else None


def _xml_error_code(text: bytes) -> str | None:
    if b"<!DOCTYPE" in text:  # no DTD, so no entities to expand (what defusedxml refuses too)
        return None
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, LookupError):  # LookupError: an unknown declared encoding
        return None
    error = _child(root, "Error") if _local_name(root.tag) == "ErrorResponse" else None
    code = _child(error, "Code") if error is not None else None
    return code.text if code is not None else None


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    return next((child for child in element if _local_name(child.tag) == name), None)


def _local_name(tag: str) -> str:
    """``ErrorResponse`` of ``{https://sts.amazonaws.com/doc/2011-06-15/}ErrorResponse``."""
    return tag.rpartition("}")[2]


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
        region = sts_region_label(request.host, request.region)
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
            if is_throttling(status, code):
                metrics.sts_throttling.labels(StsRegion=region).inc()
                raise TokenRejected(
                    RejectionKind.STS_THROTTLING, f"STS throttled the request on {region} endpoint ({code or status})"
                )
            detail = f": {code}" if code else ""
            raise _sts_error(f"error from AWS (expected 200, got {status}) on {region} endpoint{detail}")
        return identity_from_response(body, request)


def sts_region_label(host: str, region: str) -> str:
    """The ``StsRegion`` label (and the endpoint named in reasons) of a call to ``host``: its region,
    or ``global`` for the global endpoint sts.amazonaws.com, as the reference labels it (whose
    tokens are signed for us-east-1)."""
    return metrics.GLOBAL_STS_REGION if host == GLOBAL_STS_HOST else region


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
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested too deep
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
