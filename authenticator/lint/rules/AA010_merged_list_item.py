"""AA010 merged-list-item: an over-indented list item merged into the previous one.

What: a ``- item`` indented deeper than the item above it, e.g.::

    groups:
      - system:bootstrappers
        - system:nodes

Why: YAML reads the deeper line as the continuation of the previous value: the entry gets
one group named ``system:bootstrappers - system:nodes`` and neither real group. Nodes cannot
join; people lose their permissions.

Fix: align every ``- `` of a list at the same column.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-node-role
        username: system:node:{{EC2PrivateDNSName}}
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

import yaml

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA010"
SLUG = "merged-list-item"
SEVERITY = "error"
SUMMARY = "an over-indented `- item` is read as part of the previous value"


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _scalars(child)
    elif isinstance(node, yaml.MappingNode):
        for _, value in node.value:
            yield from _scalars(value)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        lines: list[str] | None = None
        for scalar in _scalars(entry.node):
            if scalar.style or scalar.start_mark.line == scalar.end_mark.line or " - " not in scalar.value:
                continue
            if lines is None:
                lines = entry.section.lines()
            line, column = scalar.start_mark.line, scalar.start_mark.column
            for number in range(scalar.start_mark.line + 1, min(scalar.end_mark.line + 1, len(lines))):
                stripped = lines[number].lstrip(" ")
                if stripped.startswith("- "):
                    line, column = number, len(lines[number]) - len(stripped)
                    break
            outer_line, outer_column = entry.section.pos_at(line, column)
            yield ctx.finding(
                f"this list item is indented deeper than the one above and is read as part of it: "
                f"the value becomes {scalar.value!r}",
                line=outer_line,
                column=outer_column,
                entry=entry,
                fix_hint="align every `- ` of the list at the same column",
                subject=scalar.value,
            )
