"""Counts in the words a person reads: ``1 entry``, ``2 entries``, never ``1 entries``."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 entry``, ``2 entries``; ``1 role``, ``0 roles``."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"
