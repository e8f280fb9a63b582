"""AA007 entry-not-mapping: a list item that is not a mapping.

What: an item of ``mapRoles``/``mapUsers`` that is a plain string or a nested list, e.g. an
ARN on its own line, or keys written as separate list items.

Why: the server drops such an item.

Fix: write each entry as one mapping: ``- rolearn: ...`` followed by its keys, aligned.

Failing example::

    mapRoles: |
      - arn:aws:iam::739275461218:role/eks-admins
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: dev
        groups:
          - developers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: dev
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA007"
SLUG = "entry-not-mapping"
SEVERITY = "error"
SUMMARY = "a list item that is not a mapping is dropped"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if entry.is_mapping:
            continue
        yield ctx.at_node(
            entry.section,
            entry.node,
            f"{entry.section.label}[{entry.index}] is not a mapping: the server drops it",
            entry=entry,
            fix_hint="write the entry as `- rolearn: ...` with username and groups under it",
        )
