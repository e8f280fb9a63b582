"""The verification cache against an attacker with a valid token or any AWS account:
re-spellings of one signed request are one entry and one STS call, and identities that
map to nobody cannot evict the entries of mapped users or their fast recall."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import REGISTRY

from authenticator.identity import Identity
from authenticator.partitions import get_partition
from authenticator.server.review import Reviewer
from authenticator.token import TOKEN_PREFIX, PresignedRequest, canonical_sha256, parse_token
from authenticator.verification_cache import VerifiedIdentityCache, unmapped_capacity
from authenticator.verifier import TokenVerifier
from tests.support.aio import until
from tests.support.identities import user_identity
from tests.support.mapping import FakeMapper
from tests.support.sts import FakeSTS
from tests.support.tokens import NOW, CountingParse, encode, make_token

AWS = get_partition("aws")
ALICE_KEY = "AKIAEXAMPLEKEY000001"
BOB_KEY = "AKIAEXAMPLEKEY000002"


def frozen_clock() -> datetime:
    return NOW


@dataclass
class PerKeySTS(FakeSTS):
    """Answers a different IAM user for each access key: ``u<key>``."""

    async def get_caller_identity(self, request: PresignedRequest) -> Identity:
        self.calls.append(request.access_key_id)
        if self.gate is not None:
            await self.gate.wait()
        key = request.access_key_id
        return user_identity(f"u{key}", access_key_id=key, user_id=f"AIDA{key}")


def setup(
    sts: FakeSTS, *, mapped_keys: AbstractSet[str], max_entries: int = 100_000, max_in_flight: int = 64
) -> tuple[VerifiedIdentityCache, Reviewer, CountingParse]:
    """The server's assembly (composition.build_verifier) over fakes: ``mapped_keys`` map to a user,
    read at each review (a test may change the set between reviews)."""
    cache = VerifiedIdentityCache(
        sts, clock=frozen_clock, ttl=60, max_entries=max_entries, max_in_flight=max_in_flight, wait=2.0
    )
    parse = CountingParse()
    verifier = TokenVerifier(
        sts=cache,
        partition=AWS,
        clock=frozen_clock,
        parse=parse,
        recall=cache.recall,
        settle=cache.settle,
    )
    mapper = FakeMapper(lambda identity: ("user", ("devs",)) if identity.access_key_id in mapped_keys else None)
    return cache, Reviewer(verifier=verifier, mapper=mapper), parse


def _url(token: str) -> str:
    body = token[len(TOKEN_PREFIX) :]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")


def respellings(token: str, count: int) -> list[str]:
    """``count`` distinct tokens of the one signed request of ``token``, none of them ``token``:
    the query reordered, and escapes spelled otherwise (hex case, an unreserved character escaped,
    a name's case) — what the signature does not cover."""
    base, _, query = _url(token).partition("?")
    segments = query.split("&")
    rng = random.Random(14)
    spellings: set[str] = set()
    while len(spellings) < count:
        order = segments[:]
        rng.shuffle(order)
        if rng.random() < 0.5:
            order = [s.replace("%2F", "%2f") for s in order]
        if rng.random() < 0.5:
            order = [s.replace("Action=", "action=").replace("GetCallerIdentity", "Get%43allerIdentity") for s in order]
        respelled = encode(f"{base}?{'&'.join(order)}")
        if respelled != token:
            spellings.add(respelled)
    return sorted(spellings)


def test_respellings_have_the_canonical_key_of_the_request_and_nothing_else_does() -> None:
    token = make_token(NOW)
    key = parse_token(token, now=NOW, partition=AWS).canonical_sha256
    for spelling in respellings(token, 50):
        assert parse_token(spelling, now=NOW, partition=AWS).canonical_sha256 == key
    # What is signed is in the key: another signature, value or host is another request.
    other = _url(token).replace("ab" * 32, "ac" * 32)
    assert parse_token(encode(other), now=NOW, partition=AWS).canonical_sha256 != key
    assert parse_token(make_token(NOW, access_key_id=BOB_KEY), now=NOW, partition=AWS).canonical_sha256 != key
    west = make_token(NOW, host="sts.us-west-2.amazonaws.com")
    assert parse_token(west, now=NOW, partition=AWS).canonical_sha256 != key
    # Length-prefixed: moving an '&' or '=' into a value does not make two queries alike.
    assert canonical_sha256("h", "a=b&c=d") != canonical_sha256("h", "a=b%26c%3Dd")
    assert canonical_sha256("h", "a=b&c=d") != canonical_sha256("h", "a%3Db&c=d")
    # '+' is a space, as parse_token reads it.
    assert canonical_sha256("h", "a=b+c") == canonical_sha256("h", "a=b%20c")


def test_reordered_and_respelled_tokens_make_one_sts_call_and_one_entry() -> None:
    async def scenario() -> None:
        sts = FakeSTS()
        cache, reviewer, _ = setup(sts, mapped_keys=frozenset({ALICE_KEY}))
        token = make_token(NOW)
        spellings = [token, *respellings(token, 300)]
        for spelling in spellings:
            assert (await reviewer.review(spelling)).allowed
        assert (len(sts.calls), len(cache)) == (1, 1)

    asyncio.run(scenario())


def test_respellings_in_flight_at_once_share_one_sts_call() -> None:
    async def scenario() -> None:
        sts = FakeSTS(gate=asyncio.Event())
        cache, reviewer, _ = setup(sts, mapped_keys=frozenset({ALICE_KEY}))
        reviews = [asyncio.create_task(reviewer.review(t)) for t in respellings(make_token(NOW), 100)]
        coalesced = REGISTRY.get_sample_value("aws_iam_authenticator_verification_coalesced_total") or 0.0
        await until(
            lambda: (
                (REGISTRY.get_sample_value("aws_iam_authenticator_verification_coalesced_total") or 0.0) - coalesced
                == 99
            ),
            "the 99 other spellings waiting on the one STS call",
        )
        sts.gate.set()  # type: ignore[union-attr]
        assert all(r.allowed for r in await asyncio.gather(*reviews))
        assert (len(sts.calls), len(cache)) == (1, 1)

    asyncio.run(scenario())


def _flood_key(i: int) -> str:
    return f"AKIAFLOOD{i:011d}"


def test_a_flood_of_unmapped_identities_does_not_evict_a_mapped_user() -> None:
    async def scenario() -> None:
        sts = PerKeySTS()
        cache, reviewer, _ = setup(sts, mapped_keys=frozenset({ALICE_KEY}), max_entries=10)
        alice = make_token(NOW, access_key_id=ALICE_KEY)
        assert (await reviewer.review(alice)).allowed
        flood = 10 * unmapped_capacity(10, 64)
        for i in range(flood):
            assert (await reviewer.review(make_token(NOW, access_key_id=_flood_key(i)))).http_status == 403
        assert len(sts.calls) == 1 + flood
        assert (await reviewer.review(alice)).allowed
        assert len(sts.calls) == 1 + flood  # alice's entry is still there
        # What the unmapped occupy is bounded apart from max_entries.
        assert len(cache) == 1 + unmapped_capacity(10, 64)

    asyncio.run(scenario())


def test_respellings_do_not_evict_other_tokens_or_their_recall() -> None:
    async def scenario() -> None:
        sts = PerKeySTS()
        cache, reviewer, parse = setup(sts, mapped_keys=frozenset({ALICE_KEY, BOB_KEY}), max_entries=10)
        alice = make_token(NOW, access_key_id=ALICE_KEY)
        assert (await reviewer.review(alice)).allowed
        for spelling in respellings(make_token(NOW, access_key_id=BOB_KEY), 500):
            assert (await reviewer.review(spelling)).allowed
        assert (len(sts.calls), len(cache)) == (2, 2)
        parsed = parse.calls
        assert (await reviewer.review(alice)).allowed
        assert (len(sts.calls), parse.calls) == (2, parsed)  # recalled by its text: no parse, no STS

    asyncio.run(scenario())


def test_an_identity_that_stops_mapping_leaves_the_mapped_tier() -> None:
    async def scenario() -> None:
        sts = PerKeySTS()
        mapped = {ALICE_KEY}
        _, reviewer, _ = setup(sts, mapped_keys=mapped, max_entries=10, max_in_flight=1)
        alice = make_token(NOW, access_key_id=ALICE_KEY)
        assert (await reviewer.review(alice)).allowed
        mapped.clear()  # alice's mapping is removed: the next review says so, from the cache
        assert (await reviewer.review(alice)).http_status == 403
        assert len(sts.calls) == 1
        # Now one of the unmapped, alice's entry goes with their flood ...
        for i in range(10 * unmapped_capacity(10, 1)):
            await reviewer.review(make_token(NOW, access_key_id=_flood_key(i)))
        calls = len(sts.calls)
        mapped.add(ALICE_KEY)
        assert (await reviewer.review(alice)).allowed
        assert len(sts.calls) == calls + 1

    asyncio.run(scenario())


def test_recall_aliases_go_with_their_entries() -> None:
    async def scenario() -> None:
        sts = PerKeySTS()
        cache, reviewer, _ = setup(sts, mapped_keys=frozenset({ALICE_KEY}), max_entries=10)
        alice = make_token(NOW, access_key_id=ALICE_KEY)
        assert (await reviewer.review(alice)).allowed
        for i in range(3 * unmapped_capacity(10, 64)):  # evicted from the unmapped tier
            await reviewer.review(make_token(NOW, access_key_id=_flood_key(i)))
        # Expired: dropped on the next look, alias and all.
        assert cache.recall(alice, NOW + timedelta(seconds=61)) is None
        assert len(cache._aliases) == len(cache) == unmapped_capacity(10, 64)

    asyncio.run(scenario())
