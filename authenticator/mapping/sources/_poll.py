"""The polling task the file-backed sources share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

__all__ = ["POLL_INTERVAL", "Poller"]

# Seconds between two stats of a watched file: a change applies within about a second.
POLL_INTERVAL = 1.0


class Poller:
    """Calls ``check`` in a worker thread every ``interval`` seconds until stopped.

    Reading a small file is fast, but the event loop that answers reviews never waits on a
    disk; and a failing check never ends the task: the next tick tries again.
    """

    def __init__(self, name: str, interval: float, check: Callable[[], object], log: logging.Logger) -> None:
        self.name = name
        self.interval = interval
        self._check = check
        self._log = log
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"{self.name}-poll")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self._check)
            except Exception:
                self._log.exception("%s: reloading failed", self.name)
