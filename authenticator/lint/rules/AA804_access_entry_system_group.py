"""AA804 access-entry-system-group: a ``system:`` group an access entry cannot carry (migration readiness).

What: a ``system:`` group other than ``system:masters`` (which becomes the
AmazonEKSClusterAdminPolicy) on an entry that is not a node or Fargate entry.

Why: CreateAccessEntry refuses every ``kubernetesGroups`` item that starts with ``system:``.
``aws-auth migrate`` plans the entry as ``manual``: the group would be lost. Info by default:
only teams moving to access entries need it.

Fix: bind the RBAC roles the ``system:`` group grants to a group of your own
(``migrated-monitoring``), map the principal to that group, then migrate.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/prometheus
        username: "prometheus:{{SessionName}}"
        groups:
          - system:monitoring

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/prometheus
        username: "prometheus:{{SessionName}}"
        groups:
          - metrics-readers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._migration import group_report

ID = "AA804"
SLUG = "access-entry-system-group"
SEVERITY = "info"
SUMMARY = "migration: a system: group access entries refuse"


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from group_report(ctx, "system-group")
