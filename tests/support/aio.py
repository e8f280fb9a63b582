"""Waiting inside an event loop on a condition, bounded by loop turns instead of by time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["until"]


async def until(condition: Callable[[], bool], what: str = "the condition", turns: int = 1000) -> None:
    """Let the other tasks run until ``condition()`` holds; fail, naming ``what``, when it still
    does not after ``turns`` turns of the loop (no clock: nothing here waits for time to pass)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"not within {turns} turns of the event loop: {what}")
