"""AA103 key-wrong-section: ``userarn`` under mapRoles, or ``rolearn``/``sso`` under mapUsers.

What: an entry copied into the wrong section keeps the other section's ARN key.

Why: each section reads only its own key; the other is ignored and the entry has no ARN, so
the server drops it.

Fix: move the entry to the right section (roles under ``mapRoles`` with ``rolearn``, users
under ``mapUsers`` with ``userarn``).

Failing example::

    mapRoles: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - developers

Passing example::

    mapUsers: |
      - userarn: arn:aws:iam::739275461218:user/alice
        username: alice
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import MAP_ROLES, section_mentions

ID = "AA103"
SLUG = "key-wrong-section"
SEVERITY = "error"
SUMMARY = "userarn under mapRoles or rolearn under mapUsers: ignored, the entry is dropped"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not (
        section_mentions(ctx.target, "mapRoles", "userarn", fold=True)
        or section_mentions(ctx.target, "mapUsers", "rolearn", fold=True)
        or section_mentions(ctx.target, "mapUsers", "sso", fold=True)
    ):
        return  # the text cannot hold what this rule looks for
    for entry in ctx.target.entries():
        roles = entry.section.name == MAP_ROLES
        wrong = ("userarn",) if roles else ("rolearn", "sso")
        right = "mapUsers" if roles else "mapRoles"
        for text, key_node, _ in entry.keys:
            if text.lower() in wrong:
                yield ctx.at_node(
                    entry.section,
                    key_node,
                    f"{text!r} belongs in {right}; under {entry.section.label} it is ignored",
                    entry=entry,
                    fix_hint=f"move this entry to {right}",
                    subject=text,
                )
