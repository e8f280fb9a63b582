"""AA506 node-role-shared: a node role also mapped for people.

What: the same role ARN appears in a node entry and in an entry for humans (another
username and groups).

Why: only one of the two entries is used (the last); either nodes stop joining or people
get node identities. And a role that both nodes and people assume means that anyone with
the human role can act as any node.

Fix: give nodes their own role.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/shared
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes
      - rolearn: arn:aws:iam::739275461218:role/shared
        username: "ops:{{SessionName}}"
        groups:
          - ops

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-node-role
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes
      - rolearn: arn:aws:iam::739275461218:role/ops
        username: "ops:{{SessionName}}"
        groups:
          - ops
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.document import Entry
from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import is_node_entry

ID = "AA506"
SLUG = "node-role-shared"
SEVERITY = "warning"
SUMMARY = "a node role also mapped for humans"


def check(ctx: RuleContext) -> Iterator[Finding]:
    nodes: dict[str, list[Entry]] = {}
    humans: dict[str, list[Entry]] = {}
    for entry in ctx.target.entries():
        if entry.section.name != "mapRoles" or not entry.kept or not entry.arn:
            continue
        (nodes if is_node_entry(entry) else humans).setdefault(entry.arn.lower(), []).append(entry)
    for arn, human_entries in humans.items():
        if arn not in nodes:
            continue
        node_line = nodes[arn][0].section.pos(nodes[arn][0].node)[0]
        for entry in human_entries:
            yield ctx.at_node(
                entry.section,
                entry.value_node("rolearn"),
                f"this role is also the node role of the entry on line {node_line}: nodes and people share it",
                entry=entry,
                fix_hint="give nodes their own role",
            )
