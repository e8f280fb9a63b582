"""AA004 unknown-data-key: a data key that is not mapRoles, mapUsers or mapAccounts.

What: ``maproles``, ``MapRoles``, ``map_roles``, ``mapusers`` ... in ``data``.

Why: the section names are case-sensitive. Any other key is silently ignored: the entries
under it never map anyone, and nothing in the logs says so.

Fix: use exactly ``mapRoles``, ``mapUsers`` and ``mapAccounts``. A suggestion only: ``--fix``
never renames the key, because the renamed section is read for the first time and every entry
in it starts to match: a fix may not change who is matched. Rename it yourself after checking
the entries.

Failing example::

    MapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins

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

from authenticator.lint.document import looks_like_section_key
from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.mapping.awsauth import SECTIONS

ID = "AA004"
SLUG = "unknown-data-key"
SEVERITY = "error"
SUMMARY = "a data key other than mapRoles/mapUsers/mapAccounts is silently ignored"
FIXABLE = False  # the renamed section is read: its entries start to match


def check(ctx: RuleContext) -> Iterator[Finding]:
    target = ctx.target
    for key, key_node, _ in target.data_keys:
        if key in SECTIONS:
            continue
        guess = looks_like_section_key(key)
        if guess is None:
            close = difflib.get_close_matches(key.lower(), [s.lower() for s in SECTIONS], n=1, cutoff=0.75)
            guess = next((s for s in SECTIONS if close and s.lower() == close[0]), None)
        hint = (
            f"rename it to {guess} (not applied by --fix: its entries would start to match)"
            if guess
            else "remove it; only mapRoles, mapUsers and mapAccounts are read"
        )
        message = f"data key {key!r} is ignored by the authenticator" + (f" (did you mean {guess}?)" if guess else "")
        yield ctx.finding(
            message,
            line=key_node.start_mark.line + 1,
            column=key_node.start_mark.column + 1,
            fix_hint=hint,
            subject=key,
        )
