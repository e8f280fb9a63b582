"""A fast composer for the block-YAML subset that aws-auth sections are written in.

PyYAML (even with libyaml) needs seconds to compose and construct a 10,000-entry section;
lint.md wants the whole lint well under one. Real aws-auth sections use a tiny subset of YAML:
block sequences of block mappings with one-line plain or quoted scalars. This module composes
exactly that subset line by line into *PyYAML's own node classes*, with scalar tags resolved by
the server's loader (:class:`authenticator.mapping.awsauth.AwsAuthLoader`), and gives up
(returns ``None``) on anything else — anchors, tags, flow collections, block scalars,
multi-line scalars, tabs, several documents — so the caller falls back to the server's loader.
A test compares both paths on every corpus file and on generated sections.
"""

from __future__ import annotations

import re

import yaml

from authenticator.mapping.awsauth import AwsAuthLoader

__all__ = ["compose_subset", "construct"]

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_NUMERIC_START = frozenset("+-.0123456789")
# A key: an identifier-like plain scalar followed by ":" and a space or the end of the line.
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*)[ ]*:(?: +|$)")
# First characters a plain scalar may not start with (c-indicator), and ones that need a look.
_BAD_START = frozenset("[]{}#&*!|>%@`,\t")
_RESOLVER = AwsAuthLoader("")
_KEY_TAGS: dict[str, str] = {}  # entry keys repeat: resolve each spelling once
_IMPLICIT_FIRST = frozenset(k for k in AwsAuthLoader.yaml_implicit_resolvers if k is not None)


class _GiveUp(Exception):
    """The text uses YAML outside the subset: let the real loader read it."""


class _Mark:
    """The two fields of yaml.Mark that anyone reads here, at a fraction of its cost."""

    __slots__ = ("column", "line")
    name = "<section>"
    index = 0
    buffer = None
    pointer = 0

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column

    def get_snippet(self) -> None:
        return None

    def __str__(self) -> str:
        return f'  in "{self.name}", line {self.line + 1}, column {self.column + 1}'


_mark = _Mark


def _resolve_plain(value: str) -> str:
    if value and value[0] not in _IMPLICIT_FIRST and value[0] not in _NUMERIC_START and value not in "yYnN":
        return _STR
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))


# indent, dash (with its spaces), key, rest: one regex per line.
_LINE = re.compile(r"( *)(?:(-)(?: +|$))?(?:([A-Za-z_][A-Za-z0-9_.\-]*) *:(?: +|$))?(.*)")
_PLAIN_BAD = frozenset(_BAD_START | set("'\"-?:"))


class _Line:
    __slots__ = ("dash", "indent", "key", "key_col", "number", "value", "value_col")

    def __init__(
        self, number: int, match: re.Match[str], indent: str, dash: str | None, key: str | None, rest: str
    ) -> None:
        self.number = number
        self.indent = len(indent)
        self.dash = dash is not None
        if self.dash and (rest.startswith("- ") or (not rest and key is None) or rest == "-"):
            raise _GiveUp  # nested "- -" or a bare "-": outside the subset
        self.key = key
        self.key_col = match.start(3) if key is not None else match.start(4)
        self.value_col = match.start(4)
        self.value = _scalar_text(rest, number, self.value_col) if rest else None


def _scalar_text(text: str, line: int, col: int) -> yaml.ScalarNode | None:
    """The one-line scalar at the start of ``text`` (then only a comment may follow)."""
    first = text[0]
    if first not in _PLAIN_BAD and " #" not in text and ": " not in text and text[-1] != ":" and "\t" not in text:
        value = text.rstrip(" ")
        return yaml.ScalarNode(_resolve_plain(value), value, _Mark(line, col), _Mark(line, col + len(value)), None)
    if first == "#":
        return None
    if first in ("'", '"'):
        end = _closing_quote(text, first)
        after = text[end + 1 :].lstrip(" ")
        if after and not after.startswith("#"):
            raise _GiveUp
        body = text[1:end]
        if first == "'":
            value = body.replace("''", "'")
        else:
            if "\\" in body:
                raise _GiveUp  # escapes: let the real scanner decode them
            value = body
        return yaml.ScalarNode(_STR, value, _Mark(line, col), _Mark(line, col + end + 1), first)
    if first in _BAD_START or (first in "-?:" and (len(text) == 1 or text[1] == " ")):
        if text.split(" #", 1)[0].rstrip(" ") in ("[]", "{}"):
            return None  # handled by the caller through the raw text
        raise _GiveUp
    cut = text.find(" #")
    value = (text if cut < 0 else text[:cut]).rstrip(" ")
    if ": " in value or value.endswith(":") or "\t" in value:
        raise _GiveUp
    return yaml.ScalarNode(_resolve_plain(value), value, _Mark(line, col), _Mark(line, col + len(value)), None)


def _closing_quote(text: str, quote: str) -> int:
    i = 1
    while True:
        j = text.find(quote, i)
        if j < 0:
            raise _GiveUp  # continues on the next line: a multi-line quoted scalar
        if quote == "'" and text.startswith("''", j):
            i = j + 2
            continue
        if quote == '"' and text[j - 1] == "\\":
            raise _GiveUp
        return j


