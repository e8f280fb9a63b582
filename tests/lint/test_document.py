"""The linter reads each section once, with the server's loader: its view is the server's view.

Generated sections in the shapes people write (and the YAML a hand-written reader would get
wrong: anchors, several documents, flow and block scalars, escapes) go through
``load_targets``; the server's reading of each section and the positions of its keys in the
outer file are checked.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from authenticator.lint.config import LintConfig
from authenticator.lint.document import load_targets
from authenticator.lint.engine import lint_text
from authenticator.mapping.awsauth import parse_aws_auth
from tests.support.aws_auth import HEADER

KEYS = ["rolearn", "roleARN", "username", "groups", "userarn", "sso", "yes", "on", "x-y", "a.b"]
SCALARS = [
    "arn:aws:iam::739275461218:role/x",
    "system:node:{{EC2PrivateDNSName}}",
    '"{{SessionName}}"',
    "'it''s'",
    "'a: b'",
    '"a # b"',
    "yes",
    "No",
    "y",
    "n",
    "~",
    "null",
    "012345670123",
    "739275461218",
    "1e3",
    "0x1F",
    "1_000",
    "+12",
    "-",
    ".5",
    "1:20",
    "2001-12-14",
    "true",
    "[]",
    "{}",
    "plain # comment",
    "trailing   ",
    "a:b",
    "x-{{AccountID}}",
    "''",
    '""',
]


@st.composite
def sections(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# leading comment")
    for _ in range(draw(st.integers(0, 4))):
        keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4))
        dash_indent = draw(st.sampled_from([0, 2]))
        for position, key in enumerate(keys):
            prefix = " " * dash_indent + ("- " if position == 0 else "  ")
            if key == "groups" and draw(st.booleans()):
                lines.append(f"{prefix}{key}:")
                item_indent = dash_indent + draw(st.sampled_from([2, 4]))
                for item in draw(st.lists(st.sampled_from(SCALARS), min_size=0, max_size=3)):
                    lines.append(" " * item_indent + f"- {item}")
            else:
                lines.append(f"{prefix}{key}: {draw(st.sampled_from(SCALARS))}")
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines) + "\n"


def _manifest(name: str, section: str) -> str:
    body = "".join("    " + line + "\n" if line else "\n" for line in section.split("\n")[:-1])
    return HEADER + f"  {name}: |2\n" + body  # the indicator: a section may start indented


def _check_server_view(name: str, section: str) -> None:
    text = _manifest(name, section)
    (target,) = load_targets("p.yaml", text)
    linted = target.sections[name]
    assert linted.result == parse_aws_auth({name: linted.text}).sections[name]
    outer = text.split("\n")
    for entry in linted.entries:
        for spelling, key_node, _ in entry.keys:
            line, column = linted.pos(key_node)
            assert outer[line - 1][column - 1 :].startswith(spelling), (spelling, line, column)


@settings(max_examples=300, deadline=None)
@given(sections())
def test_generated_sections_are_read_as_the_server_reads_them(section: str) -> None:
    _check_server_view("mapRoles", section)


@pytest.mark.parametrize(
    "section",
    [
        "- &a {rolearn: 'arn:aws:iam::739275461218:role/a', username: a}\n- *a\n",
        "- rolearn: arn:aws:iam::739275461218:role/a\n  username: a\n---\n- rolearn: b\n",
        "- {rolearn: 'arn:aws:iam::739275461218:role/a', username: a, groups: [x, y]}\n",
        "- rolearn: arn:aws:iam::739275461218:role/a\n  username: |\n    multi\n    line\n",
        "- rolearn: arn:aws:iam::739275461218:role/a\n  username: two\n    words\n",
        '- rolearn: arn:aws:iam::739275461218:role/a\n  username: "a\\tb"\n',
        "- rolearn: arn:aws:iam::739275461218:role/a\n  <<: {username: merged}\n",
        "- rolearn: arn:aws:iam::739275461218:role/a\n  username: !!str 12\n",
    ],
    ids=["anchor", "documents", "flow", "block-scalar", "multi-line-plain", "escape", "merge-key", "tag"],
)
def test_yaml_beyond_the_usual_shape_is_read_as_the_server_reads_it(section: str) -> None:
    _check_server_view("mapRoles", section)


def test_accounts_are_read_from_the_same_node_tree() -> None:
    section = "- 739275461218\n- '012345670123'\n-\n"
    text = _manifest("mapAccounts", section)
    (target,) = load_targets("p.yaml", text)
    linted = target.sections["mapAccounts"]
    assert linted.result == parse_aws_auth({"mapAccounts": linted.text}).sections["mapAccounts"]
    assert isinstance(linted.root, yaml.SequenceNode)
    assert [linted.pos(item) for item in linted.root.value] == [(8, 7), (9, 7), (10, 6)]


def test_a_non_string_scalar_late_in_a_large_section_is_found() -> None:
    # AA011 reads tags and styles off the server's nodes, entry by entry, whatever the size.
    entry = "- rolearn: arn:aws:iam::739275461218:role/r{i}\n  username: r{i}\n  groups:\n    - g\n"
    section = "".join(entry.format(i=i) for i in range(500))
    section += "- rolearn: arn:aws:iam::739275461218:role/last\n  username: last\n  groups:\n    - on\n    - 'on'\n"
    text = _manifest("mapRoles", section)
    findings = [f for f in lint_text("p.yaml", text, LintConfig()).findings if f.rule == "AA011"]
    assert [(f.line, f.column) for f in findings] == [(len(text.split("\n")) - 2, 11)]
    assert "'on' is a boolean" in findings[0].message


def test_accounts_next_to_an_item_yaml_cannot_construct_are_still_seen() -> None:
    # The server composes mapAccounts without constructing it: `{{x}}` (a mapping with a mapping
    # key) is one dropped item and the account next to it is used, so the linter reports it too.
    section = "- {{x}}\n- '111122223333'\n"
    text = _manifest("mapAccounts", section)
    assert parse_aws_auth({"mapAccounts": section}).accounts == ("111122223333",)
    findings = [f for f in lint_text("p.yaml", text, LintConfig()).findings if f.rule == "AA702"]
    assert [(f.line, f.column) for f in findings] == [(9, 7)]
