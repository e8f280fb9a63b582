"""The polling task the file-backed sources share, and the stat that tells a file changed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["POLL_INTERVAL", "FileStat", "Poller", "UnreadableFile", "file_stat", "read_text"]

# Seconds between two stats of a watched file: a change applies within about a second.
POLL_INTERVAL = 1.0

T = TypeVar("T")

# (mtime ns, size, inode, device): any write, replacement or rename-over changes one of them.
FileStat = tuple[int, int, int, int]


def file_stat(path: str) -> FileStat:
    """The stat of ``path`` that changes whenever its content may have; ``OSError`` as os.stat."""
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


class UnreadableFile(Exception):
    """A watched file that exists but could not be read as UTF-8; the message says why."""


def read_text(path: str) -> str:
    """``path``'s content as UTF-8, or ``UnreadableFile`` with a one-line reason."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise UnreadableFile(f"cannot read {path}: {reason}") from err


class Poller(Generic[T]):
    """Calls ``check`` in a worker thread every ``interval`` seconds until stopped, then hands its
    result to ``apply`` (if any) on the event loop.

    Reading a small file is fast, but the event loop that answers reviews never waits on a
    disk; what the result changes (starting and stopping sources) happens on the loop. A failing
    check never ends the task: the next tick tries again.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        check: Callable[[], T],
        log: logging.Logger,
        apply: Callable[[T], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self.interval = interval
        self._check = check
        self._apply = apply
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
                outcome = await asyncio.to_thread(self._check)
                if self._apply is not None:
                    await self._apply(outcome)
            except Exception:
                self._log.exception("%s: reloading failed", self.name)
