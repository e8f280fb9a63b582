"""AA401 groups-not-list: ``groups`` is a single value or a mapping instead of a list.

What: ``groups: system:masters``.

Why: the authenticator expects a list; a field of the wrong type is emptied, so the entry
keeps *no groups at all* (it still authenticates, with no permissions from groups).

Fix: make it a list: ``groups: [system:masters]`` or one ``- group`` per line.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups: eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA401"
SLUG = "groups-not-list"
SEVERITY = "error"
SUMMARY = "groups is not a list: the entry keeps no groups at all"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        value = entry.result.fields.get("groups")
        if value is None or isinstance(value, list):
            continue
        yield ctx.at_node(
            entry.section,
            entry.value_node("groups"),
            f"groups is not a list ({value!r}): the server empties it and the entry keeps no groups",
            entry=entry,
            fix_hint="write one `- group` per line under groups:",
        )
