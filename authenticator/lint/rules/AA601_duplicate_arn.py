"""AA601 duplicate-arn: the same ARN (or sso matcher) in two entries of a section.

What: two mapRoles entries with the same ``rolearn`` (compared case-insensitively), or two
mapUsers entries with the same ``userarn``.

Why: the last entry wins; the earlier one is silently dead. Usually someone added groups in
a second entry, expecting them to add up.

Fix: merge the entries into one.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - viewers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
          - viewers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.document import Entry
from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.mapping.entries import PrincipalKey, principal_key

ID = "AA601"
SLUG = "duplicate-arn"
SEVERITY = "error"
SUMMARY = "the same ARN twice: the earlier entry is silently dead"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for section in ctx.target.sections.values():
        groups: dict[PrincipalKey, list[Entry]] = {}
        for entry in section.entries:
            if entry.result.mapping is not None:  # kept
                groups.setdefault(principal_key(entry.result.mapping), []).append(entry)
        for same in groups.values():
            if len(same) < 2:
                continue
            winner = same[-1]
            win_line = section.pos(winner.node)[0]
            for entry in same[:-1]:
                node = entry.value_node("rolearn" if section.name == "mapRoles" else "userarn")
                label = entry.arn or "this sso matcher"
                yield ctx.at_node(
                    section,
                    node or entry.key_node("sso") or entry.node,
                    f"{label} is mapped again by the entry on line {win_line}: the last entry wins, this one is dead",
                    entry=entry,
                    fix_hint="merge the two entries into one",
                )
