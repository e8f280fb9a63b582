"""AA803 access-entry-placeholder: a username placeholder access entries do not have (migration readiness).

What: ``{{AccountID}}``, ``{{AccessKeyID}}`` or ``{{EC2PrivateDNSName}}`` in the username of an
entry that is not a node entry.

Why: access entries document only ``{{SessionName}}`` and ``{{SessionNameRaw}}``; any other
placeholder would be kept literally. ``aws-auth migrate`` plans the entry as ``manual`` and
suggests a username. Info by default: only teams moving to access entries need it.

Fix: write the account id literally (it is the account of the ARN), use ``{{SessionName}}``
instead of the access key id, and update the RBAC bindings that name the old usernames.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/ci
        username: "ci:{{AccountID}}:{{SessionName}}"
        groups:
          - ci

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/ci
        username: "ci:739275461218:{{SessionName}}"
        groups:
          - ci
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._migration import report

ID = "AA803"
SLUG = "access-entry-placeholder"
SEVERITY = "info"
SUMMARY = "migration: username placeholder access entries do not support"


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from report(ctx, "unsupported-placeholder", "username")
