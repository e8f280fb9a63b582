"""What one aws-auth entry becomes as an EKS access entry (the classification table of
docs/migration.md): its type, username, groups and access policies, or why it cannot be
carried over.

Pure: a username template and groups in, a :class:`Carried` out. The planner and the
migration-readiness lint rules share it, so CI and ``aws-auth migrate`` always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CLUSTER_ADMIN",
    "NODE_TYPES",
    "RESERVED_PREFIXES",
    "Carried",
    "EntryType",
    "Reason",
    "ReasonCode",
    "carry",
    "entry_type",
    "policy_arn",
    "username_problem",
]

EntryType = Literal["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"]
NODE_TYPES: frozenset[str] = frozenset({"EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"})

MASTERS = "system:masters"
NODE_GROUPS = frozenset({"system:bootstrappers", "system:nodes"})
NODE_PROXIER = "system:node-proxier"
WINDOWS_GROUP = "eks:kube-proxy-windows"
EC2_NODE_USERNAME = "system:node:{{EC2PrivateDNSName}}"
SESSION_NODE_USERNAME = "system:node:{{SessionName}}"
CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
# Usernames EKS refuses for a STANDARD entry (CreateAccessEntry answers InvalidParameterException).
RESERVED_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
# The groups EKS gives each node type itself: carried by the type, not by kubernetesGroups.
TYPE_GROUPS: dict[str, frozenset[str]] = {
    "EC2_LINUX": NODE_GROUPS,
    "EC2_WINDOWS": NODE_GROUPS | {WINDOWS_GROUP},
    "FARGATE_LINUX": NODE_GROUPS | {NODE_PROXIER},
    "HYBRID_LINUX": NODE_GROUPS,
}
TYPE_USERNAMES: dict[str, str] = {
    "EC2_LINUX": EC2_NODE_USERNAME,
    "EC2_WINDOWS": EC2_NODE_USERNAME,
    "FARGATE_LINUX": SESSION_NODE_USERNAME,
    "HYBRID_LINUX": SESSION_NODE_USERNAME,
}

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_SESSION_PLACEHOLDERS = ("SessionName", "SessionNameRaw")

ReasonCode = Literal[
    "reserved-username",  # manual
    "session-name-without-colon",  # manual
    "unsupported-placeholder",  # manual
    "system-group",  # manual
    "group-placeholder",  # manual
    "node-extra-groups",  # manual
    "sso-needs-iam",  # manual
    "role-unknown-to-iam",  # manual
    "cross-account-node-role",  # manual
    "node-entry-user",  # manual
    "other-partition",  # manual
    "invalid-principal",  # manual
    "map-accounts",  # blocked
    "role-path-unknown",  # warning on a create row
    "role-path-never-matched",  # warning on a create row
    "duplicate",  # note: which entry the server uses
    "sso-role",  # note: a role found for an sso matcher
    "managed",  # note: EKS creates the entry of a managed node group / Fargate profile role
    "masters-policy",  # note: system:masters becomes an access policy
    "username-generated",  # note: EKS generates the username
    "existing-entry",  # exists / conflict / manual with an entry already there
]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a row is what it is. ``blocking``: the row cannot be created as planned."""

    code: ReasonCode
    message: str
    blocking: bool = False
    subject: str | None = None  # the group the reason is about, for a lint finding to point at

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class Carried:
    """An aws-auth entry as an access entry; ``reasons`` with ``blocking`` make it ``manual``."""

    type: EntryType
    username: str | None  # None: EKS generates it (or a node type, which has none)
    groups: tuple[str, ...]
    policies: tuple[str, ...]  # access policy names, cluster scope
    reasons: tuple[Reason, ...]

    @property
    def manual(self) -> bool:
        return any(r.blocking for r in self.reasons)


