"""The plugin's one expected-failure type: a one-line reason, exit 1 (docs/cli.md)."""

from __future__ import annotations

__all__ = ["PluginError"]


class PluginError(Exception):
    """An expected failure; ``str(exc)`` is shown to the user on one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
