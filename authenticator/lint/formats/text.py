"""``path:line:col: AA202 error role-arn-has-path: message`` plus a one-line fix hint."""

from __future__ import annotations

from collections.abc import Sequence

from authenticator.lint.engine import FileReport
from authenticator.lint.findings import Finding, Severity

__all__ = ["render", "summary"]


def line(finding: Finding) -> str:
    return (
        f"{finding.path}:{finding.line}:{finding.column}: {finding.rule} {finding.severity.label} "
        f"{finding.slug}: {finding.message}"
    )


def summary(reports: Sequence[FileReport]) -> str:
    findings = [f for r in reports for f in r.findings]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    suppressed = sum(len(r.suppressed) for r in reports)
    fixable = sum(1 for f in findings if f.fixable)
    objects = sum(len([t for t in r.targets if t.kind != "invalid"]) for r in reports)
    parts = [
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''}",
        f"({counts[Severity.ERROR]} error, {counts[Severity.WARNING]} warning, {counts[Severity.INFO]} info)",
        f"in {len(reports)} file{'s' if len(reports) != 1 else ''}",
        f"({objects} aws-auth object{'s' if objects != 1 else ''})",
    ]
    tail = []
    if suppressed:
        tail.append(f"{suppressed} suppressed")
    if fixable:
        tail.append(f"{fixable} fixable with --fix")
    return " ".join(parts) + (f"; {', '.join(tail)}" if tail else "")


def render(reports: Sequence[FileReport], *, show_suppressed: bool = False, **_: object) -> str:
    out: list[str] = []
    for report in reports:
        for finding in report.findings:
            out.append(line(finding))
            if finding.fix_hint:
                fixable = " (fixable with --fix)" if finding.fixable else ""
                out.append(f"    fix: {finding.fix_hint}{fixable}")
        if show_suppressed:
            for finding in report.suppressed:
                out.append(f"{line(finding)}  [suppressed: {finding.suppressed_by}]")
    out.append(summary(reports))
    return "\n".join(out) + "\n"
