"""Make the shared test modules importable from tests/e2e.

The test directories have no ``__init__.py``; pytest (prepend import mode) puts only the test
file's own directory on ``sys.path``. The end-to-end tests replay ``tests/token_cases.py`` and
drive the server with ``tests/server/server_fakes.py``'s ``ServerProcess``, so both directories
go on the path here, once. (A ``pythonpath = ["tests", "tests/server"]`` pytest option would say
the same for the whole suite.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent.parent
for _directory in (_TESTS, _TESTS / "server"):
    if str(_directory) not in sys.path:
        sys.path.insert(0, str(_directory))

from e2e_support import Cluster, running_cluster  # noqa: E402  (needs the path above)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """moto as STS and the real server mapping its identities; one per test module (moto's state
    is process-global, so two modules must not share it), stopped when the module is done."""
    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running
