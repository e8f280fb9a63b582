"""The verification cache (authenticator.verification_cache) with an injected clock and an
STS fake that holds its answer until told: TTL and token expiry, the LRU bound, no token kept,
coalescing, failures shared but not cached, the bound on calls in flight, and the mapping chain
(real MappingChain over a real MountedFileSource re-reading its aws-auth file) applied on every
review, above the cache."""

from __future__ import annotations

import asyncio
import gc
import inspect
from datetime import timedelta
from pathlib import Path

import pytest

from authenticator.mapping.chain import MappingChain
from authenticator.mapping.sources.file import MountedFileSource
from authenticator.partitions import get_partition
from authenticator.server.config import ServerConfig
from authenticator.server.review import Reviewer
from authenticator.token import RejectionKind, TokenRejected, parse_token
from authenticator.verification_cache import VerifiedIdentityCache
from authenticator.verifier import TokenVerifier
from tests.support.aio import until
from tests.support.identities import user_identity
from tests.support.mapping import FakeMapper
from tests.support.sts import FakeSTS
from tests.support.tokens import NOW, Clock, CountingParse, make_token, presigned_request

AWS = get_partition("aws")
SERVER_DEFAULTS = ServerConfig(cluster_id="cache-test")


def cache_of(
    sts: FakeSTS,
    *,
    clock: Clock,
    ttl: float = SERVER_DEFAULTS.verification_cache_ttl,
    max_entries: int = SERVER_DEFAULTS.verification_cache_size,
    max_in_flight: int = SERVER_DEFAULTS.sts_max_in_flight,
    wait: float = SERVER_DEFAULTS.sts_max_in_flight_wait,
) -> VerifiedIdentityCache:
    """A cache with the server's default limits, except those a test sets."""
    return VerifiedIdentityCache(
        sts, clock=clock, ttl=ttl, max_entries=max_entries, max_in_flight=max_in_flight, wait=wait
    )


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_a_verified_identity_is_reused_until_the_ttl() -> None:
    async def scenario() -> None:
        sts, clock = FakeSTS(), Clock()
        cache = cache_of(sts, clock=clock, ttl=60)
        first = await cache.get_caller_identity(presigned_request())
        clock.now = NOW + timedelta(seconds=60) - timedelta(microseconds=1)
        assert await cache.get_caller_identity(presigned_request()) == first
        assert len(sts.calls) == 1
        clock.now = NOW + timedelta(seconds=60)
        await cache.get_caller_identity(presigned_request())
        assert len(sts.calls) == 2

    run(scenario())


def test_never_past_the_tokens_own_expiry() -> None:
    async def scenario() -> None:
        sts = FakeSTS()
        signed = NOW - timedelta(minutes=14)  # expires at NOW + 1 min, before the 5-minute TTL
        clock = Clock(NOW)
        cache = cache_of(sts, clock=clock, ttl=300)
        req = presigned_request(signed)
        assert req.expires_at == NOW + timedelta(minutes=1)
        await cache.get_caller_identity(req)
        clock.now = req.expires_at - timedelta(microseconds=1)
        await cache.get_caller_identity(req)
        assert len(sts.calls) == 1
        clock.now = req.expires_at
        await cache.get_caller_identity(req)
        assert len(sts.calls) == 2

    run(scenario())


def test_ttl_zero_disables_the_cache() -> None:
    async def scenario() -> None:
        sts = FakeSTS()
        cache = cache_of(sts, clock=Clock(), ttl=0)
        for _ in range(3):
            await cache.get_caller_identity(presigned_request())
        assert len(sts.calls) == 3
        assert len(cache) == 0

    run(scenario())


def test_size_is_bounded_least_recently_used_out_first() -> None:
    async def scenario() -> None:
        sts = FakeSTS()
        cache = cache_of(sts, clock=Clock(), max_entries=3)

        async def review(key: str) -> None:
            # As the reviewer does: verify, then report that the identity mapped.
            req = presigned_request(key=key)
            await cache.get_caller_identity(req)
            cache.settle(req.canonical_sha256, mapped=True)

        keys = [f"AKIAEXAMPLEKEY00000{i}" for i in range(4)]
        for key in keys[:3]:
            await review(key)
        await review(keys[0])  # 0 is now the most recent
        await review(keys[3])  # evicts 1
        assert len(cache) == 3 and len(sts.calls) == 4
        await review(keys[0])
        await review(keys[2])
        assert len(sts.calls) == 4
        await review(keys[1])
        assert len(sts.calls) == 5
        for i in range(1000):
            await review(f"AKIAEXAMPLEKEY{i:06d}")
        assert len(cache) == 3

    run(scenario())


def _held_by_anything_but_frames(obj: object) -> list[object]:
    gc.collect()
    return [r for r in gc.get_referrers(obj) if not (inspect.isframe(r) or inspect.iscoroutine(r))]


