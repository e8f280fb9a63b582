"""Output formats: text (default), json, sarif (2.1.0) and github (workflow commands)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from authenticator.lint.engine import FileReport

__all__ = ["FORMATS", "render"]


def _load() -> dict[str, Callable[..., str]]:
    from authenticator.lint.formats import github, jsonfmt, sarif, text

    return {"text": text.render, "json": jsonfmt.render, "sarif": sarif.render, "github": github.render}


FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, reports: Sequence[FileReport], **options: object) -> str:
    return _load()[fmt](reports, **options)
