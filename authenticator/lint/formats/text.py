"""``path:line:col: AA202 error role-arn-has-path: message`` plus a one-line fix hint."""

from __future__ import annotations

from collections.abc import Sequence

from authenticator.console import PLAIN, Palette
from authenticator.lint.engine import FileReport
from authenticator.lint.findings import Finding, Severity
from authenticator.words import counted

__all__ = ["line", "render", "summary"]


def line(finding: Finding, palette: Palette = PLAIN) -> str:
    """One finding; with colour the location is bold and the rule and severity coloured."""
    label = finding.severity.label
    where = palette.bold(f"{finding.path}:{finding.line}:{finding.column}:")
    what = palette.severity(f"{finding.rule} {label}", label)
    return f"{where} {what} {finding.slug}: {finding.message}"


def summary(reports: Sequence[FileReport]) -> str:
    findings = [f for r in reports for f in r.findings]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    suppressed = sum(len(r.suppressed) for r in reports)
    fixable = sum(1 for f in findings if f.fixable)
    objects = sum(len([t for t in r.targets if t.kind != "invalid"]) for r in reports)
    # Only the severities that occur, each counted in plain English ("2 warnings", never "0 warning").
    severities = ", ".join(
        counted(counts[s], s.label, s.label if s == Severity.INFO else None)
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if counts[s]
    )
    parts = [
        counted(len(findings), "finding") + (f" ({severities})" if severities else ""),
        f"in {counted(len(reports), 'file')}",
        f"({counted(objects, 'aws-auth object')})",
    ]
    tail = []
    if suppressed:
        tail.append(f"{suppressed} suppressed")
    if fixable:
        tail.append(f"{fixable} fixable with --fix")
    return " ".join(parts) + (f"; {', '.join(tail)}" if tail else "")


def render(
    reports: Sequence[FileReport], *, show_suppressed: bool = False, palette: Palette = PLAIN, **_: object
) -> str:
    out: list[str] = []
    for report in reports:
        for finding in report.findings:
            out.append(line(finding, palette))
            if finding.fix_hint:
                fixable = " (fixable with --fix)" if finding.fixable else ""
                out.append(f"    {palette.dim('fix:')} {finding.fix_hint}{fixable}")
        if show_suppressed:
            for finding in report.suppressed:
                out.append(f"{line(finding, palette)}  {palette.dim(f'[suppressed: {finding.suppressed_by}]')}")
    out.append(palette.bold(summary(reports)))
    return "\n".join(out) + "\n"
