"""The mapping chain: ordered sources, explicit mappings, mapAccounts, reserved prefixes.

For each source in order (docs/mapping.md §4): an explicit mapping (roles before users; an explicit
rolearn beats an sso pattern; duplicates: the last entry wins) — else, if that source's
mapAccounts lists the account, the canonical ARN with no groups — else the next source.
Matching is exact and case-insensitive on the canonical ARN, through dicts built once per
snapshot, so a lookup costs the same with 10 or 100,000 entries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from authenticator.identity import Identity
from authenticator.mapping.model import MappingSet, RoleMapping, UserMapping, sso_role_key
from authenticator.mapping.sources.modes import canonical_mode
from authenticator.mapping.templates import TemplateDenied, is_instance_id, needs_ec2, render

__all__ = [
    "IdentityLookup",
    "MappedUser",
    "MappingChain",
    "MappingDenied",
    "MappingIndex",
    "MappingSource",
    "Match",
    "reserved_prefixes_from_config",
]


@runtime_checkable
class MappingSource(Protocol):
    name: str  # backend mode, e.g. "MountedFile"

    def snapshot(self) -> MappingSet:
        """The current mappings. Return the *same object* until they change: the chain keys its
        index on it."""
        ...

    @property
    def ready(self) -> bool:  # loaded at least once
        ...


MatchKind = Literal["role", "sso", "user", "account"]


@runtime_checkable
class IdentityLookup(Protocol):
    """A source whose entries are not all reachable by canonical ARN (DynamicFile's userid strict
    mode keys them on the STS UserId). The chain asks ``lookup`` before the source's ARN index."""

    def lookup(self, identity: Identity) -> tuple[Literal["role", "user"], RoleMapping | UserMapping] | None: ...


@dataclass(frozen=True, slots=True)
class Match:
    source: str
    kind: MatchKind
    username: str  # the template, not yet rendered (for "account": the canonical ARN)
    groups: tuple[str, ...]
    entry: RoleMapping | UserMapping | None  # None for an account match


@dataclass(frozen=True, slots=True)
class MappedUser:
    username: str
    groups: tuple[str, ...]
    match: Match


DenialKind = Literal["unmapped", "reserved_prefix", "template"]


