"""The mapping model: what an aws-auth entry means once parsed (docs/mapping.md §1).

Frozen, hashable values: a source builds them once per load and the chain indexes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ACCOUNT_ID_RE",
    "PERMISSION_SET_NAME_RE",
    "MappingSet",
    "RoleMapping",
    "SSOMatcher",
    "UserMapping",
]

ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}$")
# The reference's (and AWS's) permission-set name rule; Go's \w is ASCII-only.
PERMISSION_SET_NAME_RE = re.compile(r"^[\w+=,.@-]{1,32}$", re.ASCII)


@dataclass(frozen=True, slots=True)
class SSOMatcher:
    """Matches ``arn:<partition>:iam::<account_id>:role/AWSReservedSSO_<permission_set_name>_*``."""

    permission_set_name: str
    account_id: str
    partition: str = "aws"

    def __post_init__(self) -> None:
        # Validated here so that no source can build a matcher the chain cannot index.
        if not ACCOUNT_ID_RE.fullmatch(self.account_id):
            raise ValueError("sso.accountID must be 12 digits")
        if not PERMISSION_SET_NAME_RE.fullmatch(self.permission_set_name):
            raise ValueError(r"sso.permissionSetName must match ^[\w+=,.@-]{1,32}$")
        if not self.partition:
            raise ValueError("sso.partition must not be empty")


@dataclass(frozen=True, slots=True)
class RoleMapping:
    """A mapRoles entry: exactly one of ``rolearn`` or ``sso``. username/groups are templates."""

    username: str
    groups: tuple[str, ...]
    rolearn: str | None = None
    sso: SSOMatcher | None = None
    userid: str | None = None  # DynamicFile strict mode: the role's STS UserId (AROA…)

    def __post_init__(self) -> None:
        if (self.rolearn is None) == (self.sso is None):
            raise ValueError("a role mapping needs exactly one of rolearn or sso")
        if self.rolearn is not None and not self.rolearn:
            raise ValueError("rolearn must not be empty")


@dataclass(frozen=True, slots=True)
class UserMapping:
    """A mapUsers entry. username/groups are templates."""

    userarn: str
    username: str
    groups: tuple[str, ...]
    userid: str | None = None  # DynamicFile strict mode: the user's STS UserId (AIDA…)

    def __post_init__(self) -> None:
        if not self.userarn:
            raise ValueError("userarn must not be empty")


@dataclass(frozen=True, slots=True)
class MappingSet:
    """Everything one source maps, in file order (later duplicates win at lookup)."""

    roles: tuple[RoleMapping, ...] = ()
    users: tuple[UserMapping, ...] = ()
    accounts: tuple[str, ...] = ()
