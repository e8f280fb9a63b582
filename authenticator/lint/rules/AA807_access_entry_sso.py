"""AA807 access-entry-sso: an ``sso:`` entry needs IAM to migrate (migration readiness).

What: an entry with ``sso:`` (a permission-set matcher) instead of a ``rolearn``.

Why: an access entry names one principal, with its full ARN and path; the roles IAM Identity
Center made for the permission set (``/aws-reserved/sso.amazonaws.com/…/AWSReservedSSO_<name>_<hex>``)
are known only to IAM. ``aws-auth migrate`` without ``--resolve-paths`` plans it as ``manual``;
with it, one entry per role. Info by default: only teams moving to access entries need it.

Fix: run ``aws-auth migrate --resolve-paths`` with credentials that may call IAM ``ListRoles``;
re-run it when the permission set is provisioned to a new account or Region.

Failing example::

    mapRoles: |
      - sso:
          permissionSetName: ReadOnly
          accountID: "739275461218"
        username: "readonly:{{SessionName}}"
        groups:
          - viewers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/AWSReservedSSO_ReadOnly_0123456789abcdef
        username: "readonly:{{SessionName}}"
        groups:
          - viewers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._migration import FIX_GUIDE, migrated
from authenticator.mapping.model import RoleMapping

ID = "AA807"
SLUG = "access-entry-sso"
SEVERITY = "info"
SUMMARY = "migration: an sso matcher needs IAM (--resolve-paths) to become access entries"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in migrated(ctx.target):
        mapping = entry.result.mapping
        if isinstance(mapping, RoleMapping) and mapping.sso is not None:
            node = entry.key_node("sso")
            yield ctx.at_node(
                entry.section,
                node if node is not None else entry.node,
                f"the roles of sso permission set {mapping.sso.permission_set_name!r} are known only to IAM: "
                "migrate with --resolve-paths",
                entry=entry,
                fix_hint=FIX_GUIDE,
            )
