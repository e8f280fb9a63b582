"""The review line's record is built without LogRecord's constructor: it must still be the record
``makeRecord`` would build, so that any handler or formatter sees the same attributes."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from authenticator.server.logs import REVIEW_LOGGER, configure_logging, log_review, review_fields
from authenticator.server.review import ReviewedUser, ReviewResult
from tests.support.identities import role_identity

# When the record was made: the only attributes two records of one line may differ in
# ('message' is set later, by whichever handler formats the record).
_TIME = {"created", "msecs", "relativeCreated"}


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[_Keep]:
    configure_logging("json", "info", stream=io.StringIO())
    logger = logging.getLogger(REVIEW_LOGGER)
    keep = _Keep()
    logger.addHandler(keep)
    yield keep
    logger.removeHandler(keep)
    for name in ("authenticator", "client_plugin", "uvicorn", "uvicorn.error"):
        for handler in list(logging.getLogger(name).handlers):
            logging.getLogger(name).removeHandler(handler)
        logging.getLogger(name).propagate = True
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("result", "level", "message"),
    [
        (
            ReviewResult(
                "success", 200, ReviewedUser("admin:jdoe", "uid", ("eks-admins",), None), identity=role_identity()
            ),
            logging.INFO,
            "access granted",
        ),
        (ReviewResult("invalid_token", 403, error="bad signature"), logging.WARNING, "access denied"),
    ],
)
def test_the_review_record_is_the_one_make_record_builds(
    kept: _Keep, result: ReviewResult, level: int, message: str
) -> None:
    for _ in range(2):  # the first line builds the shared attributes, the second copies them
        log_review(result, 0.0015)
    logger = logging.getLogger(REVIEW_LOGGER)
    expected = logger.makeRecord(
        REVIEW_LOGGER, level, "", 0, message, (), None, extra={"fields": review_fields(result, 0.0015)}
    ).__dict__
    for record in kept.records:
        got = dict(record.__dict__)
        assert {k: v for k, v in got.items() if k not in _TIME | {"pathname", "filename", "module", "message"}} == {
            k: v for k, v in expected.items() if k not in _TIME | {"pathname", "filename", "module", "message"}
        }
        assert got["pathname"].endswith("logs.py") and (got["filename"], got["module"]) == ("logs.py", "logs")
        assert 0 <= got["msecs"] < 1000 and abs(got["created"] - expected["created"]) < 60
    assert kept.records[0].__dict__ is not kept.records[1].__dict__
