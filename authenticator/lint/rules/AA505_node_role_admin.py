"""AA505 node-role-admin: a node role in ``system:masters``.

What: a node entry that also has ``system:masters``.

Why: every pod that can reach the instance metadata service gets the node's credentials;
with ``system:masters`` any compromised pod owns the cluster, past RBAC and the Node
authorizer.

Fix: remove ``system:masters`` from node entries.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-node-role
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes
          - system:masters

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-node-role
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import group_nodes, is_node_entry, mentions

ID = "AA505"
SLUG = "node-role-admin"
SEVERITY = "error"
SUMMARY = "a node role in system:masters: any pod on the node owns the cluster"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, "system:masters"):
        return
    for entry in ctx.target.entries():
        if not is_node_entry(entry):
            continue
        for group, node in group_nodes(entry):
            if group == "system:masters":
                yield ctx.at_node(
                    entry.section,
                    node,
                    "node role in system:masters: every pod that reaches the node's credentials owns the cluster",
                    entry=entry,
                    fix_hint="remove system:masters from node entries",
                )
