"""The polling task the file-backed sources share, and the stat that tells a file changed."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Generic, Literal, TypeVar

__all__ = ["GONE", "POLL_INTERVAL", "FileStat", "Poller", "UnreadableFile", "WatchedFile", "file_stat", "read_text"]

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


class _Gone(enum.Enum):
    GONE = "gone"


GONE: Literal[_Gone.GONE] = _Gone.GONE  # what ``WatchedFile.changed_text`` says once a file is gone


class WatchedFile:
    """A polled file: its new text when it changed, ``GONE`` once when it disappears, else None.

    The file-backed sources that react to edits (DynamicFile, the backend mode file) read their
    file through it. Not thread-safe: the caller holds its own lock around a check.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.missing = False
        self._stat: FileStat | None = None

    def changed_text(self) -> str | Literal[_Gone.GONE] | None:
        """The text if the file is new or changed; ``GONE`` the first check that finds it gone;
        None when nothing changed. ``UnreadableFile`` (with a one-line reason) when it exists but
        cannot be stat'ed or read; the next check then reads it again."""
        try:
            stat = file_stat(self.path)
        except FileNotFoundError:
            if self.missing:
                return None
            self.missing, self._stat = True, None
            return GONE
        except OSError as err:
            raise UnreadableFile(f"cannot stat {self.path}: {err.strerror or type(err).__name__}") from err
        if stat == self._stat:
            return None
        self._stat, self.missing = stat, False
        try:
            return read_text(self.path)
        except UnreadableFile:
            self._stat = None  # try again next time even if the stat stays the same
            raise


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
