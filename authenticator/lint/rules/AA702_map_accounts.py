"""AA702 map-accounts: an account in ``mapAccounts``.

What: any account id listed in mapAccounts.

Why: every IAM user and role of that account — including ones created later and roles that
other accounts may assume — can authenticate, as its ARN with no groups. Authorization then
rests on RBAC bindings for ARN-shaped usernames alone.

Fix: map the roles that need access explicitly; allow-list the account under
``allow.map-accounts`` if you mean it.

Failing example::

    mapAccounts: |
      - "739275461218"

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "dev:{{SessionName}}"
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from authenticator.lint.document import Section
from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA702"
SLUG = "map-accounts"
SEVERITY = "warning"
SUMMARY = "mapAccounts lets every principal of the account in"


def account_nodes(ctx: RuleContext) -> Iterator[tuple[Section, yaml.ScalarNode]]:
    section = ctx.target.sections.get("mapAccounts")
    if section is None or section.result.error is not None or not isinstance(section.root, yaml.SequenceNode):
        return
    for item in section.root.value:
        if isinstance(item, yaml.ScalarNode) and item.tag != "tag:yaml.org,2002:null":
            yield section, item


def check(ctx: RuleContext) -> Iterator[Finding]:
    for section, node in account_nodes(ctx):
        if node.value.lower() in ctx.config.allow_map_accounts:
            continue
        yield ctx.at_node(
            section,
            node,
            f"every IAM principal of account {node.value} can authenticate (as its ARN, with no groups)",
            fix_hint="map the roles that need access instead, or allow-list the account",
            subject=node.value,
        )
