"""From a position inside a ``mapRoles: |`` string to a position in the file the user edits.

The server parses each data section as its own YAML document, so every mark it (or the linter)
gets is relative to the section string. The section string comes from a scalar in the outer
file; this module maps the inner (line, column) back:

- literal block scalars (``|``, ``|-``, ``|+``, ``|2``): inner line *i* is outer line
  ``header + 1 + i``, inner column *c* is ``indent + c`` (chomping only touches the end);
- double-quoted scalars (``kubectl get -o json`` output): the raw text is walked, decoding
  escapes, so ``\\n`` inside the string starts a new inner line at the right outer column;
- single-quoted scalars: ``''`` is one character; folded line breaks are approximated;
- anything else (folded ``>``, plain): every position maps to the start of the scalar.

Only literal block scalars and real YAML lists (server config, DynamicFile JSON) allow text
edits: there, inner text and outer text are the same characters.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from itertools import accumulate

__all__ = ["IDENTITY", "SectionMap", "TextIndex"]

_ESCAPE_LENGTHS = {"x": 4, "u": 6, "U": 10}


class TextIndex:
    """Line starts of a text, for (line, column) <-> offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        lines = text.split("\n")
        lines.pop()  # the last line ends at the end of the text, not at a newline
        self.starts = list(accumulate((len(line) + 1 for line in lines), initial=0))

    def offset(self, line: int, column: int) -> int:
        """Offset of 0-based (line, column)."""
        if line >= len(self.starts):
            return len(self.text)
        return min(self.starts[line] + column, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """0-based (line, column) of an offset."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, offset - self.starts[line]

    def line_text(self, line: int) -> str:
        if line >= len(self.starts):
            return ""
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[line] : end]


@dataclass
class SectionMap:
    """Maps 0-based inner (line, column) of a section string to 0-based outer (line, column)."""

    kind: str  # "identity" | "literal" | "double" | "single" | "start"
    base_line: int = 0
    indent: int = 0
    start: tuple[int, int] = (0, 0)
    outer: TextIndex | None = None
    _line_starts: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # inner line -> (outer off, ...)

    @property
    def editable(self) -> bool:
        return self.kind in ("identity", "literal")

    def to_outer(self, line: int, column: int) -> tuple[int, int]:
        if self.kind == "identity":
            return line, column
        if self.kind == "literal":
            return self.base_line + line, self.indent + column
        if self.kind in ("double", "single") and self.outer is not None:
            return self._walk(line, column)
        return self.start

    # -- quoted scalars: walk the raw characters once, remembering where each inner line starts
    def _walk(self, line: int, column: int) -> tuple[int, int]:
        assert self.outer is not None
        if not self._line_starts:
            self._index_quoted()
        if line not in self._line_starts:
            return self.start
        offset = self._line_starts[line][0]
        text = self.outer.text
        quote = '"' if self.kind == "double" else "'"
        for _ in range(column):
            if offset >= len(text) or (text[offset] in (quote, "\n") and not self._escaped_quote(offset)):
                break
            offset += self._raw_length(offset)
        return self.outer.position(offset)

    def _escaped_quote(self, offset: int) -> bool:
        text = self.outer.text if self.outer else ""
        return self.kind == "single" and text.startswith("''", offset)

    def _raw_length(self, offset: int) -> int:
        text = self.outer.text if self.outer else ""
        if self.kind == "double" and text[offset] == "\\":
            return _ESCAPE_LENGTHS.get(text[offset + 1 : offset + 2], 2)
        if self.kind == "single" and text.startswith("''", offset):
            return 2
        return 1

    def _index_quoted(self) -> None:
        assert self.outer is not None
        text = self.outer.text
        offset = self.outer.offset(*self.start) + 1  # after the opening quote
        inner_line = 0
        self._line_starts[0] = (offset, 0, 0)
        quote = '"' if self.kind == "double" else "'"
        while offset < len(text):
            ch = text[offset]
            if ch == quote and not self._escaped_quote(offset):
                break
            if self.kind == "double" and ch == "\\" and text[offset + 1 : offset + 2] == "n":
                inner_line += 1
                self._line_starts[inner_line] = (offset + 2, 0, 0)
                offset += 2
                continue
            if ch == "\n":
                # A folded line break in a multi-line quoted scalar: approximate, one space.
                offset += 1
                continue
            offset += self._raw_length(offset)


IDENTITY = SectionMap("identity")
