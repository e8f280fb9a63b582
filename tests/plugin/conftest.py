"""Fixtures for the token plugin's tests (helpers live in tests.support.plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator.demo.sts_peer import StsPeer


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def _moto_server() -> Iterator[StsPeer]:
    """moto as STS over plain HTTP: the plugin is pointed at it by AWS_ENDPOINT_URL_STS alone."""
    server = StsPeer(tls=False).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_sts(_moto_server: StsPeer) -> StsPeer:
    _moto_server.reset()
    return _moto_server
