"""One review: the token verified (``authenticator.verifier``), the identity mapped, the answer.

Pure composition: the verifier and the mapping chain are injected, so tests build a ``Reviewer``
from fakes or from the real parts. Nothing here counts, and only a bug of ours is logged here;
the app logs and counts each review from its ``ReviewResult`` (leaving the identity out when
``scrubbed`` says so).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from authenticator import metrics
from authenticator.identity import Identity
from authenticator.mapping.chain import MappedUser, MappingDenied
from authenticator.token import RejectionKind
from authenticator.verifier import Rejected, TokenVerifier

__all__ = ["INTERNAL_ERROR", "ReviewResult", "ReviewedUser", "Reviewer"]

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
        verifier: TokenVerifier,
        mapper: Mapper,
        scrubbed_accounts: Iterable[str] = (),
    ) -> None:
        self._verifier = verifier
        self._mapper = mapper
        self._scrubbed = frozenset(scrubbed_accounts)

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
        verified = await self._verifier.verify(token)
        if isinstance(verified, Rejected):
            result, status = _REJECTION[verified.kind]
            return ReviewResult(result=result, http_status=status, error=verified.reason, sts_region=verified.region)
        identity, region = verified.identity, verified.region
        scrubbed = identity.account_id in self._scrubbed
        try:
            mapped = await self._mapper.map(identity)
        except MappingDenied as exc:
            self._verifier.settle(verified, mapped=False)
            return ReviewResult(
                result=metrics.UNKNOWN_USER,
                http_status=403,
                error=exc.reason,
                identity=identity,
                sts_region=region,
                scrubbed=scrubbed,
            )
        self._verifier.settle(verified, mapped=True)
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
