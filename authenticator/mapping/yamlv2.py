"""The project's one YAML loader: PyYAML's safe loader with Go's yaml.v2 scalar rules.

The reference (aws-iam-authenticator) reads aws-auth with yaml.v2, whose plain scalars differ
from PyYAML's YAML 1.1 rules: ``y``/``n`` are booleans, numbers follow Go's syntax (a leading 0
is octal: ``012345670123`` is 1402433619; ``1e3`` is a float), timestamps stay strings. The
server's sources, the linter, ``aws-auth resolve`` and the manifest reader all load YAML through
:class:`AwsAuthLoader`, so they agree on every scalar.

Only the first document of a text is read (:func:`first_document`), as yaml.v2 does.
"""

from __future__ import annotations

import math
import re

import yaml

__all__ = [
    "AwsAuthLoader",
    "first_document",
    "go_yaml_number",
    "type_name",
    "yaml_error_text",
]


# libyaml when PyYAML was built with it (the pure-Python scanner needs seconds for a 1 MiB
# aws-auth); PyYAML's own pure loader otherwise. The same rules either way: only the scanner differs.
_BaseLoader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NUMERIC_START = frozenset("+-.0123456789")
_YAML_FLOAT_SPECIALS = {
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
# Go's strconv.ParseInt(s, 0, 64) syntax (a leading 0 means octal) and yaml.v2's float regexp.
_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_YAML_V2_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def go_yaml_number(text: str) -> int | float | None:
    """The number yaml.v2 reads from a plain scalar, or None when it reads a string.

    yaml.v2 removes ``_``, tries Go's ParseInt (``0x``/``0o``/``0b`` prefixes, a leading 0 is
    octal: ``012345670123`` is 1402433619), then its float pattern (``1e3`` is a float). PyYAML's
    YAML 1.1 rules differ (``1e3`` and ``0o17`` are strings there, ``1:20`` is an int)."""
    if not text:
        return None
    if text in _YAML_FLOAT_SPECIALS:
        return _YAML_FLOAT_SPECIALS[text]
    if text[0] == ".":  # yaml.v2 hands these to ParseFloat as they are
        return float(text) if _YAML_V2_FLOAT.fullmatch(text) else None
    plain = text.replace("_", "")
    if _GO_INT.fullmatch(plain):
        sign = -1 if plain.startswith("-") else 1
        digits = plain.lstrip("+-")
        if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
            return sign * int(digits, 8)
        return sign * int(digits, 0)
    if _YAML_V2_FLOAT.fullmatch(plain):
        return float(plain)
    return None


class AwsAuthLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML loading that reads plain scalars as Go's yaml.v2 does (the reference's parser):
    YAML 1.1 booleans plus ``y``/``n``, Go's number syntax, and timestamps kept as strings."""

    bool_values = {**yaml.SafeLoader.bool_values, "y": True, "n": False}

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        # Most scalars of an aws-auth are quoted, or plain text no implicit type can start with
        # (ARNs, names): they are strings, and PyYAML's resolver would reach that answer only after
        # its path and regexp lookups — a third of the time libyaml needs to compose 1 MiB.
        if kind is yaml.ScalarNode and (not implicit[0] or (value and value[0] not in _IMPLICIT_FIRST)):
            return _STR_TAG
        if kind is yaml.ScalarNode:
            if value in ("y", "Y", "n", "N"):
                return _BOOL_TAG
            if value and value[0] in _NUMERIC_START:
                number = go_yaml_number(value)
                if number is not None:
                    return _INT_TAG if isinstance(number, int) else _FLOAT_TAG
                tag = super().resolve(kind, value, implicit)
                return _STR_TAG if tag in (_INT_TAG, _FLOAT_TAG) else tag
        resolved: str = super().resolve(kind, value, implicit)
        return resolved

    def construct_go_number(self, node: yaml.ScalarNode) -> object:
        number = go_yaml_number(node.value)
        if number is not None:
            return number
        # An explicit !!int / !!float tag on something Go would not read: PyYAML's rules decide.
        if node.tag == _INT_TAG:
            return self.construct_yaml_int(node)
        return self.construct_yaml_float(node)


# yaml.v2 keeps timestamps as strings in untyped values and has no "=" value type (SafeLoader
# would even refuse "=" as an unknown tag).
_NOT_RESOLVED = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
AwsAuthLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_RESOLVED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# The first characters of every implicit type (null, bool, int, float, merge...). SafeLoader has no
# wildcard resolver (None key) and no path resolvers, so a plain scalar starting otherwise is a string.
_IMPLICIT_FIRST = frozenset(first for first in AwsAuthLoader.yaml_implicit_resolvers if first)
AwsAuthLoader.add_constructor(_INT_TAG, AwsAuthLoader.construct_go_number)
AwsAuthLoader.add_constructor(_FLOAT_TAG, AwsAuthLoader.construct_go_number)


def yaml_error_text(err: yaml.YAMLError) -> tuple[str, int | None, int | None]:
    """A short message without the source snippet PyYAML likes to quote."""
    if isinstance(err, yaml.MarkedYAMLError):
        parts = [p for p in (err.context, err.problem) if p]
        mark = err.problem_mark or err.context_mark
        text = ": ".join(parts) or "invalid YAML"
        if mark is not None:
            return f"{text} (line {mark.line + 1}, column {mark.column + 1})", mark.line + 1, mark.column + 1
        return text, None, None
    return type(err).__name__, None, None


def first_document(text: str, *, construct: bool = True) -> tuple[yaml.Node | None, object, bool]:
    """(node, value, more documents follow) of the first YAML document, in one parse.

    Raises yaml.YAMLError for the first document only: like yaml.v2, later ones are not read."""
    loader = AwsAuthLoader(text)
    try:
        node = loader.get_node() if loader.check_node() else None
        try:
            more = loader.check_node()
        except yaml.YAMLError:
            more = True
        value = loader.construct_document(node) if node is not None and construct else None
        return node, value, more
    finally:
        loader.dispose()


def type_name(value: object) -> str:
    """How messages name the kind of a decoded YAML value: "a boolean", "a list", "null"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__
