"""Fault injection: the real server process against an STS stand-in that stalls, resets, drips,
answers garbage, 503s or throttles. Every review ends in a denial or a 429 (the client's bound is
far above the server's 1 s STS deadline), /healthz keeps answering, nothing is cached from a
failure, and the next good request succeeds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from tests.support.processes import Webhook, config_text
from tests.support.sts_standin import ARN, StsStandIn
from tests.support.tokens import mint_token

STS_TIMEOUT = 1
MAX_IN_FLIGHT = 4


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StsStandIn]:
    with StsStandIn(tmp_path_factory.mktemp("sts"), drip_interval=0.2) as running:
        yield running


def _webhook(standin: StsStandIn, tmp_path_factory: pytest.TempPathFactory, sts_timeout: float) -> Webhook:
    work = tmp_path_factory.mktemp("webhook")
    config = work / "config.yaml"
    config.write_text(
        config_text(
            standin.url,
            standin.ca_path,
            ARN,
            stsTimeout=sts_timeout,
            stsMaxInFlight=MAX_IN_FLIGHT,
            stsMaxInFlightWait=0.5,
        )
    )
    return Webhook(config, work / "state")


@pytest.fixture(scope="module")
def webhook(standin: StsStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    with _webhook(standin, tmp_path_factory, STS_TIMEOUT) as running:
        yield running


@pytest.fixture(scope="module")
def patient_webhook(standin: StsStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    """The same bounds, but an STS deadline no test step comes near."""
    with _webhook(standin, tmp_path_factory, 30) as running:
        yield running


@pytest.fixture(autouse=True)
def _healthy_standin(standin: StsStandIn) -> Iterator[None]:
    standin.mode = "ok"
    yield
    standin.mode = "ok"
    standin.release()


def _denied(response: object, status: int) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"]["authenticated"] is False
    assert body["status"]["error"]


def _allowed(webhook: Webhook) -> None:
    response = webhook.review(mint_token())
    assert response.status_code == 200, response.text
    assert response.json()["status"]["user"]["username"] == "mapped"


@pytest.mark.parametrize(
    ("mode", "status", "reason"),
    [
        ("stall", 403, "timeout"),
        ("reset", 403, "error during GET"),
        ("drip", 403, "timeout"),
        ("garbage", 403, "error during GET"),
        ("xml", 403, "not JSON"),
        ("503", 403, "got 503"),
        ("throttle", 429, "throttled"),
    ],
)
def test_fault_ends_in_denial_then_recovers(
    webhook: Webhook, standin: StsStandIn, mode: str, status: int, reason: str
) -> None:
    _allowed(webhook)  # so the faulty call goes out on a pooled keep-alive connection
    standin.mode = mode
    before = standin.calls
    response = webhook.review(mint_token())
    _denied(response, status)
    assert reason in response.json()["status"]["error"]
    # No retry inside one review, except where Go's net/http (the reference's client) retries
    # too: a reused connection that ended before any byte of an answer gets one fresh try.
    assert standin.calls - before == (2 if mode == "reset" else 1)
    standin.mode = "ok"
    _allowed(webhook)


def test_a_failure_is_not_cached(webhook: Webhook, standin: StsStandIn) -> None:
    token = mint_token()
    standin.mode = "503"
    _denied(webhook.review(token), 403)
    standin.mode = "ok"
    before = standin.calls
    assert webhook.review(token).status_code == 200
    assert standin.calls == before + 1


def test_a_503_storm_denies_every_review_and_passes(webhook: Webhook, standin: StsStandIn) -> None:
    standin.mode = "503"
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: webhook.review_alone(mint_token()), range(24)))
    assert {r.status_code for r in responses} <= {403, 429}
    assert any(r.status_code == 403 for r in responses)
    standin.mode = "ok"
    _allowed(webhook)
    assert webhook.metric("sts_in_flight") == 0


def test_held_sts_bounds_calls_in_flight_and_healthz_still_answers(
    patient_webhook: Webhook, standin: StsStandIn
) -> None:
    webhook = patient_webhook
    standin.hold()  # answers wait for release(): the first calls stay in flight as long as needed
    rejected_before = webhook.metric("sts_in_flight_limit_rejections_total")
    calls_before = standin.calls
    count = MAX_IN_FLIGHT * 2
    with ThreadPoolExecutor(count) as pool:
        pending = [pool.submit(webhook.review_alone, mint_token()) for _ in range(count)]
        standin.wait_for_calls(lambda calls: calls >= calls_before + MAX_IN_FLIGHT, "the first calls held")
        # The rest find no slot within stsMaxInFlightWait (0.5 s) and end, while the first are held.
        done: set[object] = set()
        while len(done) < MAX_IN_FLIGHT:
            finished, _ = wait([f for f in pending if f not in done], timeout=30, return_when=FIRST_COMPLETED)
            assert finished, "no review ended within 30 s"
            done |= finished
        assert sorted(f.result().status_code for f in done) == [429] * MAX_IN_FLIGHT  # type: ignore[attr-defined]
        with webhook.new_client(timeout=5) as other:
            health = other.get("/healthz")
            assert (health.status_code, health.text) == (200, "ok")
            assert "aws_iam_authenticator_sts_in_flight 4.0" in other.get("/metrics").text
        standin.release()
        statuses = sorted(f.result().status_code for f in pending)
    assert statuses == [200] * MAX_IN_FLIGHT + [429] * MAX_IN_FLIGHT
    assert standin.calls == calls_before + MAX_IN_FLIGHT
    assert webhook.metric("sts_in_flight_limit_rejections_total") == rejected_before + MAX_IN_FLIGHT
    assert webhook.metric("sts_in_flight") == 0
    _allowed(webhook)


def test_metrics_show_hits_misses_and_results(webhook: Webhook, standin: StsStandIn) -> None:
    hits = webhook.metric("verification_cache_hits_total")
    misses = webhook.metric("verification_cache_misses_total")
    token = mint_token()
    before = standin.calls
    for _ in range(3):
        assert webhook.review(token).status_code == 200
    assert standin.calls == before + 1
    assert webhook.metric("verification_cache_hits_total") == hits + 2
    assert webhook.metric("verification_cache_misses_total") == misses + 1
    assert webhook.metric("verification_cache_entries") >= 1


def _reviews(webhook: Webhook, result: str) -> float:
    """The authenticate_latency_seconds count of one result label: reviews by outcome."""
    text = webhook.client.get("/metrics").text
    name = "aws_iam_authenticator_authenticate_latency_seconds_count"
    found = re.search(rf'^{name}\{{result="{result}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_reviews_by_result(webhook: Webhook, standin: StsStandIn) -> None:
    before = {r: _reviews(webhook, r) for r in ("success", "sts_throttling", "sts_error", "invalid_token")}
    _allowed(webhook)
    standin.mode = "throttle"
    _denied(webhook.review(mint_token()), 429)
    standin.mode = "503"
    _denied(webhook.review(mint_token()), 403)
    _denied(webhook.review("k8s-aws-v1.not-a-token"), 403)
    after = {r: _reviews(webhook, r) for r in before}
    assert {r: after[r] - before[r] for r in before} == dict.fromkeys(before, 1.0)


def test_the_cache_key_is_the_whole_token(webhook: Webhook, standin: StsStandIn) -> None:
    # The stand-in checks no signature, so it answers a token of any cluster: the same key signed
    # for two clusters at the same second is two tokens, two entries, two STS calls.
    key = "AKIA" + "B" * 16
    before = standin.calls
    assert webhook.review(mint_token(access_key_id=key)).status_code == 200
    assert webhook.review(mint_token(access_key_id=key, cluster_id="another")).status_code == 200
    assert standin.calls == before + 2


def test_config_rejects_a_zero_bound(tmp_path: Path) -> None:
    from authenticator.server.config import ConfigError, load_config

    config = tmp_path / "c.yaml"
    config.write_text("clusterID: c\nserver:\n  stsMaxInFlight: 0\n")
    with pytest.raises(ConfigError, match=r"server\.stsMaxInFlight"):
        load_config(str(config))
