"""AA210 arn-whitespace: spaces, zero-width or non-ASCII characters in an ARN.

What: ``"arn:aws:iam::739275461218:role/admin "`` (a trailing space inside quotes), a
zero-width space pasted from a chat tool, a non-breaking space or a Unicode dash.

Why: the comparison is exact: the entry never matches, and the difference is invisible.

Fix: retype the ARN.

Failing example::

    mapRoles: |
      - rolearn: "arn:aws:iam::739275461218:role/eks-admins "
        username: admin
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: "arn:aws:iam::739275461218:role/eks-admins"
        username: admin
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, bad_characters

ID = "AA210"
SLUG = "arn-whitespace"
SEVERITY = "error"
SUMMARY = "spaces, zero-width or non-ASCII characters in an ARN: never matches"


def _describe(arn: str) -> str:
    for position, ch in enumerate(arn):
        if ch.isspace() or not ch.isascii() or not ch.isprintable():
            return f"U+{ord(ch):04X} at position {position + 1}"
    return "surrounding whitespace"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry, _, arn, node in arn_entries(ctx.target):
        if bad_characters(arn):
            yield ctx.at_node(
                entry.section,
                node,
                f"the ARN contains {_describe(arn)}: ARNs are compared exactly, this never matches",
                entry=entry,
                fix_hint="retype the ARN; only ASCII without spaces",
            )
