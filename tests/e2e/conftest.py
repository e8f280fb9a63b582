"""The end-to-end cluster fixture (its helpers live in tests.support.e2e)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.e2e import Cluster, running_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """moto as STS and the real server mapping its identities; one per test module (moto's state
    is process-global, so two modules must not share it), stopped when the module is done."""
    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running
