"""AA004 unknown-data-key: a data key that is not mapRoles, mapUsers or mapAccounts.

What: ``maproles``, ``MapRoles``, ``map_roles``, ``mapusers`` ... in ``data``.

Why: the section names are case-sensitive. Any other key is silently ignored: the entries
under it never map anyone, and nothing in the logs says so.

Fix: use exactly ``mapRoles``, ``mapUsers`` and ``mapAccounts``. ``--fix`` corrects the case.

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
from authenticator.lint.findings import Edit, Finding
from authenticator.lint.registry import RuleContext
from authenticator.mapping.awsauth import SECTIONS

ID = "AA004"
SLUG = "unknown-data-key"
SEVERITY = "error"
SUMMARY = "a data key other than mapRoles/mapUsers/mapAccounts is silently ignored"
FIXABLE = True


def check(ctx: RuleContext) -> Iterator[Finding]:
    target = ctx.target
    present = {key for key, _, _ in target.data_keys}
    for key, key_node, _ in target.data_keys:
        if key in SECTIONS:
            continue
        guess = looks_like_section_key(key)
        if guess is None:
            close = difflib.get_close_matches(key.lower(), [s.lower() for s in SECTIONS], n=1, cutoff=0.75)
            guess = next((s for s in SECTIONS if close and s.lower() == close[0]), None)
        edits = []
        if guess and key.lower() == guess.lower() and guess not in present:
            start = target.index.offset(key_node.start_mark.line, key_node.start_mark.column)
            if target.text[start : start + len(key)] == key:
                edits.append(Edit(start, start + len(key), guess))
        hint = f"rename it to {guess}" if guess else "remove it; only mapRoles, mapUsers and mapAccounts are read"
        message = f"data key {key!r} is ignored by the authenticator" + (f" (did you mean {guess}?)" if guess else "")
        yield ctx.finding(
            message,
            line=key_node.start_mark.line + 1,
            column=key_node.start_mark.column + 1,
            fix_hint=hint,
            edits=edits,
            subject=key,
        )
