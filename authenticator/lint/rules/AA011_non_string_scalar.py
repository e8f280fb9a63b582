"""AA011 non-string-scalar: a username, group or ARN that YAML reads as a boolean, number or null.

What: ``username: yes``, ``username: 12345``, ``- on`` in groups, ``username: ~``.

Why: the server expects strings. A username that is a number or boolean is ignored (the
entry has no username); a group that is not a string is dropped.

Fix: quote the value: ``username: "12345"``.

Failing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/ops
        username: 12345
        groups:
          - ops

Passing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/ops
        username: "12345"
        groups:
          - ops
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import NULL_TAG, STR_TAG

ID = "AA011"
SLUG = "non-string-scalar"
SEVERITY = "warning"
SUMMARY = "a username, group or ARN that YAML reads as bool/int/null"

_NAMES = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    NULL_TAG: "null",
}


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        if not entry.is_mapping:
            continue
        for text, _, value in entry.keys:
            lower = text.lower()
            if lower in ("username", "rolearn", "userarn"):
                nodes = [(lower, value)]
            elif lower == "groups" and isinstance(value, yaml.SequenceNode):
                nodes = [("group", item) for item in value.value]
            else:
                continue
            for label, node in nodes:
                if not isinstance(node, yaml.ScalarNode) or node.tag == STR_TAG or node.style:
                    continue
                if node.tag == NULL_TAG and label != "group" and node.value == "":
                    continue  # `username:` with nothing: AA301/AA104 say it better
                what = _NAMES.get(node.tag, "not a string")
                effect = "dropped" if label == "group" else "ignored"
                yield ctx.at_node(
                    entry.section,
                    node,
                    f"{label} {node.value!r} is {what} in YAML, not a string: the server {effect} it",
                    entry=entry,
                    fix_hint=f'quote it: "{node.value}"',
                    subject=f"{label}:{node.value}",
                )