def test_the_token_and_url_are_never_stored() -> None:
    async def scenario() -> None:
        cache = cache_of(FakeSTS(), clock=Clock())
        token = make_token(NOW)
        req = parse_token(token, now=NOW, partition=AWS)
        await cache.get_caller_identity(req)
        assert cache.recall(token, NOW) is not None
        # Once verified and recalled, only this function's frame holds the token, its request
        # and its URL: nothing the cache keeps refers to them.
        assert _held_by_anything_but_frames(token) == []
        assert _held_by_anything_but_frames(req) == []
        assert _held_by_anything_but_frames(req.url) == [req]
        tiers = (cache._mapped, cache._unmapped, cache._aliases)
        assert all(len(key) == 32 for tier in tiers for key in tier)
        assert all(len(key) == 32 for key in cache._aliases.values())

    run(scenario())


def test_100_concurrent_reviews_of_one_token_make_one_sts_call() -> None:
    async def scenario() -> None:
        sts = FakeSTS(gate=asyncio.Event())
        cache = cache_of(sts, clock=Clock())
        waiters = [asyncio.create_task(cache.get_caller_identity(presigned_request())) for _ in range(100)]
        await until(lambda: len(sts.calls) == 1)
        sts.gate.set()  # type: ignore[union-attr]
        identities = await asyncio.gather(*waiters)
        assert len(sts.calls) == 1
        assert identities == [sts.identity] * 100

    run(scenario())


def test_a_shared_failure_reaches_every_waiter_and_is_not_cached() -> None:
    async def scenario() -> None:
        rejected = TokenRejected(RejectionKind.STS_ERROR, "error from AWS (expected 200, got 503)")
        sts = FakeSTS(error=rejected, gate=asyncio.Event())
        cache = cache_of(sts, clock=Clock())
        waiters = [asyncio.create_task(cache.get_caller_identity(presigned_request())) for _ in range(100)]
        await until(lambda: len(sts.calls) == 1)
        sts.gate.set()  # type: ignore[union-attr]
        outcomes = await asyncio.gather(*waiters, return_exceptions=True)
        assert all(isinstance(o, TokenRejected) and o.kind is RejectionKind.STS_ERROR for o in outcomes)
        assert len(sts.calls) == 1
        sts.error = None
        await cache.get_caller_identity(presigned_request())
        assert len(sts.calls) == 2

    run(scenario())


def test_one_waiter_going_away_does_not_cancel_the_others() -> None:
    async def scenario() -> None:
        sts = FakeSTS(gate=asyncio.Event())
        cache = cache_of(sts, clock=Clock())
        first = asyncio.create_task(cache.get_caller_identity(presigned_request()))
        second = asyncio.create_task(cache.get_caller_identity(presigned_request()))
        await until(lambda: len(sts.calls) == 1)
        first.cancel()
        sts.gate.set()  # type: ignore[union-attr]
        assert (await second).arn == user_identity().arn
        assert first.cancelled() and len(sts.calls) == 1
        assert len(cache) == 1  # the call finished and its answer was kept

    run(scenario())


def test_calls_in_flight_are_bounded_and_the_rest_get_throttled_in_bounded_time() -> None:
    async def scenario() -> None:
        sts = FakeSTS(gate=asyncio.Event())
        cache = cache_of(sts, clock=Clock(), max_in_flight=2, wait=0.05)
        held = [
            asyncio.create_task(cache.get_caller_identity(presigned_request(key=f"AKIAEXAMPLEKEY00000{i}")))
            for i in (1, 2)
        ]
        await until(lambda: cache.in_flight == 2)
        with pytest.raises(TokenRejected) as caught:
            await cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000003"))
        assert caught.value.kind is RejectionKind.STS_THROTTLING
        assert len(sts.calls) == 2  # the third never reached STS
        sts.gate.set()  # type: ignore[union-attr]
        await asyncio.gather(*held)
        assert cache.in_flight == 0
        await cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000003"))
        assert len(sts.calls) == 3

    run(scenario())


