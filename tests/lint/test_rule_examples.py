"""Every rule's docstring examples: the failing one fires the rule, the passing one does not.

The examples are the same text ``aws-auth rule ID`` prints, so docs and tests cannot drift.
"""

from __future__ import annotations

import pytest

from authenticator.lint.config import LintConfig
from authenticator.lint.engine import lint_text
from authenticator.lint.registry import Rule, all_rules
from tests.support.aws_auth import configmap

RULES = all_rules()

# Every rule of docs/lint.md (AA503 is not in it), the migration-readiness rules, and AA900 for unused suppressions.
EXPECTED_IDS = {
    *(f"AA00{i}" for i in range(1, 10)),
    "AA010",
    "AA011",
    *(f"AA10{i}" for i in range(1, 6)),
    *(f"AA20{i}" for i in range(1, 10)),
    "AA210",
    "AA211",
    "AA212",
    *(f"AA30{i}" for i in range(1, 7)),
    "AA401",
    "AA402",
    "AA403",
    "AA501",
    "AA502",
    "AA504",
    "AA505",
    "AA506",
    "AA601",
    "AA602",
    "AA603",
    *(f"AA70{i}" for i in range(1, 6)),
    *(f"AA80{i}" for i in range(1, 9)),  # migration readiness (docs/migration.md)
    "AA900",
}


def test_catalogue_is_complete() -> None:
    assert {r.id for r in RULES} == EXPECTED_IDS
    assert len({r.slug for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_documents_itself(rule: Rule) -> None:
    assert rule.doc.startswith(f"{rule.id} {rule.slug}")
    assert set(rule.examples()) == {"failing", "passing"}
    for part in ("What:", "Why:", "Fix:"):
        assert part in rule.doc


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_failing_example_fires(rule: Rule) -> None:
    text = configmap(rule.examples()["failing"])
    report = lint_text("example.yaml", text, LintConfig())
    assert rule.id in {f.rule for f in report.findings}, [f.rule for f in report.findings]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_passing_example_is_quiet(rule: Rule) -> None:
    text = configmap(rule.examples()["passing"])
    report = lint_text("example.yaml", text, LintConfig())
    assert rule.id not in {f.rule for f in report.findings}, [f.message for f in report.findings]


@pytest.mark.parametrize("rule", [r for r in RULES if r.fixable], ids=lambda r: r.id)
def test_fixable_failing_example_is_fixed(rule: Rule) -> None:
    from authenticator.lint.engine import fix_text

    text = configmap(rule.examples()["failing"])
    fixed = fix_text("example.yaml", text, LintConfig())
    assert fixed != text
    assert rule.id not in {f.rule for f in lint_text("example.yaml", fixed, LintConfig()).findings}
