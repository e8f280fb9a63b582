"""The current MappingSet of a source, its status, and a way to wait for it to change.

Every source swaps in a new immutable MappingSet with one assignment, so ``snapshot()`` on the
event loop never takes a lock. Each swap is counted (``generation``) and announced, so a caller
(a test, a readiness check) waits for a change instead of polling for it. A source is ``ready``
from its first successful load on (``mapping_source_loaded`` says so too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from authenticator import metrics
from authenticator.mapping.model import MappingSet

__all__ = ["PublishedMappings", "SourceStatus"]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """For /readyz-style status: is the source loaded, and what is failing right now."""

    source: str
    ready: bool
    failures: dict[str, str] = field(default_factory=dict)  # section ("mapRoles", …, "file") -> reason


class PublishedMappings:
    """Base of every mapping source: ``snapshot()``, ``ready``, ``generation`` and ``wait_until``."""

    name: str  # set by each source

    def __init__(self, initial: MappingSet | None = None) -> None:
        self._snapshot = initial if initial is not None else MappingSet()
        self._changed = threading.Condition()
        self._ready = False
        self.generation = 0  # bumped on every swap

    def snapshot(self) -> MappingSet:
        return self._snapshot

    @property
    def ready(self) -> bool:
        """False until the first successful load (then /readyz may say 200)."""
        return self._ready

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds after some swap (or already holds); False on timeout.
        From the event loop, call it through ``asyncio.to_thread``: the swaps may come from it."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _mark_loaded(self) -> None:
        if not self._ready:
            self._ready = True
            metrics.mapping_source_loaded.labels(source=self.name).set(1)

    def _publish_snapshot(self, mappings: MappingSet, *, loaded: bool = False) -> None:
        """Swap in ``mappings``; ``loaded``: they come from a successful load (ready from now on)."""
        if loaded:
            self._mark_loaded()  # before the swap is announced: a waiter sees both
        with self._changed:
            self._snapshot = mappings
            self.generation += 1
            self._changed.notify_all()
