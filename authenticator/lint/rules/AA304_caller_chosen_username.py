"""AA304 caller-chosen-username: the username is nothing but the session name.

What: ``username: "{{SessionName}}"`` (or ``{{SessionNameRaw}}``) with no fixed prefix.

Why: whoever may assume the role chooses the session name, so they choose their Kubernetes
username: ``aws sts assume-role --role-session-name alice`` makes anyone "alice" — or
``system:admin`` — in RBAC bindings and audit logs.

Fix: add a fixed prefix: ``username: "dev:{{SessionName}}"``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "{{SessionName}}"
        groups:
          - developers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "dev:{{SessionName}}"
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA304"
SLUG = "caller-chosen-username"
SEVERITY = "warning"
SUMMARY = "username is only {{SessionName}}: the caller picks their own name"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if entry.username.strip() in ("{{SessionName}}", "{{SessionNameRaw}}"):
            yield ctx.at_node(
                entry.section,
                entry.value_node("username"),
                "the username is only the session name, which the caller chooses: anyone who can assume "
                "the role can pick any username",
                entry=entry,
                fix_hint='add a fixed prefix: username: "team:{{SessionName}}"',
            )
