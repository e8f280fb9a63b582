"""What the verifier learns about the caller (docs/token.md §6)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Identity"]


@dataclass(frozen=True, slots=True)
class Identity:
    arn: str  # Arn from STS, verbatim
    canonical_arn: str  # assumed-role sessions folded to their iam role ARN
    account_id: str
    user_id: str  # for roles the part of UserId before ":"
    session_name: str  # the part of UserId after ":" for assumed roles, else ""
    access_key_id: str  # first segment of X-Amz-Credential
    sts_endpoint: str  # the token's host
