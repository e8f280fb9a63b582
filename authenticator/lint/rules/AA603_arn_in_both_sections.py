"""AA603 arn-in-both-sections: the same ARN under mapRoles and mapUsers.

What: an ARN that appears as a ``rolearn`` and as a ``userarn``.

Why: roles are tried first: the mapUsers entry is dead.

Fix: keep the entry in the section that matches the ARN's kind.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - developers
    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - admins

Passing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - developers
          - admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.mapping.model import RoleMapping, UserMapping

ID = "AA603"
SLUG = "arn-in-both-sections"
SEVERITY = "warning"
SUMMARY = "the same ARN in mapRoles and mapUsers: the mapUsers entry is dead"


def check(ctx: RuleContext) -> Iterator[Finding]:
    roles = ctx.target.sections.get("mapRoles")
    users = ctx.target.sections.get("mapUsers")
    if roles is None or users is None:
        return
    # Kept entries' mappings are RoleMapping under mapRoles and UserMapping under mapUsers.
    role_lines: dict[str, int] = {}
    for entry in roles.entries:
        role = entry.result.mapping
        if isinstance(role, RoleMapping) and role.rolearn:
            role_lines.setdefault(role.rolearn.lower(), roles.pos(entry.node)[0])
    for entry in users.entries:
        user = entry.result.mapping
        if isinstance(user, UserMapping) and user.userarn.lower() in role_lines:
            line = role_lines[user.userarn.lower()]
            yield ctx.at_node(
                users,
                entry.value_node("userarn"),
                f"this ARN is also under mapRoles (line {line}), which is tried first: this entry is dead",
                entry=entry,
                fix_hint="keep one entry, in the section of the ARN's kind",
            )
