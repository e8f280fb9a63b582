"""AA211 placeholder-left: a template placeholder or documentation account left in an ARN.

What: ``<account-id>``, ``${AWS_ACCOUNT_ID}``, ``REPLACE_ME``, ``XXXXXXXXXXXX`` in an ARN (an
error); an account id from the AWS documentation such as ``111122223333`` or
``123456789012`` (a warning).

Why: the manifest was applied before its template was filled in: the entry never matches.

Fix: substitute the real value.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::<account-id>:role/eks-admins
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

from collections.abc import Iterator

from authenticator.lint.findings import Finding, Severity
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, arn_facts, has_example_account, placeholder_in

ID = "AA211"
SLUG = "placeholder-left"
SEVERITY = "error"
OTHER_SEVERITIES = {"warning": "for an example account id from the AWS documentation"}
SUMMARY = "a placeholder (<account-id>, ${...}, REPLACE_ME) or documentation account left in an ARN"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry, _, arn, node in arn_entries(ctx.target):
        what = placeholder_in(arn)
        if what is not None:
            yield ctx.at_node(
                entry.section,
                node,
                f"placeholder {what!r} left in the ARN: this never matches",
                entry=entry,
                fix_hint="substitute the real value",
            )
        elif has_example_account(arn):
            yield ctx.at_node(
                entry.section,
                node,
                f"account {arn_facts(arn).account} is an example account from the AWS documentation",
                entry=entry,
                severity=Severity.WARNING,
                fix_hint="use your account id",
            )
