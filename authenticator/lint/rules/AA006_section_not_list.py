"""AA006 section-not-list: a section parses to a mapping or a single value, not a list.

What: the text of ``mapRoles`` (or ``mapUsers``/``mapAccounts``) is YAML, but not a list:
for example the leading ``- `` is missing, so the entry is a mapping.

Why: the authenticator expects a list of entries and drops a section of any other shape.

Fix: start every entry with ``- ``.

Failing example::

    mapRoles: |
      rolearn: arn:aws:iam::739275461218:role/eks-admins
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

from collections.abc import Iterator

import yaml

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA006"
SLUG = "section-not-list"
SEVERITY = "error"
SUMMARY = "a section parses to a mapping or a scalar: the whole section is dropped"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for section in ctx.target.sections.values():
        root = section.root
        if root is None or isinstance(root, yaml.SequenceNode) or section.result.error is None:
            continue
        if section.text is None and ctx.target.kind == "configmap":
            continue  # AA003
        shape = "a mapping" if isinstance(root, yaml.MappingNode) else "a single value"
        yield ctx.at_node(
            section,
            root,
            f"{section.label} is {shape}, not a list: the server drops the whole section",
            fix_hint="start every entry with `- `",
        )
