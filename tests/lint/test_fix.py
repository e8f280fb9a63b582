"""--fix: the safe rewrites only; the result parses, lints clean for the fixable rules, nothing else changes."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from authenticator.lint.config import LintConfig
from authenticator.lint.document import load_targets
from authenticator.lint.engine import fix_text, lint_text
from authenticator.lint.registry import all_rules

CORPUS = Path(__file__).parent / "corpus"
FIXABLE = {r.id for r in all_rules() if r.fixable}
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.yaml")


@pytest.mark.parametrize("name", FILES)
def test_fix_round_trip(name: str) -> None:
    text = (CORPUS / name).read_text(encoding="utf-8")
    before = lint_text(name, text, LintConfig())
    fixed = fix_text(name, text, LintConfig())
    after = lint_text(name, fixed, LintConfig())
    # Nothing fixable is left, and the result still parses.
    assert not [f for f in after.findings if f.fixable]
    assert all(t.kind != "invalid" for t in load_targets(name, fixed)) or text == fixed
    # Only lines with a fixable finding changed (same line count: fixes never add or remove lines).
    assert len(fixed.split("\n")) == len(text.split("\n"))
    changed = {i + 1 for i, (a, b) in enumerate(zip(text.split("\n"), fixed.split("\n"), strict=True)) if a != b}
    if not before.findings or "AA002" not in {f.rule for f in before.findings}:
        fixed_lines = {f.line for f in before.findings if f.fixable}
        assert changed <= fixed_lines
    # Non-fixable findings stay (unless the fix made a section load that did not load before).
    if "AA002" not in {f.rule for f in before.findings}:
        kept = [(f.rule, f.line) for f in before.findings if not f.fixable and f.rule not in FIXABLE]
        assert kept == [(f.rule, f.line) for f in after.findings if f.rule not in FIXABLE]


def test_fix_applies_each_safe_rewrite() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  MapUsers: |
    - UserArn: arn:aws:iam::739275461218:user/alice
      username: alice
      groups: [developers]
  mapRoles: |
    - roleARN: 'arn:aws:iam::739275461218:role/team/ops'
      username: ops:{{SessionName}}
      groups:
        - ops
    - rolearn: arn:aws:sts::739275461218:assumed-role/dev/jane
      username: {{SessionName}}-dev
      groups:
        - developers
    - sso:
        permissionSetName: Admin
        accountID: 739275461218
      username: "sso:{{SessionName}}"
      groups:
        - admins
  mapAccounts: |
    - 012345670123
"""
    fixed = fix_text("x.yaml", text, LintConfig())
    diff = [
        line
        for line in difflib.unified_diff(text.split("\n"), fixed.split("\n"), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    # Renaming MapUsers, dropping a role path, sts -> iam, quoting {{...}} or an sso accountID
    # would each change who is matched: suggestions only (test_fix_safety.py). roleARN is not
    # renamed either: its section does not load (the unquoted {{SessionName}}).
    assert diff == [
        "-    - 012345670123",
        '+    - "012345670123"',
    ]
    assert not [f for f in lint_text("x.yaml", fixed, LintConfig()).findings if f.fixable]
