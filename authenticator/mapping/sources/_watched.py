"""What the Kubernetes-backed sources share: a ListWatcher thread, readiness and change waits.

The watch thread builds a new immutable MappingSet and swaps it in with one assignment, so
``snapshot()`` on the event loop never takes a lock and never waits for the API server.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from authenticator import metrics
from authenticator.kube.watch import Backoff, ListCall, ListWatcher
from authenticator.mapping.model import MappingSet

__all__ = ["WatchedSource"]


class WatchedSource:
    """Base of EKSConfigMapSource and CRDSource; subclasses implement on_list/on_event."""

    name: str

    def __init__(
        self,
        *,
        name: str,
        list_call: ListCall,
        on_failure: Callable[[], None] | None,
        backoff: Backoff | None,
        watch_timeout: int,
    ) -> None:
        self.name = name
        self._snapshot = MappingSet()
        self._ready = False
        self._changed = threading.Condition()
        self.generation = 0  # bumped on every applied change
        self.watcher = ListWatcher(
            name=name,
            list_call=list_call,
            handler=self,
            on_failure=on_failure,
            backoff=backoff,
            watch_timeout=watch_timeout,
        )

    # -- MappingSource --------------------------------------------------------------------

    def snapshot(self) -> MappingSet:
        return self._snapshot

    @property
    def ready(self) -> bool:
        """False until the first successful list (then /readyz may say 200)."""
        return self._ready

    # -- lifecycle ------------------------------------------------------------------------

    def start_thread(self) -> None:
        self.watcher.start()

    def stop_thread(self, timeout: float = 5.0) -> None:
        self.watcher.stop(timeout)

    async def start(self) -> None:
        self.start_thread()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_thread)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds after some change (or already holds); False on timeout."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    # -- for subclasses -------------------------------------------------------------------

    def _publish(self, mappings: MappingSet, *, listed: bool = False) -> None:
        """Swap in new mappings; ``listed``: they come from a successful list (ready from now on)."""
        with self._changed:
            self._snapshot = mappings
            self.generation += 1
            if listed and not self._ready:
                self._ready = True
                metrics.mapping_source_loaded.labels(source=self.name).set(1)
            self._changed.notify_all()

    def on_list(self, items: list[dict[str, Any]]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_event(self, event_type: str, obj: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
