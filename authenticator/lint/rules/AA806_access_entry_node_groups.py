"""AA806 access-entry-node-groups: a node or Fargate entry with more groups (migration readiness).

What: a node (EC2, Windows, hybrid) or Fargate entry that also has other groups, such as
``system:masters``.

Why: a non-STANDARD access entry has no groups and no access policies: EKS gives the node its
own. The extra groups would be lost, so ``aws-auth migrate`` plans the entry as ``manual``.
Info by default: only teams moving to access entries need it.

Fix: give the extra permissions to another principal (or drop them: a node in
``system:masters`` is a risk, AA505), then migrate.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/nodes
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes
          - monitoring

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/nodes
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._migration import report

ID = "AA806"
SLUG = "access-entry-node-groups"
SEVERITY = "info"
SUMMARY = "migration: node or Fargate entry with groups an access entry cannot keep"


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from report(ctx, "node-extra-groups", "groups")
