"""The mapping chain that follows ``server.dynamicBackendModePath`` (docs/mapping.md §4).

While the file is valid its ``backendMode`` is the order of the sources; without it (missing at
start, or deleted) the configured ``backendMode`` is. Any known mode may appear in the file, even one
the configuration does not list: its source is built from the configuration's settings, as the
reference's BuildMapperChain does. A switch happens without a restart: the sources both chains
share keep running, new ones are built and started, dropped ones are stopped.

A file that cannot be used (not JSON, an unknown mode, a mode whose source cannot be built, such
as DynamicFile without ``server.dynamicfilepath``) keeps the last good chain: it is logged once per
distinct reason, counted in ``dynamicfile_failures_total`` and shown on /readyz (``status``), until
a good file replaces it.

From the second load on, each load observes ``dynamic_e2e_latency_seconds{type="dynamic_backend_mode"}``
(the seconds since the file's ``LastUpdatedDateTime``); the first is the start, not a change.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from authenticator import metrics
from authenticator.errors import UserError
from authenticator.mapping.sources._awsauth_log import KEPT
from authenticator.mapping.sources._poll import GONE, POLL_INTERVAL, Poller, UnreadableFile, WatchedFile
from authenticator.mapping.sources._published import SourceStatus
from authenticator.mapping.sources.dynamicfile import e2e_seconds
from authenticator.mapping.sources.modes import DYNAMIC_FILE, BackendModeFile, parse_backend_mode_file

if TYPE_CHECKING:
    from authenticator.identity import Identity
    from authenticator.mapping.chain import MappedUser, MappingChain, MappingSource

__all__ = ["BackendModeFileChain", "call_hook"]

NAME: Final = "dynamicBackendModePath"
FILE_SECTION: Final = "file"

_log = logging.getLogger("authenticator.mapping")


class _Deleted:
    """The file is gone: back to the configured modes."""


_DELETED: Final = _Deleted()
_Outcome = BackendModeFile | _Deleted | None  # None: unchanged, or a failure already recorded


class BackendModeFileChain:
    """A mapper (``map``) whose chain of sources follows the backend mode file.

    ``build_source(mode)`` builds one source from the configuration (a ``UserError`` when it
    cannot); ``make_chain(sources)`` wraps sources in a chain with the configuration's reserved
    prefixes and EC2 resolver. The configured chain is built at once and its errors propagate (the
    server does not start); the file is read at once too, so a valid file at start is the first
    chain the server serves.
    """

    name = NAME

    def __init__(
        self,
        *,
        path: str,
        configured: Sequence[str],
        build_source: Callable[[str], MappingSource],
        make_chain: Callable[[Sequence[MappingSource]], MappingChain],
        poll_interval: float = POLL_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._configured = tuple(configured)
        self._build_source = build_source
        self._make_chain = make_chain
        self._clock = clock
        self._built: dict[str, MappingSource] = {mode: build_source(mode) for mode in self._configured}
        self._modes = self._configured
        self.chain = make_chain([self._built[m] for m in self._modes])
        self._started = False
        self._file = WatchedFile(path)
        self._failure: str | None = None
        self._loaded_once = False
        self._lock = threading.Lock()  # the check runs in a worker thread
        self._poller: Poller[_Outcome] = Poller(NAME, poll_interval, self.check_for_changes, _log, self._apply)
        outcome = self.check_for_changes()
        if outcome is not None:
            self._switch(outcome)  # nothing started yet: nothing to start or stop

    # -- the mapper -----------------------------------------------------------------------

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes of the chain served now, in order."""
        return self._modes

    @property
    def sources(self) -> tuple[MappingSource, ...]:
        return self.chain.sources

    async def map(self, identity: Identity) -> MappedUser:
        return await self.chain.map(identity)

    def status(self) -> SourceStatus:
        # /readyz prints each source's words as given: say what is served instead (there is
        # always a chain: the last good one, or backendMode's).
        served = f"{self._failure} ({KEPT}: backend modes {' '.join(self._modes)})"
        return SourceStatus(NAME, True, {FILE_SECTION: served} if self._failure else {})

    # -- reading the file (worker thread) -------------------------------------------------

    def check_for_changes(self) -> _Outcome:
        """Read the file if it changed: what it now says, ``_DELETED``, or None (unchanged/bad)."""
        with self._lock:
            try:
                text = self._file.changed_text()
            except UnreadableFile as err:
                self._fail(str(err))
                return None
            if text is None:
                return None
            if text is GONE:
                return _DELETED
            try:
                return parse_backend_mode_file(text)
            except ValueError as err:
                self._fail(f"{self.path}: {err}")
                return None

    def _fail(self, reason: str) -> None:
        metrics.dynamicfile_failures.inc()
        if self._failure != reason:
            _log.error("%s: %s; keeping backend modes %s", NAME, reason, " ".join(self._modes))
        self._failure = reason

    # -- switching (event loop) -----------------------------------------------------------

    async def _apply(self, outcome: _Outcome) -> None:
        if outcome is None:
            return
        started, stopped = self._switch(outcome)
        for source in started:
            await call_hook(source, "start")
        for source in stopped:
            await call_hook(source, "stop")

    def _switch(self, outcome: BackendModeFile | _Deleted) -> tuple[list[MappingSource], list[MappingSource]]:
        """Serve the chain ``outcome`` asks for: (sources to start, sources to stop)."""
        modes = self._configured if isinstance(outcome, _Deleted) else outcome.modes
        try:
            changes = self._serve(modes)
        except UserError as err:  # a mode whose source cannot be built from the configuration
            self._fail(f"{self.path}: {err}")
            return [], []
        if isinstance(outcome, _Deleted):
            # As the reference's CallBackForFileDeletion: the configured modes again.
            level = logging.WARNING if self._loaded_once or self._failure else logging.INFO
            _log.log(level, "%s: %s does not exist; serving the configured backend modes", NAME, self.path)
            self._failure = None
            _file_mode_gauges(())  # the gauges speak of the file's modes: it has none now
            return changes
        if self._failure is not None:
            _log.info("%s: %s is valid again", NAME, self.path)
        self._failure = None
        observe, self._loaded_once = self._loaded_once, True
        seconds = e2e_seconds(outcome.last_updated, self._clock())
        if observe and seconds is not None:
            metrics.dynamic_e2e_latency.labels(type=metrics.DYNAMIC_BACKEND_MODE).observe(seconds)
        _file_mode_gauges(self._modes)
        _log.info(
            "%s: backend modes %s (version %r%s)",
            NAME,
            " ".join(self._modes),
            outcome.version,
            f", {seconds}s after LastUpdatedDateTime" if seconds is not None else "",
        )
        return changes

    def _serve(self, modes: tuple[str, ...]) -> tuple[list[MappingSource], list[MappingSource]]:
        if modes == self._modes:
            return [], []
        fresh = {mode: self._build_source(mode) for mode in modes if mode not in self._built}
        built = {**self._built, **fresh}
        dropped = [source for mode, source in built.items() if mode not in modes]
        self._built = {mode: built[mode] for mode in modes}
        self.chain = self._make_chain([built[m] for m in modes])
        _log.warning("%s: backend modes switched from %s to %s", NAME, " ".join(self._modes), " ".join(modes))
        self._modes = modes
        if not self._started:
            return [], []
        return list(fresh.values()), dropped

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = True
        for source in self.sources:
            await call_hook(source, "start")
        await self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
        for source in reversed(self.sources):
            await call_hook(source, "stop")
        self._started = False


def _file_mode_gauges(modes: tuple[str, ...]) -> None:
    """``dynamic_file_enabled`` / ``dynamic_file_only`` for the modes the file gives."""
    metrics.dynamic_file_only.set(1 if modes == (DYNAMIC_FILE,) else 0)
    metrics.dynamic_file_enabled.set(1 if DYNAMIC_FILE in modes else 0)


async def call_hook(obj: object, name: str) -> None:
    """``obj.<name>()`` (``start``/``stop``), awaited when it is a coroutine; nothing if ``obj`` has none."""
    method = getattr(obj, name, None)
    if method is None:
        return
    outcome = method()
    if inspect.isawaitable(outcome):
        await outcome
