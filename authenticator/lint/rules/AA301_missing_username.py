"""AA301 missing-username: an entry without a username.

What: a mapRoles/mapUsers entry with no ``username`` (or an empty one).

Why: the authenticator then hands Kubernetes an empty or default name: aggregated APIs
(``kubectl top``, metrics-server) refuse the request and audit logs cannot tell people apart.

Fix: set a username; for roles used by people, include the session name:
``username: "admin:{{SessionName}}"``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: "admin:{{SessionName}}"
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA301"
SLUG = "missing-username"
SEVERITY = "warning"
SUMMARY = "no username: aggregated APIs fail and audit logs are blank"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if entry.result.mapping is None or entry.result.mapping.username:  # dropped, or has a username
            continue
        if entry.value_node("username") is not None and entry.result.fields.get("username") is not None:
            continue  # present but of the wrong type: AA011
        yield ctx.at_node(
            entry.section,
            entry.node,
            "entry has no username: aggregated APIs (kubectl top) fail and audit logs show no name",
            entry=entry,
            fix_hint='add username, e.g. username: "name:{{SessionName}}"',
        )
