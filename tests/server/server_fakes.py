"""Helpers for the server tests: tokens of the right shape, and fakes of STS and the mapping chain
that follow the contracts (contracts.md). Real parse_token runs on these tokens."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from authenticator.identity import Identity

NOW = datetime(2026, 11, 26, 4, 0, 0, tzinfo=UTC)
STS_HOST = "sts.us-east-1.amazonaws.com"


def make_url(signed_at: datetime = NOW, *, host: str = STS_HOST, access_key_id: str = "AKIAEXAMPLEKEY000001") -> str:
    region = "us-east-1" if host == "sts.amazonaws.com" else host.split(".")[1]
    date = signed_at.strftime("%Y%m%dT%H%M%SZ")
    query = (
        "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={access_key_id}%2F{date[:8]}%2F{region}%2Fsts%2Faws4_request"
        f"&X-Amz-Date={date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
        "&X-Amz-Signature=" + "ab" * 32
    )
    return f"https://{host}/?{query}"


def make_token(signed_at: datetime = NOW, **kwargs: str) -> str:
    url = make_url(signed_at, **kwargs)
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def user_identity(account: str = "111122223333", access_key_id: str = "AKIAEXAMPLEKEY000001") -> Identity:
    return Identity(
        arn=f"arn:aws:iam::{account}:user/alice",
        canonical_arn=f"arn:aws:iam::{account}:user/alice",
        account_id=account,
        user_id="AIDAEXAMPLEUSERID0001",
        session_name="",
        access_key_id=access_key_id,
        sts_endpoint=STS_HOST,
    )


def role_identity(account: str = "111122223333") -> Identity:
    return Identity(
        arn=f"arn:aws:sts::{account}:assumed-role/eks-admins/jdoe@example.com",
        canonical_arn=f"arn:aws:iam::{account}:role/eks-admins",
        account_id=account,
        user_id="AROAEXAMPLEROLEID0001",
        session_name="jdoe@example.com",
        access_key_id="ASIAEXAMPLEKEY000001",
        sts_endpoint=STS_HOST,
    )


@dataclass
class FakeSTS:
    """STSClient per contract: answers ``identity`` or raises ``error``; records what it was asked."""

    identity: Identity | None = None
    error: Exception | None = None
    calls: list[object] = field(default_factory=list)

    async def get_caller_identity(self, request: object) -> Identity:
        self.calls.append(request)
        if self.error is not None:
            raise self.error
        assert self.identity is not None
        return self.identity

    async def aclose(self) -> None:
        return None


@dataclass
class FakeMapper:
    """MappingChain.map per contract: ``answer(identity)`` gives (username, groups) or None (denied)."""

    answer: Callable[[Identity], tuple[str, tuple[str, ...]] | None]

    async def map(self, identity: Identity) -> object:
        from authenticator.mapping.chain import MappedUser, MappingDenied, Match

        found = self.answer(identity)
        if found is None:
            raise MappingDenied(f"ARN is not mapped: {identity.canonical_arn}")
        username, groups = found
        match = Match(source="MountedFile", kind="user", username=username, groups=groups, entry=None)
        return MappedUser(username=username, groups=groups, match=match)
