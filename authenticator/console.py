"""Colour for the commands' human-readable output: one decision, one palette.

Whether to colour follows the usual rules, in this order: ``--color always|never`` wins;
then a non-empty ``NO_COLOR`` turns colour off (https://no-color.org) and a non-empty
``FORCE_COLOR`` turns it on; otherwise colour only when the stream is a terminal and ``TERM``
is not ``dumb``. Plain ANSI SGR sequences: every terminal the commands run in knows them,
and a library would cost more start-up time than the few lines below.

A command adds the flag with :func:`add_color_flag` and builds its palette with
:func:`palette_for`; renderers take a :class:`Palette` and call its methods, which return the
text unchanged when colour is off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import argparse

__all__ = ["COLOR_MODES", "PLAIN", "Palette", "add_color_flag", "palette_for", "use_colour"]

COLOR_MODES = ("auto", "always", "never")

_SGR = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
}


def use_colour(stream: TextIO, mode: str = "auto", env: Mapping[str, str] | None = None) -> bool:
    """Whether output written to ``stream`` should be coloured (see the module docstring)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Palette:
    """Wraps text in ANSI styles when ``enabled``; returns it unchanged otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def style(self, text: str, *styles: str) -> str:
        if not self.enabled or not text:
            return text
        codes = ";".join(_SGR[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.style(text, "bold")

    def dim(self, text: str) -> str:
        return self.style(text, "dim")

    def good(self, text: str) -> str:
        return self.style(text, "bold", "green")

    def bad(self, text: str) -> str:
        return self.style(text, "bold", "red")

    def severity(self, text: str, label: str) -> str:
        """``text`` in the colour of a severity label: error, warning or info (else plain)."""
        styles = {"error": ("bold", "red"), "warning": ("yellow",), "info": ("blue",)}.get(label)
        return self.style(text, *styles) if styles else text


PLAIN = Palette(False)


def add_color_flag(parser: argparse.ArgumentParser) -> None:
    """``--color auto|always|never`` (also spelled ``--colour``), as every command spells it."""
    parser.add_argument(
        "--color",
        "--colour",
        dest="color",
        choices=COLOR_MODES,
        default="auto",
        help="colour the output: auto (a terminal, unless NO_COLOR is set), always or never (default auto)",
    )


def palette_for(stream: TextIO, mode: str = "auto", env: Mapping[str, str] | None = None) -> Palette:
    return Palette(use_colour(stream, mode, env))
