"""SIGTERM while reviews are in flight: the real server stops taking connections, lets the reviews
it holds finish (each is bounded by server.stsMaxInFlightWait + server.stsTimeout, and uvicorn's
graceful timeout is set above that), then exits 0. The STS stand-in holds its answers until the
test releases them, so the reviews are in flight for as long as the test needs."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Webhook, config_text
from tests.support.sts_standin import ARN, StsStandIn
from tests.support.tokens import mint_token


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StsStandIn]:
    with StsStandIn(tmp_path) as running:
        yield running


def _webhook(tmp_path: Path, standin: StsStandIn, sts_timeout: float) -> Webhook:
    config = tmp_path / "config.yaml"
    config.write_text(config_text(standin.url, standin.ca_path, ARN, stsTimeout=sts_timeout))
    return Webhook(config, tmp_path / "state")


def test_reviews_in_flight_finish_on_sigterm(tmp_path: Path, standin: StsStandIn) -> None:
    standin.hold()
    with _webhook(tmp_path, standin, sts_timeout=20) as webhook, ThreadPoolExecutor(4) as pool:
        pending = [pool.submit(webhook.review_alone, mint_token()) for _ in range(4)]
        standin.wait_for_calls(lambda calls: calls == 4, "four reviews waiting on STS")
        webhook.begin_shutdown()
        # Shutting down, with four reviews held: no new connection is taken.
        with pytest.raises(httpx.ConnectError):
            webhook.review_alone(mint_token())
        assert not any(f.done() for f in pending)
        standin.release()
        assert webhook.terminate() == 0
        responses = [f.result() for f in pending]
        assert [r.status_code for r in responses] == [200] * 4
        assert all(r.json()["status"]["user"]["username"] == "mapped" for r in responses)
        out = webhook.output()
    assert "Shutting down" in out and "graceful shutdown exceeded" not in out


def test_a_stalled_sts_cannot_hold_the_shutdown_past_its_deadline(tmp_path: Path, standin: StsStandIn) -> None:
    standin.mode = "stall"
    with _webhook(tmp_path, standin, sts_timeout=1) as webhook, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(webhook.review_alone, mint_token())
        standin.wait_for_calls(lambda calls: calls == 1, "a review waiting on a stalled STS")
        assert webhook.terminate() == 0
        response = pending.result()
        # The review ended at its own STS deadline, a denial, before the graceful bound.
        assert response.status_code == 403
        assert "timeout" in response.json()["status"]["error"]
        assert "timeout graceful shutdown exceeded" not in webhook.output()
