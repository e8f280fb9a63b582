"""The migration-readiness lint rules (AA8xx) and the planner agree: every manual/blocked reason
the planner can know without AWS is a finding at the same entry, info by default."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from authenticator.lint.config import LintConfig
from authenticator.lint.engine import lint_text
from authenticator.lint.findings import Severity
from authenticator.migrate.plan import build_plan
from authenticator.migrate.source import read_aws_auth

CORPUS = Path(__file__).parent / "corpus"
RULE_OF = {
    "reserved-username": "AA801",
    "session-name-without-colon": "AA802",
    "unsupported-placeholder": "AA803",
    "system-group": "AA804",
    "group-placeholder": "AA805",
    "node-extra-groups": "AA806",
    "sso-needs-iam": "AA807",
    "map-accounts": "AA808",
}


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.yaml")))
def test_findings_match_the_offline_plan(name: str) -> None:
    text = (CORPUS / name).read_text()
    plan = build_plan(read_aws_auth(name, text))  # offline: no cluster, no IAM
    wanted = {
        (RULE_OF[r.code], row.source)
        for row in plan.rows
        for r in row.reasons
        if r.code in RULE_OF and row.action in ("manual", "blocked")
    }
    report = lint_text(name, text, LintConfig())
    found = {
        (f.rule, f"{f.section}[{f.entry_index}]" if f.entry_index is not None else f.subject)
        for f in report.findings
        if f.rule.startswith("AA8")
    }
    # mapAccounts findings name the account; the plan row names its position.
    accounts = {row.source: row.principal_arn.split(":")[4] for row in plan.rows if row.action == "blocked"}
    wanted = {(rule, accounts.get(source, source)) for rule, source in wanted}
    assert found == wanted
    assert all(f.severity == Severity.INFO for f in report.findings if f.rule.startswith("AA8"))


def test_info_does_not_fail_lint_and_fail_on_info_does(tmp_path: Path) -> None:
    path = tmp_path / "aws-auth.yaml"
    path.write_text((CORPUS / "08_session_name_without_colon.yaml").read_text())
    quiet = subprocess.run(
        ["aws-auth", "lint", "--select", "AA8", str(path)], capture_output=True, text=True, check=False
    )
    assert quiet.returncode == 0
    assert "AA802" in quiet.stdout
    strict = subprocess.run(
        ["aws-auth", "lint", "--select", "AA8", "--fail-on", "info", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert strict.returncode == 1


def test_a_dead_duplicate_is_no_migration_blocker() -> None:
    # The first entry is dead (the last of a section wins): the plan never carries it, so the
    # readiness rules must not block CI on it (AA601 already reports the duplicate itself).
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"
        "  mapRoles: |\n"
        "    - rolearn: arn:aws:iam::739275461218:role/ci\n"
        "      username: system:ci\n"
        "      groups: [system:monitoring]\n"
        "    - rolearn: arn:aws:iam::739275461218:role/ci\n"
        '      username: "ci:{{SessionName}}"\n'
        "      groups: [ci]\n"
        "    - rolearn: arn:aws:iam::739275461218:role/ops\n"
        "      username: system:ops\n"
    )
    plan = build_plan(read_aws_auth("aws-auth.yaml", text))
    assert [(r.action, r.source) for r in plan.rows] == [("create", "mapRoles[1]"), ("manual", "mapRoles[2]")]
    report = lint_text("aws-auth.yaml", text, LintConfig())
    found = {(f.rule, f.entry_index) for f in report.findings if f.rule.startswith("AA8")}
    assert found == {("AA801", 2)}
    assert "AA601" in {f.rule for f in report.findings}


def test_group_findings_point_at_the_group_they_are_about() -> None:
    # Two carried-over problems in one entry, and a lookalike group the rules must not point at.
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"
        "  mapRoles: |\n"
        "    - rolearn: arn:aws:iam::739275461218:role/ops\n"
        '      username: "ops:{{SessionName}}"\n'
        "      groups:\n"
        "        - migrated-monitoring\n"  # line 11: named in AA804's suggestion, not a problem
        "        - system:monitoring\n"  # line 12
        "        - team-{{AccountID}}\n"  # line 13
    )
    report = lint_text("aws-auth.yaml", text, LintConfig())
    found = {(f.rule, f.line) for f in report.findings if f.rule in ("AA804", "AA805")}
    assert found == {("AA804", 12), ("AA805", 13)}


def test_the_corpus_exercises_the_readiness_rules() -> None:
    # test_findings_match_the_offline_plan would also pass with the plan and the rules both silent.
    found = {
        f.rule
        for path in CORPUS.glob("*.yaml")
        for f in lint_text(path.name, path.read_text(), LintConfig()).findings
        if f.rule.startswith("AA8")
    }
    # AA805 (a placeholder in a group): test_group_findings_point_at_the_group_they_are_about.
    assert found == set(RULE_OF.values()) - {"AA805"}


def test_a_map_users_entry_for_a_mapped_role_is_no_migration_blocker() -> None:
    # For the same ARN the mapRoles entry wins over the mapUsers one: the plan carries the role
    # entry only, and the readiness rules agree.
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"
        "  mapRoles: |\n"
        "    - rolearn: arn:aws:iam::739275461218:role/ci\n"
        '      username: "ci:{{SessionName}}"\n'
        "      groups: [ci]\n"
        "  mapUsers: |\n"
        "    - userarn: arn:aws:iam::739275461218:role/ci\n"
        "      username: system:ci\n"
        "      groups: [ci]\n"
    )
    plan = build_plan(read_aws_auth("aws-auth.yaml", text))
    assert [(r.action, r.source) for r in plan.rows] == [("create", "mapRoles[0]")]
    report = lint_text("aws-auth.yaml", text, LintConfig())
    assert not [f for f in report.findings if f.rule.startswith("AA8")]


def test_a_dead_sso_duplicate_is_reported_once() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"
        "  mapRoles: |\n"
        "    - sso: {permissionSetName: ReadOnly, accountID: '739275461218'}\n"
        '      username: "old:{{SessionName}}"\n'
        "      groups: [viewers]\n"
        "    - sso: {permissionSetName: ReadOnly, accountID: '739275461218'}\n"
        '      username: "ro:{{SessionName}}"\n'
        "      groups: [viewers]\n"
    )
    plan = build_plan(read_aws_auth("aws-auth.yaml", text))
    assert [(r.action, r.source) for r in plan.rows] == [("manual", "mapRoles[1]")]
    report = lint_text("aws-auth.yaml", text, LintConfig())
    assert [(f.rule, f.entry_index) for f in report.findings if f.rule.startswith("AA8")] == [("AA807", 1)]
