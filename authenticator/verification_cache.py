"""What stands between the verifier and STS when many reviews arrive at once (issue 6).

``VerifiedIdentityCache`` has the ``get_caller_identity(request)`` of ``STSClient`` and wraps one:

- **Cache**: a verified token's ``Identity`` is reused for at most ``ttl`` seconds and never past
  the token's own expiry (``request.expires_at``). Keyed by the SHA-256 of the token; the token
  and its URL are never stored. Bounded in size, least recently used out first. Only identities
  are cached: the mapping chain runs on every review, so a mapping change applies at once.
- **Recall**: ``recall(token, now)`` answers a review of a token already verified without parsing
  it again. The local rules of docs/token.md are a function of the token's text and the clock; a hit
  means this very text passed all of them, and the two that depend on the clock (expiry, and
  not too far in the future) are checked again against ``now``.
- **Coalescing**: reviews of the same token while its STS call is in flight share that call (one
  task, every waiter shielded from the others' cancellation). A failure is shared too, never cached.
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


class VerifiedIdentityCache:
    """``STSClient.get_caller_identity`` with a cache, coalescing and a bound on calls in flight.

    The limits have no defaults here: the server's configuration holds them (ServerConfig's
    verificationCacheTTL, verificationCacheSize, stsMaxInFlight, stsMaxInFlightWait)."""

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
        # Keyed by token_sha256 (32 bytes); the token is a bearer credential and is never kept.
        self._entries: OrderedDict[bytes, Recalled] = OrderedDict()
        self._pending: dict[bytes, asyncio.Task[Identity]] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight = 0

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0) and self._max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def recall(self, token: str, now: datetime) -> Recalled | None:
        """The identity and region of ``token`` if it was verified and its entry is still good at
        ``now``; ``None`` sends the review the long way (parse, then ``get_caller_identity``)."""
        entry = self._lookup(token_sha256(token), now)
        if entry is None:
            return None
        metrics.verification_cache_hits.inc()
        return entry

    async def get_caller_identity(self, request: PresignedRequest) -> Identity:
        key = request.token_sha256
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
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now >= entry.valid_until or entry.signed_at > now + MAX_CLOCK_SKEW:
            # Expired; or the clock went back so far that the token now looks signed in the future.
            del self._entries[key]
            metrics.verification_cache_entries.set(len(self._entries))
            return None
        self._entries.move_to_end(key)
        return entry

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
        if not self.enabled:
            return
        valid_until = min(self._clock() + self._ttl, request.expires_at)
        self._entries[key] = Recalled(_compact(identity), sys.intern(request.region), valid_until, request.signed_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        metrics.verification_cache_entries.set(len(self._entries))

    async def aclose(self) -> None:
        """Cancel calls still in flight, drop the cache, close the wrapped client."""
        for task in list(self._pending.values()):
            task.cancel()
        self._entries.clear()
        metrics.verification_cache_entries.set(0)
        close = getattr(self._sts, "aclose", None)
        if close is not None:
            await close()
