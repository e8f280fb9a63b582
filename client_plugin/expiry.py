"""When a token stops being usable: the one instant kubectl is told and the cache reuses up to.

A token is a presigned URL that STS accepts for 15 minutes after signing, but only while the
credentials that signed it are valid: a URL signed by a session that ends in 5 minutes is
refused after 5 minutes (the reference's issue #590). So the token's expiry is the earlier
of the two ends, each kept a minute short, as the 14 of STS's 15 minutes already are: kubectl
then fetches a new token before the old one is refused. Stdlib only, epoch seconds: the
cache-hit path uses it.
"""

from __future__ import annotations

__all__ = ["CREDENTIALS_MARGIN", "TOKEN_LIFETIME", "token_expiry"]

# What clients report to kubectl: one minute short of STS's 15, so kubectl refreshes early.
TOKEN_LIFETIME = 14 * 60
# How long before the signing credentials end a token is reported expired (at most 2 minutes).
CREDENTIALS_MARGIN = 60


def token_expiry(signed_at: int, credentials_expire_at: int | None) -> int:
    """Epoch seconds at which the token signed at ``signed_at`` is to be replaced.

    ``credentials_expire_at`` is the end of the signing credentials (None: long-term keys).
    Never later than that end, and no more than ``CREDENTIALS_MARGIN`` before it, unless the
    credentials outlive the token's own 14 minutes; credentials that end within the margin of
    the signing are reported at their own end.
    """
    lifetime_end = signed_at + TOKEN_LIFETIME
    if credentials_expire_at is None:
        return lifetime_end
    credentials_end = credentials_expire_at - CREDENTIALS_MARGIN
    if credentials_end <= signed_at:  # less than the margin left: their own end, never later
        credentials_end = credentials_expire_at
    return min(lifetime_end, credentials_end)
