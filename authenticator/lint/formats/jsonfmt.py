"""``--format json``: a stable schema (``findings.schema.json`` beside this module)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from authenticator.lint.engine import FileReport
from authenticator.lint.findings import Finding, Severity

__all__ = ["SCHEMA_PATH", "SCHEMA_VERSION", "finding_dict", "render"]

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("findings.schema.json")


def finding_dict(finding: Finding) -> dict[str, object]:
    return {
        "rule": finding.rule,
        "slug": finding.slug,
        "severity": finding.severity.label,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "section": finding.section,
        "entry_index": finding.entry_index,
        "arn": finding.arn,
        "message": finding.message,
        "fix": finding.fix_hint,
        "fixable": finding.fixable,
        "fingerprint": finding.fingerprint,
        "suppressed": finding.suppressed_by is not None,
        "suppression_reason": finding.suppressed_by,
    }


def document(reports: Sequence[FileReport]) -> dict[str, object]:
    findings = [f for r in reports for f in r.findings]
    suppressed = [f for r in reports for f in r.suppressed]
    return {
        "version": SCHEMA_VERSION,
        "findings": [finding_dict(f) for f in findings],
        "suppressed": [finding_dict(f) for f in suppressed],
        "summary": {
            "files": len(reports),
            "errors": sum(1 for f in findings if f.severity == Severity.ERROR),
            "warnings": sum(1 for f in findings if f.severity == Severity.WARNING),
            "info": sum(1 for f in findings if f.severity == Severity.INFO),
            "suppressed": len(suppressed),
            "fixable": sum(1 for f in findings if f.fixable),
        },
    }


def render(reports: Sequence[FileReport], **_: object) -> str:
    return json.dumps(document(reports), indent=2) + "\n"
