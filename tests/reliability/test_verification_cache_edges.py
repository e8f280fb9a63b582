"""The verification cache at its edges (authenticator.verification_cache): the clock boundaries
of an entry, what a shutdown cancels, what it reports, and the memory it shares.

Written against mutation testing (docs/mutation.md): each test fails on a change a real bug would
look like (a ``>`` become ``>=``, a reason lost, a failure left unretrieved).
"""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from authenticator.identity import Identity
from authenticator.partitions import get_partition
from authenticator.token import MAX_CLOCK_SKEW, PresignedRequest, TokenRejected
from authenticator.verification_cache import VerifiedIdentityCache, unmapped_capacity
from tests.support.aio import until
from tests.support.identities import user_identity
from tests.support.sts import FakeSTS
from tests.support.tokens import NOW, Clock, make_token, presigned_request

AWS = get_partition("aws")


def cache_of(sts: Any, clock: Clock, **limits: Any) -> VerifiedIdentityCache:
    settings: dict[str, Any] = {"ttl": 300, "max_entries": 100, "max_in_flight": 4, "wait": 5}
    settings.update(limits)
    return VerifiedIdentityCache(sts, clock=clock, **settings)


def entries_gauge() -> float | None:
    return REGISTRY.get_sample_value("aws_iam_authenticator_verification_cache_entries")


def test_an_entry_signed_exactly_fifteen_minutes_ahead_of_a_clock_that_went_back_is_still_good() -> None:
    async def scenario() -> None:
        sts, clock = FakeSTS(), Clock()
        cache = cache_of(sts, clock)
        req = presigned_request()
        await cache.get_caller_identity(req)
        clock.now = NOW - MAX_CLOCK_SKEW  # signed_at == now + 15 min: not yet "in the future"
        await cache.get_caller_identity(req)
        assert cache.recall(make_token(NOW), clock.now) is not None
        assert len(sts.calls) == 1
        clock.now = NOW - MAX_CLOCK_SKEW - timedelta(microseconds=1)  # now it is
        assert cache.recall(make_token(NOW), clock.now) is None
        assert len(cache) == 0  # and the entry is gone with its alias

    asyncio.run(scenario())


def test_an_expired_entry_is_evicted_with_its_alias_when_looked_up() -> None:
    async def scenario() -> None:
        sts, clock = FakeSTS(), Clock()
        cache = cache_of(sts, clock, ttl=60)
        await cache.get_caller_identity(presigned_request())
        assert len(cache) == 1 and entries_gauge() == 1
        assert cache.recall(make_token(NOW), NOW + timedelta(seconds=60)) is None
        assert len(cache) == 0 and cache._aliases == {}
        assert entries_gauge() == 0

    asyncio.run(scenario())


def test_the_unmapped_tier_of_a_disabled_cache_holds_nothing() -> None:
    assert unmapped_capacity(0, 8) == 0
    assert unmapped_capacity(16, 8) == 16
    assert unmapped_capacity(1600, 8) == 100
    assert unmapped_capacity(1615, 8) == 100  # a whole number of entries, rounded down


def test_the_smallest_limits_are_accepted_and_anything_smaller_is_refused_with_its_rule() -> None:
    cache = cache_of(FakeSTS(), Clock(), ttl=0, max_entries=0, max_in_flight=1, wait=0)
    assert not cache.enabled and len(cache) == 0
    for limits in ({"ttl": -1}, {"max_entries": -1}, {"max_in_flight": 0}, {"wait": -0.5}):
        with pytest.raises(ValueError) as raised:
            cache_of(FakeSTS(), Clock(), **limits)
        assert str(raised.value) == "ttl, max_entries and wait must be >= 0 and max_in_flight >= 1"


def test_a_throttled_call_says_how_many_calls_are_allowed() -> None:
    async def scenario() -> None:
        sts = FakeSTS(gate=asyncio.Event())
        cache = cache_of(sts, Clock(), max_in_flight=1, wait=0.01)
        held = asyncio.create_task(cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000001")))
        await until(lambda: cache.in_flight == 1, "the first call in flight")
        with pytest.raises(TokenRejected) as caught:
            await cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000002"))
        assert caught.value.reason == "too many STS calls in flight (1); try again"
        sts.gate.set()  # type: ignore[union-attr]
        await held

    asyncio.run(scenario())


def test_shutdown_cancels_calls_in_flight_and_reports_no_error() -> None:
    errors: list[dict[str, Any]] = []

    async def scenario() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
        sts = FakeSTS()
        cache = cache_of(sts, Clock())
        await cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000009"))  # one entry
        sts.gate = asyncio.Event()  # from now on STS never answers
        waiter = asyncio.create_task(cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000001")))
        await until(lambda: len(sts.calls) == 2, "the second call sent")
        await cache.aclose()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert len(cache) == 0 and sts.closed and entries_gauge() == 0
        await until(lambda: cache._pending == {}, "the cancelled call's done-callback")

    asyncio.run(scenario())
    assert errors == []


def test_a_failure_nobody_waits_for_any_more_is_not_reported_as_never_retrieved() -> None:
    errors: list[dict[str, Any]] = []

    async def scenario() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
        sts = FakeSTS(gate=asyncio.Event(), error=OSError("connection reset"))
        cache = cache_of(sts, Clock())
        waiter = asyncio.create_task(cache.get_caller_identity(presigned_request()))
        await until(lambda: bool(sts.calls), "the call sent")
        waiter.cancel()  # the only waiter goes away; the call goes on (shielded) and fails
        sts.gate.set()  # type: ignore[union-attr]
        await until(lambda: cache._pending == {}, "the failed call forgotten")
        gc.collect()

    asyncio.run(scenario())
    gc.collect()
    assert errors == []


def test_a_client_without_aclose_is_closed_without_error() -> None:
    class Bare:
        async def get_caller_identity(self, request: PresignedRequest) -> Identity:
            return user_identity()

    async def scenario() -> None:
        cache = cache_of(Bare(), Clock())
        await cache.get_caller_identity(presigned_request())
        await cache.aclose()
        assert len(cache) == 0

    asyncio.run(scenario())


def test_entries_of_one_caller_share_one_copy_of_each_string() -> None:
    def fresh(text: str) -> str:
        return "".join(list(text))  # equal, not the same object

    class Answers:
        async def get_caller_identity(self, request: PresignedRequest) -> Identity:
            model = user_identity()
            return Identity(**{name: fresh(getattr(model, name)) for name in Identity.__slots__})

    async def scenario() -> None:
        cache = cache_of(Answers(), Clock())
        for key in ("AKIAEXAMPLEKEY000001", "AKIAEXAMPLEKEY000002"):
            await cache.get_caller_identity(presigned_request(key=key))
        first, second = (
            cache.recall(make_token(NOW, access_key_id=key), NOW)
            for key in ("AKIAEXAMPLEKEY000001", "AKIAEXAMPLEKEY000002")
        )
        assert first is not None and second is not None and first.identity == second.identity
        assert first.identity.arn is second.identity.arn
        assert first.identity.account_id is second.identity.account_id

    asyncio.run(scenario())
