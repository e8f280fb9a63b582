"""The HTTP surface of the webhook (docs/cli.md "Server endpoints", docs/mapping.md §5).

``/authenticate`` never answers 500 for bad input: a body that is not a TokenReview is a
400 with a TokenReview-shaped denial, so whatever reads it fails closed.
"""

from __future__ import annotations

import functools
import inspect
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from authenticator import metrics
from authenticator.server.logs import log_malformed, log_review
from authenticator.server.models import API_VERSIONS, V1, TokenReviewRequest, TokenReviewResponse, TokenReviewStatus
from authenticator.server.models import UserInfo as WireUser
from authenticator.server.review import INTERNAL_ERROR, ReviewResult

__all__ = ["MAX_BODY_BYTES", "ReviewerLike", "create_app"]

# A TokenReview carries a token of at most 4096 bytes; anything far bigger is not one.
MAX_BODY_BYTES = 64 * 1024

Hook = Callable[[], Awaitable[None]]
# FastAPI >= 0.165 asks the OpenTelemetry providers on every request whether to trace it (~5% of the
# server's CPU per review in the S2 profile, ~10% of a cache hit's in the app); the webhook exports
# Prometheus metrics, never OpenTelemetry.
_NO_OTEL: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


class ReviewerLike(Protocol):
    async def review(self, token: str) -> ReviewResult: ...


class _Malformed(Exception):
    def __init__(self, reason: str, api_version: str = V1, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.api_version = api_version
        self.status = status


def create_app(
    reviewer: ReviewerLike,
    readiness: Callable[[], Mapping[str, bool]],
    *,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    registry: CollectorRegistry = REGISTRY,
    clock: Callable[[], float] = time.perf_counter,
    problems: Callable[[], Mapping[str, Mapping[str, str]]] | None = None,
    admission: Callable[[Request], Awaitable[Response]] | None = None,
) -> FastAPI:
    """The webhook app. ``readiness()`` maps each mapping source's name to whether it has loaded
    at least once; ``problems()`` (optional) maps a source's name to its failing sections, why, and
    what is served instead (shown on /readyz as given, still 200); ``on_startup`` and
    ``on_shutdown`` run in the app's lifespan (source watchers, closing the STS client).
    ``clock`` measures latency only; ``admission`` is the aws-auth guard's endpoint, if enabled."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook()
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook()

    async def authenticate(scope: Scope, receive: Receive, send: Send) -> None:
        started = clock()
        if scope["method"] != "POST":  # counted as the reference counts it, answered 405 as before
            _latency(metrics.MALFORMED_REQUEST).observe(clock() - started)
            await _send(send, 405, _METHOD_NOT_ALLOWED, _ALLOW_POST)
            return
        try:
            review = await _read_review(receive)
        except _Disconnected:  # nobody is left to answer
            return
        except _Malformed as exc:
            latency = clock() - started
            _latency(metrics.MALFORMED_REQUEST).observe(latency)
            log_malformed(exc.reason, exc.status, latency)
            body = TokenReviewResponse(
                apiVersion=exc.api_version,  # type: ignore[arg-type]
                status=TokenReviewStatus(authenticated=False, error=f"malformed request: {exc.reason}"),
            )
            await _send(send, exc.status, body.wire_json())
            return
        result = await reviewer.review(review.spec.token)
        latency = clock() - started
        if result.result != INTERNAL_ERROR:
            _latency(result.result).observe(latency)
        log_review(result, latency)
        await _send(send, result.http_status, _answer(review.apiVersion, result).wire_json())

    app = _WebhookApp(
        authenticate,
        title="eks-iam-authenticator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        **_NO_OTEL,
    )
    if admission is not None:  # the aws-auth guard (docs/admission.md), when enabled
        from authenticator.admission import PATH

        app.add_route(PATH, admission, methods=["POST"])

    @app.get("/healthz")
    async def healthz() -> Response:
        return PlainTextResponse("ok")

    @app.get("/readyz")
    async def readyz() -> Response:
        waiting = [name for name, loaded in readiness().items() if not loaded]
        failing = problems() if problems else {}
        if waiting:
            # Say why, where the source knows (e.g. "DynamicFile file: /x.json does not exist").
            why = [f"{src} {section}: {reason}" for src in waiting for section, reason in failing.get(src, {}).items()]
            return PlainTextResponse("\n".join([f"not ready: waiting for {', '.join(waiting)}", *why]), status_code=503)
        degraded = [
            f"{source} {section}: {reason}"  # the reason says what is served instead
            for source, sections in failing.items()
            for section, reason in sections.items()
        ]
        return PlainTextResponse("\n".join(["ok", *degraded]))

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


@functools.cache
def _latency(result: str) -> Histogram:
    # labels() validates and locks on every call; a handful of results, each looked up once.
    return metrics.authenticate_latency.labels(result=result)


class _WebhookApp(FastAPI):
    """The FastAPI app, with ``/authenticate`` answered before the framework's layers.

    Every review passes there: 1,120 a second at the largest cluster's load (docs/performance.md
    S2), where the server may use half a core. Starlette's error, exception and exit-stack
    middleware, FastAPI's body-limit and telemetry layers, the router and the Request/Response
    wrappers do nothing for this endpoint (it reads and checks its own body, builds its own answer
    and never raises for bad input) and cost a fifth of a cache hit: answered here, S1's cache
    hits rose from 4,400-4,700 to 5,800-5,900 a second in alternating runs. A bug that raises
    still gets uvicorn's plain 500. Every other path (the probes, /metrics, the aws-auth guard)
    goes through FastAPI as before; ``/authenticate/`` is a 404, as in the reference."""

    def __init__(self, authenticate: ASGIApp, **settings: Any) -> None:
        super().__init__(**settings)
        self._authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/authenticate":
            await self._authenticate(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


_JSON = (b"content-type", b"application/json")
_METHOD_NOT_ALLOWED = b'{"detail":"Method Not Allowed"}'
_ALLOW_POST = (b"allow", b"POST")


async def _send(send: Send, status: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    """One JSON answer, with the headers Starlette's Response gave it (length, type)."""
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [length, _JSON, *headers]})
    await send({"type": "http.response.body", "body": body})


