"""AA701 system-masters: an entry in ``system:masters``.

What: a group ``system:masters`` on an entry that is not on the allow-list.

Why: ``system:masters`` bypasses RBAC entirely and cannot be revoked by editing bindings;
EKS recommends a ClusterRoleBinding to ``cluster-admin`` for a group of your own.

Fix: use your own group bound to ``cluster-admin``; for a deliberate break-glass role, list
its ARN under ``allow.system-masters`` in the linter config or suppress it inline with a
reason: ``# aws-auth-lint: ignore[AA701] break-glass role``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: "admin:{{SessionName}}"
        groups:
          - system:masters

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: "admin:{{SessionName}}"
        groups:
          - cluster-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import group_nodes, is_node_entry, mentions

ID = "AA701"
SLUG = "system-masters"
SEVERITY = "warning"
SUMMARY = "system:masters bypasses RBAC; allow-list break-glass roles in the config"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, "system:masters"):
        return
    allowed = ctx.config.allow_system_masters
    for entry in ctx.target.entries():
        if is_node_entry(entry) or (entry.arn and entry.arn.lower() in allowed):
            continue
        for group, node in group_nodes(entry):
            if group == "system:masters":
                yield ctx.at_node(
                    entry.section,
                    node,
                    "system:masters bypasses RBAC and cannot be revoked by editing bindings",
                    entry=entry,
                    fix_hint="bind your own group to cluster-admin, or allow-list this break-glass ARN",
                )