class MappingDenied(Exception):
    """The identity gets no Kubernetes user. ``reason`` is short and safe for status.error."""

    def __init__(self, reason: str, kind: DenialKind = "unmapped", match: Match | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.match = match


class MappingIndex:
    """Constant-time lookups over one MappingSet (built once per snapshot)."""

    __slots__ = ("accounts", "roles", "sso", "users")

    def __init__(self, mappings: MappingSet) -> None:
        self.roles: dict[str, RoleMapping] = {}
        self.sso: dict[tuple[str, str, str], RoleMapping] = {}
        for role in mappings.roles:  # later entries overwrite earlier ones: the last wins
            if role.rolearn is not None:
                self.roles[role.rolearn.lower()] = role
            elif role.sso is not None:
                self.sso[role.sso.key] = role
        self.users: dict[str, UserMapping] = {m.userarn.lower(): m for m in mappings.users}
        self.accounts: frozenset[str] = frozenset(mappings.accounts)

    def explicit(self, canonical_arn: str) -> tuple[MatchKind, RoleMapping | UserMapping] | None:
        key = canonical_arn.lower()
        role = self.roles.get(key)
        if role is not None:
            return "role", role
        if self.sso:
            sso_key = sso_role_key(key)
            sso = self.sso.get(sso_key) if sso_key is not None else None
            if sso is not None:
                return "sso", sso
        user = self.users.get(key)
        if user is not None:
            return "user", user
        return None


def reserved_prefixes_from_config(config: object) -> dict[str, tuple[str, ...]]:
    """``server.reservedPrefixConfig`` -> {source name: prefixes} for :class:`MappingChain`.

    Takes the list form of docs/cli.md (``[{backendMode: X, usernamePrefixReserveList: [...]}]``) or
    the reference's map form (``{X: {usernamePrefixReserveList: [...]}}``); keys are matched
    case-insensitively and mode aliases are resolved. Raises ValueError on anything else."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        items = [{**(v if isinstance(v, Mapping) else {}), "backendmode": k} for k, v in config.items()]
    elif isinstance(config, list | tuple):
        items = list(config)
    else:
        raise ValueError("reservedPrefixConfig must be a list")
    out: dict[str, tuple[str, ...]] = {}
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"reservedPrefixConfig[{position}] must be a mapping")
        fields = {str(k).lower(): v for k, v in item.items()}
        mode = str(fields.get("backendmode", "")).strip()
        name = canonical_mode(mode)
        if name is None:
            raise ValueError(f"reservedPrefixConfig[{position}]: unknown backendMode {mode!r}")
        prefixes = fields.get("usernameprefixreservelist") or []
        if not isinstance(prefixes, list | tuple) or not all(isinstance(p, str) for p in prefixes):
            raise ValueError(f"reservedPrefixConfig[{position}].usernamePrefixReserveList must be a list of strings")
        out[name] = out.get(name, ()) + tuple(p for p in prefixes if p)
    return out


class MappingChain:
    def __init__(
        self,
        sources: Sequence[MappingSource],
        *,
        reserved_prefixes: Mapping[str, Sequence[str]] | None = None,
        ec2_private_dns_name: Callable[[str], Awaitable[str]] | None = None,
    ) -> None:
        """``ec2_private_dns_name``: resolves ``{{EC2PrivateDNSName}}`` when :meth:`map` is not given one."""
        self.sources = tuple(sources)
        self._reserved = {name: tuple(p for p in prefixes if p) for name, prefixes in (reserved_prefixes or {}).items()}
        self._indexes: dict[int, tuple[MappingSet, MappingIndex]] = {}
        # Decided once, so a lookup pays no isinstance check per source.
        self._lookups = tuple(s.lookup if isinstance(s, IdentityLookup) else None for s in self.sources)
        self.ec2_private_dns_name = ec2_private_dns_name

    def _index(self, position: int, source: MappingSource) -> MappingIndex:
        snapshot = source.snapshot()
        cached = self._indexes.get(position)
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        index = MappingIndex(snapshot)
        self._indexes[position] = (snapshot, index)
        return index

    def resolve(self, identity: Identity) -> Match | None:
        """The entry that maps ``identity``, without rendering templates (pure, sync)."""
        for position, source in enumerate(self.sources):
            index = self._index(position, source)
            lookup = self._lookups[position]
            found: tuple[MatchKind, RoleMapping | UserMapping] | None = lookup(identity) if lookup is not None else None
            if found is None:
                found = index.explicit(identity.canonical_arn)
            if found is not None:
                kind, entry = found
                return Match(source.name, kind, entry.username, entry.groups, entry)
            if identity.account_id in index.accounts:
                return Match(source.name, "account", identity.canonical_arn, (), None)
        return None

    def reserved_prefixes(self, source: str) -> tuple[str, ...]:
        return self._reserved.get(source, ())

    async def map(
        self,
        identity: Identity,
        *,
        ec2_private_dns_name: Callable[[str], Awaitable[str]] | None = None,
    ) -> MappedUser:
        """Resolve and render. Raises MappingDenied: no match, reserved prefix, template denied."""
        if ec2_private_dns_name is None:
            ec2_private_dns_name = self.ec2_private_dns_name
        match = self.resolve(identity)
        if match is None:
            raise MappingDenied("identity is not mapped", "unmapped")
        if match.kind == "account":
            # As the reference: the canonical ARN, no templates, no reserved-prefix check.
            return MappedUser(match.username, (), match)
        dns_name = await self._ec2_name(match, identity, ec2_private_dns_name)
        try:
            username = render(match.username, identity, ec2_private_dns_name=dns_name)
            groups = tuple(render(g, identity, ec2_private_dns_name=dns_name) for g in match.groups)
        except TemplateDenied as err:
            raise MappingDenied(f"template denied: {err.reason}", "template", match) from None
        for prefix in self.reserved_prefixes(match.source):
            if username.startswith(prefix):
                raise MappingDenied(
                    f"username uses the reserved prefix {prefix!r} of source {match.source}", "reserved_prefix", match
                )
        return MappedUser(username, groups, match)

    @staticmethod
    async def _ec2_name(match: Match, identity: Identity, lookup: Callable[[str], Awaitable[str]] | None) -> str | None:
        if not (needs_ec2(match.username) or any(needs_ec2(g) for g in match.groups)):
            return None
        # Check the session name before spending a DescribeInstances call on it.
        if not is_instance_id(identity.session_name):
            raise MappingDenied("template denied: session name is not an EC2 instance id", "template", match)
        if lookup is None:
            raise MappingDenied("template denied: EC2 lookup not configured", "template", match)
        try:
            return await lookup(identity.session_name)
        except TemplateDenied as err:
            raise MappingDenied(f"template denied: {err.reason}", "template", match) from None
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception:
            # The lookup's own failure (timeout, AWS error) denies rather than fails the review.
            raise MappingDenied("template denied: EC2 lookup failed", "template", match) from None
