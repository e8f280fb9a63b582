"""AA305 embedded-quotes: a value that literally contains its quotes.

What: ``username: "'alice'"`` or a templated value rendered as ``'"arn:aws:..."'``: the
quotes are part of the string.

Why: the username becomes ``'alice'`` with the quotes (RBAC bindings for ``alice`` do not
apply); an ARN with quotes never matches.

Fix: use one level of quoting.

Failing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: "'alice'"
        groups:
          - developers

Passing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: "alice"
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import entry_arn, template_nodes

ID = "AA305"
SLUG = "embedded-quotes"
SEVERITY = "error"
SUMMARY = "a value literally contains its quotes ('alice')"


def _quoted(text: str) -> bool:
    text = text.strip()
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`"


# A string can only hold its own quotes if the source has one of these (a plain scalar cannot
# start with a quote or a backtick).
_MARKERS = ("\"'", "'\"", '\\"', "'" * 3, '"`', "'`")


def check(ctx: RuleContext) -> Iterator[Finding]:
    texts = [s.text if s.text is not None else ctx.target.text for s in ctx.target.sections.values()]
    if not any(marker in text for text in texts for marker in _MARKERS):
        return
    for entry in ctx.target.entries():
        values = list(template_nodes(entry))
        found = entry_arn(entry)
        if found is not None:
            values.append(found)
        for field, text, node in values:
            if _quoted(text):
                yield ctx.at_node(
                    entry.section,
                    node,
                    f"{field} is {text!r} with the quotes as part of the value",
                    entry=entry,
                    fix_hint="use one level of quoting",
                    subject=f"{field}:{text}",
                )
