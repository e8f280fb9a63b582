"""Every severity a rule's findings get is one the rule declares (SEVERITY or OTHER_SEVERITIES),
so that ``aws-auth rules`` and ``aws-auth rule`` show the severities lint reports."""

from __future__ import annotations

from pathlib import Path

from authenticator.lint.config import LintConfig
from authenticator.lint.engine import lint_text
from authenticator.lint.findings import Finding
from authenticator.lint.registry import all_rules, get_rule
from tests.support.aws_auth import configmap

CORPUS = Path(__file__).parent / "corpus"
_ROLE = "arn:aws:iam::739275461218:role/"
# Findings at a rule's other severity that neither the corpus nor the examples hold.
OTHER = [
    f"mapRoles: |\n  - rolearn: {_ROLE}a\n    username: a\n  ---\n  - rolearn: {_ROLE}b\n    username: b\n",
    f"mapRoles: |\n  - rolearn: {_ROLE}a\n    username: system:anonymous\n    groups: [x]\n",
    f"mapRoles: |\n  - rolearn: {_ROLE}a\n    username: a\n    zzzqqq: 1\n",
    "mapRoles: |\n  - rolearn: arn:aws:iam::111122223333:role/a\n    username: a\n",
    "mapRoles: |\n  - sso:\n      permissionSetName: Admin\n      accountID: 739275461218\n    username: a\n",
]


def _findings() -> list[Finding]:
    config = LintConfig()
    found: list[Finding] = []
    for path in sorted(CORPUS.iterdir()):
        report = lint_text(str(path), path.read_text(encoding="utf-8"), config)
        found += report.findings + report.suppressed
    examples = [rule.examples().get("failing") for rule in all_rules()]
    for text in [*(e for e in examples if e is not None), *OTHER]:
        found += lint_text("example.yaml", configmap(text), config).findings
    return found


def test_every_reported_severity_is_declared() -> None:
    findings = _findings()
    assert len({f.rule for f in findings}) > 40  # the corpus and the examples reach most rules
    for finding in findings:
        rule = get_rule(finding.rule)
        assert rule is not None
        assert finding.severity in rule.severities, (finding.rule, finding.severity.label, finding.message)


def test_declared_other_severities_occur() -> None:
    """A declared other severity is real: some corpus file or example reports it."""
    reported = {(f.rule, f.severity) for f in _findings()}
    for rule in all_rules():
        for severity, when in rule.other_severities:
            assert when.startswith("for ")
            assert (rule.id, severity) in reported, (rule.id, severity.label)