def policy_arn(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"


def entry_type(username: str, groups: tuple[str, ...]) -> EntryType:
    """The access-entry type of an aws-auth entry, by the username and groups it serves today."""
    group_set = set(groups)
    if NODE_PROXIER in group_set:
        return "FARGATE_LINUX"
    if username == EC2_NODE_USERNAME and group_set >= NODE_GROUPS:
        return "EC2_WINDOWS" if WINDOWS_GROUP in group_set else "EC2_LINUX"
    if username == SESSION_NODE_USERNAME and "system:nodes" in group_set:
        return "HYBRID_LINUX"
    return "STANDARD"


def _suggest_prefix(hint: str) -> str:
    """A short, RBAC-friendly prefix from the principal's name (``team-a:``)."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", hint).strip("-").lower()
    return name or "migrated"


def username_problem(username: str, hint: str = "migrated") -> Reason | None:
    """Why a STANDARD access entry cannot keep ``username`` as it is, with a suggestion; None when it can.

    ``hint`` (the principal's name) seeds the suggested prefix."""
    lower = username.lower()
    for prefix in RESERVED_PREFIXES:
        if lower.startswith(prefix):
            rest = username[len(prefix) :] or "{{SessionName}}"
            suggestion = f"{_suggest_prefix(hint)}:{rest}" if ":" not in rest else rest
            return Reason(
                "reserved-username",
                f"username {username!r} starts with {prefix!r}, which EKS reserves; suggested {suggestion!r} "
                "(update the RBAC bindings that name the old username)",
                blocking=True,
            )
    for match in _PLACEHOLDER.finditer(username):
        name = match.group(1)
        if name in _SESSION_PLACEHOLDERS:
            if ":" not in username[: match.start()]:
                suggestion = f"{_suggest_prefix(hint)}:{username}"
                return Reason(
                    "session-name-without-colon",
                    f"username {username!r} has {{{{{name}}}}} without a colon before it, which EKS refuses; "
                    f"suggested {suggestion!r} (update the RBAC bindings that name the old username)",
                    blocking=True,
                )
            continue
        replacement = "{{SessionName}}"
        suggestion = username.replace(match.group(0), replacement)
        if ":" not in suggestion.split(replacement, 1)[0]:
            suggestion = f"{_suggest_prefix(hint)}:{suggestion}"
        return Reason(
            "unsupported-placeholder",
            f"username {username!r} uses {{{{{name}}}}}, which access entries do not support; "
            f"suggested {suggestion!r} (update the RBAC bindings that name the old username)",
            blocking=True,
        )
    return None


def carry(username: str, groups: tuple[str, ...], *, hint: str = "migrated") -> Carried:
    """The access entry for an aws-auth entry's username template and groups (pure).

    ``hint`` (the principal's name) seeds suggested usernames."""
    kind = entry_type(username, groups)
    reasons: list[Reason] = []
    if kind != "STANDARD":
        extra = tuple(g for g in dict.fromkeys(groups) if g not in TYPE_GROUPS[kind])
        if extra:
            reasons.append(
                Reason(
                    "node-extra-groups",
                    f"a {kind} entry carries no groups: {', '.join(extra)} would be lost "
                    "(give those permissions to another principal)",
                    blocking=True,
                )
            )
        return Carried(kind, None, (), (), tuple(reasons))
    kept: list[str] = []
    policies: list[str] = []
    for group in dict.fromkeys(groups):
        if group == MASTERS:
            policies.append(CLUSTER_ADMIN)
            reasons.append(Reason("masters-policy", f"{MASTERS} becomes {CLUSTER_ADMIN} at cluster scope (no group)"))
        elif group.startswith("system:"):
            reasons.append(
                Reason(
                    "system-group",
                    f"group {group!r} cannot be an access-entry group (EKS refuses system: groups); bind the "
                    f"RBAC roles of {group!r} to a new group, e.g. {'migrated-' + group[len('system:') :]!r}",
                    blocking=True,
                    subject=group,
                )
            )
        elif "{{" in group:
            reasons.append(
                Reason(
                    "group-placeholder",
                    f"group {group!r} has a placeholder; access-entry groups are literal",
                    blocking=True,
                    subject=group,
                )
            )
        else:
            kept.append(group)
    carried_username: str | None = username or None
    if username:
        problem = username_problem(username, hint)
        if problem is not None:
            reasons.append(problem)
    else:
        reasons.append(Reason("username-generated", "no username: EKS generates the ARN-based default"))
    return Carried("STANDARD", carried_username, tuple(kept), tuple(policies), tuple(reasons))
