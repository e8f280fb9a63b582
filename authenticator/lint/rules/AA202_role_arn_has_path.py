"""AA202 role-arn-has-path: a role ARN with a path never matches.

What: ``rolearn: arn:aws:iam::739275461218:role/teams/platform/admin``.

Why: STS never puts the IAM path in an assumed-role ARN
(``arn:aws:sts::739275461218:assumed-role/admin/session``), and the authenticator matches the
role ARN built from it, ``arn:aws:iam::739275461218:role/admin``. An entry with the path
never matches: the people or nodes using that role are Unauthorized.

Fix: drop the path: ``arn:aws:iam::739275461218:role/admin``. A suggestion only: ``--fix``
never applies it, because the entry, dead today, would start to match the role named ``admin``
(whatever its path: the entry's path may be the wrong one) with this entry's username and
groups: a fix may not change who is matched.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/teams/platform/admin
        username: "admin:{{SessionName}}"
        groups:
          - platform-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/admin
        username: "admin:{{SessionName}}"
        groups:
          - platform-admins
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, arn_facts, role_path, section_mentions

ID = "AA202"
SLUG = "role-arn-has-path"
SEVERITY = "error"
SUMMARY = "a role ARN with a path never matches (STS drops the path)"
FIXABLE = False  # the entry would start to match
_ROLE_PATH = re.compile(r":role/[^\s\"']*/")  # a role name followed by another "/"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not (
        section_mentions(ctx.target, "mapRoles", _ROLE_PATH) or section_mentions(ctx.target, "mapUsers", _ROLE_PATH)
    ):
        return  # the text cannot hold what this rule looks for
    for entry, _, arn, node in arn_entries(ctx.target):
        name = role_path(arn)
        if name is None:
            continue
        f = arn_facts(arn)
        fixed = f"arn:{f.partition}:iam::{f.account}:role/{name}"
        yield ctx.at_node(
            entry.section,
            node,
            f"role ARN has a path: STS reports this role as role/{name}, so this entry never matches",
            entry=entry,
            fix_hint=f"use {fixed} if that is the role meant (not applied by --fix: the entry would start to match)",
        )
