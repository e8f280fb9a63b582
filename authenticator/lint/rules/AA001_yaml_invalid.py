"""AA001 yaml-invalid: a section (or the whole file) is not valid YAML.

What: the text of ``mapRoles``, ``mapUsers`` or ``mapAccounts`` (or the file itself) does not
parse as YAML.

Why: the authenticator parses each section on its own. The reference drops the *whole*
section when it does not parse: every node and every human mapped in it loses access at
once. (This server keeps the last good value, but a fresh start has nothing to keep.)

Fix: correct the YAML at the reported position. Indentation inside the ``|`` block must be
consistent: every entry starts with ``- `` at the same column and its keys line up.

Failing example::

    mapRoles: |
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

from authenticator.lint.findings import Finding, Severity
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import section_explained

ID = "AA001"
SLUG = "yaml-invalid"
SEVERITY = "error"
OTHER_SEVERITIES = {"warning": "for a section that holds several YAML documents (only the first is read)"}
SUMMARY = "a section or the file is not valid YAML: the whole section is dropped"


def check(ctx: RuleContext) -> Iterator[Finding]:
    target = ctx.target
    if target.kind == "invalid" and target.error is not None:
        message, line, column = target.error
        where = "the file" if target.document == 0 else f"YAML document {target.document + 1}"
        yield ctx.finding(
            f"{where} is not valid YAML: {message}",
            line=line,
            column=column,
            fix_hint="correct the YAML at this position",
        )
        return
    for section in target.sections.values():
        for issue in section.result.issues:
            if issue.code == "extra_documents":
                line, column = section.key_pos
                yield ctx.finding(
                    f"{section.label} holds several YAML documents: only the first is read",
                    line=line,
                    column=column,
                    section=section,
                    severity=Severity.WARNING,
                    fix_hint="remove the `---` separators inside the section",
                )
        if section.text is None or section.result.error is None:
            continue
        if section.compose_error is None and section.root is not None and "not valid YAML" not in section.result.error:
            continue  # a well-formed section of the wrong shape: AA006
        if section_explained(section):
            continue
        if section.compose_error is not None:
            problem, inner_line, inner_column = section.compose_error
            line, column = section.pos_at(inner_line, inner_column)
        else:
            problem = section.result.error
            line, column = section.pos_at((section.result.error_line or 1) - 1, (section.result.error_column or 1) - 1)
        yield ctx.finding(
            f"{section.label} is not valid YAML ({problem}): the server drops the whole section",
            line=line,
            column=column,
            section=section,
            fix_hint="correct the YAML at this position; keep the entries' indentation consistent",
        )
