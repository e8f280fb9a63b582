"""Lines and columns point into the outer file, whatever the section's scalar style."""

from __future__ import annotations

import json

import pytest

from authenticator.lint.config import LintConfig
from authenticator.lint.engine import lint_text
from tests.support.aws_auth import HEADER

ROLE = "- rolearn: arn:aws:iam::739275461218:role/teams/admin\n  username: admin\n  groups:\n    - admins\n"


def _find(text: str, rule: str = "AA202") -> tuple[int, int]:
    findings = [f for f in lint_text("p.yaml", text, LintConfig()).findings if f.rule == rule]
    assert len(findings) == 1, findings
    return findings[0].line, findings[0].column


def _outer(text: str, needle: str) -> tuple[int, int]:
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


@pytest.mark.parametrize("indicator", ["|", "|-", "|+", "|2", "|-2"])
def test_literal_blocks(indicator: str) -> None:
    # With an explicit indentation indicator the content may be indented deeper than it says.
    indent = "      " if "2" in indicator else "    "
    body = "".join(indent + line + "\n" if line else "\n" for line in ROLE.split("\n"))
    text = HEADER + f"  mapRoles: {indicator}\n" + body
    assert _find(text) == _outer(text, "arn:aws:iam::739275461218:role/teams/admin")


def test_leading_blank_and_comment_lines_keep_numbers() -> None:
    body = "\n    # the admins\n\n" + "".join("    " + line + "\n" for line in ROLE.split("\n") if line)
    text = HEADER + "  mapRoles: |\n" + body
    assert _find(text) == _outer(text, "arn:aws:iam::739275461218:role/teams/admin")


def test_double_quoted_json_string() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": '- rolearn: arn:aws:iam::739275461218:role/ok\n  username: "x"\n' + ROLE},
    }
    text = json.dumps(doc, indent=2)
    line, column = _find(text)
    assert text.split("\n")[line - 1][column - 1 :].startswith("arn:aws:iam::739275461218:role/teams/admin")


def test_single_quoted_string() -> None:
    text = HEADER + "  mapRoles: '- rolearn: arn:aws:iam::739275461218:role/teams/admin'\n"
    line, column = _find(text)
    assert text.split("\n")[line - 1][column - 1 :].startswith("arn:aws:iam::739275461218:role/teams/admin")


def test_section_error_position_inside_block() -> None:
    text = (
        HEADER + "  mapRoles: |\n    - rolearn: arn:aws:iam::739275461218:role/a\n      username: a\n     groups: []\n"
    )
    line, column = _find(text, "AA001")
    assert (line, column) == (10, 6)


def test_file_that_is_not_yaml_is_a_finding() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata: [mapRoles: x\n"
    report = lint_text("bad.yaml", text, LintConfig())
    assert [f.rule for f in report.findings] == ["AA001"]
    assert report.findings[0].line == 6
