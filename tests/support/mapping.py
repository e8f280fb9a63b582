"""A double of the mapping chain, for the verifier's and the webhook's tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authenticator.identity import Identity
from authenticator.mapping.chain import MappedUser, MappingDenied, Match


@dataclass
class FakeMapper:
    """MappingChain.map per contract: ``answer(identity)`` gives (username, groups) or None (denied)."""

    answer: Callable[[Identity], tuple[str, tuple[str, ...]] | None]

    async def map(self, identity: Identity) -> MappedUser:
        found = self.answer(identity)
        if found is None:
            raise MappingDenied(f"ARN is not mapped: {identity.canonical_arn}")
        username, groups = found
        match = Match(source="MountedFile", kind="user", username=username, groups=groups, entry=None)
        return MappedUser(username=username, groups=groups, match=match)
