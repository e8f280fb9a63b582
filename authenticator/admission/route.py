"""``POST /validate/aws-auth``: the HTTP side of the guard, thin around :func:`judge`.

Every AdmissionReview is answered 200 with the decision in ``response`` (the API server reads
nothing else); a body that is not an AdmissionReview is a 400, never a 500. A 1 MiB aws-auth
takes a good part of a second of CPU to lint, so judging runs on a worker thread, one review at
a time: token reviews on the event loop keep being answered meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from authenticator import metrics
from authenticator.admission import PATH
from authenticator.admission.judge import Verdict, is_aws_auth, judge
from authenticator.admission.models import (
    AdmissionResponse,
    AdmissionReview,
    AdmissionReviewResponse,
    AdmissionStatus,
)
from authenticator.lint.config import LintConfig

__all__ = ["MAX_BODY_BYTES", "PATH", "admission_endpoint"]

# A ConfigMap's data is at most 1 MiB and its annotations 256 KiB; an UPDATE carries two objects,
# JSON-escaped by Go's encoder, which writes '<', '>', '&' and control characters as six bytes
# (\u003c): up to about 15 MiB for a review the API server may send, which must be judged.
MAX_BODY_BYTES = 16 * 1024 * 1024

_log = logging.getLogger("authenticator.admission")


class _Malformed(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def admission_endpoint(
    *, protect_requester: bool = True, lint: LintConfig | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """The route's endpoint, for ``app.add_route(PATH, endpoint, methods=["POST"])``."""
    one_at_a_time = asyncio.Semaphore(1)

    def decide(raw: bytes) -> tuple[AdmissionReview, Verdict]:
        review = _parse(raw)
        try:
            return review, judge(review.request, protect_requester=protect_requester, lint=lint)
        except Exception as exc:  # a bug of ours: fail open, as the API server would (failurePolicy Ignore)
            _log.error("aws-auth guard failed: %s\n%s", exc, "".join(traceback.format_tb(exc.__traceback__)))
            warning = "the aws-auth guard failed on this request and did not check it"
            return review, Verdict(True, "warned", warnings=(warning,))

    async def validate(request: Request) -> Response:
        raw = b""
        try:
            raw = await _read(request)
            async with one_at_a_time:
                review, verdict = await asyncio.to_thread(decide, raw)
        except _Malformed as exc:
            metrics.admission_reviews.labels(result="malformed").inc()
            return _malformed(exc, _uid_of(raw))
        metrics.admission_reviews.labels(result=verdict.result).inc()
        _log_verdict(review, verdict)
        return _answer(review.request.uid, verdict)

    return validate


async def _read(request: Request) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise _Malformed(f"body larger than {MAX_BODY_BYTES} bytes", status=413)
    return bytes(raw)


def _parse(raw: bytes) -> AdmissionReview:
    try:
        return AdmissionReview.model_validate_json(raw)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise _Malformed("body is not JSON") from None
        raise _Malformed(_first_problem(exc)) from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "missing":
        problem = f"{where} is missing"
    elif where in ("apiVersion", "kind"):
        problem = "apiVersion must be admission.k8s.io/v1 and kind AdmissionReview"
    else:
        problem = f"{where}: {err.get('msg', 'invalid')}"
    return f"not an AdmissionReview ({problem})"


def _uid_of(body: bytes) -> str:
    """The request's uid when the body has one, for the 400's ``response.uid``."""
    try:
        doc: Any = json.loads(body)
        uid = doc["request"]["uid"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return ""
    return uid if isinstance(uid, str) else ""


def _malformed(exc: _Malformed, uid: str) -> Response:
    body = AdmissionReviewResponse(
        response=AdmissionResponse(
            uid=uid,
            allowed=False,
            status=AdmissionStatus(code=exc.status, message=f"malformed request: {exc.reason}", reason="BadRequest"),
        )
    )
    return Response(body.wire_json(), status_code=exc.status, media_type="application/json")


def _answer(uid: str, verdict: Verdict) -> Response:
    status = None
    if not verdict.allowed:
        status = AdmissionStatus(code=verdict.code, message=verdict.message, reason="Forbidden")
    warnings = list(verdict.warnings) or None
    body = AdmissionReviewResponse(
        response=AdmissionResponse(uid=uid, allowed=verdict.allowed, status=status, warnings=warnings)
    )
    return Response(body.wire_json(), status_code=200, media_type="application/json")


def _log_verdict(review: AdmissionReview, verdict: Verdict) -> None:
    request = review.request
    if verdict.result == "allowed" and not is_aws_auth(request):
        return  # another object the API server sent anyway (no matchConditions before 1.28)
    _log.info(
        "aws-auth admission review",
        extra={
            "fields": {
                "result": verdict.result,
                "operation": request.operation,
                "namespace": request.namespace or "",
                "name": request.name or "",
                "dryRun": bool(request.dryRun),
                "user": request.userInfo.username,
                **({"reason": verdict.message} if verdict.message else {}),
            }
        },
    )