def test_a_waiting_call_starts_when_a_slot_frees() -> None:
    async def scenario() -> None:
        sts = FakeSTS(gate=asyncio.Event())
        cache = cache_of(sts, clock=Clock(), max_in_flight=1, wait=30)
        first = asyncio.create_task(cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000001")))
        second = asyncio.create_task(cache.get_caller_identity(presigned_request(key="AKIAEXAMPLEKEY000002")))
        await until(lambda: len(sts.calls) == 1)
        for _ in range(50):  # loop turns: the second waits for the slot and does not call STS meanwhile
            await asyncio.sleep(0)
        assert len(sts.calls) == 1
        sts.gate.set()  # type: ignore[union-attr]
        await asyncio.gather(first, second)
        assert len(sts.calls) == 2

    run(scenario())


def test_aclose_closes_the_wrapped_client() -> None:
    async def scenario() -> None:
        sts = FakeSTS()
        cache = cache_of(sts, clock=Clock())
        await cache.get_caller_identity(presigned_request())
        await cache.aclose()
        assert sts.closed and len(cache) == 0

    run(scenario())


def test_invalid_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        cache_of(FakeSTS(), clock=Clock(), max_in_flight=0)
    with pytest.raises(ValueError):
        cache_of(FakeSTS(), clock=Clock(), ttl=-1)


_MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {{name: aws-auth, namespace: kube-system}}
data:
  mapUsers: |
    - userarn: {arn}
      username: {username}
      groups: [{group}]
"""


def test_a_mapping_change_applies_to_a_cached_identity_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        arn = user_identity().arn
        aws_auth = tmp_path / "aws-auth.yaml"
        aws_auth.write_text(_MANIFEST.format(arn=arn, username="alice", group="devs"))
        source = MountedFileSource(aws_auth_file=str(aws_auth))
        sts, clock = FakeSTS(), Clock()
        cache = cache_of(sts, clock=clock, ttl=60)
        verifier = TokenVerifier(sts=cache, partition=AWS, clock=clock, recall=cache.recall)
        reviewer = Reviewer(verifier=verifier, mapper=MappingChain([source]))
        token = make_token(NOW)

        first = await reviewer.review(token)
        assert first.user is not None and (first.user.username, first.user.groups) == ("alice", ("devs",))

        aws_auth.write_text(_MANIFEST.format(arn=arn, username="alice-renamed", group="admins"))
        assert source.reload() is not None
        second = await reviewer.review(token)
        assert second.user is not None and (second.user.username, second.user.groups) == ("alice-renamed", ("admins",))

        other = "arn:aws:iam::111122223333:user/somebody-else"
        aws_auth.write_text(_MANIFEST.format(arn=other, username="x", group="y"))
        assert source.reload() is not None
        third = await reviewer.review(token)
        assert third.user is None and third.http_status == 403
        assert len(sts.calls) == 1  # all three used the one verified identity

    run(scenario())


def _recalling_reviewer(cache: VerifiedIdentityCache, clock: Clock, parse: CountingParse) -> Reviewer:
    mapper = FakeMapper(lambda identity: ("alice", ("devs",)))
    verifier = TokenVerifier(sts=cache, partition=AWS, clock=clock, parse=parse, recall=cache.recall)
    return Reviewer(verifier=verifier, mapper=mapper)


def test_a_verified_token_is_recalled_without_parsing_it_again() -> None:
    async def scenario() -> None:
        sts, clock, parse = FakeSTS(), Clock(), CountingParse()
        cache = cache_of(sts, clock=clock, ttl=60)
        reviewer = _recalling_reviewer(cache, clock, parse)
        token = make_token(NOW)
        first = await reviewer.review(token)
        second = await reviewer.review(token)
        assert (parse.calls, len(sts.calls)) == (1, 1)
        assert first.user is not None and second == first
        assert second.sts_region == "us-east-1" and second.identity == user_identity()
        # Only this very text is recalled.
        assert cache.recall(token, NOW) is not None
        assert cache.recall(token[:-1], NOW) is None and cache.recall(token + "A", NOW) is None

    run(scenario())


def test_a_recalled_token_meets_the_clock_rules_again() -> None:
    async def scenario() -> None:
        sts, parse = FakeSTS(), CountingParse()
        signed = NOW - timedelta(minutes=14)  # expires at NOW + 1 min
        clock = Clock(NOW)
        cache = cache_of(sts, clock=clock, ttl=300)
        reviewer = _recalling_reviewer(cache, clock, parse)
        token = make_token(signed)
        assert (await reviewer.review(token)).allowed
        # Past the token's expiry: not recalled; the full rules deny it, without STS.
        clock.now = signed + timedelta(minutes=15, microseconds=1)
        expired = await reviewer.review(token)
        assert expired.http_status == 403 and "expired" in (expired.error or "")
        assert (parse.calls, len(sts.calls)) == (2, 1)
        # A clock set back by more than the allowed skew makes the token one from the future.
        fresh = make_token(NOW)
        assert (await reviewer.review(fresh)).allowed
        clock.now = NOW - timedelta(minutes=15, seconds=1)
        assert cache.recall(fresh, clock.now) is None
        future = await reviewer.review(fresh)
        assert future.http_status == 403 and "in the future" in (future.error or "")

    run(scenario())


def test_a_rejected_token_is_never_recalled() -> None:
    async def scenario() -> None:
        sts, clock, parse = (
            FakeSTS(error=TokenRejected(RejectionKind.STS_ERROR, "denied by STS")),
            Clock(),
            CountingParse(),
        )
        cache = cache_of(sts, clock=clock, ttl=60)
        reviewer = _recalling_reviewer(cache, clock, parse)
        token = make_token(NOW)
        for _ in range(2):
            assert (await reviewer.review(token)).http_status == 403
        assert (parse.calls, len(sts.calls)) == (2, 2)
        assert cache.recall(token, NOW) is None

    run(scenario())
