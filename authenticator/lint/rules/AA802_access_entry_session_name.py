"""AA802 access-entry-session-name: ``{{SessionName}}`` with no colon before it (migration readiness).

What: a username such as ``{{SessionName}}`` or ``dev-{{SessionName}}``: ``{{SessionName}}`` or
``{{SessionNameRaw}}`` without a ``:`` somewhere before it.

Why: EKS access entries accept the session-name placeholders only after a colon, so that a
caller can never choose a whole username. ``aws-auth migrate`` plans the entry as ``manual``.
Info by default: only teams moving to access entries need it.

Fix: put a prefix and a colon first (``dev:{{SessionName}}``) and update the RBAC bindings that
name the old usernames.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "{{SessionName}}"
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
from authenticator.lint.rules._migration import report

ID = "AA802"
SLUG = "access-entry-session-name"
SEVERITY = "info"
SUMMARY = "migration: {{SessionName}} without a colon before it"


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from report(ctx, "session-name-without-colon", "username")
