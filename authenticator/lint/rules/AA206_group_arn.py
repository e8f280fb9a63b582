"""AA206 group-arn: an IAM group ARN.

What: ``userarn: arn:aws:iam::739275461218:group/developers``.

Why: IAM groups are not principals: nobody ever authenticates as a group, so the entry
never matches. (aws-auth cannot map IAM groups.)

Fix: map the users one by one, or better, let the group's members assume a role and map
the role.

Failing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:group/developers
        username: developers
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
from authenticator.lint.rules._common import arn_entries, is_group_arn, mentions

ID = "AA206"
SLUG = "group-arn"
SEVERITY = "error"
SUMMARY = "IAM group ARNs are not principals: never matches"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, ":group/"):
        return
    for entry, _, arn, node in arn_entries(ctx.target):
        if is_group_arn(arn):
            yield ctx.at_node(
                entry.section,
                node,
                "IAM groups are not principals: nobody authenticates as a group, this never matches",
                entry=entry,
                fix_hint="have the group's members assume a role and map that role",
            )
