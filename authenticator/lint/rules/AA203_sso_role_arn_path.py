"""AA203 sso-role-arn-path: an IAM Identity Center role ARN copied with its path.

What: ``role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef``
(the example below uses a shorter region-less path).

Why: the IAM console shows SSO roles with this path, but STS drops it: the caller's role ARN
is ``role/AWSReservedSSO_Admin_0123456789abcdef`` and the entry never matches.

Fix: drop ``aws-reserved/sso.amazonaws.com/<region>/``, or use an ``sso:`` matcher instead. A
suggestion only: ``--fix`` never applies it, because the entry, dead today, would start to
match that permission set's role with this entry's username and groups: a fix may not change
who is matched.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef
        username: "sso-admin:{{SessionName}}"
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/AWSReservedSSO_Admin_0123456789abcdef
        username: "sso-admin:{{SessionName}}"
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import SSO_PATH_RE, arn_entries, arn_facts, mentions

ID = "AA203"
SLUG = "sso-role-arn-path"
SEVERITY = "error"
SUMMARY = "an SSO role ARN with its aws-reserved/sso.amazonaws.com path never matches"
FIXABLE = False  # the entry would start to match


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, "aws-reserved", fold=True):
        return
    for entry, _, arn, node in arn_entries(ctx.target):
        f = arn_facts(arn)
        match = SSO_PATH_RE.match(f.resource) if f.service == "iam" else None
        if match is None:
            continue
        fixed = f"arn:{f.partition}:iam::{f.account}:role/{match.group(1)}"
        yield ctx.at_node(
            entry.section,
            node,
            f"SSO role ARN has the aws-reserved path: STS reports role/{match.group(1)}, so this never matches",
            entry=entry,
            fix_hint=f"use {fixed} (not applied by --fix: the entry would start to match)",
        )
