"""AA306 reserved-prefix: a username in a namespace Kubernetes or AWS reserves.

What: a username starting with ``system:``, ``eks:``, ``aws:``, ``amazon:`` or ``iam:``. It is
an error for ``system:node:`` outside node entries, ``system:serviceaccount:`` and
``system:anonymous``, which impersonate nodes, service accounts or the anonymous user.

Why: these prefixes carry meaning in Kubernetes (the Node authorizer, service-account
bindings) and EKS; an authenticator configured with reserved prefixes (docs/mapping.md §3) denies
such usernames outright.

Fix: use your own prefix, e.g. ``username: "ops:{{SessionName}}"``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/ci
        username: system:serviceaccount:ci:deployer
        groups:
          - deployers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/ci
        username: "ci:{{SessionName}}"
        groups:
          - deployers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding, Severity
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import is_node_entry
from authenticator.migrate.classify import RESERVED_PREFIXES

ID = "AA306"
SLUG = "reserved-prefix"
SEVERITY = "warning"
OTHER_SEVERITIES = {"error": "for system:node: outside node entries, system:serviceaccount: and system:anonymous"}
SUMMARY = "username starts with system:, eks:, aws:, amazon: or iam:"

PREFIXES = RESERVED_PREFIXES  # the namespaces EKS reserves, as access entries refuse them too


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        username = entry.username
        lower = username.lower()
        if not lower.startswith(PREFIXES):
            continue  # most usernames: one C call instead of a generator per entry
        prefix = next(p for p in PREFIXES if lower.startswith(p))
        severity = Severity.WARNING
        if lower.startswith("system:node:"):
            if is_node_entry(entry) and any(g in ("system:nodes", "system:bootstrappers") for g in entry.groups):
                continue  # a node's own name: AA502 checks its exact form
            severity = Severity.ERROR
            why = "impersonates a node (the Node authorizer trusts it)"
        elif lower.startswith("system:serviceaccount:"):
            severity = Severity.ERROR
            why = "impersonates a service account"
        elif lower == "system:anonymous":
            severity = Severity.ERROR
            why = "is the anonymous user"
        else:
            why = f"uses the reserved prefix {prefix!r}"
        yield ctx.at_node(
            entry.section,
            entry.value_node("username"),
            f"username {username!r} {why}",
            entry=entry,
            severity=severity,
            fix_hint='use your own prefix, e.g. "ops:{{SessionName}}"',
        )
