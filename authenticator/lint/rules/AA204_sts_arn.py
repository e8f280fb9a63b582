"""AA204 sts-arn: an STS assumed-role (session) ARN instead of the role ARN.

What: ``rolearn: arn:aws:sts::739275461218:assumed-role/admin/jane`` — what
``aws sts get-caller-identity`` prints.

Why: the authenticator folds every session into its role ARN
(``arn:aws:iam::739275461218:role/admin``) before matching; a session ARN never matches.

Fix: use the role ARN. ``--fix`` rewrites it.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:sts::739275461218:assumed-role/admin/jane
        username: "admin:{{SessionName}}"
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/admin
        username: "admin:{{SessionName}}"
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, is_sts_arn, mentions, scalar_edit

ID = "AA204"
SLUG = "sts-arn"
SEVERITY = "error"
SUMMARY = "an sts assumed-role session ARN in rolearn never matches"
FIXABLE = True


def role_arn_of(arn: str) -> str | None:
    """The IAM role ARN of a session ARN, exactly as the server canonicalises callers."""
    from authenticator.arn import canonicalize

    try:
        return canonicalize(arn)
    except ValueError:
        return None


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, ":sts:"):
        return
    for entry, _, arn, node in arn_entries(ctx.target):
        if not is_sts_arn(arn):
            continue
        fixed = role_arn_of(arn.strip())
        edit = scalar_edit(entry.section, node, fixed) if fixed else None
        yield ctx.at_node(
            entry.section,
            node,
            "this is an STS session ARN: callers are matched by their role ARN, so this never matches",
            entry=entry,
            fix_hint=f"use {fixed}" if fixed else "use the role ARN arn:<partition>:iam::<account>:role/<name>",
            edits=[edit] if edit else [],
        )
