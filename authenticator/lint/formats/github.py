"""``--format github``: workflow commands that GitHub Actions turns into annotations.

``::error file=…,line=…,col=…,title=…::message``; data is escaped as the runner expects
(``%`` ``\\r`` ``\\n`` in messages; also ``:`` and ``,`` in properties). When
``$GITHUB_STEP_SUMMARY`` names a file, a Markdown table of the findings is appended to it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from authenticator.lint.engine import FileReport
from authenticator.lint.findings import Finding, Severity
from authenticator.lint.formats.text import summary

__all__ = ["escape_data", "escape_property", "render", "step_summary"]

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(finding: Finding) -> str:
    props = ",".join(
        f"{k}={escape_property(str(v))}"
        for k, v in (
            ("file", finding.path),
            ("line", finding.line),
            ("col", finding.column),
            ("title", f"{finding.rule} {finding.slug}"),
        )
    )
    message = finding.message + (f"\nfix: {finding.fix_hint}" if finding.fix_hint else "")
    return f"::{_COMMAND[finding.severity]} {props}::{escape_data(message)}"


def step_summary(reports: Sequence[FileReport]) -> str:
    findings = [f for r in reports for f in r.findings]
    lines = ["## aws-auth lint", "", summary(reports), ""]
    if findings:
        lines += ["| where | rule | severity | message |", "|---|---|---|---|"]
        for f in findings:
            message = f.message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{f.path}:{f.line}:{f.column}` | {f.rule} {f.slug} | {f.severity.label} | {message} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def render(reports: Sequence[FileReport], *, environ: dict[str, str] | None = None, **_: object) -> str:
    env = os.environ if environ is None else environ
    out = [command(f) for r in reports for f in r.findings]
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(step_summary(reports))
    return "\n".join(out) + ("\n" if out else "")
