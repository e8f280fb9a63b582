"""AA705 iam-user: an IAM user is mapped.

What: any mapUsers entry.

Why: IAM users have long-lived access keys, which leak; roles give short-lived credentials
and can be assumed from SSO, CI (OIDC) or other accounts. Prefer roles.

Fix: have the person or system assume a role and map the role; allow-list deliberate users
under ``allow.iam-users``.

Failing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - developers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "dev:{{SessionName}}"
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.mapping.model import UserMapping

ID = "AA705"
SLUG = "iam-user"
SEVERITY = "info"
SUMMARY = "an IAM user is mapped: prefer roles"


def check(ctx: RuleContext) -> Iterator[Finding]:
    section = ctx.target.sections.get("mapUsers")
    if section is None:
        return
    for entry in section.entries:
        mapping = entry.result.mapping  # a kept mapUsers entry's is a UserMapping
        if not isinstance(mapping, UserMapping) or mapping.userarn.lower() in ctx.config.allow_iam_users:
            continue
        yield ctx.at_node(
            section,
            entry.value_node("userarn"),
            "IAM user mapped: long-lived access keys; prefer a role",
            entry=entry,
            fix_hint="map a role the user assumes instead",
        )
