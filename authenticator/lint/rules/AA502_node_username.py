"""AA502 node-username: a node entry whose username is not the node's name.

What: a node entry (groups ``system:nodes``/``system:bootstrappers``) whose username is not
``system:node:{{EC2PrivateDNSName}}`` (EC2 nodes) or ``system:node:{{SessionName}}``
(Fargate, hybrid nodes).

Why: the Node authorizer only lets a kubelet act for the node named in its username; any
other name and the node cannot update its own status or read its pods' secrets.

Fix: ``username: system:node:{{EC2PrivateDNSName}}``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-node-role
        username: node
        groups:
          - system:bootstrappers
          - system:nodes

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
from authenticator.lint.rules._common import NODE_GROUPS, NODE_USERNAMES

ID = "AA502"
SLUG = "node-username"
SEVERITY = "error"
SUMMARY = "node entry whose username is not system:node:{{EC2PrivateDNSName}} / {{SessionName}}"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if entry.section.name != "mapRoles" or not entry.kept or not any(g in NODE_GROUPS for g in entry.groups):
            continue
        if entry.username in NODE_USERNAMES:
            continue
        yield ctx.at_node(
            entry.section,
            entry.value_node("username") or entry.node,
            f"node entry with username {entry.username!r}: the Node authorizer needs system:node:<node name>",
            entry=entry,
            fix_hint="username: system:node:{{EC2PrivateDNSName}} (Fargate/hybrid: system:node:{{SessionName}})",
        )
