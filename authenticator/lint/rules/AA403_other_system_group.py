"""AA403 other-system-group: a ``system:`` group other than the four aws-auth ones.

What: ``system:authenticated``, ``system:serviceaccounts``, ``system:cluster-admins``...

Why: ``system:`` groups belong to Kubernetes. Granting one through aws-auth either does
nothing (``system:authenticated`` is added anyway) or gives rights meant for other
identities (``system:serviceaccounts``). Names like ``system:admins`` do not exist at all.

Fix: use your own group and bind it with RBAC.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/auditors
        username: "audit:{{SessionName}}"
        groups:
          - system:serviceaccounts

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/auditors
        username: "audit:{{SessionName}}"
        groups:
          - auditors
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import KNOWN_SYSTEM_GROUPS, group_nodes
from authenticator.lint.rules.AA402_group_typo import typo_of

ID = "AA403"
SLUG = "other-system-group"
SEVERITY = "warning"
SUMMARY = "a system: group other than masters, nodes, bootstrappers, node-proxier"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        for group, node in group_nodes(entry):
            if (
                not group.lower().startswith("system:")
                or group in KNOWN_SYSTEM_GROUPS
                or typo_of(group)
                or " " in group
            ):
                continue
            yield ctx.at_node(
                entry.section,
                node,
                f"group {group!r} is a Kubernetes system group: granting it through aws-auth is rarely what you mean",
                entry=entry,
                fix_hint="use your own group and bind it with RBAC",
                subject=group,
            )
