"""One replay of the image's install steps per test session (it takes a minute or two)."""

from __future__ import annotations

import sys

import pytest

from tests.support.deploy import Image, build_image


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return build_image(tmp_path_factory.mktemp("image-root"), sys.executable)
