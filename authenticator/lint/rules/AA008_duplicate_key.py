"""AA008 duplicate-key: the same key twice in one entry (keys compare case-insensitively).

What: ``groups`` twice, or ``rolearn`` and ``roleARN`` in the same entry.

Why: only one of them is read; the other is silently lost (for ``groups``: the entry loses
the groups you thought you gave it).

Fix: merge the two into one key.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
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

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA008"
SLUG = "duplicate-key"
SEVERITY = "warning"
SUMMARY = "the same key twice in one entry: all but one are silently lost"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        keys = entry.keys
        if len(keys) < 2 or len({k[0].lower() for k in keys}) == len(keys):
            continue  # no two keys alike: the common case, decided without building the lists
        by_lower: dict[str, list[int]] = {}
        for position, (text, _, _) in enumerate(entry.keys):
            by_lower.setdefault(text.lower(), []).append(position)
        for lower, positions in by_lower.items():
            if len(positions) < 2:
                continue
            winner_spelling = entry.result.spellings.get(lower)
            candidates = [p for p in positions if entry.keys[p][0] == winner_spelling] or positions
            winner = candidates[-1]
            win_line = entry.section.pos(entry.keys[winner][1])[0]
            for position in positions:
                if position == winner:
                    continue
                text, key_node, _ = entry.keys[position]
                yield ctx.at_node(
                    entry.section,
                    key_node,
                    f"{text!r} is repeated in this entry: "
                    f"only the {entry.keys[winner][0]!r} on line {win_line} is read",
                    entry=entry,
                    fix_hint="keep one key and merge the values",
                    subject=f"{lower}#{position}",
                )
