"""AA703 unquoted-account: an account id written without quotes.

What: ``- 012345670123`` in mapAccounts, ``accountID: 739275461218`` in an ``sso`` matcher.

Why: YAML 1.1 tools read an unquoted number: ``012345670123`` becomes the octal number
1402433619, and leading zeros vanish. This authenticator keeps mapAccounts items as written,
but other tools that rewrite the ConfigMap do not. In an ``sso`` matcher an unquoted account
id is a number, not a string: the server drops the entry (an error).

Fix: quote account ids: ``- "012345670123"``. ``--fix`` quotes them in a ConfigMap's
``mapAccounts`` string, where the server already reads the raw text (the same account either
way). Elsewhere it is a suggestion only, because quoting changes what the server reads: in the
server's config file ``012345670123`` is the number 1402433619 (the server refuses it), and an
``sso`` entry the server drops today would start to match; a fix may not change who is matched.

Failing example::

    mapAccounts: |
      - 012345670123

Passing example::

    mapAccounts: |
      - "012345670123"
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from authenticator.lint.document import Entry
from authenticator.lint.findings import Finding, Severity
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import quote_edit
from authenticator.lint.rules.AA702_map_accounts import account_nodes

ID = "AA703"
SLUG = "unquoted-account"
SEVERITY = "warning"
OTHER_SEVERITIES = {"error": "for an unquoted accountID in an sso matcher (the server drops the entry)"}
SUMMARY = "unquoted account ids: YAML 1.1 tools turn 012345670123 into 1402433619"
FIXABLE = True  # in a ConfigMap's mapAccounts string only
_READ_AS_NUMBER = " (not applied by --fix: the server reads a number)"


def _sso_account(entry: Entry) -> yaml.Node | None:
    sso = entry.value_node("sso")
    if isinstance(sso, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = sso.value
        for key, value in pairs:
            if isinstance(key, yaml.ScalarNode) and key.value.lower() == "accountid":
                return value
    return None


def check(ctx: RuleContext) -> Iterator[Finding]:
    for section, node in account_nodes(ctx):
        if node.style or not node.value.isdigit():
            continue
        # Only a mapAccounts *string* keeps the raw text: a real YAML list (server config) does not.
        raw_text = section.text is not None
        edit = quote_edit(section, node) if raw_text else None
        yield ctx.at_node(
            section,
            node,
            f"account id {node.value} is not quoted: YAML 1.1 tools read it as a number",
            fix_hint=f'quote it: "{node.value}"' + ("" if raw_text else _READ_AS_NUMBER),
            edits=[edit] if edit else [],
            subject=node.value,
        )
    for entry in ctx.target.entries():
        account = _sso_account(entry) if entry.section.name == "mapRoles" else None
        if not isinstance(account, yaml.ScalarNode) or account.style or not account.value.isdigit():
            continue
        yield ctx.at_node(
            entry.section,
            account,
            f"sso accountID {account.value} is not quoted: YAML reads a number and the server drops the entry",
            entry=entry,
            severity=Severity.ERROR,
            fix_hint=f'quote it: accountID: "{account.value}" (not applied by --fix: the entry would start to match)',
        )
