"""AA207 arn-type-mismatch: a user ARN under mapRoles, or a role ARN under mapUsers.

What: ``rolearn: arn:aws:iam::739275461218:user/alice`` or ``userarn: ...:role/admin``.

Why: it happens to work (both sections are looked up by ARN), but tools that manage
aws-auth (eksctl, Terraform modules) and people reading the file expect users under
``mapUsers`` and roles under ``mapRoles``; entries get lost or duplicated when they edit it.

Fix: move the entry to the section of its kind.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - developers

Passing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import MAP_ROLES, arn_entries, arn_facts, section_mentions

ID = "AA207"
SLUG = "arn-type-mismatch"
SEVERITY = "warning"
SUMMARY = "a user ARN under mapRoles or a role ARN under mapUsers"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not (section_mentions(ctx.target, "mapRoles", ":user/") or section_mentions(ctx.target, "mapUsers", ":role/")):
        return  # the text cannot hold what this rule looks for
    for entry, _, arn, node in arn_entries(ctx.target):
        f = arn_facts(arn)
        if f.service != "iam":
            continue
        roles = entry.section.name == MAP_ROLES
        if roles and f.kind == "user":
            message, where = "a user ARN under mapRoles", "mapUsers (userarn)"
        elif not roles and f.kind == "role":
            message, where = "a role ARN under mapUsers", "mapRoles (rolearn)"
        else:
            continue
        yield ctx.at_node(
            entry.section,
            node,
            f"{message}: it matches, but tools and readers expect it in {where}",
            entry=entry,
            fix_hint=f"move the entry to {where}",
        )
