"""The fast section composer agrees with the server's YAML loader wherever it answers at all."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from authenticator.lint.yamlfast import compose_subset, construct
from authenticator.mapping.awsauth import compose_yaml, load_yaml

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


def _positions(node: yaml.Node) -> list[tuple[str, int, int]]:
    out = []
    if isinstance(node, yaml.ScalarNode):
        out.append((node.value, node.start_mark.line, node.start_mark.column))
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            out += _positions(child)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out += _positions(key) + _positions(value)
    return out


@settings(max_examples=400, deadline=None)
@given(sections())
def test_fast_path_equals_server_loader(text: str) -> None:
    node = compose_subset(text)
    if node is None:
        return  # outside the subset: the caller uses the server's loader
    try:
        expected = load_yaml(text)
    except yaml.YAMLError:
        raise AssertionError(f"fast path accepted text the server rejects:\n{text}") from None
    assert construct(node) == expected
    assert _positions(node) == _positions(compose_yaml(text))
    assert [n.tag for n in _tags(node)] == [n.tag for n in _tags(compose_yaml(text))]


def _tags(node: yaml.Node) -> list[yaml.Node]:
    out = [node]
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            out += _tags(child)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out += _tags(key) + _tags(value)
    return out


def test_fast_path_covers_eks_generated_sections() -> None:
    text = "- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: arn:aws:iam::739275461218:role/n\n"
    text += (
        '  username: system:node:{{EC2PrivateDNSName}}\n- rolearn: arn:aws:iam::739275461218:role/a\n  username: "a"\n'
    )
    assert compose_subset(text) is not None


def test_outside_the_subset_gives_up() -> None:
    for text in ["- &a x\n- *a\n", "- a\n---\n- b\n", "- {a: b}\n", "- a: |\n    x\n", "- a\n  b\n", '- "a\\tb"\n']:
        assert compose_subset(text) is None, text
