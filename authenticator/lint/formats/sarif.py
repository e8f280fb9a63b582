"""``--format sarif``: SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps).

``tool.driver.rules`` lists the rules that occur in the results, each with its help text, so
that the rules section stays in proportion to the results (``ruleIndex`` points into it); the
driver names its ``version``. Every result carries a
``partialFingerprints`` entry that does not depend on line numbers, so alerts survive edits
elsewhere in the file. Suppressed findings are included with an ``inSource`` suppression.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from authenticator import __version__
from authenticator.lint.docs import terminal_text
from authenticator.lint.engine import FileReport
from authenticator.lint.findings import Finding, Severity
from authenticator.lint.registry import Rule, all_rules

__all__ = ["FINGERPRINT_KEY", "SCHEMA_URI", "document", "render"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "awsAuthLint/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(path: str) -> str:
    return path.replace("\\", "/").removeprefix("./") if path != "-" else "stdin"


def _sentences(message: str, fix_hint: str | None) -> str:
    """The message and its fix hint as two sentences (neither ends with a full stop of its own)."""
    if not fix_hint:
        return message
    return f"{message.rstrip('.')}. Fix: {fix_hint.rstrip('.')}."


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index[finding.rule],
        "level": _LEVEL[finding.severity],
        "message": {"text": _sentences(finding.message, finding.fix_hint)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.path)},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    properties: dict[str, object] = {}
    if finding.section:
        properties["section"] = finding.section
    if finding.entry_index is not None:
        properties["entryIndex"] = finding.entry_index
    if finding.arn:
        properties["arn"] = finding.arn
    if properties:
        result["properties"] = properties
    if finding.suppressed_by is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed_by}]
    return result


def _driver_rule(rule: Rule) -> dict[str, object]:
    # SARIF's "text" is plain text: the rule's documentation as ``aws-auth rule ID`` prints it
    # (the docstrings are reStructuredText), not its source.
    help_text = terminal_text(rule)
    body = help_text.split("\n\n")
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.slug.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": body[1] if len(body) > 1 else rule.summary},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"slug": rule.slug, "fixable": rule.fixable, "tags": ["aws-auth", "eks"]},
    }


def document(reports: Sequence[FileReport]) -> dict[str, object]:
    findings = [f for r in reports for f in (*r.findings, *r.suppressed)]
    occurring = {f.rule for f in findings}
    rules = [rule for rule in all_rules() if rule.id in occurring]
    rule_index = {rule.id: i for i, rule in enumerate(rules)}
    results = [_result(f, rule_index) for f in findings]
    artifacts = sorted({_uri(r.path) for r in reports})
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aws-auth-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_driver_rule(rule) for rule in rules],
                    }
                },
                "artifacts": [{"location": {"uri": uri}} for uri in artifacts],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(reports: Sequence[FileReport], **_: object) -> str:
    return json.dumps(document(reports), indent=2) + "\n"
