"""AA602 sso-overlap: an ``sso`` matcher that also matches an explicit ``rolearn`` entry.

What: an ``sso: {permissionSetName: Admin, accountID: ...}`` entry and a ``rolearn`` entry for
``role/AWSReservedSSO_Admin_<suffix>`` in the same account.

Why: the explicit rolearn wins for that role, so the sso entry's username and groups do not
apply to it; readers of the file expect the opposite or a merge.

Fix: keep one of the two.

Failing example::

    mapRoles: |
      - sso:
          permissionSetName: Admin
          accountID: "739275461218"
        username: "sso-admin:{{SessionName}}"
        groups:
          - eks-admins
      - rolearn: arn:aws:iam::739275461218:role/AWSReservedSSO_Admin_0123456789abcdef
        username: "admin:{{SessionName}}"
        groups:
          - viewers

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
from authenticator.mapping.model import MappingSet, RoleMapping

ID = "AA602"
SLUG = "sso-overlap"
SEVERITY = "warning"
SUMMARY = "an sso matcher that also matches an explicit rolearn"


def check(ctx: RuleContext) -> Iterator[Finding]:
    section = ctx.target.sections.get("mapRoles")
    if section is None:
        return
    # A kept mapRoles entry's mapping is a RoleMapping; a dropped one's is None.
    sso_entries = [
        (e, m) for e in section.entries if isinstance(m := e.result.mapping, RoleMapping) and m.sso is not None
    ]
    if not sso_entries:
        return
    # Imported here: the chain brings asyncio (~40 ms), which a file without sso entries never needs.
    from authenticator.mapping.chain import MappingIndex

    for sso_entry, sso_mapping in sso_entries:
        # The server's own index decides whether the matcher covers the role.
        index = MappingIndex(MappingSet(roles=(sso_mapping,)))
        for entry in section.entries:
            mapping = entry.result.mapping
            if not isinstance(mapping, RoleMapping) or mapping.rolearn is None:
                continue
            if index.explicit(mapping.rolearn) is None:
                continue
            line = section.pos(entry.node)[0]
            yield ctx.at_node(
                section,
                sso_entry.key_node("sso"),
                f"this sso matcher also covers {mapping.rolearn} (line {line}), whose explicit entry wins for it",
                entry=sso_entry,
                fix_hint="keep either the sso matcher or the explicit rolearn entry",
                subject=mapping.rolearn.lower(),
            )
