"""AA704 bad-account: an account id that is not 12 digits.

What: a mapAccounts item or an ``sso`` accountID such as ``73927546121`` (11 digits) or
``7392-7546-1218``.

Why: AWS account ids are exactly 12 digits: mapAccounts never matches it; an sso matcher
with it is dropped by the server.

Fix: copy the account id again (keep leading zeros, quote it).

Failing example::

    mapAccounts: |
      - "7392-7546-1218"

Passing example::

    mapAccounts: |
      - "739275461218"
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules.AA702_map_accounts import account_nodes
from authenticator.lint.rules.AA703_unquoted_account import _sso_account
from authenticator.mapping.model import ACCOUNT_ID_RE

ID = "AA704"
SLUG = "bad-account"
SEVERITY = "error"
SUMMARY = "an account id that is not 12 digits"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for section, node in account_nodes(ctx):
        if not ACCOUNT_ID_RE.fullmatch(node.value):
            yield ctx.at_node(
                section,
                node,
                f"account id {node.value!r} is not 12 digits: it never matches",
                fix_hint="use the 12-digit account id, quoted",
                subject=node.value,
            )
    for entry in ctx.target.entries():
        account = _sso_account(entry) if entry.section.name == "mapRoles" else None
        if not isinstance(account, yaml.ScalarNode) or ACCOUNT_ID_RE.fullmatch(account.value):
            continue
        yield ctx.at_node(
            entry.section,
            account,
            f"sso accountID {account.value!r} is not 12 digits: the server drops the entry",
            entry=entry,
            fix_hint="use the 12-digit account id, quoted",
        )
