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


class _Scalar(yaml.ScalarNode):
    """A ScalarNode whose marks are made when asked for: most of the 10,000s of scalars of a large
    section are never asked where they are, and two mark objects per scalar were a third of the
    composing time."""

    __slots__ = ("_col", "_end", "_line")

    def __init__(self, tag: str, value: str, line: int, col: int, end: int, style: str | None) -> None:
        self.tag = tag
        self.value = value
        self._line = line
        self._col = col
        self._end = end
        self.style = style

    @property
    def start_mark(self) -> _Mark:  # type: ignore[override]
        return _Mark(self._line, self._col)

    @property
    def end_mark(self) -> _Mark:  # type: ignore[override]
        return _Mark(self._line, self._end)


def _resolve_plain(value: str) -> str:
    # A plain scalar is a string unless its first character can start an implicit type (numbers,
    # booleans, null...): only then ask the resolver, whose regexes are slow.
    if value and value[0] not in _IMPLICIT_FIRST:
        return _STR
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))


# indent, dash (with its spaces), key, rest: one regex per line.
_LINE = re.compile(r"( *)(?:(-)(?: +|$))?(?:([A-Za-z_][A-Za-z0-9_.\-]*) *:(?: +|$))?(.*)")
_PLAIN_BAD = frozenset(_BAD_START | set("'\"-?:"))

# A scanned line: (number, indent, dash, key, key column, value column, value node or None).
_Line = tuple[int, int, bool, "str | None", int, int, "yaml.Node | None"]


