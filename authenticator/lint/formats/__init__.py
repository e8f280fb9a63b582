"""Output formats: text (default), json, sarif (2.1.0) and github (workflow commands)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from authenticator.lint.engine import FileReport

__all__ = ["FORMATS", "render"]


_MODULES = {"text": "text", "json": "jsonfmt", "sarif": "sarif", "github": "github"}


def _load(fmt: str) -> Callable[..., str]:
    """The renderer of one format, importing only its module (a text run need not import json)."""
    module = importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
    renderer: Callable[..., str] = module.render  # each format module's render(reports, **options)
    return renderer


FORMATS = tuple(_MODULES)


def render(fmt: str, reports: Sequence[FileReport], **options: object) -> str:
    return _load(fmt)(reports, **options)