class _Disconnected(Exception):
    """The client went away before its body was read."""


async def _read_review(receive: Receive) -> TokenReviewRequest:
    raw = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        raw += message.get("body", b"")
        if len(raw) > MAX_BODY_BYTES:
            raise _Malformed(f"body larger than {MAX_BODY_BYTES} bytes", status=413)
        if not message.get("more_body", False):
            break
    try:
        # pydantic parses and checks in one pass; whatever it refuses goes the long way below,
        # which says precisely what is wrong (and in which apiVersion to say it).
        return TokenReviewRequest.model_validate_json(raw)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":  # e.g. nested past pydantic's depth limit
            raise _Malformed("body is not JSON") from None
    try:
        doc: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _Malformed("body is not JSON") from None
    if not isinstance(doc, dict):
        raise _Malformed("body is not a JSON object")
    # Answer in the version asked for whenever it is one we speak, even when the rest is broken.
    asked = doc.get("apiVersion")
    api_version = asked if isinstance(asked, str) and asked in API_VERSIONS else V1
    try:
        return TokenReviewRequest.model_validate(doc)
    except ValidationError as exc:
        raise _Malformed(_first_problem(exc), api_version) from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "missing":
        return f"{where} is missing"
    if where == "apiVersion":
        return f"not a TokenReview (apiVersion must be {' or '.join(API_VERSIONS)})"
    if where == "kind":
        return "not a TokenReview (kind must be TokenReview)"
    return f"{where}: {err.get('msg', 'invalid')}"


def _answer(api_version: str, result: ReviewResult) -> TokenReviewResponse:
    if result.user is None:
        status = TokenReviewStatus(authenticated=False, error=result.error or "denied")
    else:
        status = TokenReviewStatus(
            authenticated=True,
            user=WireUser(
                username=result.user.username,
                uid=result.user.uid,
                groups=list(result.user.groups),
                extra=result.user.extra,
            ),
        )
    return TokenReviewResponse(apiVersion=api_version, status=status)  # type: ignore[arg-type]
