"""One review: token -> local checks -> STS -> identity -> mapping -> answer.

A token verified before (``recall``, the verification cache) skips the local checks and STS:
the cache vouches that this very text passed them and re-checks the clock rules.

Pure composition: the parser, the STS client, the recall, the mapping chain and the clock are
injected, so tests build a ``Reviewer`` from fakes or from the real parts. Nothing here
counts, and only a bug of ours is logged here; the app logs and counts each review from
its ``ReviewResult`` (leaving the identity out when ``scrubbed`` says so).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from authenticator import metrics
from authenticator.identity import Identity
from authenticator.mapping.chain import MappedUser, MappingDenied
from authenticator.partitions import Partition
from authenticator.server.verification_cache import CallerIdentityClient, Recalled
from authenticator.token import PresignedRequest, RejectionKind, TokenRejected, parse_token

__all__ = ["INTERNAL_ERROR", "ReviewResult", "ReviewedUser", "Reviewer", "utc_now"]

_log = logging.getLogger("authenticator.review")

# Not one of the reference's result labels: a bug of ours, answered 500 and logged, never counted
# as a review outcome.
INTERNAL_ERROR = "internal_error"

_REJECTION = {
    RejectionKind.INVALID_TOKEN: (metrics.INVALID_TOKEN, 403),
    RejectionKind.STS_ERROR: (metrics.STS_ERROR, 403),
    RejectionKind.STS_THROTTLING: (metrics.STS_THROTTLING, 429),
}


class Mapper(Protocol):
    async def map(self, identity: Identity) -> MappedUser: ...


# The verification cache's recall: a token verified before gives its identity and STS region.
Recall = Callable[[str, datetime], Recalled | None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReviewedUser:
    username: str
    uid: str
    groups: tuple[str, ...]
    extra: dict[str, list[str]] | None  # None for scrubbed accounts


@dataclass(frozen=True, slots=True)
class ReviewResult:
    result: str  # a result label of authenticate_latency_seconds (authenticator.metrics), or INTERNAL_ERROR
    http_status: int  # 200, 403, 429 (500 only for INTERNAL_ERROR)
    user: ReviewedUser | None = None  # set when allowed
    error: str | None = None  # short reason when denied; never the token or URL
    identity: Identity | None = None  # what STS said; None before STS answered
    sts_region: str | None = None  # from the token's host, once it parsed
    scrubbed: bool = False  # the account is in scrubbedAccounts: do not log the identity
    match_source: str | None = None  # the mapping source that matched

    @property
    def allowed(self) -> bool:
        return self.user is not None


class Reviewer:
    def __init__(
        self,
        *,
        sts: CallerIdentityClient,
        mapper: Mapper,
        partition: Partition,
        clock: Callable[[], datetime] = utc_now,
        scrubbed_accounts: Iterable[str] = (),
        parse: Callable[..., PresignedRequest] = parse_token,
        recall: Recall | None = None,
    ) -> None:
        self._sts = sts
        self._mapper = mapper
        self._partition = partition
        self._clock = clock
        self._scrubbed = frozenset(scrubbed_accounts)
        self._parse = parse
        self._recall = recall

    async def review(self, token: str) -> ReviewResult:
        try:
            return await self._review(token)
        except Exception as exc:  # a bug of ours; the token must not reach the log through the message
            _log.error(
                "review failed unexpectedly: %s\n%s",
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            return ReviewResult(result=INTERNAL_ERROR, http_status=500, error="internal error")

    async def _review(self, token: str) -> ReviewResult:
        now = self._clock()
        recalled = self._recall(token, now) if self._recall is not None else None
        region: str | None = None
        if recalled is not None:
            identity, region = recalled.identity, recalled.region
        else:
            try:
                request = self._parse(token, now=now, partition=self._partition)
                region = request.region
                identity = await self._sts.get_caller_identity(request)
            except TokenRejected as exc:
                result, status = _REJECTION[exc.kind]
                return ReviewResult(result=result, http_status=status, error=exc.reason, sts_region=region)
        scrubbed = identity.account_id in self._scrubbed
        try:
            mapped = await self._mapper.map(identity)
        except MappingDenied as exc:
            return ReviewResult(
                result=metrics.UNKNOWN_USER,
                http_status=403,
                error=exc.reason,
                identity=identity,
                sts_region=region,
                scrubbed=scrubbed,
            )
        return ReviewResult(
            result=metrics.SUCCESS,
            http_status=200,
            user=_user(identity, mapped, scrubbed=scrubbed),
            identity=identity,
            sts_region=region,
            scrubbed=scrubbed,
            match_source=mapped.match.source,
        )


def _user(identity: Identity, mapped: MappedUser, *, scrubbed: bool) -> ReviewedUser:
    if scrubbed:
        return ReviewedUser(
            username=mapped.username,
            uid=f"aws-iam-authenticator:administrative:{mapped.username}",
            groups=tuple(mapped.groups),
            extra=None,
        )
    return ReviewedUser(
        username=mapped.username,
        uid=f"aws-iam-authenticator:{identity.account_id}:{identity.user_id}",
        groups=tuple(mapped.groups),
        extra={
            "arn": [identity.arn],
            "canonicalArn": [identity.canonical_arn],
            "sessionName": [identity.session_name],
            "accessKeyId": [identity.access_key_id],
            "principalId": [identity.user_id],
            "sigs.k8s.io/aws-iam-authenticator/principalId": [identity.user_id],
        },
    )
