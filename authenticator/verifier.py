"""Token verification: recall, then the local rules, then STS, then the caller's identity.

The one assembly of those steps (docs/token.md §3 to §6), used by the webhook's ``Reviewer`` and by
the ``verify`` command:

1. **Recall** (optional, the server's verification cache): a token verified before gives its
   identity without being parsed again; the cache re-checks the rules that depend on the clock.
2. **Local rules** (``authenticator.token.parse_token``): pure, so a token they reject never
   reaches STS.
3. **STS** (``authenticator.sts``): GetCallerIdentity through the presigned request.
4. **Identity**: who signed the token, and the STS region its host names.

After mapping, the reviewer reports whether the identity mapped (``settle``): the verification
cache keeps what identities that map to nobody occupy apart and small.

Every part is injected (the clock too), so tests build a verifier from fakes or from the real
parts. A rejection is a result, not an exception: for each caller it is an expected answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from authenticator.identity import Identity
from authenticator.partitions import Partition
from authenticator.sts import CallerIdentityClient
from authenticator.token import PresignedRequest, RejectionKind, TokenRejected, parse_token
from authenticator.verification_cache import Recalled

__all__ = ["Recall", "Rejected", "Settle", "TokenVerifier", "Verified", "utc_now"]

# The verification cache's recall: a token verified before gives its identity and STS region.
Recall = Callable[[str, datetime], Recalled | None]


class Settle(Protocol):
    """The verification cache's settle: whether the identity of the request with this canonical
    key mapped to a user."""

    def __call__(self, key: bytes, *, mapped: bool) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Verified:
    identity: Identity
    region: str  # of the STS host the token names
    # canonical_sha256 of the signed request (what the cache keys on); not part of the answer.
    key: bytes | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: RejectionKind
    reason: str  # short and safe to log or return; never the token or its URL
    region: str | None  # None when the token was rejected before its host was known


class TokenVerifier:
    """``await verify(token)``: who signed ``token``, or why it is not accepted."""

    def __init__(
        self,
        *,
        sts: CallerIdentityClient,
        partition: Partition,
        clock: Callable[[], datetime] = utc_now,
        parse: Callable[..., PresignedRequest] = parse_token,
        recall: Recall | None = None,
        settle: Settle | None = None,
    ) -> None:
        self._sts = sts
        self._partition = partition
        self._clock = clock
        self._parse = parse
        self._recall = recall
        self._settle = settle

    async def verify(self, token: str) -> Verified | Rejected:
        now = self._clock()
        if self._recall is not None:
            recalled = self._recall(token, now)
            if recalled is not None:
                return Verified(recalled.identity, recalled.region, recalled.key)
        region: str | None = None
        try:
            request = self._parse(token, now=now, partition=self._partition)
            region = request.region
            identity = await self._sts.get_caller_identity(request)
        except TokenRejected as exc:
            return Rejected(exc.kind, exc.reason, region)
        return Verified(identity, request.region, request.canonical_sha256)

    def settle(self, verified: Verified, *, mapped: bool) -> None:
        """Whether ``verified``'s identity mapped to a user, for the verification cache's tiers."""
        if self._settle is not None and verified.key is not None:
            self._settle(verified.key, mapped=mapped)
