"""AA002 unquoted-template: a value starting with ``{{`` is not quoted.

What: ``username: {{SessionName}}`` (or a group ``- {{SessionName}}``) without quotes.

Why: in YAML an unquoted value that starts with ``{`` is a flow mapping, not a string.
``{{SessionName}}`` is a mapping whose key is a mapping: the section does not load and the
server drops the whole section (every entry in it stops working).

Fix: quote the value: ``username: "{{SessionName}}"``. A suggestion only: ``aws-auth lint
--fix`` never applies it, because quoting makes a section the server drops today load, and
every entry in it starts to match: a fix may not change who is matched. Quote it yourself
after checking the section's entries.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: {{SessionName}}
        groups:
          - developers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "dev:{{SessionName}}"
        groups:
          - developers
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import unquoted_templates

ID = "AA002"
SLUG = "unquoted-template"
SEVERITY = "error"
SUMMARY = "a value starting with {{ is unquoted: YAML reads a mapping and the section is rejected"
FIXABLE = False  # the quoted section loads: its entries start to match


def _hint(value: str) -> str:
    return f'quote it: "{value}" (not applied by --fix: the section then loads and its entries start to match)'


def check(ctx: RuleContext) -> Iterator[Finding]:
    target = ctx.target
    if target.kind == "invalid":
        lines = target.text.split("\n")
        for line, column, value in unquoted_templates(lines):
            yield ctx.finding(
                f"{value} is not quoted: YAML reads it as a mapping and the file does not load",
                line=line + 1,
                column=column + 1,
                fix_hint=_hint(value),
                subject=value,
            )
        return
    for section in target.sections.values():
        if section.text is None:
            continue
        for line, column, value in unquoted_templates(section.lines()):
            outer_line, outer_column = section.pos_at(line, column)
            yield ctx.finding(
                f"{value} is not quoted: YAML reads it as a mapping and the server drops all of {section.label}",
                line=outer_line,
                column=outer_column,
                section=section,
                fix_hint=_hint(value),
                subject=value,
            )
