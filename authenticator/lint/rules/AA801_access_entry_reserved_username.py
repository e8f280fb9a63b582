"""AA801 access-entry-reserved-username: a username EKS access entries refuse (migration readiness).

What: a username starting with ``system:``, ``eks:``, ``aws:``, ``amazon:`` or ``iam:`` on an entry
that is not a node or Fargate entry.

Why: CreateAccessEntry refuses these prefixes, so ``aws-auth migrate`` plans the entry as
``manual``: it cannot be carried without a new username, and RBAC bindings that name the old
username must change with it. Info by default: only teams moving to access entries need it.

Fix: pick a username of your own (``ci:{{SessionName}}``), update the RBAC bindings that name the
old one, then migrate.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/argocd
        username: system:argocd
        groups:
          - deployers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/argocd
        username: "argocd:{{SessionName}}"
        groups:
          - deployers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._migration import report

ID = "AA801"
SLUG = "access-entry-reserved-username"
SEVERITY = "info"
SUMMARY = "migration: username with a prefix access entries refuse"


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from report(ctx, "reserved-username", "username")
