"""AA208 wildcard-arn: ``*`` or ``?`` in an ARN.

What: ``rolearn: arn:aws:iam::739275461218:role/dev-*``.

Why: matching is an exact string comparison: there are no wildcards, the entry only
matches a role literally named ``dev-*`` (which cannot exist).

Fix: list the roles one by one, or use an ``sso:`` matcher for IAM Identity Center roles.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/dev-*
        username: "dev:{{SessionName}}"
        groups:
          - developers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/dev-team
        username: "dev:{{SessionName}}"
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, has_wildcard, mentions

ID = "AA208"
SLUG = "wildcard-arn"
SEVERITY = "error"
SUMMARY = "* or ? in an ARN: matching is exact, this never matches"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not (mentions(ctx.target, "*") or mentions(ctx.target, "?")):
        return
    for entry, _, arn, node in arn_entries(ctx.target):
        if has_wildcard(arn):
            yield ctx.at_node(
                entry.section,
                node,
                "wildcards are not supported: ARNs are compared exactly, this never matches",
                entry=entry,
                fix_hint="list each role, or use an sso: matcher",
            )
