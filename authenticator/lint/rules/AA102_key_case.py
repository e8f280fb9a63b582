"""AA102 key-case: an entry key in a non-canonical case.

What: ``roleARN``, ``RoleArn``, ``UserName``, ``Groups``.

Why: the authenticator matches entry keys case-insensitively, so this works here; but other
tools that read aws-auth (eksctl, Terraform modules, policy engines) compare keys exactly and
miss the entry.

Fix: write ``rolearn``, ``userarn``, ``username``, ``groups``, ``sso`` (and inside ``sso``:
``permissionSetName``, ``accountID``, ``partition``). ``--fix`` rewrites them: the server folds
key case, so it reads the entry exactly as before. Not when another key of the same mapping
folds to the same name (``Username`` and ``USERNAME``): there the server takes the one whose
spelling sorts last, renaming would change which value it takes, and the finding is a
suggestion only (AA008 reports the clash).

Failing example::

    mapRoles: |
      - roleARN: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

import yaml

from authenticator.lint.document import Entry
from authenticator.lint.findings import Edit, Finding
from authenticator.lint.registry import RuleContext

ID = "AA102"
SLUG = "key-case"
SEVERITY = "info"
SUMMARY = "a key like roleARN works here but breaks case-sensitive tools"
FIXABLE = True

CANONICAL = {k.lower(): k for k in ("rolearn", "userarn", "username", "groups", "sso", "userid")}
_GO_EXTRA_FOLDS = {0x17F: "s", 0x212A: "k"}  # as authenticator.mapping.entries folds keys
SSO_CANONICAL = {k.lower(): k for k in ("permissionSetName", "accountID", "partition")}


def _server_fold(key: str) -> str:
    """The key as the server compares it (Go's case folding, U+017F and U+212A included)."""
    return key.translate(_GO_EXTRA_FOLDS).lower()


def _check_keys(
    ctx: RuleContext,
    entry: Entry,
    pairs: Sequence[tuple[str, yaml.Node, yaml.Node]],  # (spelling, key node, value node)
    canonical: Mapping[str, str],
) -> Iterator[Finding]:
    present = {text for text, _, _ in pairs}
    folded = Counter(_server_fold(text) for text in present)
    for text, key_node, value_node in pairs:
        want = canonical.get(text.lower())
        if want is None or text == want:
            if text.lower() == "sso" and isinstance(value_node, yaml.MappingNode):
                inner = [(k.value, k, v) for k, v in value_node.value if isinstance(k, yaml.ScalarNode)]
                yield from _check_keys(ctx, entry, inner, SSO_CANONICAL)
            continue
        edits = []
        start = entry.section.offset(key_node)
        alone = folded[_server_fold(text)] == 1  # else renaming could change which spelling the server takes
        if alone and want not in present and start is not None and ctx.target.text[start : start + len(text)] == text:
            edits.append(Edit(start, start + len(text), want))
        yield ctx.at_node(
            entry.section,
            key_node,
            f"key {text!r} works here but tools that compare keys exactly expect {want!r}",
            entry=entry,
            fix_hint=f"rename it to {want}",
            edits=edits,
            subject=text,
        )


_ALREADY_CANONICAL = frozenset(CANONICAL.values()) - {"sso"}


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if all(text in _ALREADY_CANONICAL for text, _, _ in entry.keys):
            continue
        yield from _check_keys(ctx, entry, entry.keys, CANONICAL)
