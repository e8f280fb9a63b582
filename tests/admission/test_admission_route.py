"""The route's own promises, in-process: a bug of ours while judging fails open (allowed, with a
warning, logged), never a 500; a body over the limit is refused before it is read whole."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import FastAPI

from authenticator.admission import route
from authenticator.admission.models import AdmissionRequest
from tests.admission.conftest import CLEAN, configmap
from tests.support.admission import review


def _app() -> FastAPI:
    app = FastAPI()
    app.add_route("/validate/aws-auth", route.admission_endpoint(), methods=["POST"])
    return app


def _post(body: bytes) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://guard") as client:
            return await client.post("/validate/aws-auth", content=body)

    return asyncio.run(call())


def test_a_bug_while_judging_fails_open_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: AdmissionRequest, **_: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(route, "judge", broken)
    body = review("CREATE", configmap(CLEAN))
    with caplog.at_level(logging.ERROR, logger="authenticator.admission"):
        response = _post(httpx.Request("POST", "/", json=body).content)
    assert response.status_code == 200
    answer = response.json()["response"]
    assert answer["uid"] == body["request"]["uid"]
    assert answer["allowed"] is True
    assert answer["warnings"] == ["the aws-auth guard failed on this request and did not check it"]
    assert "aws-auth guard failed: a bug" in caplog.text


def test_a_body_over_the_limit_is_a_413() -> None:
    response = _post(b" " * (route.MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json()["response"]["status"]["message"].startswith("malformed request: body larger than")
