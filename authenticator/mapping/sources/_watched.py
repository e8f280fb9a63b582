"""What the Kubernetes-backed sources share: a ListWatcher thread and readiness.

The watch thread builds a new immutable MappingSet and publishes it (``PublishedMappings``), so
``snapshot()`` on the event loop never takes a lock and never waits for the API server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from authenticator.kube.watch import Backoff, ListCall, ListWatcher
from authenticator.mapping.model import MappingSet
from authenticator.mapping.sources._published import PublishedMappings

__all__ = ["WatchedSource"]


class WatchedSource(PublishedMappings):
    """Base of EKSConfigMapSource and CRDSource; subclasses implement on_list/on_event."""

    name: str

    def __init__(
        self,
        *,
        name: str,
        list_call: ListCall,
        on_failure: Callable[[], None] | None,
        backoff: Backoff | None,
    ) -> None:
        super().__init__()
        self.name = name
        self.watcher = ListWatcher(
            name=name,
            list_call=list_call,
            handler=self,
            on_failure=on_failure,
            backoff=backoff,
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start_thread(self) -> None:
        self.watcher.start()

    def stop_thread(self, timeout: float = 5.0) -> None:
        self.watcher.stop(timeout)

    async def start(self) -> None:
        self.start_thread()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_thread)

    # -- for subclasses -------------------------------------------------------------------

    def _publish(self, mappings: MappingSet, *, listed: bool = False) -> None:
        """Swap in new mappings; ``listed``: they come from a successful list (ready from now on)."""
        self._publish_snapshot(mappings, loaded=listed)

    def on_list(self, items: list[dict[str, Any]]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_event(self, event_type: str, obj: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
