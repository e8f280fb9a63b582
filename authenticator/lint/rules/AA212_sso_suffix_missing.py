"""AA212 sso-suffix-missing: an ``AWSReservedSSO_<name>`` role without its random suffix.

What: ``rolearn: arn:aws:iam::739275461218:role/AWSReservedSSO_Admin``.

Why: IAM Identity Center names the role ``AWSReservedSSO_<permission set>_<16 hex>``; the
suffix is part of the name, so the entry never matches.

Fix: copy the full role name from IAM, or use an ``sso:`` matcher, which matches that permission
set's role whatever its 16-hex suffix (and not the role of a longer name such as ``Admin_ReadOnly``).

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/AWSReservedSSO_Admin
        username: "sso-admin:{{SessionName}}"
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - sso:
          permissionSetName: Admin
          accountID: "739275461218"
        username: "sso-admin:{{SessionName}}"
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, arn_facts, mentions
from authenticator.mapping.model import sso_permission_set

ID = "AA212"
SLUG = "sso-suffix-missing"
SEVERITY = "warning"
SUMMARY = "AWSReservedSSO_<name> without its random suffix never matches"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, "AWSReservedSSO_"):
        return
    for entry, _, arn, node in arn_entries(ctx.target):
        f = arn_facts(arn)
        name = f.resource.rsplit("/", 1)[-1]
        # The server's own parser decides what counts as a suffix.
        if f.kind != "role" or not name.startswith("AWSReservedSSO_") or sso_permission_set(name) is not None:
            continue
        yield ctx.at_node(
            entry.section,
            node,
            f"{name} has no random suffix (AWSReservedSSO_<permission set>_<16 hex>): this never matches",
            entry=entry,
            fix_hint="copy the full role name, or use an sso: matcher",
        )
