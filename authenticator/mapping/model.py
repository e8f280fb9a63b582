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
    "sso_permission_set",
    "sso_role_key",
]

ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}$")
# The reference's (and AWS's) permission-set name rule; Go's \w is ASCII-only.
PERMISSION_SET_NAME_RE = re.compile(r"^[\w+=,.@-]{1,32}$", re.ASCII)
# IAM Identity Center names a permission set's role AWSReservedSSO_<name>_<16 hex digits> (AWS
# writes the digits lowercase; like every ARN comparison here, matching ignores case). The suffix
# has a fixed length, so the name is everything in between: "Dev" never claims the role of
# "Dev_ReadOnly", whose name merely starts with it.
_SSO_ROLE_RE = re.compile(r"^AWSReservedSSO_(.+)_[0-9a-f]{16}$", re.ASCII | re.IGNORECASE)


def sso_permission_set(role_name: str) -> str | None:
    """The permission-set name in ``AWSReservedSSO_<name>_<16 hex>``, or None for any other role name."""
    match = _SSO_ROLE_RE.fullmatch(role_name)
    return match.group(1) if match else None


def sso_role_key(canonical_arn: str) -> tuple[str, str, str] | None:
    """(partition, account, permission set), lowercased, of an IAM Identity Center role ARN, or None.

    Only ``arn:<partition>:iam::<account>:role/<name>``: an IAM *user* may legally be named
    ``AWSReservedSSO_<set>_<suffix>`` and must never be taken for the permission set's role."""
    parts = canonical_arn.split(":", 5)
    if len(parts) != 6 or parts[0].lower() != "arn" or parts[2].lower() != "iam" or parts[3] != "":
        return None
    kind, _, name = parts[5].partition("/")
    if kind.lower() != "role":
        return None
    permission_set = sso_permission_set(name)
    if permission_set is None:
        return None
    return parts[1].lower(), parts[4], permission_set.lower()


@dataclass(frozen=True, slots=True)
class SSOMatcher:
    """Matches ``arn:<partition>:iam::<account_id>:role/AWSReservedSSO_<permission_set_name>_<16 hex>``."""

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

    @property
    def key(self) -> tuple[str, str, str]:
        """What :func:`sso_role_key` returns for the roles this matcher covers."""
        return self.partition.lower(), self.account_id, self.permission_set_name.lower()

    def matches(self, canonical_arn: str) -> bool:
        return sso_role_key(canonical_arn) == self.key


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
