"""AA805 access-entry-group-placeholder: a group with a placeholder (migration readiness).

What: a group such as ``team-{{SessionName}}``.

Why: access-entry ``kubernetesGroups`` are literal strings; a per-session group cannot be
carried. ``aws-auth migrate`` plans the entry as ``manual``. Info by default: only teams moving
to access entries need it.

Fix: use fixed groups (one per role) and bind them with RBAC.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/tenants
        username: "tenant:{{SessionName}}"
        groups:
          - "tenant-{{SessionName}}"

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/tenants
        username: "tenant:{{SessionName}}"
        groups:
          - tenants
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._migration import group_report

ID = "AA805"
SLUG = "access-entry-group-placeholder"
SEVERITY = "info"
SUMMARY = "migration: a group with a placeholder"


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from group_report(ctx, "group-placeholder")
