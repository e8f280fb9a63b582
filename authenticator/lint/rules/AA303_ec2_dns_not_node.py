"""AA303 ec2-dns-not-node: ``{{EC2PrivateDNSName}}`` on an entry that is not a node entry.

What: a username or group with ``{{EC2PrivateDNSName}}`` on an entry that is not for nodes (no node groups,
no ``system:node:`` username), or under mapUsers.

Why: the placeholder only works when the session name is an EC2 instance id (a node); for
anyone else the authenticator denies every login of the entry.

Fix: use ``{{SessionName}}`` for people; keep ``{{EC2PrivateDNSName}}`` for node roles.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "dev:{{EC2PrivateDNSName}}"
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
from authenticator.lint.rules._common import is_node_entry, template_nodes
from authenticator.mapping.templates import EC2_PLACEHOLDER

ID = "AA303"
SLUG = "ec2-dns-not-node"
SEVERITY = "error"
SUMMARY = "{{EC2PrivateDNSName}} on a non-node entry: every login is denied"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if is_node_entry(entry):  # the same test, cached on the entry for the other node rules
            continue
        for field, text, node in template_nodes(entry):
            if EC2_PLACEHOLDER in text:
                yield ctx.at_node(
                    entry.section,
                    node,
                    f"{EC2_PLACEHOLDER} in the {field} of a non-node entry: only EC2 instances have it, "
                    "every other login of this entry is denied",
                    entry=entry,
                    fix_hint="use {{SessionName}} for people; keep {{EC2PrivateDNSName}} for node roles",
                    subject=f"{field}:{text}",
                )
