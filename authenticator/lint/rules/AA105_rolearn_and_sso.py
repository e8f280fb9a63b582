"""AA105 rolearn-and-sso: an entry with both ``rolearn`` and ``sso``.

What: a mapRoles entry that names a role ARN and an SSO permission set.

Why: an entry must have exactly one of the two; the server drops an entry with both.

Fix: split it into two entries, or keep only one of the two keys.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        sso:
          permissionSetName: Admin
          accountID: "739275461218"
        username: admin
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - sso:
          permissionSetName: Admin
          accountID: "739275461218"
        username: "sso-admin:{{SessionName}}"
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import MAP_ROLES, mentions

ID = "AA105"
SLUG = "rolearn-and-sso"
SEVERITY = "error"
SUMMARY = "both rolearn and sso in one entry: the entry is dropped"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, "sso", fold=True):
        return
    for entry in ctx.target.entries():
        if entry.section.name != MAP_ROLES:
            continue
        if entry.string("rolearn") and entry.result.fields.get("sso") is not None:
            yield ctx.at_node(
                entry.section,
                entry.key_node("sso"),
                "entry has both rolearn and sso: the server drops it",
                entry=entry,
                fix_hint="keep one of them, or split the entry in two",
            )
