"""What stands between the verifier and STS when many reviews arrive at once.

``VerifiedIdentityCache`` has the ``get_caller_identity(request)`` of ``STSClient`` and wraps one:

- **Cache**: a verified token's ``Identity`` is reused for at most ``ttl`` seconds and never past
  the token's own expiry (``request.expires_at``). Keyed by ``request.canonical_sha256``, the
  signed request in canonical form (``authenticator.token.canonical_sha256``): the order of a
  presigned URL's query and the spelling of its escapes are not signed, so keying by the token's
  text would let one signature stand for thousands of tokens, each a miss and an STS call. The
  token and its URL are never stored. Only identities are cached: the mapping chain runs on
  every review, so a mapping change applies at once.
- **Two bounded tiers**: anyone with an AWS account can have STS verify tokens, so what identities
  that map to nobody occupy is bounded apart. A new entry starts in the small *unmapped* tier;
  the reviewer reports each review's mapping (``settle``): an identity that mapped moves to the
  *mapped* tier (``max_entries``), one that no longer maps moves back. Each tier is its own LRU,
  so a flood of unmapped identities only ever evicts its own kind.
- **Recall**: ``recall(token, now)`` answers a review of a token already verified without parsing
  it again. An alias index maps the SHA-256 of a token's text to its entry: one alias per entry,
  the spelling first verified, dropped with the entry. So the index is bounded by the entries and
  a flood of re-spelled tokens adds nothing to it (such a spelling is parsed, then found by its
  canonical key, with no STS call). The local rules of docs/token.md are a function of the
  token's text and the clock; an alias means this very text passed all of them, and the two that
  depend on the clock (expiry, and not too far in the future) are checked again against ``now``.
- **Coalescing**: reviews of the same signed request (by canonical key) while its STS call is in
  flight share that call (one task, every waiter shielded from the others' cancellation). A
  failure is shared too, never cached.
- **A bound on STS calls in flight**: at most ``max_in_flight`` at once; a call that cannot start
  within ``wait`` seconds is ``TokenRejected(STS_THROTTLING)`` (the webhook answers 429, as when
  STS itself throttles), so a burst waits a bounded time instead of queueing without end.

A part of verification, beside ``authenticator.verifier``, not of the server: a recalled
identity must be exactly as trustworthy as a fresh one, so what it re-checks is a matter of the
token rules, and the verifier's first step returns its entries. Only the server builds one (a
long-running process sees a token more than once); ``verify`` checks one token and needs none.

The clock is injected (the verifier's, tz-aware UTC); nothing here does I/O but the wrapped call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from authenticator import metrics
from authenticator.identity import Identity
from authenticator.sts import CallerIdentityClient
from authenticator.token import MAX_CLOCK_SKEW, PresignedRequest, RejectionKind, TokenRejected, token_sha256

__all__ = ["Recalled", "VerifiedIdentityCache"]


def _compact(identity: Identity) -> Identity:
    """The identity with its strings interned: 100,000 tokens of a few thousand callers share one
    copy of each ARN, account and key id instead of holding their own (docs/performance.md S4)."""
    fields = {f.name: getattr(identity, f.name) for f in dataclasses.fields(identity)}
    return dataclasses.replace(identity, **{k: sys.intern(v) for k, v in fields.items() if type(v) is str})


class Recalled(NamedTuple):
    """A cache entry: what a review needs of a token verified before (who signed it, its STS
    region) and how long that holds. One flat tuple: 100,000 of them are kept (S4)."""

    identity: Identity
    region: str
    valid_until: datetime  # min(stored + ttl, the token's expiry)
    signed_at: datetime  # X-Amz-Date, for the "not in the future" rule
    key: bytes  # canonical_sha256 of the request: the entry's key, for ``settle``
    alias: bytes  # token_sha256 of the spelling first verified: its recall alias


def unmapped_capacity(max_entries: int, max_in_flight: int) -> int:
    """How many entries the unmapped tier holds: enough for every STS call that can finish while
    its reviews are being mapped (so a new mapped user is not pushed out before ``settle``), and
    a sixteenth of the mapped tier for retries of the unmapped; small beside ``max_entries``."""
    return 0 if max_entries == 0 else max(2 * max_in_flight, max_entries // 16)


class VerifiedIdentityCache:
    """``STSClient.get_caller_identity`` with a cache, coalescing and a bound on calls in flight.

    The limits have no defaults here: the server's configuration holds them (ServerConfig's
    verificationCacheTTL, verificationCacheSize, stsMaxInFlight, stsMaxInFlightWait).
    ``max_entries`` bounds the mapped tier; the unmapped tier holds ``unmapped_capacity()``."""

    def __init__(
        self,
        sts: CallerIdentityClient,
        *,
        clock: Callable[[], datetime],
        ttl: float,
        max_entries: int,
        max_in_flight: int,
        wait: float,
    ) -> None:
        if ttl < 0 or max_entries < 0 or max_in_flight < 1 or wait < 0:
            raise ValueError("ttl, max_entries and wait must be >= 0 and max_in_flight >= 1")
        self._sts = sts
        self._clock = clock
        self._ttl = timedelta(seconds=ttl)
        self._max_entries = max_entries
        self._max_in_flight = max_in_flight
        self._wait = wait
        self._max_unmapped = unmapped_capacity(max_entries, max_in_flight)
        # Keyed by canonical_sha256 (32 bytes); the token is a bearer credential and is never kept.
        self._mapped: OrderedDict[bytes, Recalled] = OrderedDict()
        self._unmapped: OrderedDict[bytes, Recalled] = OrderedDict()
        self._aliases: dict[bytes, bytes] = {}  # token_sha256 -> canonical_sha256, one per entry
        self._pending: dict[bytes, asyncio.Task[Identity]] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight = 0

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0) and self._max_entries > 0

    def __len__(self) -> int:
        return len(self._mapped) + len(self._unmapped)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def recall(self, token: str, now: datetime) -> Recalled | None:
        """The identity and region of ``token`` if it was verified and its entry is still good at
        ``now``; ``None`` sends the review the long way (parse, then ``get_caller_identity``)."""
        key = self._aliases.get(token_sha256(token))
        entry = None if key is None else self._lookup(key, now)
        if entry is None:
            return None
        metrics.verification_cache_hits.inc()
        return entry

    async def get_caller_identity(self, request: PresignedRequest) -> Identity:
        key = request.canonical_sha256
        cached = self._lookup(key, self._clock())
        if cached is not None:
            metrics.verification_cache_hits.inc()
            return cached.identity
        task = self._pending.get(key)
        if task is None:
            metrics.verification_cache_misses.inc()
            task = asyncio.get_running_loop().create_task(self._verify(key, request))
            self._pending[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        else:
            metrics.verification_coalesced.inc()
        # shield: a caller that goes away (client disconnect) must not cancel the others' call.
        return await asyncio.shield(task)

    def _lookup(self, key: bytes, now: datetime) -> Recalled | None:
        tier = self._mapped
        entry = tier.get(key)
        if entry is None:
            tier = self._unmapped
            entry = tier.get(key)
            if entry is None:
                return None
        if now >= entry.valid_until or entry.signed_at > now + MAX_CLOCK_SKEW:
            # Expired; or the clock went back so far that the token now looks signed in the future.
            del tier[key]
            del self._aliases[entry.alias]
            metrics.verification_cache_entries.set(len(self))
            return None
        tier.move_to_end(key)
        return entry

    def settle(self, key: bytes, *, mapped: bool) -> None:
        """What the review of the entry ``key`` found: whether its identity mapped to a user. Moves
        the entry to that tier (if it is still cached); the mapping itself is never cached."""
        source, target, bound = (
            (self._unmapped, self._mapped, self._max_entries)
            if mapped
            else (self._mapped, self._unmapped, self._max_unmapped)
        )
        entry = source.pop(key, None)
        if entry is not None:
            target[key] = entry
            self._evict(target, bound)

    def _evict(self, tier: OrderedDict[bytes, Recalled], bound: int) -> None:
        while len(tier) > bound:
            _, entry = tier.popitem(last=False)
            del self._aliases[entry.alias]
        metrics.verification_cache_entries.set(len(self))

    def _forget(self, key: bytes, task: asyncio.Task[Identity]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is never "never retrieved"

    async def _verify(self, key: bytes, request: PresignedRequest) -> Identity:
        slots = self._slots
        try:
            async with asyncio.timeout(self._wait):
                await slots.acquire()
        except TimeoutError:
            metrics.sts_in_flight_limit_rejections.inc()
            raise TokenRejected(
                RejectionKind.STS_THROTTLING,
                f"too many STS calls in flight ({self._max_in_flight}); try again",
            ) from None
        self._in_flight += 1
        metrics.sts_in_flight.set(self._in_flight)
        try:
            identity = await self._sts.get_caller_identity(request)
        finally:
            self._in_flight -= 1
            metrics.sts_in_flight.set(self._in_flight)
            slots.release()
        self._store(key, identity, request)
        return identity

    def _store(self, key: bytes, identity: Identity, request: PresignedRequest) -> None:
        if not self.enabled or key in self._mapped or key in self._unmapped:
            return
        valid_until = min(self._clock() + self._ttl, request.expires_at)
        alias = request.token_sha256
        # Unmapped until the review says otherwise (``settle``).
        self._unmapped[key] = Recalled(
            _compact(identity), sys.intern(request.region), valid_until, request.signed_at, key, alias
        )
        self._aliases[alias] = key
        self._evict(self._unmapped, self._max_unmapped)

    async def aclose(self) -> None:
        """Cancel calls still in flight, drop the cache, close the wrapped client."""
        for task in list(self._pending.values()):
            task.cancel()
        self._mapped.clear()
        self._unmapped.clear()
        self._aliases.clear()
        metrics.verification_cache_entries.set(0)
        close = getattr(self._sts, "aclose", None)
        if close is not None:
            await close()
