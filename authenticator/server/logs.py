"""Logging: text or JSON lines on stderr, one structured line per review.

Structured fields travel in ``record.fields`` (``logger.info(msg, extra={"fields": {...}})``)
and both formats print them. What goes into a review line is chosen here, in one place,
so that a token, a presigned URL or a signature can never reach the log: the review line is
built from the ``ReviewResult`` (which never holds them), not from the request.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

import pydantic_core

from authenticator import defaults

if TYPE_CHECKING:
    from authenticator.server.review import ReviewResult

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging", "log_malformed", "log_review", "review_fields"]

REVIEW_LOGGER = "authenticator.review"
HTTP_LOGGER = "authenticator.server.http"  # what uvicorn's own lines (start, stop, errors) are logged as
_HANDLER_NAME = "eks-iam-authenticator"


class _Rename(logging.Filter):
    """Gives uvicorn's records our logger name: an operator filters one namespace, not ``uvicorn.error``
    (the name uvicorn uses for its start and stop lines, which are not errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.name = HTTP_LOGGER
        return True


_RENAME = _Rename(_HANDLER_NAME)


# (second, "YYYY-MM-DDTHH:MM:SS") of the last line: every review writes a line, and formatting the
# date once a second instead of once a line is a tenth of what the line costs.
_last_second: tuple[int, str] = (-1, "")


def _timestamp(record: logging.LogRecord) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-26T08:46:07.123Z``."""
    global _last_second
    second = int(record.created)
    if _last_second[0] != second:
        _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_last_second[1]}.{int(record.msecs):03d}Z"


@functools.cache
def _level_name(levelname: str) -> str:
    return levelname.lower()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, msg, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": _level_name(record.levelname),
            "logger": record.name,
            "msg": record.getMessage(),
            **(getattr(record, "fields", None) or {}),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        # pydantic-core's serialiser: a quarter of json.dumps' time. Non-ASCII stays UTF-8.
        return pydantic_core.to_json(line, fallback=str).decode("utf-8")


class TextFormatter(logging.Formatter):
    """``time level logger: msg key=value ...``; values with spaces are quoted."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), _level_name(record.levelname), f"{record.name}: {record.getMessage()}"]
        for key, value in (getattr(record, "fields", None) or {}).items():
            parts.append(f"{key}={_text_value(value)}")
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _text_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    text = "" if value is None else str(value)
    return json.dumps(text) if (not text or any(c.isspace() or c in '"=' for c in text)) else text


def configure_logging(
    fmt: str = defaults.LOG_FORMAT, verbosity: str = defaults.LOG_VERBOSITY, *, stream: TextIO | None = None
) -> None:
    """Send the ``authenticator`` loggers (and uvicorn's) to ``stream`` (stderr) in ``fmt``.

    Idempotent: a second call replaces the handler instead of adding one.
    """
    global _template
    _template = None  # the review records' shared attributes are read again under the new switches
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    level = getattr(logging, verbosity.upper(), logging.INFO)
    # No format here prints a thread, process or task name: do not look them up for every record.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    setattr(logging, "logAsyncioTasks", False)  # noqa: B010 - Python 3.12+; a review record is not one task's
    for name in ("authenticator", "client_plugin", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
        if name.startswith("uvicorn") and _RENAME not in logger.filters:
            logger.addFilter(_RENAME)


def review_fields(result: ReviewResult, latency_seconds: float) -> dict[str, Any]:
    """The fields of a review's log line. For scrubbed accounts the identity and the user are left out."""
    fields: dict[str, Any] = {
        "result": result.result,
        "status": result.http_status,
        "latency_ms": round(latency_seconds * 1000, 3),
        "sts_region": result.sts_region,
    }
    if result.identity is not None and not result.scrubbed:
        fields["arn"] = result.identity.arn
        fields["canonical_arn"] = result.identity.canonical_arn
        fields["account_id"] = result.identity.account_id
        fields["access_key_id"] = result.identity.access_key_id
    if result.scrubbed:
        fields["scrubbed"] = True
    if result.user is not None and not result.scrubbed:
        fields["username"] = result.user.username
        fields["groups"] = list(result.user.groups)
        fields["source"] = result.match_source
    if result.error is not None:
        fields["reason"] = result.error
    return fields


_review_log = logging.getLogger(REVIEW_LOGGER)


def log_malformed(reason: str, status: int, latency_seconds: float) -> None:
    """One line for a request that is not a TokenReview (400, 413): why, never the body."""
    fields = {"result": "malformed_request", "status": status, "latency_ms": round(latency_seconds * 1000, 3)}
    _review_log.warning("malformed request: %s", reason, extra={"fields": fields})


def log_review(result: ReviewResult, latency_seconds: float) -> None:
    """One line per review: info when allowed, warning when denied."""
    level = logging.INFO if result.allowed else logging.WARNING
    if not _review_log.isEnabledFor(level):
        return
    _review_log.handle(_review_record(level, review_fields(result, latency_seconds)))


def _record_template() -> dict[str, Any]:
    """What ``makeRecord`` sets on every review record, bar its time, level, message and fields."""
    return logging.LogRecord(REVIEW_LOGGER, logging.INFO, __file__, 0, "", (), None).__dict__.copy()


_template: dict[str, Any] | None = None
_START = getattr(logging, "_startTime", time.time())  # what relativeCreated counts from


def _review_record(level: int, fields: dict[str, Any]) -> logging.LogRecord:
    """The record ``makeRecord`` would build, as a copy of the attributes every review record
    shares: a LogRecord's constructor (path split, thread and process look-ups) is a third of what
    a review line costs. Like makeRecord with Logger.log's search of the stack for the caller's
    file and line left out, which no format here prints."""
    global _template
    if _template is None:  # after configure_logging, whose switches the constructor reads
        _template = _record_template()
    record = logging.LogRecord.__new__(logging.LogRecord)
    attributes = record.__dict__
    attributes.update(_template)
    now = time.time()
    attributes["created"] = now
    attributes["msecs"] = int((now - int(now)) * 1000) + 0.0
    attributes["relativeCreated"] = (now - _START) * 1000
    attributes["levelno"] = level
    attributes["levelname"] = logging.getLevelName(level)
    attributes["msg"] = "access granted" if level == logging.INFO else "access denied"
    attributes["fields"] = fields
    return record
