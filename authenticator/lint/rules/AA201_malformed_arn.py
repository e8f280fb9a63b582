"""AA201 malformed-arn: the ARN is not ``arn:<partition>:iam::<12 digits>:(role|user)/<name>``.

What: a rolearn/userarn that is not an IAM role or user ARN: a missing field, an account id
that is not 12 digits, a typo in ``iam`` or ``role``, a bare role name.

Why: matching is an exact comparison with the caller's canonical ARN, which always has this
shape; a malformed ARN never matches anyone.

Fix: copy the ARN from the IAM console or ``aws iam get-role --role-name <name>``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::73927546121:role/eks-admins
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

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import ARN_SHAPE, arn_entries, arn_facts, specific_arn_problem

ID = "AA201"
SLUG = "malformed-arn"
SEVERITY = "error"
SUMMARY = "not arn:<partition>:iam::<12 digits>:(role|user)/<name>: never matches"


def _why(arn: str) -> str:
    f = arn_facts(arn)
    if not arn.startswith("arn:") or len(f.parts) < 6:
        return "it does not have the six colon-separated fields of an ARN"
    if f.service != "iam":
        return f"service {f.service!r} is not iam"
    if f.parts[3]:
        return "IAM ARNs have an empty region field (iam::)"
    if not (len(f.account) == 12 and f.account.isdigit()):
        return f"account id {f.account!r} is not 12 digits"
    return f"resource {f.resource!r} is not role/<name> or user/<name>"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry, _, arn, node in arn_entries(ctx.target):
        if ARN_SHAPE.match(arn) or specific_arn_problem(arn):
            continue
        yield ctx.at_node(
            entry.section,
            node,
            f"{arn!r} is not an IAM role or user ARN ({_why(arn)}): it never matches",
            entry=entry,
            fix_hint="use arn:<partition>:iam::<12-digit account>:role/<name> (or user/<name>)",
        )