class _Composer:
    def __init__(self, lines: list[_Line], raw: list[str]) -> None:
        self.lines = lines
        self.raw = raw
        self.i = 0
        self.non_string = False  # a one-line value YAML reads as bool/int/float/null

    def peek(self) -> _Line | None:
        return self.lines[self.i] if self.i < len(self.lines) else None

    def inline_value(self, line: _Line) -> yaml.Node | None:
        if line.value is not None:
            if line.value.tag != _STR:
                self.non_string = True
            return line.value
        rest = self.raw[line.number][line.value_col :].split(" #", 1)[0].rstrip(" ")
        if rest == "[]":
            return yaml.SequenceNode(
                _SEQ, [], _mark(line.number, line.value_col), _mark(line.number, line.value_col + 2), True
            )
        if rest == "{}":
            return yaml.MappingNode(
                _MAP, [], _mark(line.number, line.value_col), _mark(line.number, line.value_col + 2), True
            )
        return None

    def block(self) -> yaml.Node:
        line = self.peek()
        assert line is not None
        if line.dash:
            return self.sequence(line.indent)
        return self.mapping(line.key_col, first_on_dash=False)

    def sequence(self, indent: int) -> yaml.SequenceNode:
        items: list[yaml.Node] = []
        start = self.peek()
        assert start is not None
        while (line := self.peek()) is not None and line.dash and line.indent == indent:
            if line.key is not None:
                items.append(self.mapping(line.key_col, first_on_dash=True))
            else:
                value = self.inline_value(line)
                if value is None:
                    raise _GiveUp
                items.append(value)
                self.i += 1
        line = self.peek()
        if line is not None and line.indent > indent:
            raise _GiveUp  # an over-indented line the subset does not explain
        end = items[-1].end_mark if items else _mark(start.number, start.indent)
        return yaml.SequenceNode(_SEQ, items, _mark(start.number, indent), end, False)

    def mapping(self, column: int, *, first_on_dash: bool) -> yaml.MappingNode:
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        start = self.peek()
        assert start is not None
        first = True
        lines = self.lines
        count = len(lines)
        while self.i < count:
            line = lines[self.i]
            if first:
                first = False
            elif line.dash or line.indent != column:
                break
            if line.key is None or line.key_col != column:
                raise _GiveUp
            key_tag = _KEY_TAGS.get(line.key)
            if key_tag is None:
                key_tag = _KEY_TAGS[line.key] = _resolve_plain(line.key)
            key_node = yaml.ScalarNode(
                key_tag,
                line.key,
                _mark(line.number, line.key_col),
                _mark(line.number, line.key_col + len(line.key)),
                None,
            )
            value = self.inline_value(line)
            self.i += 1
            if value is None:
                if line.value_col < len(self.raw[line.number].split(" #", 1)[0].rstrip(" ")):
                    raise _GiveUp
                nxt = self.peek()
                if nxt is not None and (nxt.indent > column or (nxt.dash and nxt.indent == column)):
                    value = self.block()
                else:
                    value = yaml.ScalarNode(
                        "tag:yaml.org,2002:null",
                        "",
                        _mark(line.number, line.value_col),
                        _mark(line.number, line.value_col),
                        None,
                    )
            pairs.append((key_node, value))
        line = self.peek()
        if line is not None and not line.dash and line.indent > column:
            raise _GiveUp
        end = pairs[-1][1].end_mark if pairs else _mark(start.number, column)
        return yaml.MappingNode(_MAP, pairs, _mark(start.number, column), end, False)


def compose_subset(text: str) -> yaml.Node | None:
    """The node tree of ``text`` when it is within the subset, else ``None``.

    A blank section (only comments and blank lines) also answers ``None``: the caller decides.
    """
    if "\t" in text or "\r" in text or "&" in text or "*" in text or "!" in text:
        # Anchors, aliases, tags or tabs: even when harmless, not worth the risk here.
        return None
    raw = text.split("\n")
    lines: list[_Line] = []
    append = lines.append
    match_line = _LINE.match
    try:
        for number, line_text in enumerate(raw):
            if not line_text:
                continue
            match = match_line(line_text)
            indent, dash, key, rest = match.groups()  # type: ignore[union-attr]  # matches any line
            if dash is None and key is None:
                if not rest or rest[0] == "#":
                    continue  # blank or comment
                if not indent and rest.startswith(("---", "...", "%")):
                    return None  # several documents or a directive
            append(_Line(number, match, indent, dash, key, rest))  # type: ignore[arg-type]
        if not lines:
            return None
        composer = _Composer(lines, raw)
        first = lines[0]
        if first.key is None and not first.dash:
            if len(lines) != 1 or first.value is None:
                return None
            return first.value
        root = composer.block()
        if composer.peek() is not None:
            return None
        root.non_string_scalars = composer.non_string  # read by AA011 to skip a clean section
        return root
    except _GiveUp:
        return None


def construct(node: yaml.Node) -> object:
    """The Python value of a composed subset tree, with the server loader's scalar constructors."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return node.value
        return _RESOLVER.yaml_constructors[node.tag](_RESOLVER, node)
    if isinstance(node, yaml.SequenceNode):
        return [construct(child) for child in node.value]
    result: dict[object, object] = {}
    for key_node, value_node in node.value:
        result[construct(key_node)] = construct(value_node)
    return result
