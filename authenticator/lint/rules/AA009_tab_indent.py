"""AA009 tab-indent: a tab in the indentation.

What: a line indented with a tab character.

Why: YAML forbids tabs in indentation. Inside ``mapRoles: |`` the section fails to parse and
the server drops the whole section; in the manifest itself ``kubectl apply`` fails.

Fix: indent with spaces only. (In the example below, ``→`` stands for a tab character.)

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
      →username: admin
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

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import tab_indents

ID = "AA009"
SLUG = "tab-indent"
SEVERITY = "error"
SUMMARY = "tabs in indentation: the section (or the file) does not parse"


def check(ctx: RuleContext) -> Iterator[Finding]:
    target = ctx.target
    if "\t" not in target.text and all(s.text is None or "\t" not in s.text for s in target.sections.values()):
        return
    lines = target.text.split("\n")
    if target.kind == "invalid" or target.root is None:
        first, last = 0, len(lines) - 1
    else:
        first, last = target.root.start_mark.line, target.root.end_mark.line
    seen: set[int] = set()
    for line, column in tab_indents(lines[first : last + 1]):
        seen.add(first + line)
        yield ctx.finding(
            "tab in indentation: YAML forbids it, the section (or file) does not parse",
            line=first + line + 1,
            column=column + 1,
            fix_hint="indent with spaces",
        )
    for section in target.sections.values():
        if section.text is None or section.map.kind == "literal":
            continue
        for line, column in tab_indents(section.lines()):
            outer_line, outer_column = section.pos_at(line, column)
            yield ctx.finding(
                f"tab in indentation inside {section.label}: the server drops the whole section",
                line=outer_line,
                column=outer_column,
                section=section,
                fix_hint="indent with spaces",
                subject=str(line),
            )
