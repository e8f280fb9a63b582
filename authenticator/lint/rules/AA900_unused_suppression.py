"""AA900 unused-suppression: an inline suppression that suppresses nothing.

What: a ``# aws-auth-lint: ignore[AA701] reason`` comment with no AA701 finding on or below it.

Why: stale suppressions hide the next real problem at that spot. (The engine reports this
one itself, after matching suppressions to findings.)

Fix: remove the comment, or put it on (or directly above) the entry it is meant for.

Failing example::

    mapRoles: |
      # aws-auth-lint: ignore[AA701] break-glass role
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: "admin:{{SessionName}}"
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      # aws-auth-lint: ignore[AA701] break-glass role
      - rolearn: arn:aws:iam::739275461218:role/break-glass
        username: "break-glass:{{SessionName}}"
        groups:
          - system:masters
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA900"
SLUG = "unused-suppression"
SEVERITY = "info"
SUMMARY = "an inline suppression that suppresses nothing"


def check(ctx: RuleContext) -> Iterator[Finding]:
    return iter(())  # reported by the engine, which knows which suppressions were used
