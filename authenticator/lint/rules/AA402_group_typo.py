"""AA402 group-typo: a misspelt built-in group.

What: ``system:master``, ``systems:masters``, ``system:node``, ``system:bootstrapper``,
``System:Masters``.

Why: Kubernetes groups are plain strings: a typo is a different (empty) group. Admins get no
rights; nodes cannot register.

Fix: ``system:masters``, ``system:nodes``, ``system:bootstrappers``, ``system:node-proxier``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - system:master

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import lru_cache

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import KNOWN_SYSTEM_GROUPS, OTHER_SYSTEM_GROUPS, group_nodes

ID = "AA402"
SLUG = "group-typo"
SEVERITY = "error"
SUMMARY = "system:master, systems:masters, system:node...: a typo is a different, empty group"


@lru_cache(maxsize=4096)  # group names repeat across entries
def typo_of(group: str) -> str | None:
    """The built-in group a string is a typo of, if any."""
    if group in KNOWN_SYSTEM_GROUPS or group in OTHER_SYSTEM_GROUPS:
        return None
    normal = group.strip().lower().replace(" ", "")
    if normal in KNOWN_SYSTEM_GROUPS:
        return normal
    if ":" not in normal or not normal.startswith(("sys", "sy", "ssy")):
        return None
    close = difflib.get_close_matches(normal, KNOWN_SYSTEM_GROUPS, n=1, cutoff=0.85)
    return close[0] if close else None


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        for group, node in group_nodes(entry):
            meant = typo_of(group)
            if meant:
                yield ctx.at_node(
                    entry.section,
                    node,
                    f"group {group!r} is not {meant!r}: a typo is a different group with no permissions",
                    entry=entry,
                    fix_hint=f"write {meant}",
                    subject=group,
                )
