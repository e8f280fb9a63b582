"""AA501 node-missing-groups: a node entry without ``system:bootstrappers`` or ``system:nodes``.

What: an entry with a node username (``system:node:...``) or one node group, but not both
``system:bootstrappers`` and ``system:nodes``.

Why: kubelets need ``system:bootstrappers`` to get their certificates and ``system:nodes``
for the Node authorizer; without them nodes stay NotReady or never join.

Fix: give node roles both groups (Fargate also ``system:node-proxier``).

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-node-role
        username: system:node:{{EC2PrivateDNSName}}
        groups:
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
from authenticator.lint.rules._common import NODE_GROUPS, is_node_entry

ID = "AA501"
SLUG = "node-missing-groups"
SEVERITY = "error"
SUMMARY = "node entry without system:bootstrappers and system:nodes"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if not entry.kept or not is_node_entry(entry):
            continue
        missing = [g for g in NODE_GROUPS if g not in entry.groups]
        if not missing:
            continue
        yield ctx.at_node(
            entry.section,
            entry.value_node("groups") or entry.node,
            f"node entry without {' and '.join(missing)}: nodes using this role cannot join or register",
            entry=entry,
            fix_hint="groups: [system:bootstrappers, system:nodes]",
        )
