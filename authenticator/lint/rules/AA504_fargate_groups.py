"""AA504 fargate-groups: a Fargate pod execution role without ``system:node-proxier``.

What: the entry of a Fargate pod execution role (its name contains "Fargate") that lacks
``system:node-proxier``.

Why: EKS maps Fargate pod execution roles with ``system:bootstrappers``, ``system:nodes`` and
``system:node-proxier``; without the last, kube-proxy on Fargate cannot work and Services
break for Fargate pods.

Fix: add ``system:node-proxier`` to the groups.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/AmazonEKSFargatePodExecutionRole
        username: system:node:{{SessionName}}
        groups:
          - system:bootstrappers
          - system:nodes

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/AmazonEKSFargatePodExecutionRole
        username: system:node:{{SessionName}}
        groups:
          - system:bootstrappers
          - system:nodes
          - system:node-proxier
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import is_fargate_entry, mentions

ID = "AA504"
SLUG = "fargate-groups"
SEVERITY = "warning"
SUMMARY = "Fargate pod execution role without system:node-proxier"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, "fargate", fold=True):
        return
    for entry in ctx.target.entries():
        if entry.kept and is_fargate_entry(entry) and "system:node-proxier" not in entry.groups:
            yield ctx.at_node(
                entry.section,
                entry.value_node("groups") or entry.node,
                "Fargate pod execution role without system:node-proxier: kube-proxy on Fargate cannot work",
                entry=entry,
                fix_hint="add system:node-proxier to groups",
            )
