"""AA104 missing-arn: an entry without ``rolearn``/``sso`` (mapRoles) or ``userarn`` (mapUsers).

What: the entry has no ARN the server can read (missing, empty, misspelt or of the wrong type).

Why: the server drops the entry: nobody is mapped by it.

Fix: add ``rolearn: arn:aws:iam::<account>:role/<name>`` (or ``sso:``) for roles,
``userarn: arn:aws:iam::<account>:user/<name>`` for users.

Failing example::

    mapRoles: |
      - username: admin
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

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import MAP_ROLES

ID = "AA104"
SLUG = "missing-arn"
SEVERITY = "error"
SUMMARY = "no rolearn/sso (roles) or userarn (users): the entry is dropped"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if not entry.is_mapping or entry.kept:
            continue
        roles = entry.section.name == MAP_ROLES
        if roles and (entry.string("rolearn") or entry.result.fields.get("sso") is not None):
            continue  # dropped for another reason (both given: AA105; bad sso: AA704)
        if not roles and entry.string("userarn"):
            continue
        want = "rolearn (or sso)" if roles else "userarn"
        yield ctx.at_node(
            entry.section,
            entry.node,
            f"entry has no {want}: the server drops it",
            entry=entry,
            fix_hint=f"add {want.split(' ')[0]}: <ARN>",
        )
