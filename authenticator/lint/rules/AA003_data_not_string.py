"""AA003 data-not-string: a data section is written as a YAML list or map instead of a string.

What: ``mapRoles:`` followed directly by a list (``- rolearn: ...``) instead of ``mapRoles: |``.

Why: ConfigMap data values are strings; the authenticator parses the *string* of each
section. ``kubectl apply`` rejects such a manifest, and a tool that writes it anyway leaves the
server with nothing: the section is dropped.

Fix: write ``mapRoles: |`` and indent the list under it.

Failing example::

    mapRoles:
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
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

ID = "AA003"
SLUG = "data-not-string"
SEVERITY = "error"
SUMMARY = "mapRoles/mapUsers/mapAccounts written as a list or map instead of a | string"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.target.kind != "configmap":
        return
    for section in ctx.target.sections.values():
        node = section.value_node
        if section.text is not None:
            continue
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            continue  # an empty value: nothing to load, nothing lost
        kind = (
            "a list"
            if isinstance(node, yaml.SequenceNode)
            else "a map"
            if isinstance(node, yaml.MappingNode)
            else "not a string"
        )
        line, column = section.value_pos
        yield ctx.finding(
            f"data.{section.name} is {kind}; ConfigMap data must be a string, so the section is dropped",
            line=line,
            column=column,
            section=section,
            fix_hint=f"write `{section.name}: |` and indent the entries under it",
        )
