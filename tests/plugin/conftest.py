"""Fixtures for the token plugin's tests (helpers live in plugin_support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.plugin import MotoSts


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def _moto_server() -> Iterator[MotoSts]:
    server = MotoSts()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_sts(_moto_server: MotoSts) -> MotoSts:
    _moto_server.reset()
    return _moto_server
