"""The plugin's one expected-failure type: a one-line reason, exit 1 (docs/cli.md).

A ``UserError`` like every error a user can cause: ``authenticator.errors`` imports nothing, so
the cache-hit path stays on the standard library.
"""

from __future__ import annotations

from authenticator.errors import UserError

__all__ = ["PluginError"]


class PluginError(UserError):
    """An expected failure; ``str(exc)`` is shown to the user on one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