def _scalar_text(text: str, line: int, col: int) -> yaml.ScalarNode | None:
    """The one-line scalar at the start of ``text`` (then only a comment may follow)."""
    first = text[0]
    if first not in _PLAIN_BAD and " #" not in text and ": " not in text and text[-1] != ":" and "\t" not in text:
        value = text.rstrip(" ")
        return _Scalar(_resolve_plain(value), value, line, col, col + len(value), None)
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
        return _Scalar(_STR, value, line, col, col + end + 1, first)
    if first in _BAD_START or (first in "-?:" and (len(text) == 1 or text[1] == " ")):
        if text.split(" #", 1)[0].rstrip(" ") in ("[]", "{}"):
            return None  # handled by the caller through the raw text
        raise _GiveUp
    cut = text.find(" #")
    value = (text if cut < 0 else text[:cut]).rstrip(" ")
    if ": " in value or value.endswith(":") or "\t" in value:
        raise _GiveUp
    return _Scalar(_resolve_plain(value), value, line, col, col + len(value), None)


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
    """Recursive descent over the scanned lines (plain tuples: this loop runs once per line)."""

    def __init__(self, lines: list[_Line], raw: list[str]) -> None:
        self.lines = lines
        self.count = len(lines)
        self.raw = raw
        self.i = 0

    def flow_empty(self, number: int, value_col: int) -> yaml.Node | None:
        """``[]`` or ``{}`` after the key or dash, else ``None``."""
        rest = self.raw[number][value_col:].split(" #", 1)[0].rstrip(" ")
        if rest == "[]":
            return yaml.SequenceNode(_SEQ, [], _mark(number, value_col), _mark(number, value_col + 2), True)
        if rest == "{}":
            return yaml.MappingNode(_MAP, [], _mark(number, value_col), _mark(number, value_col + 2), True)
        return None

    def block(self) -> yaml.Node:
        _, indent, dash, _, key_col, _, _ = self.lines[self.i]
        if dash:
            return self.sequence(indent)
        return self.mapping(key_col)

    def sequence(self, indent: int) -> yaml.SequenceNode:
        items: list[yaml.Node] = []
        lines = self.lines
        count = self.count
        start_number, start_indent = lines[self.i][0], lines[self.i][1]
        while self.i < count:
            number, line_indent, dash, key, key_col, value_col, value = lines[self.i]
            if not dash or line_indent != indent:
                break
            if key is not None:
                items.append(self.mapping(key_col))
                continue
            if value is None:
                value = self.flow_empty(number, value_col)
                if value is None:
                    raise _GiveUp
            items.append(value)
            self.i += 1
        if self.i < count and lines[self.i][1] > indent:
            raise _GiveUp  # an over-indented line the subset does not explain
        end = items[-1].end_mark if items else _mark(start_number, start_indent)
        return yaml.SequenceNode(_SEQ, items, _mark(start_number, indent), end, False)

    def mapping(self, column: int) -> yaml.MappingNode:
        """A block mapping whose keys sit at ``column``; its first line may start with a dash."""
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        lines = self.lines
        count = self.count
        i = self.i
        start_number = lines[i][0]
        first = True
        while i < count:
            number, indent, dash, key, key_col, value_col, value = lines[i]
            if first:
                first = False
            elif dash or indent != column:
                break
            if key is None or key_col != column:
                raise _GiveUp
            key_tag = _KEY_TAGS.get(key)
            if key_tag is None:
                key_tag = _KEY_TAGS[key] = _resolve_plain(key)
            key_node = _Scalar(key_tag, key, number, key_col, key_col + len(key), None)
            i += 1
            if value is None:
                value = self.flow_empty(number, value_col)
                if value is None:
                    if value_col < len(self.raw[number].split(" #", 1)[0].rstrip(" ")):
                        raise _GiveUp
                    if i < count and (lines[i][1] > column or (lines[i][2] and lines[i][1] == column)):
                        self.i = i
                        value = self.block()
                        i = self.i
                    else:
                        value = _Scalar("tag:yaml.org,2002:null", "", number, value_col, value_col, None)
            pairs.append((key_node, value))
        self.i = i
        if i < count and not lines[i][2] and lines[i][1] > column:
            raise _GiveUp
        end = pairs[-1][1].end_mark if pairs else _mark(start_number, column)
        return yaml.MappingNode(_MAP, pairs, _mark(start_number, column), end, False)


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
    # Line text -> its scan without the line number. Lines such as "  groups:" or "    - system:nodes"
    # repeat thousands of times in a large section: the regex and the scalar checks run once each.
    seen: dict[str, tuple[int, bool, str | None, int, int, tuple | None]] = {}
    non_string = False  # a one-line value YAML reads as bool/int/float/null (checked once per distinct line)
    try:
        for number, line_text in enumerate(raw):
            if not line_text:
                continue
            hit = seen.get(line_text)
            if hit is not None:
                spec = hit[5]
                value = None if spec is None else _Scalar(spec[0], spec[1], number, spec[2], spec[3], spec[4])
                append((number, hit[0], hit[1], hit[2], hit[3], hit[4], value))
                continue
            match = match_line(line_text)
            indent, dash, key, rest = match.groups()  # type: ignore[union-attr]  # matches any line
            if dash is None:
                if key is None:
                    if not rest or rest[0] == "#":
                        continue  # blank or comment
                    if not indent and rest.startswith(("---", "...", "%")):
                        return None  # several documents or a directive
            elif rest.startswith("- ") or (not rest and key is None) or rest == "-":
                raise _GiveUp  # nested "- -" or a bare "-": outside the subset
            value_col = match.start(4)  # type: ignore[union-attr]
            key_col = match.start(3) if key is not None else value_col  # type: ignore[union-attr]
            value = _scalar_text(rest, number, value_col) if rest else None
            if value is not None and value.tag != _STR:
                non_string = True
            append((number, len(indent), dash is not None, key, key_col, value_col, value))
            spec = None if value is None else (value.tag, value.value, value._col, value._end, value.style)
            seen[line_text] = (len(indent), dash is not None, key, key_col, value_col, spec)
        if not lines:
            return None
        composer = _Composer(lines, raw)
        first = lines[0]
        if first[3] is None and not first[2]:
            if len(lines) != 1 or first[6] is None:
                return None
            return first[6]
        root = composer.block()
        if composer.i < composer.count:
            return None
        root.non_string_scalars = non_string  # read by AA011 to skip a clean section
        return root
    except _GiveUp:
        return None


def construct(node: yaml.Node) -> object:
    """The Python value of a composed subset tree, with the server loader's scalar constructors."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return node.value
        return _RESOLVER.yaml_constructors[node.tag](_RESOLVER, node)
    # String scalars, nearly every node, are read inline: one call per node was most of the cost.
    if isinstance(node, yaml.SequenceNode):
        return [c.value if c.tag == _STR else construct(c) for c in node.value]
    return {
        (k.value if k.tag == _STR else construct(k)): (v.value if v.tag == _STR else construct(v))
        for k, v in node.value
    }
