"""AA808 access-entry-map-accounts: mapAccounts has no access-entry equivalent (migration readiness).

What: any account listed in ``mapAccounts``.

Why: access entries name single principals; nothing maps a whole account. ``aws-auth migrate``
plans it as ``blocked``: the cluster cannot move to the ``API`` authentication mode while the
account is needed. Info by default: only teams moving to access entries need it (AA702 warns
about mapAccounts itself).

Fix: find the principals of the account that use the cluster (CloudTrail, the authenticator's
logs), map each one explicitly, then drop the account.

Failing example::

    mapAccounts: |
      - "210987654321"

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::210987654321:role/deployer
        username: "deployer:{{SessionName}}"
        groups:
          - deployers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._migration import FIX_GUIDE
from authenticator.lint.rules.AA702_map_accounts import account_nodes

ID = "AA808"
SLUG = "access-entry-map-accounts"
SEVERITY = "info"
SUMMARY = "migration: mapAccounts blocks the move to access entries (API mode)"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.target.kind != "configmap":
        return
    for section, node in account_nodes(ctx):
        yield ctx.at_node(
            section,
            node,
            f"account {node.value} has no access-entry equivalent: "
            "the cluster cannot move to API mode while it is needed",
            fix_hint=FIX_GUIDE,
            subject=node.value,
        )
